// The Diffusion Edit Distance between two data points: the Fisher-Rao length of the spacetime
// geodesic between their spacetime points at one log-SNR (docs/method.md, "Diffusion Edit
// Distance").
#pragma once

#include <Eigen/Dense>
#include <string>

#include "engine/denoisers/denoiser.h"
#include "engine/geodesic/geodesic_solver.h"

namespace geotps {

struct EditDistance {
  double length = 0.0;  ///< Fisher-Rao length L of the geodesic (dimensionless): the distance
  double energy = 0.0;  ///< its curve energy E
  double minL = 0.0;    ///< lowest log-SNR on the geodesic
  long long iterations = 0;
  std::string stopReason;
};

/// The geodesic settings a distance uses: `settings` without penalties and without a stored
/// initial curve (the distance is the length of the unconstrained geodesic, started from the
/// straight line).
GeodesicSettings editDistanceSettings(GeodesicSettings settings);

/// DiffED(a, b): the length of the geodesic (solveGeodesic with editDistanceSettings(settings))
/// between z_a = (lEnd, alpha(lEnd) a) and z_b = (lEnd, alpha(lEnd) b); a and b in the unit of x.
EditDistance diffusionEditDistance(const Denoiser& denoiser, const Eigen::VectorXd& a,
                                   const Eigen::VectorXd& b, double lEnd,
                                   const GeodesicSettings& settings);

}  // namespace geotps
