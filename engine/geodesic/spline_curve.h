// A cubic-spline curve in spacetime (l, x) with fixed end points (docs/method.md, "Curve, energy,
// geodesic").
#pragma once

#include <Eigen/Dense>

namespace geotps {

/// A C2 cubic spline through J nodes at s_j = j/(J-1), s in [0, 1], in each of the P = D+1
/// spacetime coordinates. The end nodes are fixed at z_A and z_B; the free parameters of one
/// coordinate are the J-2 interior node values and the two end slopes dz/ds (J numbers), so the
/// curve has J*P parameters. (With free end slopes this is the same space as a spline deviation
/// from the straight line that vanishes at both ends.) The curve is linear in its parameters: Z = B
/// * C, with B a fixed basis.
class SplineCurve {
 public:
  SplineCurve(const Eigen::VectorXd& zA, const Eigen::VectorXd& zB, int nNodes);

  int nodeCount() const { return nNodes_; }
  int spaceDimension() const { return static_cast<int>(zA_.size()); }
  int parameterCount() const { return nNodes_ * spaceDimension(); }
  /// Parameters of the straight line z_A -> z_B (interior nodes on the line, slopes z_B - z_A).
  Eigen::VectorXd straightLine() const;
  /// Parameters of the curve interpolating `points` (rows z(s_j), j = 0..J-1) with the given
  /// slopes. The first and last rows are ignored (the ends are fixed).
  Eigen::VectorXd fromNodes(const Eigen::MatrixXd& nodes, const Eigen::VectorXd& slopeA,
                            const Eigen::VectorXd& slopeB) const;

  /// The curve at N points s_n = n/(N-1): an N x P matrix (rows z_n, l first).
  Eigen::MatrixXd evaluate(const Eigen::VectorXd& theta, int N) const;
  /// The curve at arbitrary parameters s in [0, 1] (clamped): a len(s) x P matrix.
  Eigen::MatrixXd evaluateAt(const Eigen::VectorXd& theta, const Eigen::VectorXd& s) const;
  /// Chain rule: dF/dtheta from dF/dZ (N x P) for the curve evaluated at N points.
  Eigen::VectorXd pullback(const Eigen::MatrixXd& dZ) const;
  /// N x (J+2) basis: column j < J weighs node value j, column J the start slope, J+1 the end
  /// slope.
  Eigen::MatrixXd basis(int N) const;
  /// Basis rows at arbitrary s in [0, 1].
  Eigen::MatrixXd basisAt(const Eigen::VectorXd& s) const;

 private:
  Eigen::MatrixXd coefficients(const Eigen::VectorXd& theta) const;  // (J+2) x P
  Eigen::VectorXd zA_, zB_;
  int nNodes_;
  Eigen::MatrixXd slopeMap_;  // J x (J+2): node slopes as linear functions of (values, end slopes)
  mutable Eigen::MatrixXd cachedBasis_;
};

}  // namespace geotps
