// End-to-end tests of the `geotps` command line: bad inputs fail cleanly (non-zero exit, the key or
// file named, no output file left), a small job runs, and `geotps info --json` reads it back.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "engine/h5_file.h"

namespace fs = std::filesystem;

namespace {

struct CommandResult {
  int exitCode = -1;
  std::string out, err;
};

std::string readText(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CommandResult runGeotps(const std::string& args, const fs::path& workDir) {
  const fs::path outFile = workDir / "stdout.txt", errFile = workDir / "stderr.txt";
  const std::string cmd = std::string("cd '") + workDir.string() + "' && '" GEOTPS_BINARY "' " +
                          args + " > '" + outFile.string() + "' 2> '" + errFile.string() + "'";
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = readText(outFile);
  r.err = readText(errFile);
  return r;
}

fs::path freshDir(const std::string& name) {
  const fs::path d = fs::path(testing::TempDir()) / ("geotps_cli_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string expectedSubstring(const fs::path& config) {
  std::ifstream in(config);
  std::string first;
  std::getline(in, first);
  const std::string tag = "# expect: ";
  if (first.rfind(tag, 0) != 0) return "";
  return first.substr(tag.size());
}

// Files in `dir` other than the captured stdout/stderr.
std::vector<std::string> leftovers(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (e.is_regular_file() && n != "stdout.txt" && n != "stderr.txt") names.push_back(n);
  }
  return names;
}

void expectCleanFailure(const fs::path& config, const std::string& label) {
  const std::string expect = expectedSubstring(config);
  ASSERT_FALSE(expect.empty()) << config << " has no '# expect:' first line";
  const fs::path dir = freshDir(label);
  const CommandResult r =
      runGeotps("run '" + fs::absolute(config).string() + "' --quiet --out results/out.h5", dir);
  EXPECT_NE(r.exitCode, 0) << config;
  EXPECT_NE(r.err.find(expect), std::string::npos)
      << config << ": stderr does not contain '" << expect << "':\n"
      << r.err;
  EXPECT_TRUE(leftovers(dir).empty()) << config << " left a file: " << leftovers(dir).front();
}

const fs::path kSource = GEOTPS_SOURCE_DIR;

}  // namespace

TEST(Cli, MalformedConfigsFailWithTheKeyNamedAndNoOutput) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(kSource / "tests/data/bad_configs")) {
    if (e.path().extension() != ".yaml") continue;
    SCOPED_TRACE(e.path().filename().string());
    expectCleanFailure(e.path(), e.path().stem().string());
    ++n;
  }
  EXPECT_GE(n, 10) << "the issue asks for at least 10 malformed configs";
}

TEST(Cli, BadDataFilesAndFailingRunsLeaveNoOutput) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(kSource / "tests/data/bad_inputs")) {
    if (e.path().extension() != ".yaml") continue;
    SCOPED_TRACE(e.path().filename().string());
    expectCleanFailure(e.path(), "input_" + e.path().stem().string());
    ++n;
  }
  EXPECT_GE(n, 3);
}

TEST(Cli, BadFlagsAndFilesAreRejected) {
  const fs::path dir = freshDir("flags");
  EXPECT_NE(runGeotps("run", dir).exitCode, 0);
  EXPECT_NE(runGeotps("frobnicate", dir).exitCode, 0);
  const CommandResult seed = runGeotps(
      "run '" + (kSource / "tests/data/tiny_alanine.yaml").string() + "' --seed minus-one", dir);
  EXPECT_NE(seed.exitCode, 0);
  EXPECT_NE(seed.err.find("--seed"), std::string::npos) << seed.err;
  const CommandResult missing = runGeotps("run no_such_config.yaml", dir);
  EXPECT_NE(missing.exitCode, 0);
  EXPECT_NE(missing.err.find("no_such_config.yaml"), std::string::npos) << missing.err;
  std::ofstream(dir / "not_hdf5.h5") << "plain text\n";
  const CommandResult info = runGeotps("info not_hdf5.h5", dir);
  EXPECT_NE(info.exitCode, 0);
  EXPECT_NE(info.err.find("not_hdf5.h5"), std::string::npos) << info.err;
  const CommandResult version = runGeotps("--version", dir);
  EXPECT_EQ(version.exitCode, 0);
  EXPECT_NE(version.out.find("geotps "), std::string::npos);
}

// Reads a number field from a flat JSON object (enough for `info --json`).
double jsonField(const std::string& json, const std::string& key) {
  const std::regex re("\"" + key + "\": (-?[0-9.eE+-]+)");
  std::smatch m;
  if (!std::regex_search(json, m, re)) {
    ADD_FAILURE() << "no numeric field '" << key << "' in " << json;
    return std::nan("");
  }
  return std::stod(m[1]);
}

