// The `geotps` command line: one subcommand per file of app/ (command.h); errors become exit
// codes: 2 configuration, 3 HDF5, 1 anything else.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "app/command.h"
#include "engine/config/config.h"
#include "engine/core/ranks.h"
#include "engine/core/sanitizer_options.h"
#include "engine/pipelines/memory_estimate.h"
#include "geotps/version.h"

namespace geotps::app {

void addSetOption(CLI::App& cmd, std::vector<std::string>& sets) {
  cmd.add_option("--set,-s", sets,
                 "override a configuration key, KEY=VALUE (VALUE in YAML, e.g. "
                 "sampler.n_paths=100 or states.a=[-2.5,2.7]); repeatable")
      ->allow_extra_args(false);
}

Config loadConfig(const std::string& path, const std::vector<std::string>& sets) {
  Config config = Config::load(path);
  for (const auto& assignment : sets) config.setFromCommandLine(assignment);
  return config;
}

JobOptions JobCommandOptions::jobOptions() const {
  JobOptions options;
  if (*seedOption) options.seed = seed;
  if (*outOption) options.output = out;
  if (*maxMemoryOption) options.maxMemory = parseByteSize(maxMemory);
  options.progress = !output.quiet && Ranks::world().root();  // under MPI: rank 0 alone
  options.resume = resume;
  return options;
}

void addResumeFlag(CLI::App& cmd, JobCommandOptions& options, const std::string& command) {
  addResumeFlag(cmd, options.resume, command);
}

void addResumeFlag(CLI::App& cmd, bool& resume, const std::string& command) {
  cmd.add_flag("--resume", resume,
               fmt::format("continue an interrupted {0} of the same configuration from its "
                           "checkpoint folder <output file>.checkpoint/ (without it, such a folder "
                           "is discarded)",
                           command));
}

Config JobCommandOptions::load() const {
  // Under MPI every rank reads the file and its --set overrides; a bad one (the same on every
  // rank) is then reported once, by rank 0 (engine/core/ranks.h).
  std::optional<Config> loaded;
  Ranks::world().collectively([&] { loaded.emplace(loadConfig(config, sets)); });
  return std::move(*loaded);
}

std::shared_ptr<JobCommandOptions> addJobCommandOptions(CLI::App& cmd,
                                                        const std::string& configHelp,
                                                        const std::string& outHelp) {
  auto o = std::make_shared<JobCommandOptions>();
  cmd.add_option("config", o->config, configHelp)->required();
  o->seedOption = cmd.add_option("--seed", o->seed, "random seed (overrides the config's seed)")
                      ->check(CLI::NonNegativeNumber);
  o->outOption = cmd.add_option("--out,-o", o->out, outHelp);
  addOutputOptions(cmd, o->output);
  o->maxMemoryOption = addMaxMemoryOption(cmd, o->maxMemory);
  addSetOption(cmd, o->sets);
  return o;
}

CLI::Option* addMaxMemoryOption(CLI::App& cmd, std::string& value) {
  return cmd
      .add_option("--max-memory", value,
                  "refuse the job before it starts when its estimated memory exceeds this "
                  "(bytes, or with K, M, G, T: powers of 1024, e.g. 24G); default: the "
                  "machine's RAM")
      ->check(CLI::Validator(
          [](std::string& v) {
            return parseByteSize(v) ? std::string()
                                    : "expected a size such as 512M, 24G or 1.5T, got '" + v + "'";
          },
          "SIZE"));
}

}  // namespace geotps::app

namespace {

/// describeError's message without its "geotps: " (and "error: ") prefix: the reason after
/// "geotps: error: rank R of N: ".
std::string reasonOf(const std::string& message) {
  std::string m = message;
  for (const char* prefix : {"geotps: ", "error: "}) {
    if (m.rfind(prefix, 0) == 0) m.erase(0, std::string(prefix).size());
  }
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace geotps;
  // MPI starts only under an MPI launcher (engine/core/ranks.h); finalised when main returns.
  RanksSession ranksSession(argc, argv);
  const Ranks& ranks = Ranks::world();
  Ranks::setDescribe([](const std::exception& e) {
    const app::ErrorReport report = app::describeError(e);
    return std::pair<int, std::string>(report.exitCode, reasonOf(report.message));
  });
  CLI::App cli{"GeoTPS: transition path sampling by spacetime geodesics of diffusion models"};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", std::string("geotps ") + kVersion);
  const std::vector<app::Command> commands = {
      app::addRunCommand(cli),           app::addCompareCommand(cli), app::addInfoCommand(cli),
      app::addKeysCommand(cli),          app::addSurfaceCommand(cli), app::addExportCommand(cli),
      app::addTrainDenoiserCommand(cli), app::addDistanceCommand(cli)};
  // An unknown subcommand is named (CLI11 would only say that arguments were not expected).
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const auto* sub : cli.get_subcommands({})) names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      fmt::print(stderr, "geotps: unknown command '{}'; expected one of: {}\n", argv[1],
                 fmt::join(names, ", "));
      return 2;
    }
  }
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; a malformed command line is a usage error, exit 2 (CLI11's
    // own codes, 100+, are not ours).
    const int code = cli.exit(e);
    return code == 0 ? 0 : 2;
  }
  // Under MPI with several ranks only run and compare share their work (docs/mpi.md); another
  // command would run whole on every rank, each writing the same files.
  if (ranks.parallel()) {
    for (const auto& c : commands) {
      const std::string name = c.cli->get_name();
      if (c.cli->parsed() && name != "run" && name != "compare") {
        if (ranks.root()) {
          fmt::print(stderr,
                     "geotps: error: `geotps {}` does not share its work over MPI ranks ({} ranks "
                     "here); run it without mpirun (only run and compare do, docs/mpi.md)\n",
                     name, ranks.size());
        }
        return 2;
      }
    }
  }
  std::string commandLine = "geotps";
  for (int i = 1; i < argc; ++i) commandLine += std::string(" ") + argv[i];
  try {
    for (const auto& c : commands) {
      if (c.cli->parsed()) c.run(commandLine);
    }
  } catch (const RankFailure& e) {
    // A failure every rank knows of (engine/core/ranks.h): rank 0 reports it, once.
    if (ranks.root()) fmt::print(stderr, "geotps: error: {}\n", e.what());
    return e.exitCode();
  } catch (const std::exception& e) {
    const app::ErrorReport report = app::describeError(e);
    if (!ranks.parallel()) {
      fmt::print(stderr, "{}\n", report.message);
      return report.exitCode;
    }
    fmt::print(stderr, "geotps: error: {}: {}\n", ranks.label(), reasonOf(report.message));
    std::fflush(stderr);
    // The other ranks know of this failure (it came out of a collective step), or they may wait
    // for this rank forever: then the whole job ends here.
    if (ranks.failureShared()) return report.exitCode;
    ranks.abort(report.exitCode);
  }
  // What went to standard output must have arrived (a full disk, a closed pipe, /dev/full).
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    fmt::print(stderr, "geotps: error: cannot write to standard output\n");
    return 1;
  }
  return 0;
}
