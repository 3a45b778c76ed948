// Checkpoint and resume of `geotps run` (engine/pipelines/checkpoint.h): a run killed with SIGKILL
// at three moments (after the geodesic, before any walker is saved; after a saved chunk; while the
// result file is written) and
// then continued with --resume gives a result file whose datasets equal an uninterrupted run's, bit
// for bit; the checkpoint is refused for another configuration and discarded without --resume.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/io/h5_file.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace geotps;
using geotps::test::freshDir;
using geotps::test::runGeotps;

namespace {

const fs::path kSource = GEOTPS_SOURCE_DIR;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

/// Every dataset of `a` equals `b`'s, bit for bit (numbers compared through their bytes as
/// doubles, which float32 and int64 convert to exactly here; strings as text).
void expectSameDatasets(const std::string& a, const std::string& b) {
  H5File fa(a, H5File::Mode::Read), fb(b, H5File::Mode::Read);
  const auto names = fa.datasetPaths();
  ASSERT_EQ(names, fb.datasetPaths());
  ASSERT_GT(names.size(), 10u);
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    EXPECT_EQ(fa.shape(name), fb.shape(name));
    bool text = false;
    std::vector<double> va, vb;
    try {
      va = fa.readDoubles(name);
      vb = fb.readDoubles(name);
    } catch (const std::exception&) {
      text = true;
    }
    if (text) {
      EXPECT_EQ(fa.readString(name), fb.readString(name));
      continue;
    }
    ASSERT_EQ(va.size(), vb.size());
    EXPECT_EQ(std::memcmp(va.data(), vb.data(), va.size() * sizeof(double)), 0);
  }
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
