// Hostile inputs and faults through the `geotps` binary: the corpus tests/hostile/cases.yaml (one
// test per case; what each checks is described there), and interrupted runs (SIGKILL, SIGINT,
// an inherited SIG_IGN for SIGHUP as nohup leaves it).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/test_support.h"

namespace fs = std::filesystem;

namespace {

const fs::path kSource = GEOTPS_SOURCE_DIR;

struct HostileCase {
  std::string name, setup, args, stdoutTo;
  std::string tmpfs;   ///< size of a tmpfs mounted at ./full (a full disk); needs root
  std::string signal;  ///< send this signal (INT, TERM, HUP, KILL) after `after` seconds
  /// A run's or compare's checkpoint folder the case may leave (an interrupted command keeps its
  /// finished work for --resume): only job.h5 and whole piece files, no temporary, inside it.
  std::string checkpoint;
  double after = 0.0;
  int group = 0, exit = 0;
  bool torch = false;
  std::vector<std::string> expect, creates, removes;
};

// gtest prints a failing case by its name, not its bytes.
void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.name; }

std::vector<HostileCase> loadCases() {
  std::vector<HostileCase> cases;
  const YAML::Node root = YAML::LoadFile((kSource / "tests/hostile/cases.yaml").string());
  for (const auto& n : root) {
    HostileCase c;
    c.name = n["name"].as<std::string>();
    c.group = n["group"].as<int>();
    c.args = n["args"].as<std::string>();
    c.exit = n["exit"].as<int>();
    if (n["setup"]) c.setup = n["setup"].as<std::string>();
    if (n["stdout_to"]) c.stdoutTo = n["stdout_to"].as<std::string>();
    if (n["torch"]) c.torch = n["torch"].as<bool>();
    if (n["tmpfs"]) c.tmpfs = n["tmpfs"].as<std::string>();
    if (n["signal"]) c.signal = n["signal"].as<std::string>();
    if (n["after"]) c.after = n["after"].as<double>();
    if (n["checkpoint"]) c.checkpoint = n["checkpoint"].as<std::string>();
    for (const char* key : {"expect", "creates", "removes"}) {
      auto& list = std::string(key) == "expect"    ? c.expect
                   : std::string(key) == "creates" ? c.creates
                                                   : c.removes;
      if (n[key])
        for (const auto& v : n[key]) list.push_back(v.as<std::string>());
    }
    cases.push_back(c);
  }
  return cases;
}

std::string substitute(std::string text) {
  const std::map<std::string, std::string> values = {
      {"{tiny}", (kSource / "tests/data/tiny_alanine.yaml").string()},
      {"{tiny_fa}", (kSource / "tests/data/tiny_full_atom.yaml").string()},
      {"{data}", (kSource / "data/alanine_dipeptide").string()},
      {"{bad}", (kSource / "tests/data/bad_inputs").string()},
      {"{h5edit}", GEOTPS_H5_EDIT},
      {"{geotps}", GEOTPS_BINARY},
      {"{tiny_compare}", (kSource / "tests/data/tiny_compare.yaml").string()},
      {"{train}", (kSource / "tests/data/tiny_train.yaml").string()}};
  for (const auto& [key, value] : values) {
    for (std::size_t p = text.find(key); p != std::string::npos; p = text.find(key, p))
      text.replace(p, key.size(), value);
  }
  return text;
}

int runShell(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
}

/// Every entry under `dir` (files and folders, relative paths) with the bytes of the files.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> entries;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string rel = fs::relative(e.path(), dir).string();
    if (rel == "stdout.txt" || rel == "stderr.txt") continue;
    const auto st = fs::symlink_status(e.path());
    entries[rel] = fs::is_regular_file(st) ? geotps::test::readText(e.path())
                   : fs::is_directory(st)  ? std::string("<dir>")
                                           : std::string("<special>");
  }
  return entries;
}

/// A small 2D result of our own, made once: the pre-existing file of every case.
const fs::path& keepFile() {
  static const fs::path path = [] {
    const fs::path dir =
        geotps::test::freshDir("geotps_hostile_keep_" + std::to_string(::getpid()));
    const auto r = geotps::test::runGeotps(
        "run '" + (kSource / "tests/data/tiny_alanine.yaml").string() + "' -q --out keep.h5", dir);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return dir / "keep.h5";
  }();
  return path;
}

class Hostile : public testing::TestWithParam<HostileCase> {};

}  // namespace

