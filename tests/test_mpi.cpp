// `geotps run` and `geotps compare` under MPI (docs/mpi.md): `mpirun -np 2` and `-np 3` give result
// files whose datasets and attributes equal a single process's, bit for bit (all but the clock's
// and the `ranks` attribute, which says 2 or 3 instead of 1); a rank that fails (an injected error,
// a device it cannot open) is named on stderr, the job exits non-zero and leaves neither the result
// file nor a temporary; a job killed on 2 ranks resumes on 3; commands that do not share their work
// are refused on several ranks. The reference is the single process without mpirun, which never
// starts MPI. Skipped when this build has no MPI (GEOTPS_WITH_MPI OFF) or there is no mpirun.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/io/h5_file.h"
#include "file_compare.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace geotps;
using geotps::test::expectSameDatasets;
using geotps::test::freshDir;
using geotps::test::runGeotps;

namespace {

const fs::path kSource = GEOTPS_SOURCE_DIR;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::size_t occurrences(const std::string& s, const std::string& part) {
  std::size_t n = 0;
  for (auto at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
  return n;
}

#if GEOTPS_WITH_MPI
constexpr bool kBuiltWithMpi = true;
#else
constexpr bool kBuiltWithMpi = false;
#endif

/// Skips the test unless this build has MPI and mpirun is there.
#define REQUIRE_MPI()                                                              \
  do {                                                                             \
    if (!kBuiltWithMpi) GTEST_SKIP() << "built without MPI (GEOTPS_WITH_MPI OFF)"; \
    if (std::string(GEOTPS_MPIEXEC).empty() || !fs::exists(GEOTPS_MPIEXEC))        \
      GTEST_SKIP() << "no mpirun (Debian: openmpi-bin)";                           \
  } while (0)

/// Open MPI's settings for a CI container that runs as root (another MPI ignores them), and, for
/// a -DGEOTPS_SANITIZE=ON build, the full stacks in which its leak suppressions recognise Open
/// MPI's own leaks (engine/core/sanitizer_options.h; other builds ignore ASAN_OPTIONS).
const std::string kMpiEnv =
    "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
    "OMPI_MCA_btl_vader_single_copy_mechanism=none ASAN_OPTIONS=fast_unwind_on_malloc=0 ";

/// The launcher in front of the binary: `np` ranks on this machine, whatever its cores.
std::string mpirun(int np, const std::string& env = "") {
  return kMpiEnv + "OMPI_MCA_rmaps_base_oversubscribe=1 " + env + " '" +
         std::string(GEOTPS_MPIEXEC) + "' --oversubscribe -np " + std::to_string(np);
}

/// The attributes equal but `ranks`, which is 1 in `a` and `ranksB` in `b`.
void expectSameAttributesButRanks(const std::string& a, const std::string& b, int ranksB) {
  geotps::test::expectSameAttributes(a, b, {"ranks"});
  H5File fa(a, H5File::Mode::Read), fb(b, H5File::Mode::Read);
  EXPECT_EQ(fa.readAttributeInt("/", "ranks"), 1);
  EXPECT_EQ(fb.readAttributeInt("/", "ranks"), ranksB);
}

void expectNoTemporaries(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    EXPECT_FALSE(contains(e.path().filename().string(), ".tmp-")) << e.path();
  }
}

/// `geotps run CONFIG ARGS` once without mpirun and once on 2 and on 3 ranks: the same file.
void runOnRanks(const std::string& config, const std::string& sets) {
  const std::string path = (kSource / "tests/data" / config).string();
  const std::string args = "run '" + path + "' --out out.h5 " + sets;
  const std::string tag = fs::path(config).stem().string();
  const fs::path ref = freshDir("geotps_mpi_ref_" + tag);
  const auto r0 = runGeotps(args + " -q", ref);
  ASSERT_EQ(r0.exitCode, 0) << r0.err;
  for (int np : {2, 3}) {
    SCOPED_TRACE(config + " on " + std::to_string(np) + " ranks");
    const fs::path dir = freshDir("geotps_mpi_" + std::to_string(np) + "_" + tag);
    const auto r = runGeotps(args, dir, mpirun(np));
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
    // Rank 0 alone speaks: one effective configuration, one summary.
    EXPECT_EQ(occurrences(r.out, "effective configuration ("), 1u) << r.out;
    EXPECT_EQ(occurrences(r.out, "\noutput         "), 1u) << r.out;
    // One progress display, for the whole job (stderr is not a terminal: plain lines).
    EXPECT_EQ(occurrences(r.err, "sampling: done"), 1u) << r.err;
    EXPECT_EQ(occurrences(r.err, "geodesic: done"), 1u) << r.err;
    EXPECT_TRUE(contains(r.out, "# MPI: " + std::to_string(np) + " ranks share the walkers"))
        << r.out;
    EXPECT_FALSE(fs::exists(dir / "out.h5.checkpoint"));
    expectNoTemporaries(dir);
    expectSameDatasets((ref / "out.h5").string(), (dir / "out.h5").string());
    expectSameAttributesButRanks((ref / "out.h5").string(), (dir / "out.h5").string(), np);
  }
}

}  // namespace

