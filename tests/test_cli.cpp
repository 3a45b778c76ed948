// End-to-end tests of the `geotps` command line: bad inputs fail cleanly (non-zero exit, the key or
// file named, no output file left), a small job runs, and `geotps info --json` reads it back.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/config/config.h"
#include "engine/denoisers/quadrature_denoiser.h"
#include "engine/geodesic/curve_energy.h"
#include "engine/io/h5_file.h"
#include "potentials/tabulated_surface.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;

namespace {

using geotps::test::CommandResult;
using geotps::test::readText;
using geotps::test::runGeotps;

fs::path freshDir(const std::string& name) { return geotps::test::freshDir("geotps_cli_" + name); }

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

/// tests/data/tiny_alanine.yaml with its surface file made absolute, to be edited and written
/// anywhere.
std::string tinyConfigText() {
  std::string text = readText(kSource / "tests/data/tiny_alanine.yaml");
  const std::string rel = "file: ../../data/", abs = "file: " + (kSource / "data/").string();
  text.replace(text.find(rel), rel.size(), abs);
  return text;
}

}  // namespace

// The LibTorch features and a build without LibTorch (-DGEOTPS_WITH_TORCH=OFF): there, asking for
// one is a configuration error (exit 2) that names the key and says the build has no LibTorch; in
// a build with LibTorch the same commands get past that point and fail on the next problem given
// here (a missing model file, an output folder that cannot exist).
TEST(Cli, LibTorchFeaturesAreRefusedByNameOnlyWithoutLibTorch) {
  const fs::path dir = freshDir("torch_features");
  std::ofstream(dir / "job.yaml") << tinyConfigText();
  struct Case {
    std::string args, key, whenPresent;
  };
  const std::vector<Case> cases = {
      {"run job.yaml -q --set denoiser.type=torch --set denoiser.model=missing.pt",
       "key 'denoiser.type'", "key 'denoiser.model'"},
      {"compare job.yaml -q --set compare.methods=[doob] --out /proc/geotps_no/cmp.h5",
       "key 'compare.methods'", "/proc/geotps_no/cmp.h5"},
      {"train-denoiser job.yaml -q --out /proc/geotps_no/model.pt", "key 'training'",
       "/proc/geotps_no/model.pt"},
  };
  for (const auto& c : cases) {
    const CommandResult r = runGeotps(c.args, dir);
    EXPECT_NE(r.exitCode, 0) << c.args;
    if (GEOTPS_HAS_TORCH) {
      EXPECT_EQ(r.err.find("needs LibTorch"), std::string::npos) << c.args << "\n" << r.err;
      EXPECT_NE(r.err.find(c.whenPresent), std::string::npos) << c.args << "\n" << r.err;
    } else {
      EXPECT_EQ(r.exitCode, 2) << c.args;
      EXPECT_NE(r.err.find(c.key), std::string::npos) << c.args << "\n" << r.err;
      EXPECT_NE(r.err.find("needs LibTorch, and this build of geotps has none"), std::string::npos)
          << c.args << "\n"
          << r.err;
      EXPECT_NE(r.err.find("job.yaml"), std::string::npos) << c.args << "\n" << r.err;
    }
  }
  const auto left = leftovers(dir);
  EXPECT_EQ(left, std::vector<std::string>{"job.yaml"}) << "a refused command left a file";
}

// A build with LibTorch keeps it in the module libgeotps_neural.so (engine/core/torch_module.h):
// the dynamic loader's own report (LD_DEBUG=libs) shows LibTorch loaded by a command that trains
// and not by a 2D run or `keys`; a module that cannot be loaded is named with the key that asked.
TEST(Cli, LibTorchIsLoadedOnlyByTheCommandsThatUseIt) {
  if (!GEOTPS_HAS_TORCH) GTEST_SKIP() << "a build without LibTorch has no module";
  const fs::path dir = freshDir("torch_module");
  std::ofstream(dir / "job.yaml") << tinyConfigText();
  const std::string torchLibrary = "libtorch_cpu.so";
  const CommandResult run = runGeotps("run job.yaml -q --out run.h5", dir, "LD_DEBUG=libs");
  EXPECT_EQ(run.exitCode, 0) << run.err.substr(run.err.size() > 2000 ? run.err.size() - 2000 : 0);
  EXPECT_EQ(run.err.find(torchLibrary), std::string::npos) << "a 2D run loaded LibTorch";
  const CommandResult keys = runGeotps("keys", dir, "LD_DEBUG=libs");
  EXPECT_EQ(keys.exitCode, 0);
  EXPECT_EQ(keys.err.find(torchLibrary), std::string::npos) << "`geotps keys` loaded LibTorch";
  const CommandResult train =
      runGeotps("train-denoiser job.yaml -q --out /proc/geotps_no/model.pt", dir, "LD_DEBUG=libs");
  EXPECT_NE(train.exitCode, 0);
  EXPECT_NE(train.err.find(torchLibrary), std::string::npos) << "training did not load LibTorch";
  EXPECT_NE(train.err.find("libgeotps_neural.so"), std::string::npos);
  EXPECT_NE(train.err.find("/proc/geotps_no/model.pt"), std::string::npos)
      << "training got past the module to the output path";

  const std::string missing = (dir / "no_such_module.so").string();
  for (const auto& [args, key] : std::vector<std::pair<std::string, std::string>>{
           {"run job.yaml -q --set denoiser.type=torch --set denoiser.model=m.pt",
            "key 'denoiser.type'"},
           {"compare job.yaml -q --set compare.methods=[doob] --out cmp.h5",
            "key 'compare.methods'"},
           {"train-denoiser job.yaml -q --out model.pt", "key 'training'"}}) {
    const CommandResult r = runGeotps(args, dir, "GEOTPS_TORCH_MODULE='" + missing + "'");
    EXPECT_EQ(r.exitCode, 2) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(key), std::string::npos) << args << "\n" << r.err;
    EXPECT_NE(r.err.find("needs LibTorch: the LibTorch module of this build could not be loaded"),
              std::string::npos)
        << args << "\n" << r.err;
    EXPECT_NE(r.err.find(missing), std::string::npos) << args << "\n" << r.err;
  }
  auto left = leftovers(dir);
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"job.yaml", "run.h5"})) << "a refused command left a file";
}

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
  // (A numeric attribute's `<name>_units` companion is documented by the general rule.)
  for (const auto& attr : f.attributeNames("/summary")) {
    if (attr.ends_with(geotps::kUnitsSuffix)) continue;
    EXPECT_NE(docs.find("`" + attr + "`"), std::string::npos)
        << attr << " missing from docs/output.md";
  }
  EXPECT_NE(docs.find("`X_units`"), std::string::npos);
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

