// Helpers shared by the tests that run the `geotps` binary: read a file, run a command in a fresh
// folder and capture its exit code, stdout and stderr.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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

/// Runs `geotps ARGS` (the binary under test) in `workDir`; stdout and stderr go to stdout.txt and
/// stderr.txt there and are returned.
inline CommandResult runGeotps(const std::string& args, const std::filesystem::path& workDir) {
  const auto outFile = workDir / "stdout.txt", errFile = workDir / "stderr.txt";
  const std::string cmd = std::string("cd '") + workDir.string() + "' && '" GEOTPS_BINARY "' " +
                          args + " > '" + outFile.string() + "' 2> '" + errFile.string() + "'";
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

}  // namespace geotps::test
