// The geotps subcommands: each file of app/ declares one (its options and what it runs); main.cpp
// parses the command line, runs the chosen one and maps errors to exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/command_output.h"
#include "engine/config/config.h"
#include "engine/pipelines/job_settings.h"

namespace geotps::app {

/// A subcommand: its CLI11 node and the action run when it was chosen.
struct Command {
  CLI::App* cli = nullptr;
  std::function<void(const std::string& commandLine)> run;  ///< the whole command line, for records
};

Command addRunCommand(CLI::App& app);
Command addCompareCommand(CLI::App& app);
Command addInfoCommand(CLI::App& app);
Command addKeysCommand(CLI::App& app);
Command addSurfaceCommand(CLI::App& app);
Command addExportCommand(CLI::App& app);
Command addTrainDenoiserCommand(CLI::App& app);
Command addDistanceCommand(CLI::App& app);

/// The options every job command (run, compare, train-denoiser) takes: CONFIG, --seed, --out,
/// --quiet, --log, --max-memory and --set.
struct JobCommandOptions {
  std::string config, out, maxMemory;
  std::uint64_t seed = 0;
  bool resume = false;   ///< --resume (run, compare: addResumeFlag)
  OutputOptions output;  ///< --quiet, --log
  std::vector<std::string> sets;
  CLI::Option* seedOption = nullptr;
  CLI::Option* outOption = nullptr;
  CLI::Option* maxMemoryOption = nullptr;

  /// --seed, --out and --resume as given (unset when absent), and the progress display.
  JobOptions jobOptions() const;
  /// The config with the --set overrides applied.
  Config load() const;
};

/// Declares the job command options on `cmd`; `configHelp` and `outHelp` describe CONFIG and --out.
std::shared_ptr<JobCommandOptions> addJobCommandOptions(CLI::App& cmd,
                                                        const std::string& configHelp,
                                                        const std::string& outHelp);

/// Declares --resume (continue from the checkpoint folder `<output file>.checkpoint/`); `command`
/// names the command in the help text.
void addResumeFlag(CLI::App& cmd, JobCommandOptions& options, const std::string& command);
/// The same flag stored in `resume` (commands without JobCommandOptions: distance).
void addResumeFlag(CLI::App& cmd, bool& resume, const std::string& command);

/// Declares --max-memory SIZE (checked with parseByteSize) on `cmd`, stored as text in `value`.
CLI::Option* addMaxMemoryOption(CLI::App& cmd, std::string& value);

/// Adds the repeatable `--set KEY=VALUE` option to a subcommand.
void addSetOption(CLI::App& cmd, std::vector<std::string>& sets);

/// Loads a config and applies the command line's --set overrides in order.
Config loadConfig(const std::string& path, const std::vector<std::string>& sets);

}  // namespace geotps::app
