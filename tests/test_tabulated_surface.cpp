// Tests for the tabulated periodic surface: grid-file validation, periodic wrapping and
// nearest-grid lookup, and the bicubic-spline interpolant (exactness at knots, periodicity,
// gradient vs finite differences, accuracy against an analytic periodic function).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <numbers>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "potentials/tabulated_surface.h"

namespace geotps {
namespace {

const double kPi = std::numbers::pi;

std::string surfacePath() {
  return std::string(GEOTPS_SOURCE_DIR) + "/data/alanine_dipeptide/phi_psi_surface.dat";
}

const TabulatedSurface& shippedSurface() {
  static const auto s = TabulatedSurface::fromFile(surfacePath());
  return *s;
}

// f(x, y) = sin(x) cos(2y) + 0.3 cos(3x), period 2 pi in both directions, and its gradient.
double analyticF(double x, double y) {
  return std::sin(x) * std::cos(2 * y) + 0.3 * std::cos(3 * x);
}
double analyticFx(double x, double y) {
  return std::cos(x) * std::cos(2 * y) - 0.9 * std::sin(3 * x);
}
double analyticFy(double x, double y) { return -2.0 * std::sin(x) * std::sin(2 * y); }

Grid2D analyticGrid(int n) {
  Grid2D g;
  g.nx = g.ny = n;
  g.x0 = g.y0 = -kPi;
  g.hx = g.hy = 2 * kPi / n;
  g.values.resize(static_cast<std::size_t>(n) * n);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) g.values[j * n + i] = analyticF(g.x0 + i * g.hx, g.y0 + j * g.hy);
  return g;
}

// ---- the shipped alanine dipeptide surface -------------------------------------------------

TEST(TabulatedSurface, ShippedSurfaceShape) {
  const Grid2D& g = shippedSurface().grid();
  EXPECT_EQ(g.nx, 89);
  EXPECT_EQ(g.ny, 89);
  EXPECT_NEAR(g.hx, 2 * kPi / 89, 1e-9);
  EXPECT_NEAR(g.hy, 2 * kPi / 89, 1e-9);
  EXPECT_NEAR(g.x0, -kPi, 1e-9);
  EXPECT_NEAR(g.y0, -kPi, 1e-9);
  double lo = g.values[0], hi = g.values[0];
  for (double v : g.values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_EQ(lo, 0.0);
  EXPECT_NEAR(hi, 96.358006, 1e-5);  // max of column 3 of the file (awk), README: ~96.4
  // Spot values copied from the file: first row, second row, last row.
  EXPECT_NEAR(g.value(0, 0), 16.27487217, 1e-8);
  EXPECT_NEAR(g.value(1, 0), 13.298453643, 1e-8);
  EXPECT_NEAR(g.value(88, 88), 19.129916181, 1e-8);
}

TEST(TabulatedSurface, ExpectedPeriodAcceptedAndRejected) {
  EXPECT_NO_THROW(readGridFile(surfacePath(), 2 * kPi));
  try {
    readGridFile(surfacePath(), 6.0);
    FAIL() << "period 6 accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("phi_psi_surface.dat"), std::string::npos) << e.what();
  }
}

TEST(TabulatedSurface, ReproducesGridValuesAtAllPoints) {
  const TabulatedSurface& s = shippedSurface();
  const Grid2D& g = s.grid();
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i) {
      const double x[2] = {g.x0 + i * g.hx, g.y0 + j * g.hy};
      ASSERT_NEAR(s.energy(x), g.value(i, j), 1e-9) << "point " << i << ", " << j;
    }
}

TEST(TabulatedSurface, EnergyScaleMultipliesValues) {
  const auto scaled = TabulatedSurface::fromFile(surfacePath(), 2.5);
  const Grid2D& g = shippedSurface().grid();
  EXPECT_NEAR(scaled->grid().value(3, 7), 2.5 * g.value(3, 7), 1e-12);
  const double x[2] = {0.3, -1.1};
  EXPECT_NEAR(scaled->energy(x), 2.5 * shippedSurface().energy(x), 1e-9);
}

TEST(TabulatedSurface, IsPeriodic) {
  const TabulatedSurface& s = shippedSurface();
  const double px = s.period(0), py = s.period(1);
  EXPECT_NEAR(px, 2 * kPi, 1e-8);
  EXPECT_NEAR(s.boxLow(0), -kPi - kPi / 89, 1e-8);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> d(-kPi, kPi);
  for (int k = 0; k < 200; ++k) {
    const double x[2] = {d(rng), d(rng)};
    const double shifts[4][2] = {{px, 0}, {0, py}, {-px, 3 * py}, {-2 * px, -py}};
    double u0 = 0, g0[2];
    s.evaluate(x, 1, &u0, g0);
    for (const auto& sh : shifts) {
      const double y[2] = {x[0] + sh[0], x[1] + sh[1]};
      double u1 = 0, g1[2];
      s.evaluate(y, 1, &u1, g1);
      EXPECT_NEAR(u1, u0, 1e-9);
      EXPECT_NEAR(g1[0], g0[0], 1e-7 * std::max(1.0, std::abs(g0[0])));
      EXPECT_NEAR(g1[1], g0[1], 1e-7 * std::max(1.0, std::abs(g0[1])));
    }
  }
}

TEST(TabulatedSurface, ContinuousAcrossTheWrap) {
  // The interpolant is C2 and periodic: no jump at the data-box edge.
  const TabulatedSurface& s = shippedSurface();
  const double edge = s.boxLow(0), eps = 1e-9;
  for (double y : {-2.0, 0.1, 2.9}) {
    const double a[2] = {edge - eps, y}, b[2] = {edge + eps, y};
    EXPECT_NEAR(s.energy(a), s.energy(b), 1e-6);
  }
}

TEST(TabulatedSurface, GradientMatchesFiniteDifferences) {
  const TabulatedSurface& s = shippedSurface();
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> d(-4.0, 4.0);  // includes points outside the box
  const double h = 1e-5;
  // Central-difference error <= h^2/6 max|U'''| (~1e-10 * 1e5 / 6 for this surface) plus rounding
  // ~1e-16 * 100 / h: well below 1e-5 relative to max(1, |g|).
  for (int k = 0; k < 200; ++k) {
    const double x[2] = {d(rng), d(rng)};
    double u = 0, g[2];
    s.evaluate(x, 1, &u, g);
    for (int c = 0; c < 2; ++c) {
      double xp[2] = {x[0], x[1]}, xm[2] = {x[0], x[1]};
      xp[c] += h;
      xm[c] -= h;
      const double fd = (s.energy(xp) - s.energy(xm)) / (2 * h);
      EXPECT_NEAR(g[c], fd, 1e-5 * std::max(1.0, std::abs(fd)))
          << "component " << c << " at " << x[0] << ", " << x[1];
    }
  }
}

TEST(TabulatedSurface, BatchEvaluationMatchesSingleAndNullGradient) {
  const TabulatedSurface& s = shippedSurface();
  const double xs[6] = {0.1, 0.2, -3.0, 3.1, 2.0, -1.0};
  double e[3], g[6], e2[3];
  s.evaluate(xs, 3, e, g);
  s.evaluate(xs, 3, e2, nullptr);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(e[k], e2[k]);
    EXPECT_EQ(e[k], s.energy(&xs[2 * k]));
  }
}

