// L-BFGS (LBFGSpp) and Adam minimisation of the spline curve's energy plus penalties.
#include "engine/geodesic/geodesic_solver.h"

#include <LBFGS.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace geotps {

namespace {

class Objective {
 public:
  Objective(const Denoiser& denoiser, const SplineCurve& curve, const GeodesicSettings& settings,
            const PosteriorMoments& star, double klStart)
      : denoiser_(denoiser), curve_(curve), settings_(settings), star_(star), klStart_(klStart) {}

  double lvWeight = 0.0;
  long long evaluations = 0;
  // The best point seen, so a failed line search never loses progress.
  Eigen::VectorXd bestTheta;
  double bestValue = std::numeric_limits<double>::infinity();
  double bestEnergy = 0.0;

  double operator()(const Eigen::VectorXd& theta, Eigen::VectorXd& grad) {
    const Eigen::MatrixXd z = curve_.evaluate(theta, settings_.nPoints);
    ++evaluations;
    if (!z.allFinite()) {
      grad = Eigen::VectorXd::Zero(theta.size());
      return std::numeric_limits<double>::infinity();
    }
    CurveEvaluation ev = evaluateCurve(denoiser_, z, true, settings_.negativeTerms);
    Eigen::MatrixXd dZ = ev.gradient;
    const double pen =
        evaluatePenalty(settings_.penalty, lvWeight, z, ev, star_, &dZ, nullptr, klStart_);
    // The end points are fixed: their gradient rows do not move any parameter (basis is 0 there
    // except for the fixed columns), so no masking is needed.
    grad = curve_.pullback(dZ);
    const double f = ev.energy + pen;
    if (!std::isfinite(f) || !grad.allFinite()) {
      // A trial point far outside the data (e.g. a line-search step to extreme l): report an
      // infinite objective so that the line search backs off instead of accepting it.
      grad.setZero();
      return std::numeric_limits<double>::infinity();
    }
    if (f < bestValue) {
      bestValue = f;
      bestTheta = theta;
      bestEnergy = ev.energy;
    }
    return f;
  }

 private:
  const Denoiser& denoiser_;
  const SplineCurve& curve_;
  const GeodesicSettings& settings_;
  const PosteriorMoments& star_;
  double klStart_;
};

bool historyConverged(const std::vector<double>& h, double tol) {
  constexpr std::size_t past = 10;
  if (h.size() <= past) return false;
  const double now = h.back(), before = h[h.size() - 1 - past];
  return std::abs(before - now) < tol * std::max({1.0, std::abs(now)});
}

/// The low-variance term is on (the region-avoidance penalty includes one).
bool lowVarianceOn(const GeodesicSettings& s) {
  return s.penalty.type != PenaltySettings::Type::None && s.penalty.lambda > 0.0;
}

}  // namespace

int geodesicStages(const GeodesicSettings& settings) {
  return settings.optimizer == "lbfgs" && lowVarianceOn(settings) &&
                 settings.initialTheta.size() == 0
             ? 2
             : 1;
}