TEST(Mpi, TwoDimensionalRunOnTwoAndThreeRanksIsBitIdentical) {
  REQUIRE_MPI();
  // 24 walkers in chunks of 4: 6 chunks, 3 rounds on 2 ranks, 2 on 3.
  runOnRanks("tiny_alanine.yaml", "--set output.checkpoint_walkers=4 --set sampler.threads=1");
}

TEST(Mpi, FullAtomRunOnTwoAndThreeRanksIsBitIdentical) {
  REQUIRE_MPI();
  if (!fs::exists(kSource / "data/alanine_dipeptide/system.xml")) GTEST_SKIP();
  // 4 walkers in chunks of 1 on the Reference platform: rank 2 of 3 has one chunk, the others 2.
  runOnRanks("tiny_full_atom.yaml",
             "--set sampler.n_paths=4 --set output.checkpoint_walkers=1 --set sampler.threads=1");
}

// GEOTPS_MPI=1 starts MPI without a launcher (MPI's singleton start): one rank, and the file of a
// process that never started MPI.
TEST(Mpi, ForcedWithoutALauncherRunsAsOneRank) {
  REQUIRE_MPI();
  const std::string path = (kSource / "tests/data/tiny_alanine.yaml").string();
  const std::string args = "run '" + path + "' --out out.h5 --set sampler.threads=1";
  const fs::path ref = freshDir("geotps_mpi_forced_ref"), dir = freshDir("geotps_mpi_forced");
  const auto r0 = runGeotps(args, ref);
  ASSERT_EQ(r0.exitCode, 0) << r0.err;
  const auto r = runGeotps(args, dir, kMpiEnv + "GEOTPS_MPI=1");
  ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "# MPI: 1 rank (docs/mpi.md)")) << r.out;
  EXPECT_FALSE(contains(r0.out, "# MPI")) << r0.out;
  expectNoTemporaries(dir);
  expectSameDatasets((ref / "out.h5").string(), (dir / "out.h5").string());
  geotps::test::expectSameAttributes((ref / "out.h5").string(), (dir / "out.h5").string(), {});
}

TEST(Mpi, CompareOnTwoRanksEqualsOneProcess) {
  REQUIRE_MPI();
  // The geodesic method (walkers shared), variable-length MCMC (4 chains shared) and the geodesic
  // paths refined by shooting (walkers shared).
  const std::string args =
      "compare '" + (kSource / "tests/data/tiny_compare.yaml").string() +
      "' -q --out cmp.h5 --set 'compare.methods=[geodesic, mcmc_variable, geodesic_shooting]' "
      "--set mcmc.variable_max_evaluations=200000 --set output.checkpoint_walkers=8 "
      "--set mcmc.chains=4 --set sampler.threads=1";
  const fs::path ref = freshDir("geotps_mpi_compare_ref");
  const auto r0 = runGeotps(args, ref);
  ASSERT_EQ(r0.exitCode, 0) << r0.err;
  const fs::path dir = freshDir("geotps_mpi_compare_2");
  const auto r = runGeotps(args, dir, mpirun(2));
  ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
  // -q: the files written, listed once (by rank 0).
  EXPECT_EQ(occurrences(r.out, "cmp.h5\n"), 1u) << r.out;
  EXPECT_FALSE(fs::exists(dir / "cmp.h5.checkpoint"));
  expectNoTemporaries(dir);
  for (const char* name : {"cmp.h5", "cmp_geodesic.h5"}) {
    SCOPED_TRACE(name);
    expectSameDatasets((ref / name).string(), (dir / name).string());
  }
  EXPECT_EQ(geotps::test::withoutWallTimes(geotps::test::readText(ref / "cmp.md")),
            geotps::test::withoutWallTimes(geotps::test::readText(dir / "cmp.md")));
  // Every attribute; the geodesic run's file says it ran on 2 ranks.
  geotps::test::expectSameAttributes((ref / "cmp.h5").string(), (dir / "cmp.h5").string());
  expectSameAttributesButRanks((ref / "cmp_geodesic.h5").string(),
                               (dir / "cmp_geodesic.h5").string(), 2);
}

TEST(Mpi, FailedRankIsNamedAndLeavesNoFile) {
  REQUIRE_MPI();
  const std::string args = "run '" + (kSource / "tests/data/tiny_alanine.yaml").string() +
                           "' -q --out out.h5 --set output.checkpoint_walkers=4 "
                           "--set sampler.threads=1";
  // Rank 1 fails on its first chunk; rank 0 on its second (after the first round was saved).
  for (const auto& [fault, rank] :
       std::vector<std::pair<std::string, std::string>>{{"1", "1"}, {"0:1", "0"}}) {
    SCOPED_TRACE("GEOTPS_FAULT_THROW_RANK=" + fault);
    const fs::path dir = freshDir("geotps_mpi_failed");
    const auto r = runGeotps(args, dir, mpirun(2, "GEOTPS_FAULT_THROW_RANK=" + fault));
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(contains(r.err, "geotps: error: rank " + rank +
                                    " of 2: injected failure (GEOTPS_FAULT_THROW_RANK=" + fault +
                                    ")"))
        << r.err;
    EXPECT_EQ(occurrences(r.err, "geotps: error:"), 1u) << r.err;
    EXPECT_FALSE(fs::exists(dir / "out.h5"));
    expectNoTemporaries(dir);
  }
}