TEST(TabulatedSurface, ConcurrentEvaluationMatchesSerial) {
  const TabulatedSurface& s = shippedSurface();
  const std::size_t n = 20000;
  std::vector<double> x(2 * n);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> d(-4.0, 4.0);
  for (double& v : x) v = d(rng);
  std::vector<double> e(n), g(2 * n);
  s.evaluate(x.data(), n, e.data(), g.data());
  std::vector<std::vector<double>> te(4, std::vector<double>(n)), tg(4, std::vector<double>(2 * n));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] { s.evaluate(x.data(), n, te[t].data(), tg[t].data()); });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    EXPECT_EQ(te[t], e);
    EXPECT_EQ(tg[t], g);
  }
}

TEST(TabulatedSurface, NonFiniteInputGivesNaN) {
  const TabulatedSurface& s = shippedSurface();
  const double x[2] = {std::numeric_limits<double>::quiet_NaN(), 0.0};
  double u = 0, g[2];
  s.evaluate(x, 1, &u, g);
  EXPECT_TRUE(std::isnan(u));
  EXPECT_TRUE(std::isnan(g[0]));
}

TEST(TabulatedSurface, RejectsBadGrids) {
  Grid2D tiny;
  tiny.nx = tiny.ny = 2;
  tiny.hx = tiny.hy = 1.0;
  tiny.values.assign(4, 0.0);
  EXPECT_THROW(TabulatedSurface{tiny}, std::invalid_argument);
  Grid2D wrongSize = analyticGrid(8);
  wrongSize.values.pop_back();
  EXPECT_THROW(TabulatedSurface{wrongSize}, std::invalid_argument);
}

