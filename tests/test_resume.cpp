// Checkpoint and resume of `geotps run` (engine/pipelines/checkpoint.h): a run killed with SIGKILL
// at three moments (after the geodesic, before any walker is saved; after a saved chunk; while the
// result file is written) and
// then continued with --resume gives a result file whose datasets equal an uninterrupted run's, bit
// for bit; the checkpoint is refused for another configuration and discarded without --resume. The
// same for `geotps compare` (engine/pipelines/compare_checkpoint.h), whose resumed files also equal
// an uninterrupted compare's in every attribute but the clock's.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "engine/io/h5_file.h"
#include "file_compare.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace geotps;
using geotps::test::expectSameAttributes;
using geotps::test::expectSameDatasets;
using geotps::test::freshDir;
using geotps::test::runGeotps;
using geotps::test::withoutWallTimes;

namespace {

const fs::path kSource = GEOTPS_SOURCE_DIR;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

struct Job {
  std::string config, sets;
  int walkers;
};

void killAndResume(const Job& job, const std::string& killAt, int savedWalkers) {
  SCOPED_TRACE(job.config + " killed at " + killAt);
  const std::string config = (kSource / "tests/data" / job.config).string();
  const std::string args = "run '" + config + "' -q --out out.h5 " + job.sets;
  // The resumed run without -q: it reports on stdout how many walkers it found.
  const std::string loud = "run '" + config + "' --out out.h5 " + job.sets;
  // Folders per job: ctest runs the 2D and full-atom tests side by side.
  const std::string tag = fs::path(job.config).stem().string();
  const fs::path ref = freshDir("geotps_resume_ref_" + tag),
                 dir = freshDir("geotps_resume_killed_" + tag);
  const auto r0 = runGeotps(args, ref);
  ASSERT_EQ(r0.exitCode, 0) << r0.err;
  EXPECT_FALSE(fs::exists(ref / "out.h5.checkpoint"));  // removed once the file is in place

  const auto killed = runGeotps(args, dir, "GEOTPS_FAULT_KILL=" + killAt);
  // sh reports the kill as 128 + 9, or the system() status as a signal (-1 here).
  ASSERT_TRUE(killed.exitCode == 128 + 9 || killed.exitCode == -1) << killed.exitCode << killed.err;
  EXPECT_FALSE(fs::exists(dir / "out.h5"));
  // The folder appears with the first finished chunk.
  ASSERT_EQ(fs::is_directory(dir / "out.h5.checkpoint"), savedWalkers > 0);

  const auto resumed = runGeotps(loud + " --resume", dir);
  ASSERT_EQ(resumed.exitCode, 0) << resumed.err;
  const std::string note = savedWalkers > 0
                               ? "--resume: " + std::to_string(savedWalkers) + " of " +
                                     std::to_string(job.walkers) + " walkers are saved"
                               : "--resume: no checkpoint";
  EXPECT_TRUE(contains(resumed.out, note)) << resumed.out;
  EXPECT_FALSE(fs::exists(dir / "out.h5.checkpoint"));
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_FALSE(contains(e.path().filename().string(), ".tmp-")) << e.path();
  }
  expectSameDatasets((ref / "out.h5").string(), (dir / "out.h5").string());
}

const Job k2d{"tiny_alanine.yaml", "--set output.checkpoint_walkers=8", 24};
const Job kFullAtom{"tiny_full_atom.yaml",
                    "--set sampler.n_paths=4 --set output.checkpoint_walkers=2", 4};

}  // namespace

TEST(Resume, KilledTwoDimensionalRunsResumeBitIdentically) {
  killAndResume(k2d, "sampling:0", 0);
  killAndResume(k2d, "chunk:1", 16);
  killAndResume(k2d, "output:0", 24);
}

TEST(Resume, KilledFullAtomRunsResumeBitIdentically) {
  if (!fs::exists(kSource / "data/alanine_dipeptide/system.xml")) GTEST_SKIP();
  killAndResume(kFullAtom, "sampling:0", 0);
  killAndResume(kFullAtom, "chunk:0", 2);
  killAndResume(kFullAtom, "output:0", 4);
}

