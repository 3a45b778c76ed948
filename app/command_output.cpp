// --quiet and --log: the terminal, the log file, or both, behind one FILE* (a glibc cookie stream).
#include "app/command_output.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "engine/config/config.h"
#include "engine/core/progress.h"
#include "engine/core/ranks.h"
#include "engine/io/atomic_file.h"
#include "engine/io/h5_file.h"
#include "engine/io/output_util.h"
#include "geotps/version.h"

namespace geotps::app {

void addOutputOptions(CLI::App& cmd, OutputOptions& options) {
  cmd.add_flag("--quiet,-q", options.quiet,
               "print nothing but errors, warnings (stderr) and, on success, the paths of the "
               "files written (stdout, one per line)");
  cmd.add_option("--log", options.logPath,
                 "also write everything the terminal shows without --quiet (configuration, "
                 "progress as plain lines, summary, warnings, the error that ends the command) to "
                 "this file, replaced if it exists");
}

ErrorReport describeError(const std::exception& e) {
  if (dynamic_cast<const ConfigError*>(&e)) {
    return {2, fmt::format("geotps: configuration error: {}", e.what())};
  }
  if (dynamic_cast<const H5Error*>(&e)) return {3, fmt::format("geotps: HDF5 error: {}", e.what())};
  return {1, fmt::format("geotps: error: {}", e.what())};
}

namespace {

/// Opens the --log file for writing: the output policy of every file GeoTPS writes
/// (checkOutputTarget: a new path or a regular file), then a plain file, line-buffered so that it
/// can be followed while the job runs.
std::FILE* openLog(const std::string& path) {
  try {
    checkOutputTarget(path);
  } catch (const std::runtime_error& e) {
    throw ConfigError(fmt::format("--log: {}", e.what()));
  }
  std::unique_ptr<CreatedParents> parents;
  try {
    parents = std::make_unique<CreatedParents>(path);
  } catch (const std::runtime_error& e) {
    throw ConfigError(fmt::format("--log: {}", e.what()));
  }
  // O_NOFOLLOW: a symbolic link put there since the check is refused too.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  std::FILE* f = fd >= 0 ? ::fdopen(fd, "w") : nullptr;
  if (!f) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    throw ConfigError(
        fmt::format("--log: {}: cannot open for writing: {}; expected a writable file", path,
                    std::strerror(err)));
  }
  parents->keep();
  std::setvbuf(f, nullptr, _IOLBF, 0);
  return f;
}

}  // namespace

ssize_t CommandOutput::write(void* cookie, const char* data, std::size_t size) {
  const auto* tee = static_cast<const Tee*>(cookie);
  // A failed write leaves the target's error flag set: main checks stdout, closeLog() the log.
  for (std::FILE* to : {tee->terminal, tee->log}) {
    if (!to) continue;
    std::fwrite(data, 1, size, to);
    std::fflush(to);
  }
  return static_cast<ssize_t>(size);
}

CommandOutput::CommandOutput(const OutputOptions& options, const std::string& commandLine)
    : quiet_(options.quiet), logPath_(options.logPath) {
  if (!logPath_.empty()) {
    log_ = openLog(logPath_);
    fmt::print(log_, "# geotps {} log of `{}`, started {}\n", kVersion, commandLine, isoTimeNow());
  }
  if (!quiet_ && !log_) return;  // the terminal alone: stdout itself
  tee_ = {quiet_ ? nullptr : stdout, log_};
  stream_ = ::fopencookie(&tee_, "w", {nullptr, &CommandOutput::write, nullptr, nullptr});
  if (!stream_) {
    stream_ = stdout;
    closeLog();
    throw std::runtime_error(
        fmt::format("cannot create the output stream: {}", std::strerror(errno)));
  }
  std::setvbuf(stream_, nullptr, _IONBF, 0);  // every print reaches its targets at once
  setProgressLog(log_);
  if (quiet_) divertStdout();
}

CommandOutput::~CommandOutput() {
  restoreStdout();
  closeStream();
  closeLog();
}

void CommandOutput::divertStdout() {
  // What libraries print on standard output themselves (OpenMM's platform warnings) goes to the
  // log, or nowhere, so that a quiet command's stdout holds only its paths.
  std::fflush(stdout);
  const int target = log_ ? ::fileno(log_) : ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (target < 0) return;
  savedStdout_ = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 0);
  if (savedStdout_ >= 0 && ::dup2(target, STDOUT_FILENO) < 0) {
    ::close(savedStdout_);
    savedStdout_ = -1;
  }
  if (!log_) ::close(target);
}

void CommandOutput::restoreStdout() {
  if (savedStdout_ < 0) return;
  std::fflush(stdout);
  ::dup2(savedStdout_, STDOUT_FILENO);
  ::close(savedStdout_);
  savedStdout_ = -1;
}

void CommandOutput::closeStream() {
  if (stream_ != stdout) std::fclose(stream_);
  stream_ = stdout;
}

bool CommandOutput::closeLog() {
  setProgressLog(nullptr);
  if (!log_) return true;
  const bool written = std::ferror(log_) == 0;
  const bool closed = std::fclose(log_) == 0;
  log_ = nullptr;
  tee_.log = nullptr;
  return written && closed;
}

void CommandOutput::finish(const std::string& summary, const std::vector<std::string>& outputs) {
  fmt::print(stream_, "{}", summary);
  restoreStdout();
  closeStream();
  if (!closeLog()) {
    throw std::runtime_error(fmt::format(
        "--log: {}: cannot write the log file; expected a writable file system with space left",
        logPath_));
  }
  if (quiet_ && Ranks::world().root()) {
    for (const auto& path : outputs) fmt::print(stdout, "{}\n", path);
  }
}

void CommandOutput::logError(const std::string& message) {
  if (!log_) return;
  fmt::print(log_, "{}\n", message);
  std::fflush(log_);
}

void runWithOutput(const OutputOptions& options, const std::string& commandLine,
                   const std::function<void(CommandOutput&)>& body) {
  // Under MPI only rank 0 speaks (docs/mpi.md): the other ranks run quiet, without the log file
  // and without the list of files written; their errors still reach stderr.
  OutputOptions mine = options;
  if (!Ranks::world().root()) mine = OutputOptions{true, ""};
  CommandOutput out(mine, commandLine);
  try {
    body(out);
  } catch (const std::exception& e) {
    out.logError(describeError(e).message);
    throw;
  }
}

}  // namespace geotps::app