// ---- accuracy against an analytic periodic function ---------------------------------------

TEST(TabulatedSurface, MatchesAnalyticPeriodicFunction) {
  // Periodic cubic-spline interpolation error: |f - s| <= (5/384) h^4 max|f''''| per direction,
  // |f' - s'| <= (1/24) h^3 max|f''''|. Here h = 2 pi / 64 ~ 0.098 (h^4 ~ 9.3e-5, h^3 ~ 9.5e-4) and
  // the fourth derivatives are bounded by 1 + 0.3*81 = 25.3 in x and 16 in y, so the tensor-product
  // error is at most ~5e-5 for values and ~1.7e-3 for gradients: tolerances 1e-4 and 2e-3.
  const TabulatedSurface s(analyticGrid(64));
  std::mt19937_64 rng(123);
  std::uniform_real_distribution<double> d(-2 * kPi, 2 * kPi);
  double maxErr = 0, maxGradErr = 0;
  for (int k = 0; k < 2000; ++k) {
    const double x[2] = {d(rng), d(rng)};
    double u = 0, g[2];
    s.evaluate(x, 1, &u, g);
    maxErr = std::max(maxErr, std::abs(u - analyticF(x[0], x[1])));
    maxGradErr = std::max(maxGradErr, std::abs(g[0] - analyticFx(x[0], x[1])));
    maxGradErr = std::max(maxGradErr, std::abs(g[1] - analyticFy(x[0], x[1])));
  }
  EXPECT_LT(maxErr, 1e-4);
  EXPECT_LT(maxGradErr, 2e-3);
}

TEST(TabulatedSurface, ErrorShrinksLikeFourthPower) {
  // Doubling the resolution should cut the value error by ~16 (O(h^4)); accept >= 10.
  auto maxErr = [](int n) {
    const TabulatedSurface s(analyticGrid(n));
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> d(-kPi, kPi);
    double m = 0;
    for (int k = 0; k < 4000; ++k) {
      const double x[2] = {d(rng), d(rng)};
      m = std::max(m, std::abs(s.energy(x) - analyticF(x[0], x[1])));
    }
    return m;
  };
  EXPECT_GT(maxErr(16) / maxErr(32), 10.0);
}

// ---- wrapping and nearest-grid lookup -------------------------------------------------------

