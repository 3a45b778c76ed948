// The Diffusion Edit Distance (docs/method.md, "Diffusion Edit Distance"): the closed form for
// Gaussian data, symmetry, zero for identical points, the triangle inequality, and the
// `geotps distance` command (its file and its errors).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "engine/core/schedule.h"
#include "engine/denoisers/quadrature_denoiser.h"
#include "engine/geodesic/edit_distance.h"
#include "engine/io/h5_file.h"
#include "potentials/analytic_potentials.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace geotps;
using geotps::test::CommandResult;
using geotps::test::freshDir;
using geotps::test::runGeotps;

namespace {

const fs::path kSource = GEOTPS_SOURCE_DIR;

/// U(x) = |x - m|^2 / (2 s^2): with kT = 1 the data are N(m, s^2 I).
class GaussianWell final : public Potential {
 public:
  GaussianWell(Eigen::Vector2d m, double s) : m_(std::move(m)), s_(s) {}
  int dimension() const override { return 2; }
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override {
    for (std::size_t i = 0; i < n; ++i) {
      const double dx = x[2 * i] - m_[0], dy = x[2 * i + 1] - m_[1];
      if (energy) energy[i] = (dx * dx + dy * dy) / (2 * s_ * s_);
      if (gradient) {
        gradient[2 * i] = dx / (s_ * s_);
        gradient[2 * i + 1] = dy / (s_ * s_);
      }
    }
  }
  std::string name() const override { return "gaussian_well"; }

 private:
  Eigen::Vector2d m_;
  double s_;
};

/// The closed form. For data N(m, s^2 I) in D dimensions the posterior at z = (l, x) is
/// N(mu, v I) with 1/v = 1/s^2 + exp(l) and mu = v (m/s^2 + alpha/sigma^2 x), and z -> (mu, v) maps
/// spacetime one-to-one onto {v < s^2}. The Fisher-Rao metric of N(mu, v I) is
/// |dmu|^2/v + D/(2 v^2) dv^2 = 2D (|du|^2 + dr^2) / r^2 with r = sqrt(v), u = mu / sqrt(2D): a
/// hyperbolic half-space scaled by 2D. Its geodesic between two points at the same r is a half
/// circle about their midpoint; when its top r stays below s, the geodesic lies in the image of
/// spacetime and the distance is sqrt(2D) arccosh(1 + |du|^2 / (2 r^2)). For clean data y_a, y_b
/// at l_end, mu_b - mu_a = v exp(l_end) (y_b - y_a).
double gaussianDiffED(const Eigen::VectorXd& ya, const Eigen::VectorXd& yb, double s, double lEnd,
                      double* top = nullptr) {
  const double D = static_cast<double>(ya.size());
  const double v = 1.0 / (1.0 / (s * s) + std::exp(lEnd));
  const double du = v * std::exp(lEnd) * (yb - ya).norm() / std::sqrt(2 * D);
  if (top) *top = std::sqrt(du * du / 4 + v);  // the half circle's top r, must be < s
  return std::sqrt(2 * D) * std::acosh(1 + du * du / (2 * v));
}

GeodesicSettings fineSettings() {
  GeodesicSettings gs;
  gs.nPoints = 160;
  gs.nNodes = 12;
  gs.maxIterations = 4000;
  gs.tolerance = 1e-11;
  gs.gradientTolerance = 1e-9;
  return gs;
}

/// The scaled Mueller-Brown density of configs/mueller_brown.yaml on a coarse grid (fast).
std::shared_ptr<QuadratureDenoiser> muellerBrown() {
  static const auto d = [] {
    const MuellerBrown mb(0.1);
    return QuadratureDenoiser::fromPotentialOnBox(mb, 1.0, Eigen::Vector2d(-1.8, -0.6),
                                                  Eigen::Vector2d(1.3, 2.2),
                                                  Eigen::Vector2i(40, 40), 1);
  }();
  return d;
}

GeodesicSettings coarseSettings() {
  GeodesicSettings gs;
  gs.nPoints = 40;
  gs.nNodes = 8;
  gs.maxIterations = 3000;
  gs.tolerance = 1e-10;
  return gs;
}

}  // namespace

