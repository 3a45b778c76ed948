// Tests for the analytic 2D potentials: Mueller-Brown minima (literature values) and gradients,
// double-well closed-form values, and analytic gradients vs central finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "potentials/analytic_potentials.h"

namespace geotps {
namespace {

// Central finite-difference check of `p`'s gradient at random points in [lo, hi]^2.
void checkGradient(const Potential& p, double lo, double hi, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  const double h = 1e-6;
  for (int k = 0; k < 200; ++k) {
    const double x[2] = {d(rng), d(rng)};
    double u = 0, g[2];
    p.evaluate(x, 1, &u, g);
    for (int c = 0; c < 2; ++c) {
      double xp[2] = {x[0], x[1]}, xm[2] = {x[0], x[1]};
      xp[c] += h;
      xm[c] -= h;
      const double fd = (p.energy(xp) - p.energy(xm)) / (2 * h);
      EXPECT_NEAR(g[c], fd, 1e-5 * std::max(1.0, std::abs(fd)))
          << p.name() << " component " << c << " at " << x[0] << ", " << x[1];
    }
  }
}

struct MBMinimum {
  double x, y, energy;
};
// Minima of the Mueller-Brown potential as tabulated in the literature (scale 1).
constexpr MBMinimum kMinima[3] = {
    {-0.558224, 1.441726, -146.699517},
    {0.623499, 0.028038, -108.166724},
    {-0.050011, 0.466694, -80.767817},
};

TEST(MuellerBrown, KnownMinima) {
  const MuellerBrown mb;
  for (const auto& m : kMinima) {
    const double x[2] = {m.x, m.y};
    double u = 0, g[2];
    mb.evaluate(x, 1, &u, g);
    EXPECT_NEAR(u, m.energy, 1e-2) << m.x << ", " << m.y;
    EXPECT_NEAR(g[0], 0.0, 1e-2) << m.x << ", " << m.y;
    EXPECT_NEAR(g[1], 0.0, 1e-2) << m.x << ", " << m.y;
  }
  // Rounded coordinates often quoted: energies to 1e-2.
  const double a[2] = {-0.558, 1.442}, b[2] = {0.623, 0.028}, c[2] = {-0.050, 0.467};
  EXPECT_NEAR(mb.energy(a), -146.70, 1e-2);
  EXPECT_NEAR(mb.energy(b), -108.17, 1e-2);
  EXPECT_NEAR(mb.energy(c), -80.77, 1e-2);
}

TEST(MuellerBrown, MinimaAreLocalMinima) {
  const MuellerBrown mb;
  for (const auto& m : kMinima) {
    const double x[2] = {m.x, m.y};
    const double u0 = mb.energy(x);
    for (double dx : {-1e-3, 0.0, 1e-3})
      for (double dy : {-1e-3, 0.0, 1e-3}) {
        if (dx == 0 && dy == 0) continue;
        const double y[2] = {m.x + dx, m.y + dy};
        EXPECT_GT(mb.energy(y), u0);
      }
  }
}

TEST(MuellerBrown, ScaleMultipliesEnergyAndGradient) {
  const MuellerBrown one, tenth(0.1);
  EXPECT_DOUBLE_EQ(tenth.scale(), 0.1);
  const double x[2] = {0.2, 0.9};
  double u1 = 0, g1[2], u2 = 0, g2[2];
  one.evaluate(x, 1, &u1, g1);
  tenth.evaluate(x, 1, &u2, g2);
  EXPECT_NEAR(u2, 0.1 * u1, 1e-12 * std::abs(u1));
  EXPECT_NEAR(g2[0], 0.1 * g1[0], 1e-12 * std::max(1.0, std::abs(g1[0])));
  EXPECT_NEAR(g2[1], 0.1 * g1[1], 1e-12 * std::max(1.0, std::abs(g1[1])));
}

TEST(MuellerBrown, ValueAtOriginFromFormula) {
  // Hand-evaluated at (0, 0): -200 e^{-1} - 100 e^{-2.5} - 170 e^{-1.625 - 8.25 - 14.625}
  //                          + 15 e^{0.7 - 0.6 + 0.7}.
  const double expected =
      -200 * std::exp(-1.0) - 100 * std::exp(-2.5) - 170 * std::exp(-24.5) + 15 * std::exp(0.8);
  const MuellerBrown mb;
  const double x[2] = {0.0, 0.0};
  EXPECT_NEAR(mb.energy(x), expected, 1e-10);
}

TEST(MuellerBrown, GradientMatchesFiniteDifferences) {
  checkGradient(MuellerBrown(), -1.5, 1.2, 1);
  checkGradient(MuellerBrown(0.1), -1.5, 1.2, 2);
}

TEST(DoubleWell, ClosedFormValues) {
  const DoubleWell dw;  // barrier 5, stiffness 10
  double u = 0, g[2];
  const double m1[2] = {1.0, 0.0}, m2[2] = {-1.0, 0.0}, top[2] = {0.0, 0.0}, p[2] = {0.5, 2.0};
  dw.evaluate(m1, 1, &u, g);
  EXPECT_DOUBLE_EQ(u, 0.0);
  EXPECT_DOUBLE_EQ(g[0], 0.0);
  EXPECT_DOUBLE_EQ(g[1], 0.0);
  EXPECT_DOUBLE_EQ(dw.energy(m2), 0.0);
  dw.evaluate(top, 1, &u, g);
  EXPECT_DOUBLE_EQ(u, 5.0);
  EXPECT_DOUBLE_EQ(g[0], 0.0);
  // (0.5, 2): 5 * (0.25 - 1)^2 + 0.5 * 10 * 4 = 2.8125 + 20; gradient (4*5*0.5*(-0.75), 10*2).
  dw.evaluate(p, 1, &u, g);
  EXPECT_DOUBLE_EQ(u, 22.8125);
  EXPECT_DOUBLE_EQ(g[0], -7.5);
  EXPECT_DOUBLE_EQ(g[1], 20.0);
  const DoubleWell other(2.0, 4.0);
  const double q[2] = {2.0, -1.0};  // 2 * 9 + 0.5 * 4 * 1 = 20
  EXPECT_DOUBLE_EQ(other.energy(q), 20.0);
}

TEST(DoubleWell, GradientMatchesFiniteDifferences) {
  checkGradient(DoubleWell(), -2.0, 2.0, 3);
  checkGradient(DoubleWell(12.0, 3.0), -2.0, 2.0, 4);
}

TEST(AnalyticPotentials, BatchAndMetadata) {
  const MuellerBrown mb;
  const DoubleWell dw;
  EXPECT_EQ(mb.dimension(), 2);
  EXPECT_EQ(dw.dimension(), 2);
  EXPECT_EQ(mb.name(), "mueller_brown");
  EXPECT_EQ(dw.name(), "double_well");
  EXPECT_FALSE(mb.isPeriodic());
  const double xs[6] = {0.1, 0.2, -0.5, 1.4, 0.6, 0.0};
  double e[3], g[6], e2[3];
  mb.evaluate(xs, 3, e, g);
  mb.evaluate(xs, 3, e2, nullptr);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(e[k], e2[k]);
    EXPECT_EQ(e[k], mb.energy(&xs[2 * k]));
  }
}

}  // namespace
}  // namespace geotps