TEST(Grid2D, WrapIntoDataBox) {
  const Grid2D& g = shippedSurface().grid();
  const double h = 2 * kPi / 89;
  double x = kPi, y = -kPi - h;  // pi is above the box's upper end pi - h/2; -pi - h is below
  g.wrap(x, y);
  EXPECT_NEAR(x, -kPi, 1e-9);
  EXPECT_NEAR(y, kPi - h, 1e-9);
  // Whole multiples of the grid's period (89 hx, which equals 2 pi only to the file's ~1e-10).
  double x2 = 0.25 + 10 * g.periodX(), y2 = -0.5 - 3 * g.periodY();
  g.wrap(x2, y2);
  EXPECT_NEAR(x2, 0.25, 1e-9);
  EXPECT_NEAR(y2, -0.5, 1e-9);
}

TEST(Grid2D, NearestAcrossTheWrap) {
  const TabulatedSurface& s = shippedSurface();
  const Grid2D& g = s.grid();
  const double h = 2 * kPi / 89;
  const double yj = -kPi + 10 * h;  // row j = 10
  int i = -1, j = -1;
  // Just below the data box's lower edge -pi - h/2: the last column.
  g.nearest(-kPi - h / 2 - 1e-7, yj, i, j);
  EXPECT_EQ(i, 88);
  EXPECT_EQ(j, 10);
  const double below[2] = {-kPi - h / 2 - 1e-7, yj};
  EXPECT_EQ(s.nearestGridEnergy(below), g.value(88, 10));
  // Just above it: the first column.
  g.nearest(-kPi - h / 2 + 1e-7, yj, i, j);
  EXPECT_EQ(i, 0);
  const double above[2] = {-kPi - h / 2 + 1e-7, yj};
  EXPECT_EQ(s.nearestGridEnergy(above), g.value(0, 10));
  // pi is nearer to -pi (point 0, one period away) than to pi - h (point 88).
  g.nearest(kPi, kPi, i, j);
  EXPECT_EQ(i, 0);
  EXPECT_EQ(j, 0);
}

TEST(Grid2D, NearestMatchesBruteForce) {
  const TabulatedSurface& s = shippedSurface();
  const Grid2D& g = s.grid();
  const double P = 2 * kPi;
  auto periodicDist = [P](double a, double b) {
    const double d = std::fmod(std::abs(a - b), P);
    return std::min(d, P - d);
  };
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> d(-10.0, 10.0);
  for (int k = 0; k < 300; ++k) {
    const double x[2] = {d(rng), d(rng)};
    int bi = 0, bj = 0;
    double bx = 1e9, by = 1e9;
    for (int i = 0; i < g.nx; ++i) {
      const double dx = periodicDist(x[0], g.x0 + i * g.hx);
      if (dx < bx) bx = dx, bi = i;
    }
    for (int j = 0; j < g.ny; ++j) {
      const double dy = periodicDist(x[1], g.y0 + j * g.hy);
      if (dy < by) by = dy, bj = j;
    }
    int i = -1, j = -1;
    g.nearest(x[0], x[1], i, j);
    EXPECT_EQ(i, bi);
    EXPECT_EQ(j, bj);
    EXPECT_EQ(s.nearestGridEnergy(x), g.value(bi, bj));
  }
}

// ---- readGridFile validation ----------------------------------------------------------------

std::string writeTemp(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name;
  std::ofstream out(path);
  out << text;
  return path;
}