TEST(DiffED, MatchesTheClosedFormForGaussianData) {
  const Eigen::Vector2d m(0.3, -0.2);
  const double s = 1.0;
  const GaussianWell well(m, s);
  // 121 x 121 cells over m +- 6 s: cells of 0.1 s, finer than the narrowest posterior here (its
  // standard deviation is 0.2 s at l = 3), and a box where the data's tail beyond it is below 1e-7.
  const auto denoiser = QuadratureDenoiser::fromPotentialOnBox(
      well, 1.0, m - Eigen::Vector2d(6, 6), m + Eigen::Vector2d(6, 6), Eigen::Vector2i(121, 121));
  struct Case {
    Eigen::Vector2d a, b;
    double lEnd;
  };
  const Case cases[] = {{m + Eigen::Vector2d(-1.2, 0.5), m + Eigen::Vector2d(1.3, -0.5), 2.0},
                        {m + Eigen::Vector2d(-0.4, 0.3), m + Eigen::Vector2d(0.5, 0.1), 3.0}};
  for (const Case& c : cases) {
    double top = 0;
    const double expected = gaussianDiffED(c.a, c.b, s, c.lEnd, &top);
    ASSERT_LT(top, 0.9 * s) << "the closed form's geodesic must stay inside spacetime's image";
    const EditDistance d = diffusionEditDistance(*denoiser, c.a, c.b, c.lEnd, fineSettings());
    std::printf("  Gaussian data, l_end %.1f: DiffED %.6f, closed form %.6f (rel. diff %.2e)\n",
                c.lEnd, d.length, expected, d.length / expected - 1);
    EXPECT_NEAR(d.length, expected, 1e-4 * expected);
    // The geodesic dips to the closed form's top r: l = log(1/r^2 - 1/s^2).
    const double lowest = std::log(1 / (top * top) - 1 / (s * s));
    std::printf("  lowest l %.5f, closed form %.5f\n", d.minL, lowest);
    EXPECT_NEAR(d.minL, lowest, 0.01);
  }
}

TEST(DiffED, IsSymmetricAndZeroForIdenticalPoints) {
  const auto denoiser = muellerBrown();
  const Eigen::Vector2d a(-0.558, 1.442), b(0.623, 0.028);
  const double lEnd = 4.0;
  const EditDistance ab = diffusionEditDistance(*denoiser, a, b, lEnd, coarseSettings());
  const EditDistance ba = diffusionEditDistance(*denoiser, b, a, lEnd, coarseSettings());
  EXPECT_GT(ab.length, 1.0);
  std::printf("  d(a, b) %.10f, d(b, a) %.10f; lowest l %.6f, %.6f\n", ab.length, ba.length,
              ab.minL, ba.minL);
  EXPECT_NEAR(ab.length, ba.length, 1e-4 * ab.length);
  EXPECT_NEAR(ab.minL, ba.minL, 1e-2);
  // Zero up to rounding (the straight line's points differ in the last bits).
  const EditDistance aa = diffusionEditDistance(*denoiser, a, a, lEnd, coarseSettings());
  EXPECT_LT(aa.length, 1e-10);
  EXPECT_LT(aa.energy, 1e-20);
  EXPECT_NEAR(aa.minL, lEnd, 1e-12);
}

TEST(DiffED, SatisfiesTheTriangleInequalityOnRandomTriples) {
  const auto denoiser = muellerBrown();
  std::mt19937_64 rng(20);
  // Points in the region where the density lives (around the three minima).
  std::uniform_real_distribution<double> ux(-1.2, 0.9), uy(-0.2, 1.8);
  const double lEnd = 4.0;
  for (int t = 0; t < 3; ++t) {
    Eigen::Vector2d p[3];
    for (auto& q : p) q = Eigen::Vector2d(ux(rng), uy(rng));
    double d[3];  // d(p0, p1), d(p1, p2), d(p0, p2)
    for (int k = 0; k < 3; ++k) {
      const int i = k == 2 ? 0 : k, j = k == 2 ? 2 : k + 1;
      d[k] = diffusionEditDistance(*denoiser, p[i], p[j], lEnd, coarseSettings()).length;
      EXPECT_GT(d[k], 0.0);
    }
    // Every side at most the sum of the other two (a geodesic found by the optimiser can only be
    // longer than the true one, so a small allowance covers the side being measured).
    std::printf("  triple %d: d01 %.5f, d12 %.5f, d02 %.5f\n", t, d[0], d[1], d[2]);
    const double slack = 1e-4 * (d[0] + d[1] + d[2]);
    EXPECT_LE(d[2], d[0] + d[1] + slack) << "triple " << t;
    EXPECT_LE(d[0], d[1] + d[2] + slack) << "triple " << t;
    EXPECT_LE(d[1], d[0] + d[2] + slack) << "triple " << t;
  }
}