TEST(Resume, AnotherConfigurationIsRefusedAndNoResumeDiscards) {
  const std::string config = (kSource / "tests/data/tiny_alanine.yaml").string();
  const std::string args = "run '" + config + "' -q --out out.h5 " + k2d.sets;
  const fs::path dir = freshDir("geotps_resume_refused");
  const int killed = runGeotps(args, dir, "GEOTPS_FAULT_KILL=chunk:0").exitCode;
  ASSERT_TRUE(killed == 128 + 9 || killed == -1) << killed;
  ASSERT_TRUE(fs::exists(dir / "out.h5.checkpoint/chunk_00000.h5"));

  // Another seed: refused, naming --resume and the differing line; the checkpoint stays.
  const auto other = runGeotps(args + " --seed 8 --resume", dir);
  EXPECT_EQ(other.exitCode, 2);
  EXPECT_TRUE(contains(other.err, "--resume")) << other.err;
  EXPECT_TRUE(contains(other.err, "'seed: 7' in the checkpoint, 'seed: 8' now")) << other.err;
  EXPECT_TRUE(fs::exists(dir / "out.h5.checkpoint/chunk_00000.h5"));
  EXPECT_FALSE(fs::exists(dir / "out.h5"));

  // Without --resume the checkpoint is discarded with a warning and the run starts over.
  const auto fresh = runGeotps(args, dir);
  EXPECT_EQ(fresh.exitCode, 0) << fresh.err;
  EXPECT_TRUE(contains(fresh.err, "warning: discarding")) << fresh.err;
  EXPECT_TRUE(contains(fresh.err, "1 saved chunks")) << fresh.err;
  EXPECT_FALSE(fs::exists(dir / "out.h5.checkpoint"));

  // --resume with nothing to resume runs from the beginning.
  const fs::path dir2 = freshDir("geotps_resume_nothing");
  const auto none = runGeotps("run '" + config + "' --out out.h5 " + k2d.sets + " --resume", dir2);
  EXPECT_EQ(none.exitCode, 0) << none.err;
  EXPECT_TRUE(contains(none.out, "no checkpoint")) << none.out;

  // A file in the checkpoint folder's place is not ours: refused, left alone.
  const fs::path dir3 = freshDir("geotps_resume_blocked");
  { std::ofstream(dir3 / "out.h5.checkpoint") << "not ours\n"; }
  const auto blocked = runGeotps(args, dir3);
  EXPECT_EQ(blocked.exitCode, 2);
  EXPECT_TRUE(contains(blocked.err, "out.h5.checkpoint")) << blocked.err;
  EXPECT_EQ(geotps::test::readText(dir3 / "out.h5.checkpoint"), "not ours\n");
  EXPECT_FALSE(fs::exists(dir3 / "out.h5"));
}

namespace {

// `geotps compare` (engine/pipelines/compare_checkpoint.h): the geodesic method and
// variable-length MCMC on the tiny 2D surface, walkers in chunks of 8, 4 chains run one after the
// other (one thread: which chains a kill leaves saved is known).
const std::string kCompareSets =
    "--set 'compare.methods=[geodesic, mcmc_variable]' --set mcmc.variable_max_evaluations=200000 "
    "--set output.checkpoint_walkers=8 --set mcmc.chains=4 --set sampler.threads=1";

std::string compareArgs(bool quiet) {
  return "compare '" + (kSource / "tests/data/tiny_compare.yaml").string() + "'" +
         (quiet ? " -q" : "") + " --out cmp.h5 " + kCompareSets;
}

/// A compare killed at `killAt` and resumed gives the files of the uninterrupted compare in `ref`;
/// `note` is what the resumed compare reports about its checkpoint.
void killAndResumeCompare(const fs::path& ref, const std::string& killAt, bool folder,
                          const std::string& note) {
  SCOPED_TRACE("compare killed at " + killAt);
  const fs::path dir = freshDir("geotps_resume_compare_killed");
  const auto killed = runGeotps(compareArgs(true), dir, "GEOTPS_FAULT_KILL=" + killAt);
  ASSERT_TRUE(killed.exitCode == 128 + 9 || killed.exitCode == -1) << killed.exitCode << killed.err;
  for (const char* name : {"cmp.h5", "cmp.md", "cmp_geodesic.h5"}) {
    EXPECT_FALSE(fs::exists(dir / name)) << name;
  }
  ASSERT_EQ(fs::is_directory(dir / "cmp.h5.checkpoint"), folder);

  const auto resumed = runGeotps(compareArgs(false) + " --resume", dir);
  ASSERT_EQ(resumed.exitCode, 0) << resumed.err;
  EXPECT_TRUE(contains(resumed.out, note)) << resumed.out;
  EXPECT_FALSE(fs::exists(dir / "cmp.h5.checkpoint"));
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_FALSE(contains(e.path().filename().string(), ".tmp-")) << e.path();
  }
  for (const char* name : {"cmp.h5", "cmp_geodesic.h5"}) {
    SCOPED_TRACE(name);
    expectSameDatasets((ref / name).string(), (dir / name).string());
    expectSameAttributes((ref / name).string(), (dir / name).string());
  }
  EXPECT_EQ(withoutWallTimes(geotps::test::readText(ref / "cmp.md")),
            withoutWallTimes(geotps::test::readText(dir / "cmp.md")));
}

}  // namespace

