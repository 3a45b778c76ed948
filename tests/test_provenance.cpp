// What result files record besides results: a unit beside every numeric attribute, the real time of
// stored full-atom frames, and provenance (git commit, library versions, SHA-256 of every input),
// checked against independent tools (sha256sum, git) on files written by the binary.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "engine/io/h5_file.h"
#include "engine/io/provenance.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace geotps;
using geotps::test::freshDir;
using geotps::test::readText;
using geotps::test::runGeotps;

namespace {

const fs::path kSource = GEOTPS_SOURCE_DIR;

/// stdout of a shell command (empty when it fails).
std::string shell(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    if (::pclose(p) != 0) out.clear();
  }
  return out;
}

/// Every numeric attribute of every group and dataset of `path` without a `<name>_units` string.
std::vector<std::string> numericAttributesWithoutUnits(const std::string& path, int& checked) {
  H5File f(path, H5File::Mode::Read);
  std::vector<std::string> objects = f.groupPaths();
  const auto datasets = f.datasetPaths();
  objects.insert(objects.end(), datasets.begin(), datasets.end());
  std::vector<std::string> missing;
  for (const auto& object : objects) {
    for (const auto& name : f.attributeNames(object)) {
      if (!f.isNumericAttribute(object, name)) continue;
      ++checked;
      const std::string unitName = name + kUnitsSuffix;
      if (!f.hasAttribute(object, unitName) || f.isNumericAttribute(object, unitName) ||
          f.readAttributeString(object, unitName).empty()) {
        missing.push_back(object + " @" + name);
      }
    }
  }
  return missing;
}

}  // namespace

TEST(ResultFiles, EveryNumericAttributeCarriesItsUnit) {
  const fs::path dir = freshDir("geotps_units_walk");
  const std::string data = (kSource / "tests/data").string();
  struct Job {
    std::string args, file;
  };
  const std::vector<Job> jobs = {
      {"run '" + data + "/tiny_alanine.yaml' -q --out run2d.h5", "run2d.h5"},
      {"run '" + data + "/tiny_full_atom.yaml' -q --out fa.h5", "fa.h5"},
      // Without LibTorch the compare runs the methods this build has (tiny_compare lists doob).
      {"compare '" + data + "/tiny_compare.yaml' -q --out cmp.h5" +
           (GEOTPS_HAS_TORCH ? "" : " --set compare.methods=[geodesic,mcmc_fixed,mcmc_variable]"),
       "cmp.h5"},
  };
  for (const auto& job : jobs) {
    SCOPED_TRACE(job.args);
    const auto r = runGeotps(job.args, dir);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    int checked = 0;
    const auto missing = numericAttributesWithoutUnits((dir / job.file).string(), checked);
    EXPECT_GT(checked, 10);
    EXPECT_TRUE(missing.empty()) << missing.size() << " without a unit, e.g. " << missing.front();
  }
  // Spot checks of the units themselves.
  H5File fa((dir / "fa.h5").string(), H5File::Mode::Read);
  EXPECT_EQ(fa.readAttributeString("/full_atom", "temperature_units"), "K");
  EXPECT_EQ(fa.readAttributeString("/full_atom", "time_step_units"), "ps");
  EXPECT_EQ(fa.readAttributeString("/full_atom", "energy_a_units"), "kJ/mol");
  EXPECT_EQ(fa.readAttributeString("/summary", "max_energy_nearest_mean_units"), "kJ/mol");
  EXPECT_EQ(fa.readAttributeString("/summary", "wall_seconds_units"), "s");
}

