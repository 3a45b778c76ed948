// Low-variance and region-avoidance penalties with exact gradients.
#include "engine/curve_penalty.h"

#include <cmath>
#include <stdexcept>

#include "engine/schedule.h"

namespace geotps {

double softplus(double u, double beta) {
  const double bu = beta * u;
  return (std::max(bu, 0.0) + std::log1p(std::exp(-std::abs(bu)))) / beta;
}

PenaltySettings::Type PenaltySettings::parseType(const std::string& name) {
  if (name == "none") return Type::None;
  if (name == "low_variance") return Type::LowVariance;
  if (name == "region_avoidance") return Type::RegionAvoidance;
  throw std::invalid_argument("unknown penalty type '" + name + "'");
}

double PenaltySettings::lowVarianceWeightAt(long long step) const {
  if (step < warmupSteps) return 0.0;
  return std::min(static_cast<double>(step - warmupSteps) / rampSteps, lambda);
}

Eigen::VectorXd klFromStar(const Eigen::MatrixXd& z, const CurveEvaluation& ev,
                           const Eigen::VectorXd& zStar, const PosteriorMoments& star) {
  // psi is NaN for denoisers without a log-partition (solveGeodesic refuses those up front); a
  // non-finite KL here then propagates to a non-finite objective.
  const Eigen::VectorXd etaStar = naturalParameter(zStar);
  Eigen::VectorXd kl(z.rows());
  for (Eigen::Index n = 0; n < z.rows(); ++n) {
    kl[n] = klDivergence(star.psi, star.mu, etaStar, ev.psi[n], ev.eta.row(n).transpose());
  }
  return kl;
}

double evaluatePenalty(const PenaltySettings& s, double lvWeight, const Eigen::MatrixXd& z,
                       const CurveEvaluation& ev, const PosteriorMoments& star,
                       Eigen::MatrixXd* grad, PenaltyParts* parts) {
  PenaltyParts local;
  if (s.type == PenaltySettings::Type::None) {
    if (parts) *parts = local;
    return 0.0;
  }
  const Eigen::Index N = z.rows();
  const double invN = 1.0 / static_cast<double>(N);
  if (lvWeight > 0.0) {
    double sum = 0.0;
    for (Eigen::Index n = 0; n < N; ++n) {
      const double u = s.lFloor - z(n, 0);
      sum += softplus(u, s.beta);
      // d/dl softplus(l_floor - l) = -sigmoid(beta (l_floor - l)).
      if (grad) (*grad)(n, 0) -= lvWeight * invN * sigmoid(s.beta * u);
    }
    local.lowVariance = lvWeight * invN * sum;
  }
  if (s.type == PenaltySettings::Type::RegionAvoidance) {
    const Eigen::VectorXd kl = klFromStar(z, ev, s.zStar, star);
    local.minKL = kl.minCoeff();
    double sum = 0.0;
    for (Eigen::Index n = 0; n < N; ++n) {
      const double u = s.kappa - kl[n];
      sum += softplus(u, s.beta);
      if (grad && s.regionWeight > 0.0) {
        // dKL_n/dz_n = J_eta(z_n)^T (mu_n - mu*), since d psi / d eta = mu.
        const Eigen::MatrixXd J = naturalParameterJacobian(z.row(n).transpose());
        const double w = -s.regionWeight * invN * sigmoid(s.beta * u);
        grad->row(n) += w * (J.transpose() * (ev.mu.row(n).transpose() - star.mu)).transpose();
      }
    }
    local.region = s.regionWeight * invN * sum;
  }
  if (parts) *parts = local;
  return local.lowVariance + local.region;
}

}  // namespace geotps