TEST(Resume, KilledComparesResumeBitIdentically) {
  const fs::path ref = freshDir("geotps_resume_compare_ref");
  const auto r0 = runGeotps(compareArgs(true), ref);
  ASSERT_EQ(r0.exitCode, 0) << r0.err;
  EXPECT_FALSE(fs::exists(ref / "cmp.h5.checkpoint"));  // removed once the files are in place
  // In the geodesic run, after its second chunk of walkers: the run's own checkpoint, inside.
  killAndResumeCompare(ref, "chunk:1", true, "--resume: 16 of 24 walkers are saved");
  // After the geodesic method (method 0), after MCMC's chains 0 and 1, and after both methods,
  // while the compare file is written.
  killAndResumeCompare(ref, "method:0", true, "--resume: 1 of 2 methods are saved");
  killAndResumeCompare(ref, "chain:1", true, "--resume: 2 of 4 chains of mcmc_variable are saved");
  killAndResumeCompare(ref, "compare:0", true, "--resume: 2 of 2 methods are saved");
}

TEST(Resume, CompareRefusesAnotherConfigurationAndDiscardsWithoutResume) {
  const fs::path dir = freshDir("geotps_resume_compare_refused");
  const int killed = runGeotps(compareArgs(true), dir, "GEOTPS_FAULT_KILL=method:0").exitCode;
  ASSERT_TRUE(killed == 128 + 9 || killed == -1) << killed;
  ASSERT_TRUE(fs::exists(dir / "cmp.h5.checkpoint/method_geodesic.h5"));

  const auto other = runGeotps(compareArgs(true) + " --seed 6 --resume", dir);
  EXPECT_EQ(other.exitCode, 2);
  EXPECT_TRUE(contains(other.err, "cmp.h5.checkpoint belongs to another configuration"))
      << other.err;
  EXPECT_TRUE(contains(other.err, "'seed: 5' in the checkpoint, 'seed: 6' now")) << other.err;
  EXPECT_TRUE(fs::exists(dir / "cmp.h5.checkpoint/method_geodesic.h5"));
  EXPECT_FALSE(fs::exists(dir / "cmp.h5"));

  const auto fresh = runGeotps(compareArgs(true), dir);
  EXPECT_EQ(fresh.exitCode, 0) << fresh.err;
  EXPECT_TRUE(contains(fresh.err, "warning: discarding")) << fresh.err;
  EXPECT_TRUE(contains(fresh.err, "1 saved method results of an interrupted compare"))
      << fresh.err;
  EXPECT_FALSE(fs::exists(dir / "cmp.h5.checkpoint"));
  EXPECT_TRUE(fs::exists(dir / "cmp.h5"));
}

// With potential.platform auto the platform is chosen by timing, which can differ from run to run:
// the checkpoint records the platform its walkers ran on, and a resumed run continues on it. Here
// the recorded platform is replaced by the one the first run did not choose (Reference <-> CPU),
// so that the resumed run must take it from the checkpoint rather than choose it again.
TEST(Resume, AutoPlatformContinuesOnTheCheckpointsPlatform) {
  if (!fs::exists(kSource / "data/alanine_dipeptide/system.xml")) GTEST_SKIP();
  const std::string config = (kSource / "tests/data/tiny_full_atom.yaml").string();
  const std::string args = "run '" + config + "' --out out.h5 " + kFullAtom.sets +
                           " --set potential.platform=auto";
  const fs::path dir = freshDir("geotps_resume_platform");
  const auto killed = runGeotps(args, dir, "GEOTPS_FAULT_KILL=chunk:0");
  ASSERT_TRUE(killed.exitCode == 128 + 9 || killed.exitCode == -1) << killed.exitCode << killed.err;
  const std::string manifest = (dir / "out.h5.checkpoint/job.h5").string();
  std::string chosen;
  {
    H5File f(manifest, H5File::Mode::Read);
    chosen = f.readAttributeString("/", "openmm_platform");
  }
  // The killed run printed the platform it chose.
  EXPECT_TRUE(contains(killed.out, "# full atom: platform " + chosen + " ")) << killed.out;
  ASSERT_TRUE(chosen == "Reference" || chosen == "CPU") << chosen;
  const std::string other = chosen == "Reference" ? "CPU" : "Reference";
  {
    // job.h5 again, with the other platform (HDF5 attributes are rewritten by rewriting the file).
    H5File old(manifest, H5File::Mode::Read);
    const std::string effective = old.readString("/effective");
    const std::string version = old.readAttributeString("/", "geotps_version");
    const auto shape = old.shape("/curve");
    const std::vector<double> curve = old.readDoubles("/curve");
    const std::int64_t nPaths = old.readAttributeInt("/", "n_paths");
    const std::int64_t chunk = old.readAttributeInt("/", "chunk_walkers");
    const std::string copy = manifest + ".new";
    {
      H5File f(copy, H5File::Mode::Create);
      f.writeString("/effective", effective);
      f.setAttribute("/", "geotps_version", version);
      f.setAttribute("/", "openmm_platform", other);
      f.writeDoubles("/curve", shape, curve.data(), "l: 1; x: as in /sampling/curve_z");
      f.setAttribute("/", "n_paths", nPaths, "1");
      f.setAttribute("/", "chunk_walkers", chunk, "1");
    }
    fs::rename(copy, manifest);
  }
  const auto resumed = runGeotps(args + " --resume", dir);
  ASSERT_EQ(resumed.exitCode, 0) << resumed.err;
  EXPECT_TRUE(contains(resumed.out, "--resume: potential.platform auto: " + other)) << resumed.out;
  H5File f((dir / "out.h5").string(), H5File::Mode::Read);
  EXPECT_EQ(f.readAttributeString("/full_atom", "platform"), other);
  EXPECT_TRUE(contains(f.readAttributeString("/full_atom", "platform_report"),
                       "(potential.platform auto: the platform of the work saved in "))
      << f.readAttributeString("/full_atom", "platform_report");
}