TEST(Cli, BaselineAndAvx2QuadratureKernelsGiveIdenticalResults) {
  // GEOTPS_BASELINE_KERNEL=1 forces the SSE2 build of the 2D quadrature kernel; on a CPU with AVX2
  // the default run uses the AVX2 build. Geodesic and paths must agree bit for bit.
  const fs::path dir = freshDir("kernel");
  const std::string config = (kSource / "tests/data/tiny_alanine.yaml").string();
  ASSERT_EQ(runGeotps("run '" + config + "' -q --out a.h5", dir).exitCode, 0);
  ASSERT_EQ(
      runGeotps("run '" + config + "' -q --out b.h5", dir, "GEOTPS_BASELINE_KERNEL=1").exitCode, 0);
  geotps::H5File a((dir / "a.h5").string(), geotps::H5File::Mode::Read);
  geotps::H5File b((dir / "b.h5").string(), geotps::H5File::Mode::Read);
  for (const char* path : {"/curve/z", "/curve/mu", "/curve/psi", "/curve/energy_history",
                           "/paths/frames", "/paths/max_energy_nearest"}) {
    EXPECT_EQ(a.readDoubles(path), b.readDoubles(path)) << path;
  }
}

TEST(Cli, GeodesicInitialReusesOrWarmStartsFromAStoredCurve) {
  const fs::path dir = freshDir("initial");
  // The tiny job with extra geodesic keys.
  auto variant = [&](const std::string& name, const std::string& geodesicKeys,
                     const std::string& lEnd = "4.0") {
    std::string text = tinyConfigText();
    const std::string geo = "geodesic:\n";
    text.replace(text.find(geo), geo.size(), geo + geodesicKeys);
    const std::string st = "states:\n";
    text.replace(text.find(st), st.size(), st + "  l_end: " + lEnd + "\n");
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  const std::string first = (dir / "first.h5").string();
  ASSERT_EQ(runGeotps("run '" + variant("first.yaml", "") + "' -q --out first.h5", dir).exitCode,
            0);
  const std::string use = "  initial: " + first + "\n";
  ASSERT_EQ(
      runGeotps(
          "run '" + variant("reuse.yaml", use + "  optimizer: none\n") + "' -q --out reuse.h5", dir)
          .exitCode,
      0);
  ASSERT_EQ(runGeotps("run '" + variant("warm.yaml", use) + "' -q --out warm.h5", dir).exitCode, 0);
  geotps::H5File a(first, geotps::H5File::Mode::Read);
  geotps::H5File r((dir / "reuse.h5").string(), geotps::H5File::Mode::Read);
  geotps::H5File w((dir / "warm.h5").string(), geotps::H5File::Mode::Read);
  // optimizer none: the stored curve as it is, hence (same seed) the same paths.
  for (const char* path : {"/curve/spline_parameters", "/curve/z", "/curve/mu", "/curve/psi",
                           "/paths/frames", "/paths/max_energy_nearest"}) {
    EXPECT_EQ(a.readDoubles(path), r.readDoubles(path)) << path;
  }
  EXPECT_EQ(r.readAttributeInt("/curve", "iterations"), 0);
  // The same from the command line: a relative Path given by --set is relative to the working
  // directory (here `dir`), not to the config file's folder (`dir`/sub).
  fs::create_directories(dir / "sub");
  ASSERT_EQ(runGeotps("run '" + variant("sub/plain.yaml", "") +
                          "' -q --out cli.h5 --set geodesic.initial=first.h5 --set "
                          "geodesic.optimizer=none",
                      dir)
                .exitCode,
            0);
  geotps::H5File c((dir / "cli.h5").string(), geotps::H5File::Mode::Read);
  EXPECT_EQ(c.readDoubles("/paths/frames"), a.readDoubles("/paths/frames"));
  EXPECT_EQ(r.readAttributeString("/curve", "initial_curve"), first);
  EXPECT_EQ(a.readAttributeString("/curve", "initial_curve"), "straight line");
  // Warm start: L-BFGS continues from the stored curve (the tiny job stops after 40 iterations),
  // so every energy it records is at most the stored curve's, and it ends lower.
  const double stored = a.readAttributeDouble("/curve", "energy");
  const auto history = w.readDoubles("/curve/energy_history");
  ASSERT_FALSE(history.empty());
  EXPECT_LE(history.front(), stored + 1e-12);
  EXPECT_LT(w.readAttributeDouble("/curve", "energy"), stored - 1e-6);
  EXPECT_EQ(w.readAttributeDouble("/curve", "straight_line_energy"),
            a.readAttributeDouble("/curve", "straight_line_energy"));

  // A curve with other nodes or other end points is refused before any work.
  const fs::path bad = freshDir("initial_bad");
  for (const auto& [config, expect] :
       {std::pair{variant("nodes.yaml", use + "  n_nodes: 8\n"), std::string("n_nodes = 8")},
        std::pair{variant("ends.yaml", use, "3.5"), std::string("end points")}}) {
    const CommandResult run = runGeotps("run '" + config + "' -q --out out.h5", bad);
    EXPECT_EQ(run.exitCode, 2) << config;
    EXPECT_NE(run.err.find("key 'geodesic.initial'"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(expect), std::string::npos) << run.err;
    EXPECT_TRUE(leftovers(bad).empty()) << config;
  }
}

TEST(Cli, WarmStartOfAConstrainedGeodesicContinuesItsFinalStage) {
  // L-BFGS with the low-variance term runs two stages (weight 0, then lambda); started from a
  // stored curve it runs only the second, from that curve, so the objective can only go down.
  const fs::path dir = freshDir("warm_lv");
  const std::string config = (kSource / "tests/data/tiny_alanine.yaml").string();
  const std::string lv = " --set penalty.type=low_variance --set sampler.n_paths=2";
  ASSERT_EQ(runGeotps("run '" + config + "' -q --out cold.h5" + lv, dir).exitCode, 0);
  ASSERT_EQ(
      runGeotps("run '" + config + "' -q --out warm.h5 --set geodesic.initial=cold.h5" + lv, dir)
          .exitCode,
      0);
  geotps::H5File cold((dir / "cold.h5").string(), geotps::H5File::Mode::Read);
  geotps::H5File warm((dir / "warm.h5").string(), geotps::H5File::Mode::Read);
  EXPECT_NE(cold.readAttributeString("/curve", "stop_reason").find("stage 2"), std::string::npos);
  EXPECT_EQ(warm.readAttributeString("/curve", "stop_reason").find("stage"), std::string::npos)
      << warm.readAttributeString("/curve", "stop_reason");
  const double before = cold.readAttributeDouble("/curve", "objective");
  const auto history = warm.readDoubles("/curve/objective_history");
  ASSERT_FALSE(history.empty());
  EXPECT_LE(history.front(), before + 1e-9);
  EXPECT_LT(warm.readAttributeDouble("/curve", "objective"), before - 1e-6);
}

TEST(Cli, SamplerSpacingFisherRaoPlacesPointsAtEqualInformationSteps) {
  const fs::path dir = freshDir("spacing");
  std::string text = tinyConfigText();
  // 256 sampling points on the 32-point geodesic: short segments, whose chords are their arc
  // lengths to within a few per cent.
  const std::string sampler = "sampler:\n";
  text.replace(text.find(sampler), sampler.size(), sampler + "  n_points: 256\n");
  std::ofstream(dir / "param.yaml") << text;
  text.replace(text.find(sampler), sampler.size(), sampler + "  spacing: fisher_rao\n");
  std::ofstream(dir / "fr.yaml") << text;
  ASSERT_EQ(runGeotps("run param.yaml -q --out param.h5", dir).exitCode, 0);
  ASSERT_EQ(runGeotps("run fr.yaml -q --out fr.h5", dir).exitCode, 0);
  geotps::H5File p((dir / "param.h5").string(), geotps::H5File::Mode::Read);
  geotps::H5File f((dir / "fr.h5").string(), geotps::H5File::Mode::Read);
  EXPECT_EQ(p.readDoubles("/curve/z"), f.readDoubles("/curve/z"));  // same geodesic
  EXPECT_EQ(p.shape("/sampling/curve_z"), (std::vector<std::size_t>{256, 3}));
  // Chords sqrt(d eta . d mu) of the sampled points, measured with the exact denoiser here.
  const auto surface = geotps::TabulatedSurface::fromFile(
      (kSource / "data/alanine_dipeptide/phi_psi_surface.dat").string());
  const auto q = geotps::QuadratureDenoiser::fromSurface(*surface, 1.0, 2);
  auto spread = [&](const std::vector<double>& flat) {
    const Eigen::MatrixXd z =
        Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor>>(
            flat.data(), flat.size() / 3, 3);
    const geotps::CurveEvaluation ev = geotps::evaluateCurve(*q, z, false);
    double lo = 1e300, hi = 0;
    for (Eigen::Index n = 0; n + 1 < z.rows(); ++n) {
      const double c =
          std::sqrt((ev.eta.row(n + 1) - ev.eta.row(n)).dot(ev.mu.row(n + 1) - ev.mu.row(n)));
      lo = std::min(lo, c);
      hi = std::max(hi, c);
    }
    return hi / lo;
  };
  const double param = spread(p.readDoubles("/sampling/curve_z"));
  const double fisher = spread(f.readDoubles("/sampling/curve_z"));
  EXPECT_GT(param, 1.3) << "the tiny geodesic is not far from constant speed: the check is void";
  EXPECT_LT(fisher, 1.1) << "uniform in s: " << param;
}

TEST(Cli, SetOverridesKeysAndRecordsThem) {
  const fs::path dir = freshDir("set");
  const std::string config = (kSource / "tests/data/tiny_alanine.yaml").string();
  const CommandResult r = runGeotps("run '" + config +
                                        "' -q --out set.h5 --set sampler.n_paths=5 -s "
                                        "geodesic.n_points=16 --set 'states.a=[-2.5, 2.7]'",
                                    dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  geotps::H5File f((dir / "set.h5").string(), geotps::H5File::Mode::Read);
  EXPECT_EQ(f.shape("/paths/max_energy_nearest"), (std::vector<std::size_t>{5}));
  EXPECT_EQ(f.shape("/curve/z"), (std::vector<std::size_t>{16, 3}));
  // The curve starts at z_A = (4, alpha(4) a) with alpha(4)^2 = sigmoid(4), a the overridden state.
  const auto z = f.readDoubles("/curve/z");
  const double alpha = std::sqrt(1.0 / (1.0 + std::exp(-4.0)));
  EXPECT_NEAR(z[1], alpha * -2.5, 1e-12);
  EXPECT_NEAR(z[2], alpha * 2.7, 1e-12);
  EXPECT_EQ(f.readAttributeString("/config", "overrides"),
            "sampler.n_paths=5\ngeodesic.n_points=16\nstates.a=[-2.5, 2.7]");
  EXPECT_NE(f.readString("/config/effective").find("n_paths: 5"), std::string::npos);
  EXPECT_EQ(f.readString("/config/source"), readText(config));  // the file itself, unchanged

  // Bad overrides: exit code 2, the key (or the assignment) named, no file.
  const fs::path bad = freshDir("set_bad");
  for (const auto& [args, expect] :
       {std::pair{std::string("--set sampler.n_pathz=5"),
                  std::string("did you mean 'sampler.n_paths'")},
        std::pair{std::string("--set sampler.n_paths=-3"), std::string("key 'sampler.n_paths'")},
        std::pair{std::string("--set sampler.n_paths"), std::string("expected KEY=VALUE")},
        std::pair{std::string("--set sampler.step_size=fast"),
                  std::string("key 'sampler.step_size'")}}) {
    const CommandResult b = runGeotps("run '" + config + "' -q --out out.h5 " + args, bad);
    EXPECT_EQ(b.exitCode, 2) << args;
    EXPECT_NE(b.err.find(expect), std::string::npos) << args << ": " << b.err;
    EXPECT_TRUE(leftovers(bad).empty()) << args;
  }
}

// --quiet: standard output holds exactly the paths of the files written, one per line, and stderr
// nothing (2D and full-atom runs); without --quiet the configuration and summary are printed.
TEST(Cli, QuietPrintsOnlyTheOutputPaths) {
  const fs::path dir = freshDir("quiet");
  for (const char* job : {"tiny_alanine", "tiny_full_atom"}) {
    const std::string config = (kSource / "tests/data" / (std::string(job) + ".yaml")).string();
    const CommandResult r = runGeotps("run '" + config + "' -q --out out/" + job + ".h5", dir);
    ASSERT_EQ(r.exitCode, 0) << job << ": " << r.err;
    EXPECT_EQ(r.out, "out/" + std::string(job) + ".h5\n") << job;
    EXPECT_EQ(r.err, "") << job;
    EXPECT_TRUE(fs::exists(dir / "out" / (std::string(job) + ".h5"))) << job;
  }
}

// --log FILE holds every warning printed on stderr, with or without --quiet: a run that discards an
// old checkpoint folder, and one whose state B lies on a slope (engine/problem/problem.cpp); a
// compare's method that fails keeps its line too.
TEST(Cli, LogFileHoldsTheWarnings) {
  const fs::path dir = freshDir("log_warnings");
  const std::string config = (kSource / "tests/data/tiny_alanine.yaml").string();
  // Lines of `text` that start with `prefix`.
  auto linesStarting = [](const std::string& text, const std::string& prefix) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(prefix, 0) == 0) out.push_back(line);
    }
    return out;
  };
  for (const bool quiet : {true, false}) {
    SCOPED_TRACE(quiet ? "quiet" : "not quiet");
    fs::create_directories(dir / "w.h5.checkpoint");
    std::ofstream(dir / "w.h5.checkpoint/chunk_00000.h5") << "a chunk of an interrupted run\n";
    const CommandResult r = runGeotps("run '" + config + "'" + (quiet ? " -q" : "") +
                                          " --out w.h5 --log w.log --set states.b=[-1.5,-0.7]",
                                      dir);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto warnings = linesStarting(r.err, "geotps: warning: ");
    ASSERT_EQ(warnings.size(), 2u) << r.err;
    // The state is checked in the setup, the checkpoint when sampling starts.
    EXPECT_NE(warnings[0].find("key 'states.b': (-1.5000, -0.7000) is not at a minimum"),
              std::string::npos)
        << warnings[0];
    EXPECT_NE(warnings[1].find("discarding w.h5.checkpoint (1 saved chunks"), std::string::npos)
        << warnings[1];
    EXPECT_EQ(linesStarting(readText(dir / "w.log"), "geotps: warning: "), warnings);
  }
  // A compare method that fails (no accepted shooting move in a budget of 1 evaluation): its line
  // on stderr is in the log.
  const CommandResult c = runGeotps(
      "compare '" + (kSource / "tests/data/tiny_compare.yaml").string() +
          "' -q --out c.h5 --log c.log --set 'compare.methods=[geodesic, mcmc_variable]' --set "
          "mcmc.variable_max_evaluations=1",
      dir);
  EXPECT_NE(c.exitCode, 0);
  const auto failed = linesStarting(c.err, "geotps: MCMC two-way shooting, variable length failed");
  ASSERT_EQ(failed.size(), 1u) << c.err;
  EXPECT_EQ(linesStarting(readText(dir / "c.log"), "geotps: MCMC two-way"), failed);
}

