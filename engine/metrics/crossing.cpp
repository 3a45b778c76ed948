#include "engine/metrics/crossing.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace geotps {

namespace {

double wrapTo(double v, double period) { return period > 0 ? std::remainder(v, period) : v; }

std::vector<double> finite(const Eigen::VectorXd& v) {
  std::vector<double> out;
  for (Eigen::Index i = 0; i < v.size(); ++i) {
    if (std::isfinite(v[i])) out.push_back(v[i]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

double crossingPoint(const std::vector<double>& frames, double line, double a0, double b0,
                     double period0, double period1) {
  // Signed offset from the line, positive on B's side; wrapped for a periodic coordinate.
  const double side = wrapTo(b0 - line, period0) >= wrapTo(a0 - line, period0) ? 1.0 : -1.0;
  auto offset = [&](std::size_t k) { return side * wrapTo(frames[2 * k] - line, period0); };
  double found = std::numeric_limits<double>::quiet_NaN();
  const std::size_t count = frames.size() / 2;
  for (std::size_t k = 1; k < count; ++k) {
    const double u = offset(k - 1), v = offset(k);
    if (!(u < 0 && v >= 0)) continue;
    // A wrap of x0 (a jump of about one period) is not a crossing of the line.
    if (period0 > 0 && v - u > 0.5 * period0) continue;
    const double t = v == u ? 0.0 : -u / (v - u);
    const double y0 = frames[2 * (k - 1) + 1];
    const double dy = wrapTo(frames[2 * k + 1] - y0, period1);
    found = y0 + t * dy;
    if (period1 > 0) found = wrapTo(found, period1);
  }
  return found;
}

TwoSampleKS kolmogorovSmirnov(const Eigen::VectorXd& xIn, const Eigen::VectorXd& yIn) {
  const std::vector<double> x = finite(xIn), y = finite(yIn);
  TwoSampleKS r;
  r.n = x.size();
  r.m = y.size();
  if (x.empty() || y.empty()) {
    r.d = r.pValue = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  std::size_t i = 0, j = 0;
  const double n = static_cast<double>(r.n), m = static_cast<double>(r.m);
  while (i < x.size() && j < y.size()) {
    const double t = std::min(x[i], y[j]);
    while (i < x.size() && x[i] == t) ++i;
    while (j < y.size() && y[j] == t) ++j;
    r.d = std::max(r.d, std::abs(static_cast<double>(i) / n - static_cast<double>(j) / m));
  }
  const double en = std::sqrt(n * m / (n + m));
  const double lambda = (en + 0.12 + 0.11 / en) * r.d;
  // Q_KS(lambda) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2)
  double q = 0.0;
  if (lambda < 0.2) {
    q = 1.0;
  } else {
    for (int k = 1; k <= 100; ++k) {
      const double term = 2.0 * ((k % 2) ? 1.0 : -1.0) * std::exp(-2.0 * k * k * lambda * lambda);
      q += term;
      if (std::abs(term) < 1e-12) break;
    }
  }
  r.pValue = std::clamp(q, 0.0, 1.0);
  return r;
}

}  // namespace geotps