namespace {

/// tests/data/tiny_alanine.yaml with the surface path made absolute, plus `extra` lines.
fs::path writeTinyConfig(const fs::path& dir, const std::string& extra) {
  const fs::path config = dir / "tiny.yaml";
  std::ofstream out(config);
  out << "name: tiny_distance\n"
      << "potential:\n  type: tabulated_surface\n  file: '"
      << (kSource / "data/alanine_dipeptide/phi_psi_surface.dat").string() << "'\n"
      << "states:\n  a: [-2.55, 2.7]\n  b: [0.95, -0.4]\n  l_end: 4.0\n"
      << "geodesic:\n  n_points: 32\n  max_iterations: 300\n"
      << "sampler:\n  n_paths: 4\n  steps_per_point: 16\n  step_size: 1.6e-3\n  threads: 2\n"
      << "output:\n  frame_stride: 64\n"
      << extra;
  return config;
}

std::vector<double> readMatrix(const fs::path& file, const std::string& dataset,
                               std::vector<std::size_t>* shape = nullptr) {
  H5File f(file.string(), H5File::Mode::Read);
  if (shape) *shape = f.shape(dataset);
  return f.readDoubles(dataset);
}

}  // namespace

TEST(DistanceCommand, StatesAndAPointsFileGiveOneSymmetricMatrix) {
  const fs::path dir = freshDir("distance_points");
  {
    std::ofstream p(dir / "points.txt");
    // State B one period away in phi: wrapped into the data box before it is measured.
    p << "# phi psi (rad)\n-2.55 2.7   # state A\n\n-1.4, 1.1\n"
      << fmt::format("{:.17g}\t-0.4  # state B\n", 0.95 + 2 * M_PI);
  }
  const fs::path config =
      writeTinyConfig(dir, "distance:\n  points: '" + (dir / "points.txt").string() + "'\n");
  // The two states (distance.points set back to empty).
  const CommandResult two =
      runGeotps("distance '" + config.string() + "' --set 'distance.points=\"\"' -o two.h5", dir);
  ASSERT_EQ(two.exitCode, 0) << two.err;
  EXPECT_NE(two.out.find("DiffED = "), std::string::npos) << two.out;
  std::vector<std::size_t> shape;
  const auto d2 = readMatrix(dir / "two.h5", "/distance/matrix", &shape);
  ASSERT_EQ(shape, (std::vector<std::size_t>{2, 2}));
  EXPECT_EQ(d2[0], 0.0);
  EXPECT_GT(d2[1], 1.0);
  EXPECT_EQ(d2[1], d2[2]);
  const CommandResult info = runGeotps("info two.h5", dir);
  ASSERT_EQ(info.exitCode, 0) << info.err;
  EXPECT_NE(info.out.find(fmt::format("DiffED = {:.6f}", d2[1])), std::string::npos) << info.out;
  const CommandResult json = runGeotps("info two.h5 --json", dir);
  ASSERT_EQ(json.exitCode, 0) << json.err;
  EXPECT_NE(json.out.find("\"n_pairs\": 1,"), std::string::npos) << json.out;

  const CommandResult three = runGeotps("distance '" + config.string() + "' -q", dir);
  ASSERT_EQ(three.exitCode, 0) << three.err;
  EXPECT_EQ(three.out, "results/tiny_distance_distance.h5\n");
  const fs::path file = dir / "results/tiny_distance_distance.h5";
  const auto d = readMatrix(file, "/distance/matrix", &shape);
  ASSERT_EQ(shape, (std::vector<std::size_t>{3, 3}));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(d[i * 4], 0.0);
    for (int j = 0; j < 3; ++j) {
      EXPECT_EQ(d[i * 3 + j], d[j * 3 + i]);
      if (i != j) {
        EXPECT_GT(d[i * 3 + j], 0.1);
      }
    }
  }
  // Points 0 and 2 are the two states, B wrapped back to within rounding of the data box's period
  // (the surface file's, 89 steps of its phi spacing): the same geodesic, up to where the
  // optimiser stops (these tiny ones stop at max_iterations, before converging).
  EXPECT_NEAR(d[2], d2[1], 1e-3 * d2[1]);
  EXPECT_LE(d[2], d[1] + d[5] + 1e-6);
  H5File f(file.string(), H5File::Mode::Read);
  EXPECT_EQ(f.readDoubles("/distance/source_index"), (std::vector<double>{2, 4, 5}));
  const auto used = f.readDoubles("/distance/points");
  const auto given = f.readDoubles("/distance/points_given");
  ASSERT_EQ(used.size(), 6u);
  for (int k : {0, 1, 2, 3, 5}) {
    EXPECT_EQ(used[k], (std::vector<double>{-2.55, 2.7, -1.4, 1.1, 0.95, -0.4})[k]);
    EXPECT_EQ(given[k], used[k]);
  }
  EXPECT_NEAR(used[4], 0.95, 1e-8);
  EXPECT_NEAR(given[4], 0.95 + 2 * M_PI, 1e-12);
  EXPECT_EQ(f.readAttributeDouble("/distance", "l_end"), 4.0);
  EXPECT_EQ(f.readAttributeString("/distance", "points_kind"), "text");
  EXPECT_EQ(f.readAttributeString("/", "file_type"), "distance");
  EXPECT_EQ(f.readAttributeString("/distance/matrix", "units"), "1");
  EXPECT_NE(f.readAttributeString("/", "input_files_sha256").find("points.txt"), std::string::npos);
}