// --log FILE: the configuration, progress as plain lines (never the bar) and the summary, with or
// without --quiet; the error that ends a command is logged too; a log target that is not a new path
// or a regular file is refused by name before any work (exit 2).
TEST(Cli, LogFileHoldsWhatTheTerminalShows) {
  const fs::path dir = freshDir("log");
  const std::string config = (kSource / "tests/data/tiny_alanine.yaml").string();
  const CommandResult quiet =
      runGeotps("run '" + config + "' -q --out q.h5 --log logs/quiet.log", dir);
  ASSERT_EQ(quiet.exitCode, 0) << quiet.err;
  EXPECT_EQ(quiet.out, "q.h5\n");
  EXPECT_EQ(quiet.err, "");
  const std::string log = readText(dir / "logs/quiet.log");
  EXPECT_EQ(log.rfind("# geotps ", 0), 0u) << "the log starts with its header:\n" << log;
  EXPECT_NE(log.find("--log logs/quiet.log"), std::string::npos) << "the command line is logged";
  for (const char* expected :
       {"effective configuration", "sampler:", "geodesic: done in", "sampling: done in",
        "job            tiny_alanine", "MaxEnergy", "output         q.h5"}) {
    EXPECT_NE(log.find(expected), std::string::npos) << expected << " missing from:\n" << log;
  }
  EXPECT_EQ(log.find('\r'), std::string::npos) << "no progress bar in the log";
  EXPECT_EQ(log.find("\033["), std::string::npos) << "no terminal escapes in the log";

  // Not quiet: the terminal shows what the log holds (the log adds its header and the progress).
  const CommandResult loud = runGeotps("run '" + config + "' --out l.h5 --log loud.log", dir);
  ASSERT_EQ(loud.exitCode, 0) << loud.err;
  const std::string loudLog = readText(dir / "loud.log");
  EXPECT_NE(loud.out.find("effective configuration"), std::string::npos);
  for (const char* expected : {"effective configuration", "job            tiny_alanine"}) {
    EXPECT_NE(loudLog.find(expected), std::string::npos) << expected;
  }
  // The summary lines are the same in both (the last line of stdout ends the log).
  const std::string lastLine = loud.out.substr(loud.out.rfind('\n', loud.out.size() - 2) + 1);
  EXPECT_EQ(loudLog.substr(loudLog.size() - lastLine.size()), lastLine);
  // A log is replaced, not appended to.
  ASSERT_EQ(runGeotps("run '" + config + "' -q --out l.h5 --log loud.log", dir).exitCode, 0);
  const std::string again = readText(dir / "loud.log");
  EXPECT_EQ(again.find(" log of `"), again.rfind(" log of `")) << "one header:\n" << again;

  // The error that ends a command is in the log as on stderr.
  const CommandResult bad =
      runGeotps("run '" + config + "' -q --out bad.h5 --log bad.log --set sampler.n_paths=0", dir);
  EXPECT_EQ(bad.exitCode, 2);
  EXPECT_EQ(bad.out, "");
  const std::string badLog = readText(dir / "bad.log");
  EXPECT_NE(badLog.find("geotps: configuration error:"), std::string::npos) << badLog;
  EXPECT_NE(badLog.find("sampler.n_paths"), std::string::npos) << badLog;
  EXPECT_FALSE(fs::exists(dir / "bad.h5"));

  // Targets that are not ours to replace: named with --log, exit 2, no output, no work.
  fs::create_directory(dir / "adir");
  std::ofstream(dir / "mine.txt") << "not a log\n";
  fs::create_symlink("mine.txt", dir / "link.log");
  for (const auto& [target, what] : std::vector<std::pair<std::string, std::string>>{
           {"adir", "is a directory"}, {"link.log", "symbolic link"}}) {
    const CommandResult r =
        runGeotps("run '" + config + "' -q --out refused.h5 --log " + target, dir);
    EXPECT_EQ(r.exitCode, 2) << target;
    EXPECT_NE(r.err.find("--log"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(target), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << target;
    EXPECT_FALSE(fs::exists(dir / "refused.h5")) << target;
  }
  EXPECT_EQ(readText(dir / "mine.txt"), "not a log\n");
}

namespace {

// The keys of `geotps keys` Markdown output, in order (rows "| `key` | ...").
std::vector<std::string> markdownKeys(const std::string& table) {
  std::vector<std::string> keys;
  std::istringstream in(table);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| `", 0) != 0) continue;
    keys.push_back(line.substr(3, line.find('`', 3) - 3));
  }
  return keys;
}

}  // namespace

// `geotps keys [PREFIX] [--json]`: the prefix filters the table; --json is a valid JSON array with
// one object per key (parsed by Python's json module), in the table's order; an unknown prefix is
// a configuration error naming it and listing the sections.
TEST(Cli, KeysFilterByPrefixAndPrintJson) {
  const fs::path dir = freshDir("keys");
  const CommandResult all = runGeotps("keys", dir);
  ASSERT_EQ(all.exitCode, 0) << all.err;
  const std::vector<std::string> allKeys = markdownKeys(all.out);
  ASSERT_EQ(allKeys.size(), geotps::jobSchema().size());
  for (const std::string prefix : {"sampler.", "geodesic.max", "dynamics.", "kT", ""}) {
    std::vector<std::string> expected;
    for (const auto& k : allKeys) {
      if (k.rfind(prefix, 0) == 0) expected.push_back(k);
    }
    const std::string arg = prefix.empty() ? "" : " '" + prefix + "'";
    const CommandResult table = runGeotps("keys" + arg, dir);
    ASSERT_EQ(table.exitCode, 0) << prefix << ": " << table.err;
    EXPECT_EQ(markdownKeys(table.out), expected) << prefix;
    // --json, read back by a JSON parser: the same keys, and fields for each.
    const CommandResult json = runGeotps("keys" + arg + " --json", dir);
    ASSERT_EQ(json.exitCode, 0) << prefix << ": " << json.err;
    std::ofstream(dir / "keys.json") << json.out;
    const std::string cmd =
        "cd '" + dir.string() +
        "' && /usr/bin/python3 -c 'import json; d = json.load(open(\"keys.json\")); "
        "assert all({\"key\", \"type\", \"default\", \"unit\", \"description\"} <= set(o) for o "
        "in d); print(\"\\n\".join(o[\"key\"] for o in d))' > parsed.txt 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << prefix << ": " << readText(dir / "parsed.txt");
    std::string joined;
    for (const auto& k : expected) joined += k + "\n";
    EXPECT_EQ(readText(dir / "parsed.txt"), joined) << prefix;
  }
  // The schema's ranges and choices are in the JSON as numbers and lists.
  const CommandResult kt = runGeotps("keys kT --json", dir);
  EXPECT_NE(kt.out.find("\"min\": 0, \"min_exclusive\": true"), std::string::npos) << kt.out;
  const CommandResult type = runGeotps("keys potential.type --json", dir);
  EXPECT_NE(type.out.find("\"choices\": [\""), std::string::npos) << type.out;

  const CommandResult unknown = runGeotps("keys nosuch.", dir);
  EXPECT_EQ(unknown.exitCode, 2);
  EXPECT_EQ(unknown.out, "");
  EXPECT_NE(unknown.err.find("'nosuch.'"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("sampler."), std::string::npos)
      << "sections suggested: " << unknown.err;
}

TEST(Cli, PlotHelperDrawsARunFile) {
  // scripts/plot_result.py is an analysis helper (Python); skipped where its packages are absent.
  if (std::system("/usr/bin/python3 -c 'import h5py, numpy, matplotlib' > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-h5py / numpy / matplotlib not installed: plot helper not tested";
  }
  const fs::path dir = freshDir("plot");
  const std::string config = (kSource / "tests/data/tiny_alanine.yaml").string();
  ASSERT_EQ(runGeotps("run '" + config + "' -q --out tiny.h5", dir).exitCode, 0);
  const std::string script = (kSource / "scripts/plot_result.py").string();
  const std::string cmd = "cd '" + dir.string() + "' && /usr/bin/python3 '" + script +
                          "' tiny.h5 --out fig.png --paths 10 > plot.txt 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << readText(dir / "plot.txt");
  const std::string png = readText(dir / "fig.png");
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(0, 4), "\x89PNG");
  // The helper's own summary against the stored per-path values.
  geotps::H5File f((dir / "tiny.h5").string(), geotps::H5File::Mode::Read);
  const auto maxE = f.readDoubles("/paths/max_energy_nearest");
  double mean = 0;
  for (double v : maxE) mean += v / maxE.size();
  const std::string said = readText(dir / "plot.txt");
  EXPECT_NE(said.find("10 paths drawn"), std::string::npos) << said;
  EXPECT_NE(said.find(fmt::format("MaxEnergy mean {:.6f} over 24 paths", mean)), std::string::npos)
      << said;
  // Not a result file: an error naming it, exit code non-zero, no figure.
  const std::string bad = "cd '" + dir.string() + "' && /usr/bin/python3 '" + script +
                          "' stdout.txt --out bad.png > bad.txt 2>&1";
  EXPECT_NE(std::system(bad.c_str()), 0);
  EXPECT_NE(readText(dir / "bad.txt").find("stdout.txt"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "bad.png"));
}

// The plot helper on a full-atom result (CV map, full-atom and CV MaxEnergy, energy and CVs
// against time) and on a compare file, and its axis choice: one method far off the others gives a
// clipped axis (or, where asked and every value is positive, a logarithmic one), said in words.
TEST(Cli, PlotHelperDrawsFullAtomAndCompareFiles) {
  if (std::system("/usr/bin/python3 -c 'import h5py, numpy, matplotlib' > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3-h5py / numpy / matplotlib not installed: plot helper not tested";
  }
  const fs::path dir = freshDir("plot_fa");
  const std::string script = (kSource / "scripts/plot_result.py").string();
  const auto plot = [&](const std::string& args, const std::string& said) {
    const std::string cmd = "cd '" + dir.string() + "' && /usr/bin/python3 '" + script + "' " +
                            args + " > '" + said + "' 2>&1";
    return std::system(cmd.c_str());
  };
  const auto expectPng = [&](const std::string& name) {
    const std::string png = readText(dir / name);
    EXPECT_GT(png.size(), 20000u) << name << ": a figure with content";
    EXPECT_EQ(png.substr(0, 4), "\x89PNG") << name;
  };
  const std::string fa = (kSource / "tests/data/tiny_full_atom.yaml").string();
  ASSERT_EQ(runGeotps("run '" + fa + "' -q --out fa.h5", dir).exitCode, 0);
  ASSERT_EQ(plot("fa.h5 --out fa.png", "fa.txt"), 0) << readText(dir / "fa.txt");
  expectPng("fa.png");
  geotps::H5File f((dir / "fa.h5").string(), geotps::H5File::Mode::Read);
  const auto maxE = f.readDoubles("/paths/max_energy_full_atom");
  double mean = 0;
  for (double v : maxE) mean += v / maxE.size();
  EXPECT_NE(readText(dir / "fa.txt").find(fmt::format("MaxEnergy mean {:.6f} over 3 paths", mean)),
            std::string::npos)
      << readText(dir / "fa.txt");

  const std::string cmp = (kSource / "tests/data/tiny_compare.yaml").string();
  const CommandResult c = runGeotps(
      "compare '" + cmp + "' -q --out cmp.h5 --set 'compare.methods=[geodesic, mcmc_variable]'",
      dir);
  ASSERT_EQ(c.exitCode, 0) << c.err;
  ASSERT_EQ(plot("cmp.h5 --out cmp.png", "cmp.txt"), 0) << readText(dir / "cmp.txt");
  expectPng("cmp.png");
  EXPECT_NE(readText(dir / "cmp.txt").find("MaxEnergy means: geodesic "), std::string::npos)
      << readText(dir / "cmp.txt");

  // choose_axis on synthetic values: two methods near 10, one near 1e4.
  std::ofstream(dir / "axis.py")
      << "import importlib.util, sys\n"
         "import numpy as np\n"
         "spec = importlib.util.spec_from_file_location('plot_result', sys.argv[1])\n"
         "m = importlib.util.module_from_spec(spec)\n"
         "spec.loader.exec_module(m)\n"
         "r = np.random.default_rng(1)\n"
         "s = {'geodesic': r.normal(10, 1, 50), 'mcmc_variable': r.normal(11, 1.5, 40),\n"
         "     'doob': r.normal(1e4, 100, 20)}\n"
         "a = m.choose_axis(s)\n"
         "assert a['scale'] == 'clipped' and a['outside'] == ['doob'], a\n"
         "assert a['limits'][1] < 100 and 'clipped' in a['note'] and 'doob' in a['note'], a\n"
         "b = m.choose_axis(s, allow_log=True)\n"
         "assert b['scale'] == 'log' and b['limits'][1] > 1e4 and 'logarithmic' in b['note'], b\n"
         "s.pop('doob')\n"
         "c = m.choose_axis(s, allow_log=True)\n"
         "assert c['scale'] == 'linear' and c['note'] == '', c\n"
         "print('axis choice ok')\n";
  const std::string axis =
      "cd '" + dir.string() + "' && /usr/bin/python3 axis.py '" + script + "' > axis.txt 2>&1";
  EXPECT_EQ(std::system(axis.c_str()), 0) << readText(dir / "axis.txt");
}

TEST(Cli, InterruptedRunLeavesNoFile) {
  const fs::path dir = freshDir("interrupt");
  // Stop the paper-settings job after 1.5 s with SIGTERM, inside its geodesic stage: with 2048
  // curve points that stage alone takes over 10 s, while the whole default job takes about 2 s
  // (the checkpoint chunks that sampling saves for --resume are kept on purpose; the resume tests
  // cover them). Not SIGINT: a shell script starts `&` jobs with SIGINT ignored, and geotps keeps
  // an inherited SIG_IGN, as nohup needs; tests/test_hostile.cpp sends SIGINT to a process that
  // does not ignore it.
  const std::string config = (kSource / "configs/alanine_dipeptide_2d.yaml").string();
  const std::string cmd =
      "cd '" + dir.string() + "' && { '" GEOTPS_BINARY "' run '" + config +
      "' --quiet --out out.h5 --set geodesic.n_points=2048 > log.txt 2>&1 & pid=$!; sleep 1.5;"
      " kill -TERM $pid; wait $pid; }";
  const int status = std::system(cmd.c_str());
  EXPECT_NE(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
  fs::remove(dir / "log.txt");
  EXPECT_TRUE(leftovers(dir).empty()) << "left: " << leftovers(dir).front();
}

namespace {

/// Wrapped distance on the (-pi, pi] torus, computed here independently of engine/shooting.
double torusDistance(double x0, double y0, double x1, double y1) {
  auto w = [](double d) { return std::remainder(d, 2.0 * M_PI); };
  return std::hypot(w(x0 - x1), w(y0 - y1));
}

}  // namespace

// geodesic_shooting: every geodesic path with an A -> B segment runs exactly
// compare.shooting_moves trials; every resulting path ends in B, peaks at or above the minimax
// barrier (no path from A to B on the grid can stay below it) and the ensemble's MaxEnergy agrees
// with variable-length MCMC's within 4 combined standard errors (both sample the same transition
// path ensemble).
TEST(Cli, CompareGeodesicShootingRefinesEveryTransitionPath) {
  const fs::path dir = freshDir("compare_geodesic_shooting");
  const std::string config = (kSource / "tests/data/tiny_compare.yaml").string();
  const CommandResult r = runGeotps(
      "compare '" + config +
          "' --out cmp.h5 --quiet --set 'compare.methods=[geodesic, geodesic_shooting, "
          "mcmc_variable]' --set compare.shooting_moves=200 --set sampler.steps_per_point=48 "
          "--set sampler.n_paths=40 --set mcmc.variable_max_evaluations=3000000",
      dir);
  ASSERT_EQ(r.exitCode, 0) << r.err << r.out;
  geotps::H5File f((dir / "cmp.h5").string(), geotps::H5File::Mode::Read);
  const std::string g = "/methods/geodesic_shooting";
  ASSERT_EQ(f.readAttributeInt(g, "ok"), 1);
  const auto e = f.readDoubles(g + "/max_energy");
  const auto ok = f.readDoubles(g + "/success");
  ASSERT_EQ(e.size(), 40u);  // all 40 geodesic paths cross at K = 48
  EXPECT_EQ(f.readAttributeInt(g, "trials"), 40 * 200);
  const double bound = f.readAttributeDouble("/summary", "minimax_bound");
  for (std::size_t i = 0; i < e.size(); ++i) {
    EXPECT_EQ(ok[i], 1.0) << i;
    EXPECT_GE(e[i], bound - 1e-9) << i;
  }
  const auto mc = f.readDoubles("/methods/mcmc_variable/max_energy");
  auto meanSe = [](const std::vector<double>& v) {
    double m = 0, var = 0;
    for (double x : v) m += x / v.size();
    for (double x : v) var += (x - m) * (x - m) / (v.size() - 1);
    return std::pair<double, double>(m, std::sqrt(var / v.size()));
  };
  const auto [m1, se1] = meanSe(e);
  const auto [m2, se2] = meanSe(mc);
  EXPECT_LT(std::abs(m1 - m2), 4.0 * std::hypot(se1, se2)) << m1 << " vs " << m2;
  EXPECT_NE(readText(dir / "cmp.md").find("| Spacetime geodesic + shooting moves | 40 |"),
            std::string::npos);
}

TEST(Cli, CompareWritesTheTableAndOneGroupPerMethod) {
  if (!GEOTPS_HAS_TORCH) GTEST_SKIP() << "compares Doob's Lagrangian, which needs LibTorch";
  const fs::path dir = freshDir("compare");
  const std::string config = (kSource / "tests/data/tiny_compare.yaml").string();
  const CommandResult r = runGeotps("compare '" + config + "' --out cmp.h5 --quiet", dir);
  ASSERT_EQ(r.exitCode, 0) << r.err << r.out;
  ASSERT_TRUE(fs::exists(dir / "cmp.h5"));
  ASSERT_TRUE(fs::exists(dir / "cmp_geodesic.h5"));
  const std::string table = readText(dir / "cmp.md");
  for (const char* row :
       {"| Spacetime geodesic (GeoTPS) |", "| MCMC two-way shooting, fixed length |",
        "| MCMC two-way shooting, variable length |", "| Doob's Lagrangian |",
        "| Lower bound (minimax barrier on the grid) |"}) {
    EXPECT_NE(table.find(row), std::string::npos) << row;
  }
  EXPECT_EQ(r.out, "cmp.h5\ncmp.md\ncmp_geodesic.h5\n") << "--quiet: the files written";
  geotps::H5File f((dir / "cmp.h5").string(), geotps::H5File::Mode::Read);
  EXPECT_EQ(f.readString("/summary/table_markdown"), table);
  EXPECT_NEAR(f.readAttributeDouble("/summary", "minimax_bound"), 36.336, 1e-3);
  // `geotps info` reads a compare file: the table as text, each method's statistics as JSON.
  const CommandResult infoText = runGeotps("info cmp.h5", dir);
  ASSERT_EQ(infoText.exitCode, 0) << infoText.err;
  EXPECT_EQ(infoText.out.rfind(table, 0), 0u) << infoText.out;
  const CommandResult infoJson = runGeotps("info cmp.h5 --json", dir);
  ASSERT_EQ(infoJson.exitCode, 0) << infoJson.err;
  EXPECT_NE(infoJson.out.find("\"file_type\": \"compare\""), std::string::npos) << infoJson.out;
  EXPECT_NEAR(jsonField(infoJson.out, "minimax_bound"), 36.336, 1e-3);
  // `info` on a compare file's geodesic run still gives the run summary.
  const CommandResult infoRun = runGeotps("info cmp_geodesic.h5 --json", dir);
  ASSERT_EQ(infoRun.exitCode, 0) << infoRun.err;
  EXPECT_NE(infoRun.out.find("\"geodesic_energy\""), std::string::npos);
  for (const char* m : {"geodesic", "mcmc_fixed", "mcmc_variable", "doob"}) {
    const std::string g = std::string("/methods/") + m;
    ASSERT_EQ(f.readAttributeInt(g, "ok"), 1) << m;
    // The statistics are those of the stored per-path values.
    const auto e = f.readDoubles(g + "/max_energy");
    const auto ok = f.readDoubles(g + "/success");
    ASSERT_FALSE(e.empty()) << m;
    ASSERT_EQ(ok.size(), e.size()) << m;
    double mean = 0, var = 0, mn = 1e300, frac = 0;
    for (double v : e) mean += v / e.size();
    for (double v : e) var += (v - mean) * (v - mean) / std::max<std::size_t>(1, e.size() - 1);
    for (double v : e) mn = std::min(mn, v);
    for (double v : ok) frac += v / ok.size();
    EXPECT_EQ(f.readAttributeInt(g, "n_paths"), static_cast<std::int64_t>(e.size())) << m;
    EXPECT_NEAR(f.readAttributeDouble(g, "max_energy_mean"), mean, 1e-9 * std::abs(mean)) << m;
    EXPECT_NEAR(f.readAttributeDouble(g, "max_energy_std"), std::sqrt(var), 1e-7) << m;
    EXPECT_EQ(f.readAttributeDouble(g, "max_energy_min"), mn) << m;
    EXPECT_NEAR(f.readAttributeDouble(g, "success_fraction"), frac, 1e-12) << m;
    EXPECT_GT(f.readAttributeInt(g, "energy_evaluations"), 0) << m;
    // The JSON object of this method (up to its closing brace).
    const auto at = infoJson.out.find(std::string("{\"method\": \"") + m + "\"");
    ASSERT_NE(at, std::string::npos) << m << " missing from " << infoJson.out;
    const std::string obj = infoJson.out.substr(at, infoJson.out.find('}', at) - at);
    EXPECT_EQ(jsonField(obj, "n_paths"), static_cast<double>(e.size())) << m;
    EXPECT_NEAR(jsonField(obj, "max_energy_mean"), mean, 1e-8 * std::abs(mean)) << m;
    EXPECT_NEAR(jsonField(obj, "max_energy_std"), std::sqrt(var), 1e-7) << m;
    EXPECT_NEAR(jsonField(obj, "success_fraction"), frac, 1e-9) << m;
  }
  // The geodesic row is the geodesic run's own per-path MaxEnergy.
  geotps::H5File run((dir / "cmp_geodesic.h5").string(), geotps::H5File::Mode::Read);
  EXPECT_EQ(f.readDoubles("/methods/geodesic/max_energy"),
            run.readDoubles("/paths/max_energy_nearest"));
  // MCMC: every accepted path runs from A (radius 2.4 around (-2.55, 2.7)) to B (radius 0.5
  // around (0.95, -0.4)); frames are stored at stride 1, so offsets follow the path lengths.
  for (const char* m : {"mcmc_fixed", "mcmc_variable"}) {
    const std::string g = std::string("/methods/") + m;
    const auto frames = f.readDoubles(g + "/path_frames");
    const auto offsets = f.readDoubles(g + "/path_offsets");
    const auto length = f.readDoubles(g + "/path_length");
    ASSERT_EQ(offsets.size(), length.size() + 1) << m;
    for (std::size_t i = 0; i < length.size(); ++i) {
      ASSERT_EQ(offsets[i + 1] - offsets[i], length[i]) << m << " path " << i;
      const auto first = static_cast<std::size_t>(offsets[i]);
      const auto last = static_cast<std::size_t>(offsets[i + 1]) - 1;
      EXPECT_LE(torusDistance(frames[2 * first], frames[2 * first + 1], -2.55, 2.7), 2.4 + 1e-5);
      EXPECT_LE(torusDistance(frames[2 * last], frames[2 * last + 1], 0.95, -0.4), 0.5 + 1e-5);
      if (std::string(m) == "mcmc_fixed") {
        EXPECT_EQ(length[i], 1000);
      }
    }
    // The budget is spent: a chain stops in the trial that crosses its share.
    EXPECT_GE(f.readAttributeInt(g, "energy_evaluations"),
              std::string(m) == "mcmc_fixed" ? 6000000 : 1000000);
    const double acceptance = f.readAttributeDouble(g, "acceptance");
    EXPECT_NEAR(acceptance, static_cast<double>(length.size()) / f.readAttributeInt(g, "trials"),
                1e-12);
  }
  EXPECT_EQ(f.shape("/methods/doob/loss_history"), (std::vector<std::size_t>{30}));
  EXPECT_EQ(f.shape("/methods/doob/max_energy"), (std::vector<std::size_t>{20}));
  // Every dataset has units and is documented in docs/output.md (per-method names as
  // /methods/<method>/..., or under the literal method name).
  const std::string docs = readText(kSource / "docs/output.md");
  const std::regex method("^/methods/[a-z_]+/");
  for (const auto& path : f.datasetPaths()) {
    EXPECT_TRUE(f.hasAttribute(path, "units")) << path;
    const std::string generic = std::regex_replace(path, method, "/methods/<method>/");
    EXPECT_TRUE(docs.find("`" + path + "`") != std::string::npos ||
                docs.find("`" + generic + "`") != std::string::npos)
        << path << " missing from docs/output.md";
  }
  for (const auto& attr : f.attributeNames("/methods/mcmc_fixed")) {
    if (attr.ends_with(geotps::kUnitsSuffix)) continue;  // documented by the `X_units` rule
    EXPECT_NE(docs.find("`" + attr + "`"), std::string::npos) << attr << " missing from docs";
  }
}

TEST(Cli, CompareWithAnUnwritableOutputFailsBeforeWork) {
  const fs::path dir = freshDir("compare_bad_out");
  const std::string config = (kSource / "tests/data/tiny_compare.yaml").string();
  {
    std::ofstream blocker(dir / "afile");  // a file where the output's folder would have to be
    blocker << "x";
  }
  // Without LibTorch the config's doob method would be refused first (see the test above).
  const std::string methods =
      GEOTPS_HAS_TORCH ? "" : " --set compare.methods=[geodesic,mcmc_fixed,mcmc_variable]";
  const CommandResult r =
      runGeotps("compare '" + config + "' --out afile/cmp.h5 --quiet" + methods, dir);
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.err.find("afile/cmp"), std::string::npos) << r.err;
  // Nothing was run: no geodesic result file, no table.
  EXPECT_EQ(leftovers(dir), std::vector<std::string>{"afile"});
}

// MCMC states that do not hold their own end point (or hold the other one) are refused before any
// work, with the keys and both states named.
TEST(Cli, CompareRefusesStatesThatMissTheirEndPoints) {
  const fs::path dir = freshDir("compare_bad_states");
  const std::string config = (kSource / "tests/data/tiny_compare.yaml").string();
  const std::string methods = " --set compare.methods=[geodesic,mcmc_variable]";
  struct Case {
    std::string set, shown;
  };
  const std::vector<Case> cases = {
      // A's box lies on the phi > 0 side: it misses A = (-2.55, 2.7).
      {"mcmc.state_a_box=[0,1,0,1]", "state A is the box x[0] in [0, 1], x[1] in [0, 1]"},
      // B's box also holds A.
      {"mcmc.state_b_box=[-4,4,-4,4]", "state B is the box x[0] in [-4, 4], x[1] in [-4, 4]"},
      // Balls so large that A's holds B.
      {"mcmc.state_radius=[4.5,0.5]", "state A is a ball of radius 4.5 around (-2.550, 2.700)"},
  };
  for (const auto& c : cases) {
    const CommandResult r = runGeotps(
        "compare '" + config + "' --out cmp.h5 --quiet" + methods + " --set " + c.set, dir);
    EXPECT_EQ(r.exitCode, 2) << c.set << "\n" << r.err;
    EXPECT_NE(r.err.find(c.shown), std::string::npos) << c.set << "\n" << r.err;
    EXPECT_NE(r.err.find("expected A to contain A's end point (-2.550, 2.700)"), std::string::npos)
        << r.err;
    EXPECT_TRUE(leftovers(dir).empty()) << c.set;
  }
}