TEST(Cli, TinyJobRunsAndInfoJsonReadsItBack) {
  const fs::path dir = freshDir("tiny");
  const std::string config = (kSource / "tests/data/tiny_alanine.yaml").string();
  const CommandResult run = runGeotps("run '" + config + "' --out tiny.h5 --seed 11", dir);
  ASSERT_EQ(run.exitCode, 0) << run.err;
  EXPECT_NE(run.out.find("MaxEnergy"), std::string::npos);
  EXPECT_NE(run.out.find("seed: 11"), std::string::npos) << "effective config printed first";
  ASSERT_TRUE(fs::exists(dir / "tiny.h5"));

  const CommandResult info = runGeotps("info tiny.h5 --json", dir);
  ASSERT_EQ(info.exitCode, 0) << info.err;
  const std::string& j = info.out;
  for (const char* key : {"n_paths", "max_energy_mean", "max_energy_std", "success_fraction",
                          "energy_evaluations", "geodesic_energy", "min_l", "wall_seconds"}) {
    EXPECT_NE(j.find(std::string("\"") + key + "\""), std::string::npos) << key;
  }
  EXPECT_NE(j.find("\"stage_seconds\""), std::string::npos);

  // Independent check: recompute the statistics from the stored per-path datasets.
  geotps::H5File f((dir / "tiny.h5").string(), geotps::H5File::Mode::Read);
  const auto maxE = f.readDoubles("/paths/max_energy_nearest");
  ASSERT_EQ(maxE.size(), 24u);
  double mean = 0, var = 0;
  for (double v : maxE) mean += v / maxE.size();
  for (double v : maxE) var += (v - mean) * (v - mean) / (maxE.size() - 1);
  EXPECT_EQ(jsonField(j, "n_paths"), 24);
  EXPECT_NEAR(jsonField(j, "max_energy_mean"), mean, 1e-8 * std::abs(mean));
  EXPECT_NEAR(jsonField(j, "max_energy_std"), std::sqrt(var), 1e-7);
  const auto ok = f.readDoubles("/paths/success");
  double frac = 0;
  for (double v : ok) frac += v / ok.size();
  EXPECT_NEAR(jsonField(j, "success_fraction"), frac, 1e-12);
  // 24 walkers x 32 points x 16 steps with gradient, plus one final evaluation per walker.
  EXPECT_EQ(jsonField(j, "energy_evaluations"), 24.0 * 32 * 16 + 24);
  const auto l = f.readDoubles("/curve/l");
  double minL = 1e300;
  for (double v : l) minL = std::min(minL, v);
  EXPECT_NEAR(jsonField(j, "min_l"), minL, 1e-9);
  EXPECT_LT(minL, 4.0);
  EXPECT_EQ(f.shape("/paths/frames"), (std::vector<std::size_t>{24, 32 * 16 / 4, 2}));
  EXPECT_EQ(f.readAttributeInt("/", "seed"), 11);
  for (const auto& path : f.datasetPaths()) {
    EXPECT_TRUE(f.hasAttribute(path, "units")) << path;
  }
  // docs/output.md documents every dataset the file holds.
  const std::string docs = readText(kSource / "docs/output.md");
  for (const auto& path : f.datasetPaths()) {
    EXPECT_NE(docs.find("`" + path + "`"), std::string::npos)
        << path << " missing from docs/output.md";
  }
  for (const auto& attr : f.attributeNames("/summary")) {
    EXPECT_NE(docs.find("`" + attr + "`"), std::string::npos)
        << attr << " missing from docs/output.md";
  }
  // The stored config is the file's own text.
  EXPECT_EQ(f.readString("/config/source"), readText(config));
}

TEST(Cli, SameSeedGivesIdenticalPaths) {
  const fs::path dir = freshDir("seed");
  const std::string config = (kSource / "tests/data/tiny_alanine.yaml").string();
  ASSERT_EQ(runGeotps("run '" + config + "' -q --out a.h5", dir).exitCode, 0);
  ASSERT_EQ(runGeotps("run '" + config + "' -q --out b.h5", dir).exitCode, 0);
  ASSERT_EQ(runGeotps("run '" + config + "' -q --out c.h5 --seed 8", dir).exitCode, 0);
  geotps::H5File a((dir / "a.h5").string(), geotps::H5File::Mode::Read);
  geotps::H5File b((dir / "b.h5").string(), geotps::H5File::Mode::Read);
  geotps::H5File c((dir / "c.h5").string(), geotps::H5File::Mode::Read);
  EXPECT_EQ(a.readDoubles("/paths/frames"), b.readDoubles("/paths/frames"));
  EXPECT_NE(a.readDoubles("/paths/frames"), c.readDoubles("/paths/frames"));
}

TEST(Cli, InterruptedRunLeavesNoFile) {
  const fs::path dir = freshDir("interrupt");
  // The paper-settings job takes several seconds; interrupt it after one (Ctrl-C = SIGINT).
  const std::string config = (kSource / "configs/alanine_dipeptide_2d.yaml").string();
  const std::string cmd =
      "cd '" + dir.string() + "' && { '" GEOTPS_BINARY "' run '" + config +
      "' --quiet --out out.h5 > log.txt 2>&1 & pid=$!; sleep 1.5; kill -INT $pid;"
      " wait $pid; }";
  const int status = std::system(cmd.c_str());
  EXPECT_NE(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
  fs::remove(dir / "log.txt");
  EXPECT_TRUE(leftovers(dir).empty()) << "left: " << leftovers(dir).front();
}
