// Crossing points of paths and the two-sample Kolmogorov-Smirnov test used by `geotps compare`.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "engine/metrics/crossing.h"

namespace geotps {
namespace {

constexpr double kPi = std::numbers::pi;

TEST(Crossing, InterpolatesWhereTheFirstCoordinateCrossesTheLine) {
  // x0 from -1 to 1 in steps of 0.3 (no frame on the line), x1 = 2 x0 + 0.5: crossing at x1 = 0.5.
  std::vector<double> f;
  for (double x = -1.0; x < 1.05; x += 0.3) {
    f.push_back(x);
    f.push_back(2 * x + 0.5);
  }
  EXPECT_NEAR(crossingPoint(f, 0.0, -2.0, 2.0, 0.0, 0.0), 0.5, 1e-12);
  // B on the negative side: the same path goes from B's side to A's: no crossing that way.
  EXPECT_TRUE(std::isnan(crossingPoint(f, 0.0, 2.0, -2.0, 0.0, 0.0)));
  // Back and forth: the last crossing towards B counts (x1 = 7 there).
  const std::vector<double> g = {-1, 0, 1, 1, -1, 5, 1, 9};
  EXPECT_NEAR(crossingPoint(g, 0.0, -2.0, 2.0, 0.0, 0.0), 7.0, 1e-12);
}

TEST(Crossing, AWrapOfAPeriodicCoordinateIsNotACrossing) {
  // phi from -2.6 down through -pi to +1.1 (the other way round the torus): it never crosses
  // phi = 0 upward, though its wrapped offset jumps from -pi to +pi.
  std::vector<double> f;
  for (double phi = -2.6; phi > -2 * kPi + 1.1; phi -= 0.1) {
    f.push_back(std::remainder(phi, 2 * kPi));
    f.push_back(1.0);
  }
  EXPECT_TRUE(std::isnan(crossingPoint(f, 0.0, -2.6, 1.1, 2 * kPi, 2 * kPi)));
  // The direct way, phi -2.6 -> 1.1 through 0, with psi 2.7 -> -0.6 wrapped: psi at phi = 0
  // by linear interpolation between the frames around it (3.1 and 3.3 across +-pi: 3.2, reported
  // wrapped into [-pi, pi]).
  const std::vector<double> g = {-2.6, 2.7, -0.2, 3.1, 0.2, std::remainder(3.3, 2 * kPi),
                                 1.1,  -0.6};
  EXPECT_NEAR(crossingPoint(g, 0.0, -2.6, 1.1, 2 * kPi, 2 * kPi), 3.2 - 2 * kPi, 1e-12);
}

TEST(Crossing, KolmogorovSmirnovMatchesHandComputedStatisticAndPValue) {
  // ECDFs of {1,2,3,4} and {3,4,5,6} differ most at t = 2: 0.5 - 0 = 0.5. p-value: Q_KS at
  // (sqrt(16/8) + 0.12 + 0.11/sqrt(2)) * 0.5, summed to convergence independently (0.534416).
  Eigen::VectorXd x(4), y(5);
  x << 1, 2, 3, 4;
  y << 3, 4, 5, 6, std::numeric_limits<double>::quiet_NaN();  // NaN entries are left out
  const TwoSampleKS r = kolmogorovSmirnov(x, y);
  EXPECT_EQ(r.n, 4u);
  EXPECT_EQ(r.m, 4u);
  EXPECT_DOUBLE_EQ(r.d, 0.5);
  EXPECT_NEAR(r.pValue, 0.5344157192165071, 1e-12);
  // Identical samples: D = 0, p = 1.
  const TwoSampleKS same = kolmogorovSmirnov(x, x);
  EXPECT_DOUBLE_EQ(same.d, 0.0);
  EXPECT_DOUBLE_EQ(same.pValue, 1.0);
}

}  // namespace
}  // namespace geotps
