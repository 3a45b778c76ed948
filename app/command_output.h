// Where a command's messages go: the terminal unless --quiet, and the --log file. The pipelines
// print their configuration and notes to one stream (CommandOutput::stream()); the Progress bars
// write their plain lines to the log as well (engine/core/progress.h).
#pragma once

#include <sys/types.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace geotps::app {

/// --quiet and --log of a command that runs a job (run, compare, surface, train-denoiser).
struct OutputOptions {
  bool quiet = false;
  std::string logPath;  ///< empty: no log file
};

/// Declares --quiet/-q and --log FILE on `cmd`.
void addOutputOptions(CLI::App& cmd, OutputOptions& options);

/// An error as `geotps` reports it: the exit code (2 configuration, 3 HDF5, 1 anything else) and
/// the line for stderr ("geotps: configuration error: ...").
struct ErrorReport {
  int exitCode = 1;
  std::string message;
};
ErrorReport describeError(const std::exception& e);

/// A command's messages while it runs.
/// - Not quiet: stream() is standard output (and the log file when --log is given); progress goes
///   to stderr as before.
/// - Quiet: stream() reaches the log file only (nothing without --log); no progress on stderr;
///   standard output receives only the paths of the files written (finish()); what libraries
///   print on standard output meanwhile (OpenMM's platform warnings) goes to the log or nowhere.
/// The log file (plain text, overwritten, created with its folders) is opened at once, so a bad
/// --log fails before any work; it holds everything the terminal would show without --quiet, the
/// progress as plain periodic lines (never the bar), the warnings (engine/core/warning.h) and an
/// error that ends the command. Warnings and errors go to stderr in both modes.
class CommandOutput {
 public:
  /// Throws ConfigError naming --log when the log file cannot be created (a directory, a symbolic
  /// link, a folder that cannot be written). `commandLine` heads the log.
  CommandOutput(const OutputOptions& options, const std::string& commandLine);
  ~CommandOutput();
  CommandOutput(const CommandOutput&) = delete;
  CommandOutput& operator=(const CommandOutput&) = delete;

  /// The stream the pipelines print their configuration and notes to (the `log` of runJob etc.).
  std::FILE* stream() const { return stream_; }
  /// Ends a successful command: `summary` goes where stream() goes; when quiet, `outputs` are
  /// printed on standard output, one per line. Throws std::runtime_error naming --log when the log
  /// file could not be written.
  void finish(const std::string& summary, const std::vector<std::string>& outputs);
  /// Adds an error line (as printed on stderr) to the log file, if there is one.
  void logError(const std::string& message);

 private:
  struct Tee {
    std::FILE* terminal = nullptr;
    std::FILE* log = nullptr;
  };
  static ssize_t write(void* cookie, const char* data, std::size_t size);
  void closeStream();
  /// Quiet: points file descriptor 1 at the log (or /dev/null) until restoreStdout().
  void divertStdout();
  void restoreStdout();
  /// Closes the log file (if any); false when a write to it failed.
  bool closeLog();

  bool quiet_;
  std::string logPath_;
  Tee tee_;
  std::FILE* stream_ = stdout;
  std::FILE* log_ = nullptr;
  int savedStdout_ = -1;  ///< the real stdout while divertStdout() is in effect
};

/// Runs `body` with the command's output open: the error that ends it is also written to the log
/// (and then propagates to main, which prints it and chooses the exit code).
void runWithOutput(const OutputOptions& options, const std::string& commandLine,
                   const std::function<void(CommandOutput&)>& body);

}  // namespace geotps::app
