// Low-variance and region-avoidance penalties with exact gradients.
#include "engine/geodesic/curve_penalty.h"

#include <cmath>
#include <stdexcept>

#include "engine/core/schedule.h"

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
                           const Eigen::VectorXd& zStar, const PosteriorMoments& star,
                           double klStart) {
  const Eigen::VectorXd etaStar = naturalParameter(zStar);
  Eigen::VectorXd kl(z.rows());
  if (std::isfinite(star.psi) && ev.psi.allFinite()) {
    for (Eigen::Index n = 0; n < z.rows(); ++n) {
      kl[n] = klDivergence(star.psi, star.mu, etaStar, ev.psi[n], ev.eta.row(n).transpose());
    }
    return kl;
  }
  kl[0] = klStart;
  for (Eigen::Index n = 1; n < z.rows(); ++n) {
    kl[n] = kl[n - 1] + (ev.mu.row(n - 1).transpose() - star.mu)
                            .dot((ev.eta.row(n) - ev.eta.row(n - 1)).transpose());
  }
  return kl;
}

double klAlongSegment(const Denoiser& denoiser, const Eigen::VectorXd& za,
                      const Eigen::VectorXd& zb, int points) {
  Eigen::MatrixXd z(points, za.size());
  for (int i = 0; i < points; ++i) {
    const double t = static_cast<double>(i) / (points - 1);
    z.row(i) = ((1 - t) * za + t * zb).transpose();
  }
  std::vector<PosteriorMoments> m;
  denoiser.evaluate(z, false, m);
  // Trapezoid rule for the integral of (mu - mu_a).d eta.
  double kl = 0.0;
  Eigen::VectorXd etaPrev = naturalParameter(z.row(0).transpose());
  for (int i = 1; i < points; ++i) {
    const Eigen::VectorXd eta = naturalParameter(z.row(i).transpose());
    const Eigen::VectorXd avg = 0.5 * (m[i].mu + m[i - 1].mu) - m[0].mu;
    kl += avg.dot(eta - etaPrev);
    etaPrev = eta;
  }
  return kl;
}

double evaluatePenalty(const PenaltySettings& s, double lvWeight, const Eigen::MatrixXd& z,
                       const CurveEvaluation& ev, const PosteriorMoments& star,
                       Eigen::MatrixXd* grad, PenaltyParts* parts, double klStart) {
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
    const Eigen::VectorXd kl = klFromStar(z, ev, s.zStar, star, klStart);
    const bool exact = std::isfinite(star.psi) && ev.psi.allFinite();
    local.minKL = kl.minCoeff();
    double sum = 0.0;
    // g_n = dP/dKL_n.
    Eigen::VectorXd g(N);
    for (Eigen::Index n = 0; n < N; ++n) {
      const double u = s.kappa - kl[n];
      sum += softplus(u, s.beta);
      g[n] = -s.regionWeight * invN * sigmoid(s.beta * u);
    }
    local.region = s.regionWeight * invN * sum;
    if (grad && s.regionWeight > 0.0) {
      if (exact) {
        // dKL_n/dz_n = J_eta(z_n)^T (mu_n - mu*), since d psi / d eta = mu.
        for (Eigen::Index n = 0; n < N; ++n) {
          const Eigen::MatrixXd J = naturalParameterJacobian(z.row(n).transpose());
          grad->row(n) += g[n] * (J.transpose() * (ev.mu.row(n).transpose() - star.mu)).transpose();
        }
      } else {
        // Accumulated KL: with G_m = sum_{n >= m} g_n, dP/dmu_m = G_{m+1} (eta_{m+1} - eta_m) and
        // dP/deta_m = G_m (mu_{m-1} - mu*) - G_{m+1} (mu_m - mu*); then chain through eta(z),
        // mu(z).
        Eigen::VectorXd G(N + 1);
        G[N] = 0.0;
        for (Eigen::Index n = N - 1; n >= 0; --n) G[n] = G[n + 1] + g[n];
        for (Eigen::Index m = 0; m < N; ++m) {
          const Eigen::VectorXd muRel = ev.mu.row(m).transpose() - star.mu;
          Eigen::VectorXd dEta = Eigen::VectorXd::Zero(muRel.size());
          Eigen::VectorXd dMu = Eigen::VectorXd::Zero(muRel.size());
          if (m + 1 < N) {
            dMu = G[m + 1] * (ev.eta.row(m + 1) - ev.eta.row(m)).transpose();
            dEta -= G[m + 1] * muRel;
          }
          if (m > 0) dEta += G[m] * (ev.mu.row(m - 1).transpose() - star.mu);
          const Eigen::MatrixXd J = naturalParameterJacobian(z.row(m).transpose());
          Eigen::VectorXd gz = J.transpose() * dEta;
          const auto& moments = ev.moments[static_cast<std::size_t>(m)];
          if (moments.dmu_dz.size() > 0) gz += moments.dmu_dz.transpose() * dMu;
          grad->row(m) += gz.transpose();
        }
      }
    }
  }
  if (parts) *parts = local;
  return local.lowVariance + local.region;
}

}  // namespace geotps