namespace {

// `geotps distance` on six points (15 pairs, saved in blocks of 2 on two threads: 8 blocks).
std::string distanceArgs(const fs::path& points, bool quiet) {
  return "distance '" + (kSource / "tests/data/tiny_alanine.yaml").string() + "'" +
         (quiet ? " -q" : "") + " --out d.h5 --set 'distance.points=" + points.string() +
         "' --set sampler.threads=2 --set geodesic.max_iterations=60";
}

}  // namespace

TEST(Resume, KilledDistancesResumeBitIdentically) {
  const fs::path ref = freshDir("geotps_resume_distance_ref");
  const fs::path points = ref / "points.txt";
  std::ofstream(points) << "-2.55 2.7\n-1.4 1.1\n0.95 -0.4\n-1.5 -0.6\n1.1 0.9\n-2.9 -2.8\n";
  const auto r0 = runGeotps(distanceArgs(points, true), ref);
  ASSERT_EQ(r0.exitCode, 0) << r0.err;
  EXPECT_FALSE(fs::exists(ref / "d.h5.checkpoint"));
  // After block 2 (6 geodesics saved), and while the file is written (all 15 saved).
  for (const auto& [killAt, saved] :
       std::vector<std::pair<std::string, int>>{{"block:2", 6}, {"output:0", 15}}) {
    SCOPED_TRACE("distance killed at " + killAt);
    const fs::path dir = freshDir("geotps_resume_distance_killed");
    const auto killed = runGeotps(distanceArgs(points, true), dir, "GEOTPS_FAULT_KILL=" + killAt);
    ASSERT_TRUE(killed.exitCode == 128 + 9 || killed.exitCode == -1)
        << killed.exitCode << killed.err;
    EXPECT_FALSE(fs::exists(dir / "d.h5"));
    ASSERT_TRUE(fs::is_directory(dir / "d.h5.checkpoint"));
    const auto resumed = runGeotps(distanceArgs(points, false) + " --resume", dir);
    ASSERT_EQ(resumed.exitCode, 0) << resumed.err;
    EXPECT_TRUE(contains(resumed.out, "--resume: " + std::to_string(saved) +
                                          " of 15 geodesics are saved"))
        << resumed.out;
    EXPECT_FALSE(fs::exists(dir / "d.h5.checkpoint"));
    for (const auto& e : fs::directory_iterator(dir)) {
      EXPECT_FALSE(contains(e.path().filename().string(), ".tmp-")) << e.path();
    }
    // The matrices, the points and the provenance: 9 datasets.
    expectSameDatasets((ref / "d.h5").string(), (dir / "d.h5").string(), 8);
  }
  // Other points under the same configuration text: refused, the checkpoint left as it was.
  const fs::path dir = freshDir("geotps_resume_distance_points");
  const auto killed = runGeotps(distanceArgs(points, true), dir, "GEOTPS_FAULT_KILL=block:0");
  ASSERT_TRUE(killed.exitCode == 128 + 9 || killed.exitCode == -1) << killed.err;
  std::ofstream(points) << "-2.55 2.7\n-1.4 1.1\n0.95 -0.4\n-1.5 -0.6\n1.1 0.9\n-2.9 -2.7\n";
  const auto other = runGeotps(distanceArgs(points, true) + " --resume", dir);
  EXPECT_EQ(other.exitCode, 2) << other.err;
  EXPECT_TRUE(contains(other.err, "the points read now differ")) << other.err;
  EXPECT_TRUE(fs::exists(dir / "d.h5.checkpoint/pairs_00000.h5"));
  EXPECT_FALSE(fs::exists(dir / "d.h5"));
}