TEST_P(Hostile, FailsCleanly) {
  const HostileCase& c = GetParam();
  if (c.torch && !GEOTPS_HAS_TORCH) GTEST_SKIP() << "needs the LibTorch build";
  const fs::path dir = geotps::test::freshDir("geotps_hostile_" + c.name);
  fs::copy_file(keepFile(), dir / "keep.h5");
  // A full disk: a small tmpfs at ./full, unmounted however the case ends.
  struct Unmount {
    std::string path;
    ~Unmount() {
      if (!path.empty()) runShell("umount '" + path + "'");
    }
  } unmount;
  if (!c.tmpfs.empty()) {
    if (::geteuid() != 0) GTEST_SKIP() << "a full disk needs root (a tmpfs mount)";
    fs::create_directory(dir / "full");
    if (runShell("mount -t tmpfs -o size=" + c.tmpfs + " tmpfs '" + (dir / "full").string() +
                 "' 2>/dev/null") != 0)
      GTEST_SKIP() << "cannot mount a tmpfs here";
    unmount.path = (dir / "full").string();
  }
  if (!c.setup.empty()) {
    ASSERT_EQ(runShell("cd '" + dir.string() + "' && " + substitute(c.setup)), 0) << c.setup;
  }
  const auto before = snapshot(dir);
  const std::string out = c.stdoutTo.empty() ? "stdout.txt" : c.stdoutTo;
  // A signal case: `timeout` sends it after `after` s and exits with the process's own status
  // (128 + the signal when it dies of it).
  const std::string limit =
      c.signal.empty() ? std::string("timeout 120")
                       : "timeout --preserve-status -s " + c.signal + " " + std::to_string(c.after);
  const std::string cmd = "cd '" + dir.string() + "' && " + limit + " '" GEOTPS_BINARY "' " +
                          substitute(c.args) + " > '" + out + "' 2> stderr.txt";
  const int code = runShell(cmd);
  const std::string err = geotps::test::readText(dir / "stderr.txt");
  if (c.signal.empty()) {
    EXPECT_NE(code, 124) << "timed out (a hang): " << cmd;
  }
  EXPECT_EQ(code, c.exit) << cmd << "\nstderr:\n" << err;
  for (const auto& e : c.expect)
    EXPECT_NE(err.find(e), std::string::npos) << "stderr lacks '" << e << "':\n" << err;
  const auto after = snapshot(dir);
  for (const auto& [rel, bytes] : before) {
    const bool removed = std::find(c.removes.begin(), c.removes.end(), rel) != c.removes.end();
    if (removed) {
      EXPECT_EQ(after.count(rel), 0u) << rel << " should have been removed";
    } else {
      ASSERT_EQ(after.count(rel), 1u) << rel << " (pre-existing) is gone";
      EXPECT_TRUE(after.at(rel) == bytes) << rel << " (pre-existing) was changed";
    }
  }
  // A run's checkpoint entries; a compare's: its own job.h5, finished methods and the geodesic
  // run's, the geodesic run's walker chunks in geodesic_walkers/, MCMC chains in chains_<method>/.
  const std::regex checkpointEntry(
      c.checkpoint +
      "(/(job|chunk_[0-9]{5}|method_[a-z_]+|geodesic_run)\\.h5|/geodesic_walkers(/(job|chunk_[0-9]{5})"
      "\\.h5)?|/chains_[a-z_]+(/chain_[0-9]{5}\\.h5)?)?");
  for (const auto& [rel, bytes] : after) {
    if (before.count(rel)) continue;
    if (!c.checkpoint.empty() && std::regex_match(rel, checkpointEntry)) continue;
    EXPECT_NE(std::find(c.creates.begin(), c.creates.end(), rel), c.creates.end())
        << "left behind: " << rel;
  }
  for (const auto& rel : c.creates) EXPECT_EQ(after.count(rel), 1u) << rel << " was not created";
}

INSTANTIATE_TEST_SUITE_P(Corpus, Hostile, testing::ValuesIn(loadCases()),
                         [](const testing::TestParamInfo<HostileCase>& i) {
                           return "g" + std::to_string(i.param.group) + "_" + i.param.name;
                         });