GeodesicResult solveGeodesic(const Denoiser& denoiser, const Eigen::VectorXd& zA,
                             const Eigen::VectorXd& zB, const GeodesicSettings& settings,
                             const GeodesicProgress& progress) {
  if (zA.size() != denoiser.dimension() + 1 || zB.size() != zA.size()) {
    throw std::invalid_argument("solveGeodesic: end points must be spacetime points of size D+1");
  }
  SplineCurve curve(zA, zB, settings.nNodes);
  GeodesicResult result;
  const bool fromInitial = settings.initialTheta.size() > 0;
  if (fromInitial && settings.initialTheta.size() != curve.parameterCount()) {
    throw std::invalid_argument(fmt::format(
        "solveGeodesic: the initial curve has {} spline parameters, a curve of {} "
        "nodes in {} coordinates has {}",
        settings.initialTheta.size(), settings.nNodes, zA.size(), curve.parameterCount()));
  }

  PosteriorMoments star;
  double klStart = std::numeric_limits<double>::quiet_NaN();
  const bool region = settings.penalty.type == PenaltySettings::Type::RegionAvoidance;
  if (region) {
    if (settings.penalty.zStar.size() != zA.size()) {
      throw std::invalid_argument("penalty.z_star must have D+1 components (l, x)");
    }
    std::vector<PosteriorMoments> tmp;
    denoiser.evaluate(settings.penalty.zStar.transpose(), false, tmp);
    star = tmp[0];
    // Without psi the KL along the curve is accumulated from KL(p_z* || p_z_A), itself integrated
    // along the straight segment z* -> z_A.
    if (!denoiser.hasLogPartition()) klStart = klAlongSegment(denoiser, settings.penalty.zStar, zA);
  }
  Objective objective(denoiser, curve, settings, star, klStart);
  {
    result.theta = curve.straightLine();
    const Eigen::MatrixXd z0 = curve.evaluate(result.theta, settings.nPoints);
    result.initialEnergy = evaluateCurve(denoiser, z0, false).energy;
    if (fromInitial) result.theta = settings.initialTheta;
  }

  // One history entry per Adam step, or per L-BFGS evaluation that lowered the objective (accepted
  // steps and improving line-search trials).
  long long entries = 0;
  auto record = [&](double f, double e) {
    result.objectiveHistory.push_back(f);
    result.energyHistory.push_back(e);
    ++entries;
    if (progress) progress(entries, f, e);
  };

  const bool lowVariance = lowVarianceOn(settings);
  if (settings.optimizer == "none") {
    result.stopReason =
        fromInitial ? "optimizer none: initial curve" : "optimizer none: straight line";
  } else if (settings.optimizer == "adam") {
    Eigen::VectorXd theta = result.theta, m = Eigen::VectorXd::Zero(theta.size()),
                    v = Eigen::VectorXd::Zero(theta.size()), grad;
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    result.stopReason = "max_iterations reached";
    for (long long step = 0; step < settings.maxIterations; ++step) {
      objective.lvWeight = lowVariance ? settings.penalty.lowVarianceWeightAt(step) : 0.0;
      // Reset the best point when the objective changes with the schedule.
      objective.bestValue = std::numeric_limits<double>::infinity();
      const double f = objective(theta, grad);
      record(f, objective.bestEnergy);
      result.iterations = step + 1;
      if (grad.norm() < settings.gradientTolerance * std::max(1.0, theta.norm())) {
        result.stopReason = "gradient tolerance reached";
        break;
      }
      const bool scheduleDone = !lowVariance || objective.lvWeight >= settings.penalty.lambda;
      if (scheduleDone && historyConverged(result.objectiveHistory, settings.tolerance)) {
        result.stopReason = "relative decrease over 10 steps below tolerance";
        break;
      }
      m = b1 * m + (1 - b1) * grad;
      v = b2 * v + (1 - b2) * grad.cwiseProduct(grad);
      const double c1 = 1 - std::pow(b1, step + 1), c2 = 1 - std::pow(b2, step + 1);
      theta.array() -= settings.learningRate * (m.array() / c1) / ((v.array() / c2).sqrt() + eps);
    }
    result.theta = theta;
  } else if (settings.optimizer == "lbfgs") {
    LBFGSpp::LBFGSParam<double> param;
    param.m = 10;
    param.epsilon = settings.gradientTolerance;
    param.epsilon_rel = settings.gradientTolerance;
    param.past = 10;
    param.delta = settings.tolerance;
    param.max_iterations = static_cast<int>(std::min<long long>(settings.maxIterations, 1 << 30));
    param.max_linesearch = 40;
    param.linesearch = LBFGSpp::LBFGS_LINESEARCH_BACKTRACKING_STRONG_WOLFE;
    LBFGSpp::LBFGSSolver<double, LBFGSpp::LineSearchNocedalWright> solver(param);
    // A continuation from the unconstrained geodesic; a curve given by the caller (a warm start)
    // goes straight to the final stage.
    const std::vector<double> stageWeights =
        geodesicStages(settings) == 2
            ? std::vector<double>{0.0, settings.penalty.lambda}
            : std::vector<double>{lowVariance ? settings.penalty.lambda : 0.0};
    Eigen::VectorXd theta = result.theta;
    for (std::size_t stage = 0; stage < stageWeights.size(); ++stage) {
      const double w = stageWeights[stage];
      objective.lvWeight = w;
      objective.bestValue = std::numeric_limits<double>::infinity();
      // Record the best value after each evaluation that improves it: one entry per accepted step.
      auto tracked = [&](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
        const double before = objective.bestValue;
        const double f = objective(x, g);
        if (f < before) record(objective.bestValue, objective.bestEnergy);
        return f;
      };
      double fx = 0.0;
      const long long entriesBefore = entries;
      std::string reason;
      try {
        const int it = solver.minimize(tracked, theta, fx);
        result.iterations += it;
        reason = it >= param.max_iterations ? "max_iterations reached" : "converged";
      } catch (const std::exception& e) {
        // LBFGSpp throws when the line search cannot make progress: at machine precision this is
        // convergence; keep the best point. The iteration count is then not reported by LBFGSpp:
        // count the improving evaluations of this stage (an upper bound).
        result.iterations += entries - entriesBefore;
        reason = std::string("line search stopped (") + e.what() + ")";
      }
      if (stageWeights.size() > 1) {
        reason = fmt::format("stage {} (low-variance weight {}): {}", stage + 1, w, reason);
      }
      result.stopReason += (result.stopReason.empty() ? "" : "; ") + reason;
      theta = objective.bestTheta;
    }
    result.theta = theta;
  } else {
    throw std::invalid_argument("unknown geodesic optimizer '" + settings.optimizer +
                                "' (expected lbfgs, adam or none)");
  }

  result.objectiveEvaluations = objective.evaluations;
  result.z = curve.evaluate(result.theta, settings.nPoints);
  result.evaluation = evaluateCurve(denoiser, result.z, false);
  const double finalWeight = lowVariance ? settings.penalty.lambda : 0.0;
  result.objective = result.evaluation.energy + evaluatePenalty(settings.penalty, finalWeight,
                                                                result.z, result.evaluation, star,
                                                                nullptr, &result.penalty, klStart);
  if (region) {
    result.klFromStar =
        klFromStar(result.z, result.evaluation, settings.penalty.zStar, star, klStart);
  }
  return result;
}

}  // namespace geotps

