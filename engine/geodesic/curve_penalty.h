// Constraint penalties added to the curve energy (docs/method.md, "Penalties"): low variance
// (keep l high) and region avoidance (keep every posterior far, in KL, from that of a forbidden
// spacetime point z*).
#pragma once

#include <Eigen/Dense>
#include <limits>
#include <string>

#include "engine/denoisers/denoiser.h"
#include "engine/geodesic/curve_energy.h"

namespace geotps {

/// softplus_beta(u) = log(1 + exp(beta u)) / beta, computed without overflow.
double softplus(double u, double beta);

struct PenaltySettings {
  enum class Type { None, LowVariance, RegionAvoidance };
  Type type = Type::None;
  double lFloor = 3.0;        ///< log-SNR floor of the low-variance term (1)
  double beta = 10.0;         ///< softplus sharpness (1)
  double lambda = 100.0;      ///< final weight of the low-variance term (1)
  int warmupSteps = 1200;     ///< Adam steps at zero low-variance weight
  double rampSteps = 28.0;    ///< weight = min((step - warmup) / ramp, lambda)
  Eigen::VectorXd zStar;      ///< forbidden spacetime point (l, x), size D+1
  double kappa = 5.0;         ///< KL threshold, nats
  double regionWeight = 1.0;  ///< weight of the region term (1)

  static Type parseType(const std::string& name);
  /// Low-variance weight at Adam step `step` (the paper's schedule).
  double lowVarianceWeightAt(long long step) const;
};

/// Values of the penalty terms for one curve.
struct PenaltyParts {
  double lowVariance = 0.0;  ///< weighted low-variance term
  double region = 0.0;       ///< weighted region term
  double minKL = 0.0;        ///< min_n KL(p_z* || p_z_n), nats (region avoidance only)
};

/// Evaluates the penalties for the curve `z` with its evaluation `ev`, at low-variance weight
/// `lvWeight`. `star` holds mu, psi at z* (exact denoisers). Adds dPenalty/dz into `grad` when not
/// null. Returns the total penalty.
/// `klStart` is KL(p_z* || p_z_0) for denoisers without psi (see klFromStar); ignored when psi is
/// available.
double evaluatePenalty(const PenaltySettings& settings, double lvWeight, const Eigen::MatrixXd& z,
                       const CurveEvaluation& ev, const PosteriorMoments& star,
                       Eigen::MatrixXd* grad, PenaltyParts* parts,
                       double klStart = std::numeric_limits<double>::quiet_NaN());

/// KL(p_z* || p_z_n) for every point of an evaluated curve. Exact (from psi) when the denoiser
/// gives psi; otherwise accumulated along the curve (docs/method.md, "Penalties"):
/// KL_n = KL_0 + sum_{m<n} (mu_m - mu*).(eta_{m+1} - eta_m), with KL_0 = `klStart`.
Eigen::VectorXd klFromStar(const Eigen::MatrixXd& z, const CurveEvaluation& ev,
                           const Eigen::VectorXd& zStar, const PosteriorMoments& star,
                           double klStart = std::numeric_limits<double>::quiet_NaN());

/// KL(p_za || p_zb) without psi, by integrating d KL = (mu(z) - mu(za)).d eta(z) along the straight
/// segment za -> zb at `points` points (for denoisers without a log-partition).
double klAlongSegment(const Denoiser& denoiser, const Eigen::VectorXd& za,
                      const Eigen::VectorXd& zb, int points = 512);

}  // namespace geotps
