// Tests for tabulated surfaces with non-periodic axes (potential.periodic): the natural bicubic
// spline against closed forms, its linear continuation beyond the grid, gradients against finite
// differences of the interpolant, a mixed surface (periodic x, non-periodic y), the nearest-grid
// lookup and minimax barrier without wrapping, the config key, and a small 2D job end to end.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine//config/config.h"
#include "engine/io/h5_file.h"
#include "engine/metrics/minimax.h"
#include "engine/pipelines/run.h"
#include "potentials/tabulated_surface.h"
#include "tests/test_support.h"

namespace geotps {
namespace {

const double kPi = std::numbers::pi;

/// Grid of f on nx x ny points from (x0, y0) with spacings (hx, hy) and the given periodicity.
template <class F>
Grid2D tabulate(F f, int nx, int ny, double x0, double y0, double hx, double hy, bool px, bool py) {
  Grid2D g;
  g.nx = nx;
  g.ny = ny;
  g.x0 = x0;
  g.y0 = y0;
  g.hx = hx;
  g.hy = hy;
  g.periodicX = px;
  g.periodicY = py;
  g.values.resize(static_cast<std::size_t>(nx) * ny);
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) g.values[j * nx + i] = f(x0 + i * hx, y0 + j * hy);
  return g;
}

// A bilinear function: every natural cubic spline through its samples is the function itself (it
// is linear along each axis, and a linear function has zero second derivative at the ends), and
// so is its linear continuation beyond the grid.
double bilinear(double x, double y) { return 1.0 + 2.0 * x - 3.0 * y + 0.5 * x * y; }

// A Gaussian mixture tabulated on the box [-3, 3] x [-3, 3]: two wells and a bump, and its
// gradient. At the box's edges |f''| < 0.13.
struct Mixture {
  static constexpr double A[3] = {-3.0, -2.0, 1.5}, cx[3] = {-0.8, 0.9, 0.1},
                          cy[3] = {-0.3, 0.5, 0.2}, s2[3] = {0.35, 0.3, 0.5};
  static double f(double x, double y) {
    double u = 0;
    for (int k = 0; k < 3; ++k) {
      const double dx = x - cx[k], dy = y - cy[k];
      u += A[k] * std::exp(-(dx * dx + dy * dy) / (2 * s2[k]));
    }
    return u;
  }
  static void grad(double x, double y, double g[2]) {
    g[0] = g[1] = 0;
    for (int k = 0; k < 3; ++k) {
      const double dx = x - cx[k], dy = y - cy[k];
      const double e = A[k] * std::exp(-(dx * dx + dy * dy) / (2 * s2[k]));
      g[0] += -dx / s2[k] * e;
      g[1] += -dy / s2[k] * e;
    }
  }
};

Grid2D mixtureGrid(int n) {
  const double h = 6.0 / (n - 1);  // points from -3 to 3, both ends included (not periodic)
  return tabulate(Mixture::f, n, n, -3.0, -3.0, h, h, false, false);
}

TEST(NonPeriodicSurface, ReportsNoPeriodAndItsDataBox) {
  const TabulatedSurface s(mixtureGrid(21));
  const double h = 0.3;
  EXPECT_FALSE(s.isPeriodic());
  EXPECT_TRUE(s.hasDataBox());
  for (int d = 0; d < 2; ++d) {
    EXPECT_EQ(s.period(d), 0.0);
    EXPECT_NEAR(s.boxLow(d), -3.0 - h / 2, 1e-12);
    EXPECT_NEAR(s.boxHigh(d), 3.0 + h / 2, 1e-12);
  }
}

TEST(NonPeriodicSurface, ReproducesBilinearFunctionInsideAndBeyondTheGrid) {
  const TabulatedSurface s(tabulate(bilinear, 9, 7, -1.0, 0.5, 0.25, 0.4, false, false));
  // Grid: x in [-1, 1], y in [0.5, 2.9]; test points well outside on every side and corner.
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> ux(-3.0, 3.0), uy(-1.5, 5.0);
  for (int k = 0; k < 500; ++k) {
    const double x[2] = {ux(rng), uy(rng)};
    double u = 0, g[2];
    s.evaluate(x, 1, &u, g);
    EXPECT_NEAR(u, bilinear(x[0], x[1]), 1e-11) << x[0] << ", " << x[1];
    EXPECT_NEAR(g[0], 2.0 + 0.5 * x[1], 1e-11);
    EXPECT_NEAR(g[1], -3.0 + 0.5 * x[0], 1e-11);
  }
}

TEST(NonPeriodicSurface, EqualsTheTableAtTheGridPoints) {
  const Grid2D g = mixtureGrid(21);
  const TabulatedSurface s(g);
  double scale = 0;
  for (double v : g.values) scale = std::max(scale, std::abs(v));
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i) {
      const double x[2] = {g.x0 + i * g.hx, g.y0 + j * g.hy};
      EXPECT_NEAR(s.energy(x), g.value(i, j), 1e-13 * scale) << i << ", " << j;
    }
}