namespace {

/// Starts `geotps ARGS` in `dir` in the background (its own process group) and returns its pid.
pid_t startGeotps(const fs::path& dir, const std::vector<std::string>& args, bool ignoreHup) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    if (::chdir(dir.c_str()) != 0) ::_exit(125);
    if (ignoreHup) ::signal(SIGHUP, SIG_IGN);  // as nohup leaves it
    const int fd = ::open("/dev/null", O_WRONLY);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv{const_cast<char*>(GEOTPS_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(GEOTPS_BINARY, argv.data());
    ::_exit(126);
  }
  return pid;
}

/// Waits until a file whose name starts with `prefix` appears in `dir` (at most 60 s).
bool waitForFile(const fs::path& dir, const std::string& prefix) {
  for (int i = 0; i < 600; ++i) {
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().filename().string().rfind(prefix, 0) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

int waitStatus(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

/// A run long enough to be interrupted while its temporary output exists (a few seconds).
std::vector<std::string> longRun() {
  return {"run",
          (kSource / "tests/data/tiny_alanine.yaml").string(),
          "-q",
          "--out",
          "out.h5",
          "--set",
          "sampler.n_paths=4000",
          "--set",
          "sampler.steps_per_point=400"};
}

}  // namespace

// SIGKILL leaves the temporary file (nothing can remove it then); the next run with the same
// output removes it (its process is gone) and writes its result.
TEST(HostileSignals, RunAfterSigkillRemovesTheTemporary) {
  const fs::path dir = geotps::test::freshDir("geotps_hostile_sigkill");
  const pid_t pid = startGeotps(dir, longRun(), false);
  ASSERT_TRUE(waitForFile(dir, "out.h5.tmp-"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(pid, SIGKILL);
  const int status = waitStatus(pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_TRUE(fs::exists(dir / ("out.h5.tmp-" + std::to_string(pid))));
  const auto r = geotps::test::runGeotps(
      "run '" + (kSource / "tests/data/tiny_alanine.yaml").string() + "' -q --out out.h5", dir);
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_FALSE(fs::exists(dir / ("out.h5.tmp-" + std::to_string(pid))));
  EXPECT_TRUE(fs::exists(dir / "out.h5"));
}

// SIGINT and SIGTERM during the run: the process dies of that signal (exit status 130 / 143 in a
// shell) and leaves no temporary and no result, only the checkpoint of its finished walkers.
TEST(HostileSignals, InterruptRemovesTheTemporary) {
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
    SCOPED_TRACE(sig);
    const fs::path dir = geotps::test::freshDir("geotps_hostile_sig" + std::to_string(sig));
    const pid_t pid = startGeotps(dir, longRun(), false);
    ASSERT_TRUE(waitForFile(dir, "out.h5.tmp-"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::kill(pid, sig);
    const int status = waitStatus(pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << status;
    // Nothing but the checkpoint folder of the finished walkers (issue: resume), which
    // `--resume` turns into the result.
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      const std::string rel = fs::relative(e.path(), dir).string();
      EXPECT_TRUE(rel == "out.h5.checkpoint" || rel == "out.h5.checkpoint/job.h5" ||
                  std::regex_match(rel, std::regex("out\\.h5\\.checkpoint/chunk_[0-9]{5}\\.h5")))
          << "left: " << rel;
    }
  }
}

// A SIGHUP the process inherited as ignored (nohup) stays ignored: the run completes.
TEST(HostileSignals, InheritedIgnoredHangupIsKept) {
  const fs::path dir = geotps::test::freshDir("geotps_hostile_nohup");
  std::vector<std::string> args = longRun();
  args.back() = "sampler.steps_per_point=100";
  const pid_t pid = startGeotps(dir, args, true);
  ASSERT_TRUE(waitForFile(dir, "out.h5.tmp-"));
  ::kill(pid, SIGHUP);
  const int status = waitStatus(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(fs::exists(dir / "out.h5"));
}

// SIGKILL during compare's geodesic run leaves the compare's temporary and the geodesic run's
// nested one (<out>_geodesic.h5.tmp-PID.tmp-PID); the next compare with the same output removes
// both (their process is gone) and leaves exactly its three files.
TEST(HostileSignals, CompareAfterSigkillRemovesNestedTemporaries) {
  const fs::path dir = geotps::test::freshDir("geotps_hostile_sigkill_compare");
  const std::string config = (kSource / "tests/data/tiny_compare.yaml").string();
  const pid_t pid = startGeotps(dir,
                                {"compare", config, "-q", "--out", "cmp.h5", "--set",
                                 "sampler.n_paths=20000", "--set", "sampler.steps_per_point=400",
                                 "--set", "compare.methods=[geodesic, mcmc_variable]"},
                                false);
  ASSERT_TRUE(waitForFile(dir, "cmp_geodesic.h5.tmp-"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(pid, SIGKILL);
  const int status = waitStatus(pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  const std::string p = std::to_string(pid);
  EXPECT_TRUE(fs::exists(dir / ("cmp.h5.tmp-" + p)));
  EXPECT_TRUE(fs::exists(dir / ("cmp_geodesic.h5.tmp-" + p + ".tmp-" + p)));
  // (no doob: a lean build has none)
  const auto r = geotps::test::runGeotps(
      "compare '" + config + "' -q --out cmp.h5 --set 'compare.methods=[geodesic, mcmc_variable]'",
      dir);
  EXPECT_EQ(r.exitCode, 0) << r.err;
  std::set<std::string> left;
  for (const auto& e : fs::directory_iterator(dir)) left.insert(e.path().filename().string());
  left.erase("stdout.txt");  // runGeotps's own captures
  left.erase("stderr.txt");
  EXPECT_EQ(left, (std::set<std::string>{"cmp.h5", "cmp.md", "cmp_geodesic.h5"}));
}
