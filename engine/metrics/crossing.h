// Where transition paths cross the barrier, and a two-sample comparison of those crossing points
// (docs/method.md, "Baselines (`geotps compare`)").
#pragma once

#include <Eigen/Dense>
#include <vector>

namespace geotps {

/// The crossing point of one path given as CV frames (x0, x1 pairs, in order, frames.size() / 2):
/// x1 where x0 crosses `line` in the direction from state A's side (a0) to B's side (b0), at the
/// last such crossing before the path's end, linearly interpolated between the two frames around
/// it. A coordinate with period > 0 is compared wrapped: a frame-to-frame step of x0 across
/// +-period/2 is a wrap, not a crossing. NaN when the path never crosses the line that way.
double crossingPoint(const std::vector<double>& frames, double line, double a0, double b0,
                     double period0, double period1);

/// Two-sample Kolmogorov-Smirnov test of the finite entries of `x` and `y`: the statistic D (the
/// largest distance between the two empirical distribution functions) and its asymptotic p-value
/// (Kolmogorov distribution at sqrt(n m / (n + m)) D, with Stephens' small-sample correction).
struct TwoSampleKS {
  double d = 0.0;
  double pValue = 1.0;
  std::size_t n = 0, m = 0;
};
TwoSampleKS kolmogorovSmirnov(const Eigen::VectorXd& x, const Eigen::VectorXd& y);

}  // namespace geotps