TEST(ResultFiles, FullAtomFramesCarryTheirTimeAndTheSamplerItsOwnSettings) {
  const fs::path dir = freshDir("geotps_full_atom_time");
  const std::string config = (kSource / "tests/data/tiny_full_atom.yaml").string();
  const auto r = runGeotps("run '" + config + "' -q --out fa.h5 --set dynamics.time_step=0.002",
                           dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  H5File f((dir / "fa.h5").string(), H5File::Mode::Read);
  // tiny_full_atom: 16 points x 10 steps, a frame stored every 5 steps, 2 fs steps.
  const auto time = f.readDoubles("/full_atom/time");
  ASSERT_EQ(time.size(), 16u * 10 / 5);
  for (std::size_t k = 0; k < time.size(); ++k) EXPECT_DOUBLE_EQ(time[k], (k + 1) * 5 * 0.002);
  EXPECT_EQ(f.readAttributeString("/full_atom/time", "units"), "ps");
  EXPECT_EQ(f.readAttributeDouble("/full_atom", "time_step"), 0.002);
  EXPECT_EQ(f.readAttributeDouble("/full_atom", "friction"), 1.0);
  // The overdamped 2D step size is not a full-atom setting.
  EXPECT_FALSE(f.hasAttribute("/paths", "step_size"));
  EXPECT_EQ(f.readAttributeString("/", "potential"), "openmm");
  EXPECT_EQ(f.readAttributeString("/", "cv_surface"), "tabulated_surface");
  EXPECT_EQ(f.readAttributeString("/", "platform"), "Reference");

  const fs::path dir2 = freshDir("geotps_2d_step_size");
  const auto r2 = runGeotps(
      "run '" + (kSource / "tests/data/tiny_alanine.yaml").string() + "' -q --out r.h5", dir2);
  ASSERT_EQ(r2.exitCode, 0) << r2.err;
  H5File g((dir2 / "r.h5").string(), H5File::Mode::Read);
  EXPECT_TRUE(g.hasAttribute("/paths", "step_size"));
  EXPECT_FALSE(g.exists("/full_atom/time"));
}

TEST(ResultFiles, ProvenanceMatchesSha256sumAndGit) {
  if (shell("command -v sha256sum").empty()) GTEST_SKIP() << "sha256sum not available";
  const fs::path dir = freshDir("geotps_provenance");
  const std::string config = (kSource / "tests/data/tiny_full_atom.yaml").string();
  const auto r = runGeotps("run '" + config + "' -q --out fa.h5", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  H5File f((dir / "fa.h5").string(), H5File::Mode::Read);
  // Every line "<sha256>  <path>" agrees with coreutils' sha256sum of that file.
  std::istringstream lines(f.readAttributeString("/", "input_files_sha256"));
  std::map<std::string, std::string> byFile;
  for (std::string line; std::getline(lines, line);) {
    const auto sep = line.find("  ");
    ASSERT_NE(sep, std::string::npos) << line;
    byFile[fs::path(line.substr(sep + 2)).filename().string()] = line.substr(0, sep);
    const std::string expected = shell("sha256sum '" + line.substr(sep + 2) + "'").substr(0, 64);
    EXPECT_EQ(line.substr(0, sep), expected) << line;
  }
  for (const char* name :
       {"tiny_full_atom.yaml", "system.xml", "extended.pdb", "c7ax.pdb", "adiabatic_phi_psi_72.dat"}) {
    EXPECT_TRUE(byFile.count(name)) << name << " missing from input_files_sha256";
  }
  EXPECT_EQ(byFile.size(), 5u);
  EXPECT_FALSE(f.readAttributeString("/", "openmm_version").empty());
  EXPECT_FALSE(f.readAttributeString("/", "libtorch_version").empty());
  // The commit the binary was built from, as git sees the source tree now.
  const std::string head = shell("git -C '" + kSource.string() + "' rev-parse HEAD 2>/dev/null");
  const std::string commit = f.readAttributeString("/", "git_commit");
  if (head.size() >= 40) {
    EXPECT_EQ(commit.substr(0, 40), head.substr(0, 40));
  } else {
    EXPECT_EQ(commit, "unknown (not a git checkout)");
  }
}

TEST(Provenance, Sha256OfKnownTexts) {
  // FIPS 180-2 test vectors.
  EXPECT_EQ(sha256OfBytes(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256OfBytes("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string path = (fs::path(testing::TempDir()) / "geotps_sha_million_a").string();
  { std::ofstream(path) << std::string(1000000, 'a'); }
  EXPECT_EQ(sha256OfFile(path), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_THROW(sha256OfFile(path + ".missing"), std::runtime_error);
}
