// Clamped cubic spline curve with fixed end points and free end slopes.
#include "engine/geodesic/spline_curve.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace geotps {

SplineCurve::SplineCurve(const Eigen::VectorXd& zA, const Eigen::VectorXd& zB, int nNodes)
    : zA_(zA), zB_(zB), nNodes_(nNodes) {
  if (nNodes < 2) throw std::invalid_argument("SplineCurve: need at least 2 nodes");
  if (zA.size() != zB.size() || zA.size() < 1) {
    throw std::invalid_argument("SplineCurve: end points must have the same size");
  }
  // C2 continuity at the interior nodes gives m_{j-1} + 4 m_j + m_{j+1} = 3 (y_{j+1} - y_{j-1}) / h
  // (node slopes m in units of dz/ds). Solve for all node slopes as a linear map of the (J+2)
  // inputs.
  const int J = nNodes_;
  const double h = 1.0 / (J - 1);
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(J, J);
  Eigen::MatrixXd R = Eigen::MatrixXd::Zero(J, J + 2);
  A(0, 0) = 1.0;
  R(0, J) = 1.0;
  A(J - 1, J - 1) = 1.0;
  R(J - 1, J + 1) = 1.0;
  for (int j = 1; j + 1 < J; ++j) {
    A(j, j - 1) = 1.0;
    A(j, j) = 4.0;
    A(j, j + 1) = 1.0;
    R(j, j + 1) = 3.0 / h;
    R(j, j - 1) = -3.0 / h;
  }
  slopeMap_ = A.partialPivLu().solve(R);
}

Eigen::MatrixXd SplineCurve::basis(int N) const {
  if (N < 2) throw std::invalid_argument("SplineCurve: evaluate at N >= 2 points");
  if (cachedBasis_.rows() == N) return cachedBasis_;
  cachedBasis_ = basisAt(Eigen::VectorXd::LinSpaced(N, 0.0, 1.0));
  return cachedBasis_;
}

Eigen::MatrixXd SplineCurve::basisAt(const Eigen::VectorXd& sValues) const {
  const int J = nNodes_;
  const double h = 1.0 / (J - 1);
  const Eigen::Index N = sValues.size();
  Eigen::MatrixXd B = Eigen::MatrixXd::Zero(N, J + 2);
  for (Eigen::Index n = 0; n < N; ++n) {
    const double s = std::clamp(sValues[n], 0.0, 1.0);
    int j = std::min(static_cast<int>(std::floor(s / h)), J - 2);
    // s = 1 must land exactly on the end node (t = 1), not within rounding of it.
    const double t = s >= 1.0 ? 1.0 : (s - j * h) / h;
    const double t2 = t * t, t3 = t2 * t;
    const double h00 = 2 * t3 - 3 * t2 + 1, h10 = t3 - 2 * t2 + t;
    const double h01 = -2 * t3 + 3 * t2, h11 = t3 - t2;
    B(n, j) += h00;
    B(n, j + 1) += h01;
    B.row(n) += h * (h10 * slopeMap_.row(j) + h11 * slopeMap_.row(j + 1));
  }
  return B;
}

Eigen::MatrixXd SplineCurve::evaluateAt(const Eigen::VectorXd& theta,
                                        const Eigen::VectorXd& s) const {
  return basisAt(s) * coefficients(theta);
}

Eigen::MatrixXd SplineCurve::coefficients(const Eigen::VectorXd& theta) const {
  const int J = nNodes_, P = spaceDimension();
  if (theta.size() != parameterCount()) {
    throw std::invalid_argument("SplineCurve: wrong number of parameters");
  }
  Eigen::MatrixXd C(J + 2, P);
  for (int p = 0; p < P; ++p) {
    const auto th = theta.segment(static_cast<Eigen::Index>(p) * J, J);
    C(0, p) = zA_[p];
    C(J - 1, p) = zB_[p];
    for (int j = 1; j + 1 < J; ++j) C(j, p) = th[j - 1];
    C(J, p) = th[J - 2];
    C(J + 1, p) = th[J - 1];
  }
  return C;
}

Eigen::VectorXd SplineCurve::straightLine() const {
  const int J = nNodes_, P = spaceDimension();
  Eigen::MatrixXd nodes(J, P);
  for (int j = 0; j < J; ++j) {
    const double s = static_cast<double>(j) / (J - 1);
    nodes.row(j) = ((1 - s) * zA_ + s * zB_).transpose();
  }
  return fromNodes(nodes, zB_ - zA_, zB_ - zA_);
}

Eigen::VectorXd SplineCurve::fromNodes(const Eigen::MatrixXd& nodes, const Eigen::VectorXd& slopeA,
                                       const Eigen::VectorXd& slopeB) const {
  const int J = nNodes_, P = spaceDimension();
  Eigen::VectorXd theta(parameterCount());
  for (int p = 0; p < P; ++p) {
    auto th = theta.segment(static_cast<Eigen::Index>(p) * J, J);
    for (int j = 1; j + 1 < J; ++j) th[j - 1] = nodes(j, p);
    th[J - 2] = slopeA[p];
    th[J - 1] = slopeB[p];
  }
  return theta;
}

Eigen::MatrixXd SplineCurve::evaluate(const Eigen::VectorXd& theta, int N) const {
  return basis(N) * coefficients(theta);
}

Eigen::VectorXd SplineCurve::pullback(const Eigen::MatrixXd& dZ) const {
  const int J = nNodes_, P = spaceDimension();
  const Eigen::MatrixXd G = basis(static_cast<int>(dZ.rows())).transpose() * dZ;  // (J+2) x P
  Eigen::VectorXd g(parameterCount());
  for (int p = 0; p < P; ++p) {
    auto gp = g.segment(static_cast<Eigen::Index>(p) * J, J);
    for (int j = 1; j + 1 < J; ++j) gp[j - 1] = G(j, p);
    gp[J - 2] = G(J, p);
    gp[J - 1] = G(J + 1, p);
  }
  return g;
}

}  // namespace geotps