TEST(NonPeriodicSurface, MatchesGaussianMixtureWithinSplineError) {
  // Cubic-spline error per direction: (5/384) h^4 max|f''''| for values, (1/24) h^3 max|f''''|
  // for gradients; each Gaussian's fourth derivative is at most 3 |A| / s2^2, 158 in all. With
  // h = 0.1: 2.1e-4 and 6.6e-3 per direction, twice that for the tensor product. The natural end
  // condition (S'' = 0 where |f''| < 0.13) adds at most ~h^2 |f''| / 4 = 3.3e-4 to values and
  // ~h |f''| / 2 = 6.5e-3 to gradients near the ends. Tolerances 1e-3 and 2e-2.
  const TabulatedSurface s(mixtureGrid(61));
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> d(-3.0, 3.0);
  double maxErr = 0, maxGradErr = 0;
  for (int k = 0; k < 3000; ++k) {
    const double x[2] = {d(rng), d(rng)};
    double u = 0, g[2], ge[2];
    s.evaluate(x, 1, &u, g);
    Mixture::grad(x[0], x[1], ge);
    maxErr = std::max(maxErr, std::abs(u - Mixture::f(x[0], x[1])));
    maxGradErr = std::max({maxGradErr, std::abs(g[0] - ge[0]), std::abs(g[1] - ge[1])});
  }
  EXPECT_LT(maxErr, 1e-3);
  EXPECT_LT(maxGradErr, 2e-2);
}

TEST(NonPeriodicSurface, InteriorErrorShrinksLikeFourthPower) {
  // In [-1, 1]^2, far from the ends, halving h cuts the error by ~16; accept >= 10.
  auto maxErr = [](int n) {
    const TabulatedSurface s(mixtureGrid(n));
    std::mt19937_64 rng(8);
    std::uniform_real_distribution<double> d(-1.0, 1.0);
    double m = 0;
    for (int k = 0; k < 4000; ++k) {
      const double x[2] = {d(rng), d(rng)};
      m = std::max(m, std::abs(s.energy(x) - Mixture::f(x[0], x[1])));
    }
    return m;
  };
  EXPECT_GT(maxErr(31) / maxErr(61), 10.0);
}

TEST(NonPeriodicSurface, GradientMatchesFiniteDifferencesInsideAndOutside) {
  const TabulatedSurface s(mixtureGrid(21));
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> d(-4.0, 4.0);  // the grid spans [-3, 3]
  const double eps = 1e-6;
  for (int k = 0; k < 400; ++k) {
    const double x[2] = {d(rng), d(rng)};
    double u = 0, g[2];
    s.evaluate(x, 1, &u, g);
    for (int c = 0; c < 2; ++c) {
      double xp[2] = {x[0], x[1]}, xm[2] = {x[0], x[1]};
      xp[c] += eps;
      xm[c] -= eps;
      const double fd = (s.energy(xp) - s.energy(xm)) / (2 * eps);
      EXPECT_NEAR(g[c], fd, 1e-6) << "point " << x[0] << ", " << x[1] << " component " << c;
    }
  }
}

