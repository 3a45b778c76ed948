// Region avoidance without a log-partition (docs/method.md, "Penalties"): the KL accumulated along
// the curve from KL(p_z* || p_z_0) must equal the exact KL, and its penalty gradient must match
// finite differences. The exact quadrature denoiser provides both the reference and, with psi
// hidden, the approximate-denoiser code path.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/core/schedule.h"
#include "engine/denoisers/quadrature_denoiser.h"
#include "engine/geodesic/curve_energy.h"
#include "engine/geodesic/curve_penalty.h"
#include "potentials/tabulated_surface.h"

using namespace geotps;

namespace {

// The quadrature denoiser with psi hidden: what a learned denoiser provides.
class NoPsi final : public Denoiser {
 public:
  explicit NoPsi(const Denoiser& inner) : inner_(inner) {}
  int dimension() const override { return inner_.dimension(); }
  bool hasLogPartition() const override { return false; }
  void evaluate(const Eigen::MatrixXd& z, bool jac,
                std::vector<PosteriorMoments>& out) const override {
    inner_.evaluate(z, jac, out);
    for (auto& m : out) m.psi = std::numeric_limits<double>::quiet_NaN();
  }
  std::string name() const override { return "no_psi"; }
  long long evaluationCount() const override { return inner_.evaluationCount(); }

 private:
  const Denoiser& inner_;
};

struct Fixture {
  std::shared_ptr<TabulatedSurface> surface = TabulatedSurface::fromFile(
      std::string(GEOTPS_SOURCE_DIR) + "/data/alanine_dipeptide/phi_psi_surface.dat");
  std::shared_ptr<QuadratureDenoiser> exact = QuadratureDenoiser::fromSurface(*surface, 1.0);
  Eigen::VectorXd zStar = (Eigen::VectorXd(3) << 4.0, -0.8, -0.1).finished();
  // A curve from A to B dipping to l = 0.
  Eigen::MatrixXd curve(int N) const {
    Eigen::MatrixXd z(N, 3);
    for (int n = 0; n < N; ++n) {
      const double s = static_cast<double>(n) / (N - 1);
      z(n, 0) = 4.0 - 8.0 * s * (1 - s);
      const double phi = -2.55 + s * 3.5, psi = 2.7 - s * 3.1;
      z(n, 1) = alphaOf(z(n, 0)) * phi;
      z(n, 2) = alphaOf(z(n, 0)) * psi + 0.3 * std::sin(3.0 * s);
    }
    return z;
  }
};

}  // namespace

TEST(RegionAccumulated, SegmentIntegralMatchesExactKL) {
  Fixture f;
  const Eigen::MatrixXd z = f.curve(8);
  std::vector<PosteriorMoments> m;
  f.exact->evaluate(f.zStar.transpose(), false, m);
  std::vector<PosteriorMoments> m0;
  f.exact->evaluate(z.row(0), false, m0);
  const double exactKL = klDivergence(m[0].psi, m[0].mu, naturalParameter(f.zStar), m0[0].psi,
                                      naturalParameter(z.row(0).transpose()));
  NoPsi approx(*f.exact);
  const double integrated = klAlongSegment(approx, f.zStar, z.row(0).transpose(), 2048);
  EXPECT_NEAR(integrated, exactKL, 1e-3 * exactKL);
}

TEST(RegionAccumulated, AccumulatedKLConvergesToExact) {
  Fixture f;
  NoPsi approx(*f.exact);
  std::vector<PosteriorMoments> st;
  f.exact->evaluate(f.zStar.transpose(), false, st);
  double previousError = 1e300, maxKL = 0.0;
  for (int N : {128, 512, 2048}) {
    const Eigen::MatrixXd z = f.curve(N);
    const CurveEvaluation evExact = evaluateCurve(*f.exact, z, false);
    const Eigen::VectorXd reference = klFromStar(z, evExact, f.zStar, st[0]);
    const CurveEvaluation evApprox = evaluateCurve(approx, z, false);
    PosteriorMoments starNoPsi = st[0];
    starNoPsi.psi = std::numeric_limits<double>::quiet_NaN();
    const Eigen::VectorXd acc = klFromStar(z, evApprox, f.zStar, starNoPsi, reference[0]);
    const double err = (acc - reference).cwiseAbs().maxCoeff();
    // A left Riemann sum: the error shrinks like 1/N, i.e. by ~4 for each 4x finer curve.
    EXPECT_LT(err, previousError / 3.0) << "N " << N;
    previousError = err;
    maxKL = reference.maxCoeff();
  }
  EXPECT_LT(previousError, 1e-3 * maxKL);
}

TEST(RegionAccumulated, PenaltyGradientMatchesFiniteDifferences) {
  Fixture f;
  NoPsi approx(*f.exact);
  std::vector<PosteriorMoments> st;
  approx.evaluate(f.zStar.transpose(), false, st);
  PenaltySettings s;
  s.type = PenaltySettings::Type::RegionAvoidance;
  s.zStar = f.zStar;
  s.kappa = 40.0;  // active along much of the curve
  s.regionWeight = 3.0;
  const Eigen::MatrixXd z = f.curve(12);
  const double kl0 = 25.0;
  const CurveEvaluation ev = evaluateCurve(approx, z, true);
  Eigen::MatrixXd grad = Eigen::MatrixXd::Zero(z.rows(), z.cols());
  evaluatePenalty(s, 0.0, z, ev, st[0], &grad, nullptr, kl0);
  const double h = 1e-6;
  for (int n = 1; n + 1 < z.rows(); ++n) {
    for (int c = 0; c < 3; ++c) {
      Eigen::MatrixXd zp = z, zm = z;
      zp(n, c) += h;
      zm(n, c) -= h;
      const double fp = evaluatePenalty(s, 0.0, zp, evaluateCurve(approx, zp, false), st[0],
                                        nullptr, nullptr, kl0);
      const double fm = evaluatePenalty(s, 0.0, zm, evaluateCurve(approx, zm, false), st[0],
                                        nullptr, nullptr, kl0);
      const double fd = (fp - fm) / (2 * h);
      EXPECT_NEAR(grad(n, c), fd, 1e-5 * std::max(1.0, std::abs(fd))) << "n " << n << " c " << c;
    }
  }
}
