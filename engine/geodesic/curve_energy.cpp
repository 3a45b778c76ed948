// Curve energy, length and their exact gradient.
#include "engine/geodesic/curve_energy.h"

#include <cmath>
#include <stdexcept>

#include "engine/core/schedule.h"

namespace geotps {

double curveEnergy(const Eigen::MatrixXd& eta, const Eigen::MatrixXd& mu) {
  const Eigen::Index N = eta.rows();
  double e = 0.0;
  for (Eigen::Index n = 0; n + 1 < N; ++n) {
    const double term = (eta.row(n + 1) - eta.row(n)).dot(mu.row(n + 1) - mu.row(n));
    e += std::max(term, 0.0);
  }
  return 0.5 * static_cast<double>(N - 1) * e;
}

CurveEvaluation evaluateCurve(const Denoiser& denoiser, const Eigen::MatrixXd& z, bool withGradient,
                              NegativeTerms negative) {
  const Eigen::Index N = z.rows();
  const int P = static_cast<int>(z.cols());
  if (N < 2) throw std::invalid_argument("evaluateCurve: a curve needs at least 2 points");
  CurveEvaluation ev;
  denoiser.evaluate(z, withGradient, ev.moments);
  ev.eta.resize(N, P);
  ev.mu.resize(N, P);
  ev.psi.resize(N);
  for (Eigen::Index n = 0; n < N; ++n) {
    ev.eta.row(n) = naturalParameter(z.row(n).transpose()).transpose();
    ev.mu.row(n) = ev.moments[static_cast<std::size_t>(n)].mu.transpose();
    ev.psi[n] = ev.moments[static_cast<std::size_t>(n)].psi;
  }
  const double c = 0.5 * static_cast<double>(N - 1);
  Eigen::MatrixXd dEdEta = Eigen::MatrixXd::Zero(N, P), dEdMu = Eigen::MatrixXd::Zero(N, P);
  for (Eigen::Index n = 0; n + 1 < N; ++n) {
    const Eigen::RowVectorXd dEta = ev.eta.row(n + 1) - ev.eta.row(n);
    const Eigen::RowVectorXd dMu = ev.mu.row(n + 1) - ev.mu.row(n);
    const double term = dEta.dot(dMu);
    if (term == 0.0 || (term < 0.0 && negative == NegativeTerms::Clamp)) continue;
    const double sign = term > 0.0 ? 1.0 : -1.0;
    ev.energy += c * sign * term;
    ev.length += std::sqrt(sign * term);
    if (withGradient) {
      const double cs = c * sign;
      dEdEta.row(n + 1) += cs * dMu;
      dEdEta.row(n) -= cs * dMu;
      dEdMu.row(n + 1) += cs * dEta;
      dEdMu.row(n) -= cs * dEta;
    }
  }
  if (withGradient) {
    ev.gradient.resize(N, P);
    for (Eigen::Index n = 0; n < N; ++n) {
      const Eigen::MatrixXd J = naturalParameterJacobian(z.row(n).transpose());
      const Eigen::MatrixXd& dmu = ev.moments[static_cast<std::size_t>(n)].dmu_dz;
      ev.gradient.row(n) =
          (J.transpose() * dEdEta.row(n).transpose() + dmu.transpose() * dEdMu.row(n).transpose())
              .transpose();
    }
  }
  return ev;
}

}  // namespace geotps