TEST(NonPeriodicSurface, ContinuesLinearlyAndIsNotWrapped) {
  // Beyond x = 3 the surface is U(3, y) + (x - 3) dU/dx(3, y), and below x = -3 likewise: the
  // interpolant's own value and slope at the end point, not its value one box width away.
  const TabulatedSurface s(mixtureGrid(21));
  for (double end : {-3.0, 3.0}) {
    const double edge[2] = {end, 0.3};
    double ue = 0, ge[2];
    s.evaluate(edge, 1, &ue, ge);
    for (double dx : {0.05, 0.5, 3.0}) {
      const double x[2] = {end + (end > 0 ? dx : -dx), 0.3};
      EXPECT_NEAR(s.energy(x), ue + (x[0] - end) * ge[0], 1e-12);
    }
  }
}

TEST(NonPeriodicSurface, NearestClampsAndWrapKeepsTheCoordinate) {
  const Grid2D g = mixtureGrid(21);
  int i = -1, j = -1;
  g.nearest(5.0, -7.0, i, j);
  EXPECT_EQ(i, 20);
  EXPECT_EQ(j, 0);
  g.nearest(-3.14, 3.14, i, j);
  EXPECT_EQ(i, 0);
  EXPECT_EQ(j, 20);
  g.nearest(0.2, -0.2, i, j);  // nearest points: x = 0.3 (i = 11), y = -0.3 (j = 9)
  EXPECT_EQ(i, 11);
  EXPECT_EQ(j, 9);
  double x = 5.0, y = -7.0;
  g.wrap(x, y);
  EXPECT_EQ(x, 5.0);
  EXPECT_EQ(y, -7.0);
}

// ---- mixed: periodic x, non-periodic y --------------------------------------------------------

// Periodic in x (2 pi), linear in y: the natural spline along y is exact, the periodic one along
// x has the error (5/384) h^4 max|d^4/dx^4| <= (5/384) h^4 * (1 + 16 * 0.3) * (1 + 0.5 |y|).
double mixedF(double x, double y) { return std::sin(x) * (1 + 0.5 * y) + 0.3 * std::cos(2 * x); }

TEST(MixedSurface, PeriodicInXNaturalInY) {
  const int n = 64;
  const double h = 2 * kPi / n;
  const TabulatedSurface s(tabulate(mixedF, n, 11, -kPi, -1.0, h, 0.2, true, false));
  EXPECT_TRUE(s.isPeriodic());
  EXPECT_NEAR(s.period(0), 2 * kPi, 1e-12);
  EXPECT_EQ(s.period(1), 0.0);
  std::mt19937_64 rng(21);
  std::uniform_real_distribution<double> ux(-3 * kPi, 3 * kPi), uy(-2.0, 2.0);  // y beyond [-1, 1]
  const double bound = 5.0 / 384 * std::pow(h, 4) * (1 + 16 * 0.3) * 2.0;
  for (int k = 0; k < 1000; ++k) {
    const double x[2] = {ux(rng), uy(rng)};
    EXPECT_NEAR(s.energy(x), mixedF(x[0], x[1]), bound) << x[0] << ", " << x[1];
    // Periodic in x: the same value one period on.
    const double shifted[2] = {x[0] + 2 * kPi, x[1]};
    EXPECT_NEAR(s.energy(shifted), s.energy(x), 1e-9);
  }
  // Not periodic in y: y = -1.5 is not read as y = -1.5 + 2.2 = 0.7.
  const double p[2] = {1.0, -1.5}, q[2] = {1.0, 0.7};
  EXPECT_NEAR(s.energy(p), mixedF(1.0, -1.5), bound);
  EXPECT_GT(std::abs(s.energy(p) - s.energy(q)), 0.5);
}