// Reads `path`, expects a runtime_error, returns its message.
std::string readError(const std::string& path) {
  try {
    readGridFile(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error reading " << path;
  return "";
}

// A valid 3 x 3 grid (x fastest), spacing 1, with a comment header on line 1.
const char* kGoodGrid =
    "# x y U\n"
    "0 0 1\n1 0 2\n2 0 3\n"
    "0 1 4\n1 1 5\n2 1 6\n"
    "0 2 7\n1 2 8\n2 2 9\n";

TEST(ReadGridFile, ReadsValidSmallGrid) {
  const Grid2D g = readGridFile(writeTemp("geotps_good_grid.dat", kGoodGrid));
  EXPECT_EQ(g.nx, 3);
  EXPECT_EQ(g.ny, 3);
  EXPECT_DOUBLE_EQ(g.hx, 1.0);
  EXPECT_DOUBLE_EQ(g.hy, 1.0);
  EXPECT_DOUBLE_EQ(g.value(2, 0), 3.0);
  EXPECT_DOUBLE_EQ(g.value(0, 2), 7.0);
}

TEST(ReadGridFile, WrongColumnCount) {
  const std::string msg = readError(
      writeTemp("geotps_bad_columns.dat", "# x y U\n0 0 1\n1 0 2\n2 0\n0 1 4\n1 1 5\n2 1 6\n"));
  EXPECT_NE(msg.find("geotps_bad_columns.dat:4:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected 3 numbers"), std::string::npos) << msg;
  EXPECT_NE(msg.find("got 2"), std::string::npos) << msg;
}

TEST(ReadGridFile, NonNumericField) {
  const std::string msg = readError(
      writeTemp("geotps_bad_text.dat", "# x y U\n0 0 1\n1 0 2\n2 0 3\n0 1 abc\n1 1 5\n2 1 6\n"));
  EXPECT_NE(msg.find("geotps_bad_text.dat:5:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("abc"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected"), std::string::npos) << msg;
}

TEST(ReadGridFile, NaNValue) {
  const std::string msg = readError(
      writeTemp("geotps_bad_nan.dat", "# x y U\n0 0 1\n1 0 nan\n2 0 3\n0 1 4\n1 1 5\n2 1 6\n"));
  EXPECT_NE(msg.find("geotps_bad_nan.dat:3:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("finite"), std::string::npos) << msg;
}

TEST(ReadGridFile, NonUniformSpacing) {
  // x = 0, 1, 2.5, 3: the third point is off the uniform grid.
  const std::string msg =
      readError(writeTemp("geotps_bad_spacing.dat",
                          "# x y U\n0 0 1\n1 0 2\n2.5 0 3\n3 0 4\n0 1 1\n1 1 2\n2.5 1 3\n3 1 4\n"));
  EXPECT_NE(msg.find("geotps_bad_spacing.dat:4:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("uniform"), std::string::npos) << msg;
}

TEST(ReadGridFile, IncompleteGridMissingRows) {
  // Missing rows at the end: 3 + 3 + 2 rows.
  const std::string msg1 = readError(writeTemp(
      "geotps_bad_short.dat", "# x y U\n0 0 1\n1 0 2\n2 0 3\n0 1 4\n1 1 5\n2 1 6\n0 2 7\n1 2 8\n"));
  EXPECT_NE(msg1.find("geotps_bad_short.dat:9:"), std::string::npos) << msg1;
  EXPECT_NE(msg1.find("incomplete"), std::string::npos) << msg1;
  // A missing row in the middle (point (1, 1) absent), padded so the count is still a multiple.
  const std::string msg2 = readError(
      writeTemp("geotps_bad_hole.dat",
                "# x y U\n0 0 1\n1 0 2\n2 0 3\n0 1 4\n2 1 6\n0 2 7\n1 2 8\n2 2 9\n3 2 9\n"));
  EXPECT_NE(msg2.find("geotps_bad_hole.dat:6:"), std::string::npos) << msg2;
  EXPECT_NE(msg2.find("expected x = 1"), std::string::npos) << msg2;
}

TEST(ReadGridFile, MissingFile) {
  const std::string path = testing::TempDir() + "geotps_no_such_file.dat";
  const std::string msg = readError(path);
  EXPECT_NE(msg.find("geotps_no_such_file.dat"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;
}

TEST(ReadGridFile, EmptyFile) {
  const std::string msg = readError(writeTemp("geotps_bad_empty.dat", "# only a comment\n"));
  EXPECT_NE(msg.find("geotps_bad_empty.dat"), std::string::npos) << msg;
}

}  // namespace
}  // namespace geotps
