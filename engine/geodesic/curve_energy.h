// Energy and length of a discretised spacetime curve in the Fisher-Rao geometry of the denoising
// posteriors (docs/method.md, "Curve, energy, geodesic"), their gradient with respect to the curve
// points, and the KL divergence of the exponential family (docs/method.md, "Spacetime and the
// denoising posterior").
#pragma once

#include <Eigen/Dense>
#include <vector>

#include "engine/denoisers/denoiser.h"

namespace geotps {

/// Everything known about a curve z_0 .. z_{N-1} after one denoiser pass.
struct CurveEvaluation {
  double energy = 0.0;  ///< E = (N-1)/2 sum_n (eta_{n+1}-eta_n).(mu_{n+1}-mu_n), dimensionless
  double length = 0.0;  ///< L = sum_n sqrt((eta_{n+1}-eta_n).(mu_{n+1}-mu_n)), dimensionless
  Eigen::MatrixXd eta;  ///< N x (D+1) natural parameters
  Eigen::MatrixXd mu;   ///< N x (D+1) expectation parameters
  Eigen::VectorXd psi;  ///< N log-partitions (NaN for denoisers without psi)
  std::vector<PosteriorMoments> moments;  ///< the denoiser's raw output (with d mu / d z if asked)
  Eigen::MatrixXd gradient;               ///< N x (D+1) dE/dz_n (filled when requested)
};

/// What E and L make of a negative segment term (eta_{n+1}-eta_n).(mu_{n+1}-mu_n), which an exact
/// denoiser never gives (the term is a symmetrised KL) but an approximate one can, where its mu is
/// not monotone in eta.
enum class NegativeTerms {
  /// Count it as 0 (docs/method.md, "Curve, energy, geodesic"; the energy every report gives).
  Clamp,
  /// Count its magnitude |term|: a geodesic optimiser then gains nothing by steering segments into
  /// places where the estimator's mu runs backwards (geodesic.negative_terms).
  Absolute,
};

/// Evaluates E and L of the curve whose points are the rows of `z` (N x (D+1), l first; N >= 2).
/// Negative segment terms (possible only with approximate denoisers) are handled as `negative`
/// says. When `withGradient`, fills `gradient` = dE/dz (clamped terms contribute nothing; with
/// Absolute a negative term contributes the gradient of -term).
CurveEvaluation evaluateCurve(const Denoiser& denoiser, const Eigen::MatrixXd& z, bool withGradient,
                              NegativeTerms negative = NegativeTerms::Clamp);

/// Energy only, from given eta and mu (N x (D+1) each).
double curveEnergy(const Eigen::MatrixXd& eta, const Eigen::MatrixXd& mu);

/// KL(p_a || p_b) = psi_b - psi_a - mu_a . (eta_b - eta_a), in nats.
inline double klDivergence(double psiA, const Eigen::VectorXd& muA, const Eigen::VectorXd& etaA,
                           double psiB, const Eigen::VectorXd& etaB) {
  return psiB - psiA - muA.dot(etaB - etaA);
}

}  // namespace geotps
