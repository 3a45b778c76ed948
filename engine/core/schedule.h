// The variance-preserving diffusion schedule in log-SNR time l, and the natural parameter eta(z) of
// the denoising posterior with its Jacobian (docs/method.md, "Spacetime and the denoising
// posterior").
#pragma once

#include <Eigen/Dense>
#include <cmath>

namespace geotps {

/// Numerically stable logistic function 1 / (1 + exp(-u)).
inline double sigmoid(double u) {
  if (u >= 0) return 1.0 / (1.0 + std::exp(-u));
  const double e = std::exp(u);
  return e / (1.0 + e);
}

/// alpha(l)^2 = sigmoid(l): signal variance at log-SNR l (dimensionless).
inline double alphaSquared(double l) { return sigmoid(l); }
/// sigma(l)^2 = sigmoid(-l): noise variance at log-SNR l.
inline double sigmaSquared(double l) { return sigmoid(-l); }
inline double alphaOf(double l) { return std::sqrt(sigmoid(l)); }
/// SNR = alpha^2 / sigma^2 = exp(l).
inline double snr(double l) { return std::exp(l); }

/// a(l) = alpha / sigma^2, the factor in eta_x = a(l) * x.
inline double etaScale(double l) { return std::sqrt(sigmoid(l)) / sigmoid(-l); }
/// d a / d l = a(l) * (sigmoid(-l)/2 + sigmoid(l)).
inline double etaScaleDerivative(double l) {
  return etaScale(l) * (0.5 * sigmoid(-l) + sigmoid(l));
}

/// Spacetime points z = (l, x_1 .. x_D) are stored as vectors of size D+1 with l first.
/// The natural parameter eta(z) = (a(l) x, -exp(l)/2) has size D+1 with the x part first, matching
/// the sufficient statistic T(x0) = (x0, |x0|^2).
inline Eigen::VectorXd naturalParameter(const Eigen::Ref<const Eigen::VectorXd>& z) {
  const int D = static_cast<int>(z.size()) - 1;
  Eigen::VectorXd eta(D + 1);
  eta.head(D) = etaScale(z[0]) * z.tail(D);
  eta[D] = -0.5 * std::exp(z[0]);
  return eta;
}

/// J = d eta / d z, a (D+1) x (D+1) matrix; row i is component i of eta (x part first), column 0 is
/// d/dl and column 1+d is d/dx_d.
inline Eigen::MatrixXd naturalParameterJacobian(const Eigen::Ref<const Eigen::VectorXd>& z) {
  const int D = static_cast<int>(z.size()) - 1;
  Eigen::MatrixXd J = Eigen::MatrixXd::Zero(D + 1, D + 1);
  const double a = etaScale(z[0]);
  const double da = etaScaleDerivative(z[0]);
  for (int d = 0; d < D; ++d) {
    J(d, 0) = da * z[1 + d];
    J(d, 1 + d) = a;
  }
  J(D, 0) = -0.5 * std::exp(z[0]);
  return J;
}

/// The spacetime point representing a clean datum y at log-SNR l: z = (l, alpha(l) * y).
inline Eigen::VectorXd spacetimePoint(double l, const Eigen::Ref<const Eigen::VectorXd>& y) {
  Eigen::VectorXd z(y.size() + 1);
  z[0] = l;
  z.tail(y.size()) = alphaOf(l) * y;
  return z;
}

}  // namespace geotps