TEST(MixedSurface, MinimaxWrapsOnlyThePeriodicAxis) {
  // A wall at column 5 (height 10) on a 10 x 3 grid: around the x wrap the barrier is 0, without it
  // the path must cross the wall.
  Grid2D g;
  g.nx = 10;
  g.ny = 3;
  g.hx = g.hy = 1.0;
  g.values.assign(30, 0.0);
  for (int j = 0; j < 3; ++j) g.values[j * 10 + 5] = 10.0;
  const double a[2] = {2.0, 1.0}, b[2] = {8.0, 1.0};
  EXPECT_EQ(minimaxBarrier(g, a, b).barrier, 0.0);
  g.periodicX = false;
  EXPECT_EQ(minimaxBarrier(g, a, b).barrier, 10.0);
  // A wall along y = 1 separating rows 0 and 2: periodic y goes round (barrier 0), not periodic
  // must cross it.
  Grid2D h = g;
  h.periodicX = true;
  h.ny = 3;
  h.values.assign(30, 0.0);
  for (int i = 0; i < 10; ++i) h.values[1 * 10 + i] = 7.0;
  const double c[2] = {3.0, 0.0}, e[2] = {3.0, 2.0};
  EXPECT_EQ(minimaxBarrier(h, c, e).barrier, 0.0);
  h.periodicY = false;
  EXPECT_EQ(minimaxBarrier(h, c, e).barrier, 7.0);
}

// ---- the grid file and the config key -----------------------------------------------------

std::filesystem::path freshDir(const std::string& name) {
  const auto dir = std::filesystem::path(testing::TempDir()) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// Writes f on nx x ny points as an `x y U` file (x fastest).
template <class F>
void writeGrid(const std::filesystem::path& path, F f, int nx, int ny, double x0, double y0,
               double hx, double hy) {
  std::ofstream out(path);
  out.precision(17);
  out << "# x y U\n";
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      const double x = x0 + i * hx, y = y0 + j * hy;
      out << x << ' ' << y << ' ' << f(x, y) << '\n';
    }
}

TEST(NonPeriodicSurface, GridFileSpanningAFullTurnIsAcceptedWhenNotPeriodic) {
  const auto dir = freshDir("geotps_nonperiodic_file");
  const auto file = (dir / "turn.dat").string();
  // 13 points from -pi to pi inclusive along x: both ends of a full turn.
  writeGrid(file, mixedF, 13, 5, -kPi, -1.0, 2 * kPi / 12, 0.5);
  EXPECT_THROW(readGridFile(file), std::runtime_error);
  const Grid2D g = readGridFile(file, 0.0, {false, false});
  EXPECT_FALSE(g.periodicX);
  EXPECT_FALSE(g.periodicY);
  EXPECT_EQ(g.nx, 13);
  const auto s = TabulatedSurface::fromFile(file, 2.0, 0.0, {false, true});
  EXPECT_FALSE(s->axisPeriodic(0));
  EXPECT_TRUE(s->axisPeriodic(1));
  const double x[2] = {kPi, -1.0};  // the last x point, a grid point: 2 * the table
  EXPECT_NEAR(s->energy(x), 2.0 * mixedF(kPi, -1.0), 1e-12);
}

