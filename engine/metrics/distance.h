// The one distance the metrics use: Euclidean, wrapped per coordinate where the space is periodic.
#pragma once

#include <Eigen/Dense>

#include "potentials/potential.h"

namespace geotps {

/// |a - b| with each coordinate's difference wrapped into [-period/2, period/2] (std::remainder)
/// where period[d] > 0.
double periodicDistance(const Eigen::Ref<const Eigen::VectorXd>& a,
                        const Eigen::Ref<const Eigen::VectorXd>& b,
                        const Eigen::Ref<const Eigen::VectorXd>& period);

/// The period of each coordinate of a potential's space (0 where it is not periodic).
Eigen::VectorXd coordinatePeriods(const Potential& potential);

}  // namespace geotps