// A bad --set (or config file) fails alike on every rank: reported once, by rank 0, with the key,
// exit 2 as without MPI, and no MPI_Abort banner.
TEST(Mpi, BadOverrideIsReportedOnceWithTheKey) {
  REQUIRE_MPI();
  const fs::path dir = freshDir("geotps_mpi_bad_set");
  const auto r = runGeotps("run '" + (kSource / "tests/data/tiny_alanine.yaml").string() +
                               "' -q --out out.h5 --set sampler.n_paths=abc",
                           dir, mpirun(2));
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "geotps: error: rank 0 of 2: configuration error: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "key 'sampler.n_paths': 'abc' is not an integer")) << r.err;
  EXPECT_EQ(occurrences(r.err, "geotps: error:"), 1u) << r.err;
  EXPECT_FALSE(contains(r.err, "MPI_ABORT")) << r.err;
  EXPECT_FALSE(fs::exists(dir / "out.h5"));
}

TEST(Mpi, CommandsThatDoNotShareWorkAreRefusedOnSeveralRanks) {
  REQUIRE_MPI();
  const fs::path dir = freshDir("geotps_mpi_other_command");
  const auto r = runGeotps("keys", dir, mpirun(2));
  EXPECT_NE(r.exitCode, 0);
  EXPECT_TRUE(contains(r.err, "`geotps keys` does not share its work over MPI ranks (2 ranks"))
      << r.err;
  EXPECT_EQ(occurrences(r.err, "geotps: error:"), 1u) << r.err;
  EXPECT_EQ(r.out, "");
}

// A device a rank cannot open (the "bad device"), for real: on OpenCL each rank takes the
// GPU of its node-local rank by default, and POCL (the CPU OpenCL of CI) has one device, so rank 1
// of 2 fails to open device 1 and is named, with the key and the default that chose the device.
TEST(Mpi, RankWithoutItsDeviceIsNamed) {
  REQUIRE_MPI();
  if (!fs::exists(kSource / "data/alanine_dipeptide/system.xml")) GTEST_SKIP();
  const fs::path dir = freshDir("geotps_mpi_device");
  const std::string args = "run '" + (kSource / "tests/data/tiny_full_atom.yaml").string() +
                           "' -q --out out.h5 --set sampler.n_paths=2 --set sampler.threads=1 "
                           "--set potential.platform=OpenCL";
  const auto r = runGeotps(args, dir, mpirun(2));
  if (r.exitCode == 0) GTEST_SKIP() << "this machine has a second OpenCL device";
  if (!contains(r.err, "potential.device_index")) GTEST_SKIP() << "no OpenCL here: " << r.err;
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "geotps: error: rank 1 of 2: configuration error: ")) << r.err;
  EXPECT_TRUE(contains(r.err,
                       "key 'potential.device_index': the OpenCL platform cannot use "
                       "device 1 (the default under MPI: the node-local rank, 1"))
      << r.err;
  EXPECT_EQ(occurrences(r.err, "geotps: error:"), 1u) << r.err;
  EXPECT_FALSE(fs::exists(dir / "out.h5"));
  expectNoTemporaries(dir);
}

// The checkpoint is rank 0's and its chunks do not depend on the ranks: a job on 2 ranks killed
// (SIGKILL on rank 0) after its second chunk is saved and resumed on 3 ranks gives the single
// process's file.
TEST(Mpi, KilledJobResumesOnAnotherNumberOfRanks) {
  REQUIRE_MPI();
  const std::string args = "run '" + (kSource / "tests/data/tiny_alanine.yaml").string() +
                           "' -q --out out.h5 --set output.checkpoint_walkers=4 "
                           "--set sampler.threads=1";
  const fs::path ref = freshDir("geotps_mpi_resume_ref"), dir = freshDir("geotps_mpi_resume");
  ASSERT_EQ(runGeotps(args, ref).exitCode, 0);
  const auto killed = runGeotps(args, dir, mpirun(2, "GEOTPS_FAULT_KILL=chunk:1"));
  EXPECT_NE(killed.exitCode, 0);
  EXPECT_FALSE(fs::exists(dir / "out.h5"));
  ASSERT_TRUE(fs::exists(dir / "out.h5.checkpoint/chunk_00001.h5"));
  const auto resumed = runGeotps(args + " --resume", dir, mpirun(3));
  ASSERT_EQ(resumed.exitCode, 0) << resumed.err;
  EXPECT_FALSE(fs::exists(dir / "out.h5.checkpoint"));
  expectNoTemporaries(dir);  // the killed rank 0's temporary is removed by the resumed run
  expectSameDatasets((ref / "out.h5").string(), (dir / "out.h5").string());
  expectSameAttributesButRanks((ref / "out.h5").string(), (dir / "out.h5").string(), 3);
}