std::string configError(const std::string& yaml) {
  try {
    Config::parse(yaml, "job.yaml", "/base");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(NonPeriodicSurface, ConfigKeyIsReadAndBadValuesNameTheKey) {
  const std::string states = "states:\n  a: [0, 0]\n  b: [1, 1]\n";
  const Config c =
      Config::parse(states + "potential:\n  periodic: [false, true]\n", "job.yaml", "/base");
  EXPECT_EQ(c.getBoolList("potential.periodic"), (std::vector<bool>{false, true}));
  const Config d = Config::parse(states, "job.yaml", "/base");
  EXPECT_EQ(d.getBoolList("potential.periodic"), (std::vector<bool>{true, true}));
  for (const std::string bad : {"[true, true, false]", "[true]", "true", "[1, 0]",
                                "[\"true\", false]", "[yes, no]", "[]"}) {
    const std::string message = configError(states + "potential:\n  periodic: " + bad + "\n");
    ASSERT_FALSE(message.empty()) << bad;
    EXPECT_NE(message.find("job.yaml:5:"), std::string::npos) << message;
    EXPECT_NE(message.find("key 'potential.periodic'"), std::string::npos) << message;
    EXPECT_NE(message.find("a list of 2 booleans"), std::string::npos) << message;
  }
}

// ---- a 2D job on a non-periodic tabulated surface ---------------------------------------------

// A double well in x (minima at x = -1, 1, barrier 3 kT at x = 0) confined in y; tabulated on
// [-1.6, 1.6] x [-1, 1], where both axes are non-periodic.
double doubleWell(double x, double y) { return 3.0 * (x * x - 1) * (x * x - 1) + 2.0 * y * y; }

TEST(NonPeriodicSurface, TwoDimensionalJobRunsEndToEnd) {
  const auto dir = freshDir("geotps_nonperiodic_job");
  writeGrid(dir / "well.dat", doubleWell, 33, 21, -1.6, -1.0, 0.1, 0.1);
  std::ofstream(dir / "job.yaml") << "name: nonperiodic\nseed: 3\nkT: 1.0\n"
                                     "potential:\n  type: tabulated_surface\n  file: well.dat\n"
                                     "  periodic: [false, false]\n"
                                     "states:\n  a: [-1.0, 0.0]\n  b: [1.0, 0.0]\n"
                                     "denoiser:\n  type: quadrature\n"
                                     "geodesic:\n  n_points: 32\n  max_iterations: 200\n"
                                     "sampler:\n  n_paths: 24\n  steps_per_point: 16\n"
                                     "  direction: forward\n"
                                     "  step_size: 1.0e-3\n"
                                     "metrics:\n  success_radius: 0.4\n"
                                     "output:\n  frame_stride: 4\n";
  Config c = Config::load((dir / "job.yaml").string());
  const std::string output = (dir / "out.h5").string();
  const JobSummary summary = test::runJobQuietly(c, output);
  EXPECT_EQ(summary.nPaths, 24);
  H5File f(output, H5File::Mode::Read);
  const auto frames = f.readDoubles("/paths/frames");  // M x stored x 2
  const auto finals = f.readDoubles("/paths/final_position");
  const auto success = f.readDoubles("/paths/success");
  const std::size_t stored = f.shape("/paths/frames")[1];
  ASSERT_EQ(frames.size(), 24 * stored * 2);
  // The paths cross the barrier at x = 0 (the only way from one well to the other without
  // wrapping), stay near the box, and no walker jumps by a box width (3.3 in x) between frames.
  int crossed = 0;
  for (std::size_t i = 0; i < 24; ++i) {
    double minAbsX = 1e9;
    for (std::size_t t = 0; t < stored; ++t) {
      const double* p = &frames[(i * stored + t) * 2];
      minAbsX = std::min(minAbsX, std::abs(p[0]));
      EXPECT_LT(std::abs(p[0]), 3.0) << "path " << i << " frame " << t;
      EXPECT_LT(std::abs(p[1]), 3.0) << "path " << i << " frame " << t;
      if (t > 0) {
        EXPECT_LT(std::abs(p[0] - p[-2]), 1.5) << "path " << i << " frame " << t;
      }
    }
    crossed += minAbsX < 0.2;
    // Success is judged without wrapping: within the radius of the unwrapped end state.
    const double d = std::hypot(finals[2 * i] - 1.0, finals[2 * i + 1]);
    EXPECT_EQ(success[i], d <= 0.4 ? 1.0 : 0.0) << "path " << i;
  }
  EXPECT_GE(crossed, 20);
  // Crossing x = 0, where U(0, y) = 3 + 2 y^2 >= 3 kT: the mean MaxEnergy is near the barrier or
  // above it (a path may step over the column x = 0 between samples of the nearest grid point,
  // whose neighbours are at U >= 2.94).
  EXPECT_GT(summary.maxEnergyMean, 2.5);
  // The minimax barrier on the grid (no wrapping) is the saddle U(0, 0) = 3 kT of the closed form.
  EXPECT_NEAR(f.readAttributeDouble("/summary", "minimax_bound"), 3.0, 1e-9);
}

}  // namespace
}  // namespace geotps
