// Helpers shared by the tests: read a file, run the `geotps` binary in a fresh folder and capture
// its exit code, stdout and stderr, and temporary paths unique to the running test.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "engine/config/config.h"
#include "engine/pipelines/run.h"

namespace geotps::test {

struct CommandResult {
  int exitCode = -1;
  std::string out, err;
};

inline std::string readText(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs the job `config` in this process, its result written to `output`, without progress bars
/// and with its log discarded.
inline JobSummary runJobQuietly(const Config& config, const std::string& output) {
  JobOptions o;
  o.output = output;
  o.progress = false;
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> devnull(std::fopen("/dev/null", "w"),
                                                                 &std::fclose);
  return runJob(config, o, devnull.get());
}

/// Runs `geotps ARGS` (the binary under test) in `workDir`; stdout and stderr go to stdout.txt and
/// stderr.txt there and are returned. `env` (e.g. "NAME=value") is set for that process only.
inline CommandResult runGeotps(const std::string& args, const std::filesystem::path& workDir,
                               const std::string& env = "") {
  const auto outFile = workDir / "stdout.txt", errFile = workDir / "stderr.txt";
  const std::string cmd = std::string("cd '") + workDir.string() + "' && " + env + " '" +
                          GEOTPS_BINARY "' " + args + " > '" + outFile.string() + "' 2> '" +
                          errFile.string() + "'";
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = readText(outFile);
  r.err = readText(errFile);
  return r;
}

/// An empty folder `name` under the test temporary directory.
inline std::filesystem::path freshDir(const std::string& name) {
  const auto d = std::filesystem::path(testing::TempDir()) / name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

/// A path unique to the running test and process (`prefix`, suite, test, pid, `suffix`) under the
/// test temporary directory, removed first and again when the test program exits.
inline std::string tempPath(const std::string& prefix, const std::string& suffix) {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  std::string name = prefix + info->test_suite_name() + "_" + info->name() + "_" +
                     std::to_string(::getpid()) + suffix;
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  const std::string path = (std::filesystem::path(testing::TempDir()) / name).string();
  std::filesystem::remove_all(path);
  struct Cleanup {
    std::vector<std::string> paths;
    ~Cleanup() {
      std::error_code ec;
      for (const auto& p : paths) std::filesystem::remove_all(p, ec);
    }
  };
  static Cleanup cleanup;
  cleanup.paths.push_back(path);
  return path;
}

}  // namespace geotps::test