TEST(DistanceCommand, FramesOfARunResultWrapIntoTheDataBox) {
  const fs::path dir = freshDir("distance_frames");
  const fs::path config = writeTinyConfig(dir, "");
  ASSERT_EQ(runGeotps("run '" + config.string() + "' -q -o run.h5", dir).exitCode, 0);
  const CommandResult r = runGeotps("distance '" + config.string() +
                                        "' -q -o d.h5 --set distance.points=run.h5 --set "
                                        "distance.path=3 --set distance.stride=3",
                                    dir);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  H5File run((dir / "run.h5").string(), H5File::Mode::Read);
  const auto frames = run.readDoubleRows("/paths/frames", 3, 1);  // 8 frames x 2
  ASSERT_EQ(frames.size(), 16u);
  H5File f((dir / "d.h5").string(), H5File::Mode::Read);
  EXPECT_EQ(f.readDoubles("/distance/source_index"), (std::vector<double>{0, 3, 6}));
  const auto given = f.readDoubles("/distance/points_given");
  const auto used = f.readDoubles("/distance/points");
  ASSERT_EQ(used.size(), 6u);
  const double h = 2 * M_PI / 89, low = -M_PI - h / 2;
  for (int k = 0; k < 3; ++k) {
    for (int d = 0; d < 2; ++d) {
      EXPECT_EQ(given[2 * k + d], frames[6 * k + d]);
      EXPECT_GE(used[2 * k + d], low);
      EXPECT_LT(used[2 * k + d], low + 2 * M_PI);
      const double turns = (given[2 * k + d] - used[2 * k + d]) / (2 * M_PI);
      EXPECT_NEAR(turns, std::round(turns), 1e-9);
    }
  }
}

TEST(DistanceCommand, BadPointsFailWithFileKeyAndLineAndNoOutput) {
  const fs::path dir = freshDir("distance_bad");
  struct Case {
    std::string text, expect;
  };
  const Case cases[] = {
      {"-2.55 2.7\n\n# comment\n1.0 abc\n", "line 4: 'abc' is not a number"},
      {"-2.55 2.7\n1.0 2.0 3.0\n", "line 2: 3 numbers; expected 2"},
      {"# only one\n-2.55 2.7\n", "1 point (with distance.stride = 1); expected at least 2"},
      {"-2.55 2.7\nnan 1\n", "line 2: 'nan' is not a finite number"},
  };
  const fs::path config =
      writeTinyConfig(dir, "distance:\n  points: '" + (dir / "points.txt").string() + "'\n");
  for (const Case& c : cases) {
    std::ofstream(dir / "points.txt") << c.text;
    const CommandResult r = runGeotps("distance '" + config.string() + "' -q -o out.h5", dir);
    EXPECT_EQ(r.exitCode, 2) << c.text;
    EXPECT_NE(r.err.find("key 'distance.points'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("points.txt"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir / "out.h5"));
  }
  const CommandResult missing = runGeotps(
      "distance '" + config.string() + "' -q -o out.h5 --set distance.points=nowhere.txt", dir);
  EXPECT_EQ(missing.exitCode, 2);
  EXPECT_NE(missing.err.find("nowhere.txt"), std::string::npos) << missing.err;
  // 3 points need about 400 bytes of matrices: refused under a 100-byte limit, before any work.
  std::ofstream(dir / "points.txt") << "-2.55 2.7\n-1.4 1.1\n0.95 -0.4\n";
  const CommandResult memory =
      runGeotps("distance '" + config.string() + "' -q -o out.h5 --max-memory 100", dir);
  EXPECT_EQ(memory.exitCode, 2);
  EXPECT_NE(memory.err.find("`geotps distance` would need about"), std::string::npos) << memory.err;
  EXPECT_NE(memory.err.find("distance.points"), std::string::npos) << memory.err;
  EXPECT_FALSE(fs::exists(dir / "out.h5"));
  const CommandResult none = runGeotps(
      "distance '" + config.string() + "' -q -o out.h5 --set geodesic.optimizer=none", dir);
  EXPECT_EQ(none.exitCode, 2);
  EXPECT_NE(none.err.find("geodesic.optimizer"), std::string::npos) << none.err;
  EXPECT_FALSE(fs::exists(dir / "out.h5"));
}
