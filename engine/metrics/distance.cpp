#include "engine/metrics/distance.h"

#include <cmath>

namespace geotps {

double periodicDistance(const Eigen::Ref<const Eigen::VectorXd>& a,
                        const Eigen::Ref<const Eigen::VectorXd>& b,
                        const Eigen::Ref<const Eigen::VectorXd>& period) {
  double s = 0.0;
  for (Eigen::Index d = 0; d < a.size(); ++d) {
    double dx = a[d] - b[d];
    if (period[d] > 0) dx = std::remainder(dx, period[d]);
    s += dx * dx;
  }
  return std::sqrt(s);
}

Eigen::VectorXd coordinatePeriods(const Potential& potential) {
  Eigen::VectorXd p = Eigen::VectorXd::Zero(potential.dimension());
  if (potential.isPeriodic()) {
    for (int d = 0; d < potential.dimension(); ++d) p[d] = potential.period(d);
  }
  return p;
}

}  // namespace geotps