namespace geotps {

Eigen::MatrixXd resampleCurve(const Denoiser& denoiser, const Eigen::VectorXd& zA,
                              const Eigen::VectorXd& zB, int nNodes, const Eigen::VectorXd& theta,
                              int N, CurveSpacing spacing, int fine) {
  SplineCurve curve(zA, zB, nNodes);
  if (spacing == CurveSpacing::Parameter) return curve.evaluate(theta, N);
  fine = std::max(fine, 4 * N);
  const Eigen::MatrixXd zf = curve.evaluate(theta, fine);
  const CurveEvaluation ev = evaluateCurve(denoiser, zf, false);
  // Cumulative Fisher-Rao length at the fine points.
  Eigen::VectorXd cum(fine);
  cum[0] = 0.0;
  for (int i = 0; i + 1 < fine; ++i) {
    const double term = (ev.eta.row(i + 1) - ev.eta.row(i)).dot(ev.mu.row(i + 1) - ev.mu.row(i));
    cum[i + 1] = cum[i] + std::sqrt(std::max(term, 0.0));
  }
  Eigen::VectorXd s(N);
  int i = 0;
  for (int n = 0; n < N; ++n) {
    const double target = cum[fine - 1] * n / (N - 1);
    while (i + 2 < fine && cum[i + 1] < target) ++i;
    const double seg = cum[i + 1] - cum[i];
    const double frac = seg > 0 ? std::clamp((target - cum[i]) / seg, 0.0, 1.0) : 0.0;
    s[n] = (i + frac) / (fine - 1);
  }
  s[0] = 0.0;
  s[N - 1] = 1.0;
  return curve.evaluateAt(theta, s);
}

}  // namespace geotps
