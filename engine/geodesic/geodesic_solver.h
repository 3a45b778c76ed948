// Geodesic solver: minimises the curve energy (plus penalties) of a spline curve with fixed end
// points by L-BFGS (default) or Adam (the paper's optimiser), recording an energy history.
#pragma once

#include <Eigen/Dense>
#include <functional>
#include <string>
#include <vector>

#include "engine/denoisers/denoiser.h"
#include "engine/geodesic/curve_energy.h"
#include "engine/geodesic/curve_penalty.h"
#include "engine/geodesic/spline_curve.h"

namespace geotps {

struct GeodesicSettings {
  std::string optimizer = "lbfgs";  ///< "lbfgs", "adam" or "none" (keep the initial curve)
  int nPoints = 128;                ///< curve points N
  int nNodes = 10;                  ///< spline nodes J (including the fixed ends)
  long long maxIterations = 500;    ///< per stage for L-BFGS; total steps for Adam
  double learningRate = 0.1;        ///< Adam step size
  double tolerance = 1e-7;          ///< relative objective decrease over 10 iterations
  double gradientTolerance = 1e-6;  ///< |grad| <= tol * max(1, |theta|)
  /// Negative segment terms in the optimised energy (geodesic.negative_terms), which is also what
  /// GeodesicResult::energyHistory and objectiveHistory record. GeodesicResult::evaluation and
  /// initialEnergy always clamp them (docs/method.md, "Curve, energy, geodesic").
  NegativeTerms negativeTerms = NegativeTerms::Clamp;
  PenaltySettings penalty;
  /// Spline parameters the optimiser starts from (empty: the straight line between the ends).
  /// L-BFGS with the low-variance term then runs only its final stage (full weight).
  Eigen::VectorXd initialTheta;
  /// geodesic.initial: the result file whose curve gives initialTheta (empty: none).
  std::string initialFile;
};

/// Convergence criterion (stated once, used by both optimisers and reported in the output):
/// stop when |f_{k-10} - f_k| < tolerance * max(1, |f_k|), or when |grad f| < gradientTolerance *
/// max(1, |theta|), or after maxIterations. L-BFGS runs in stages when the low-variance penalty is
/// on: first with weight 0, then with weight lambda, each to convergence (a continuation of the
/// paper's Adam schedule; from GeodesicSettings::initialTheta only the second); Adam follows the
/// paper's schedule step by step.
struct GeodesicResult {
  Eigen::VectorXd theta;                 ///< spline parameters
  Eigen::MatrixXd z;                     ///< N x (D+1) curve points (l first)
  CurveEvaluation evaluation;            ///< at the final curve (without gradient)
  double initialEnergy = 0.0;            ///< curve energy of the straight line
  double objective = 0.0;                ///< energy + penalties at the end
  PenaltyParts penalty;                  ///< penalty parts at the end
  std::vector<double> objectiveHistory;  ///< objective after each iteration / Adam step
  std::vector<double> energyHistory;     ///< curve energy after each iteration / Adam step
  long long iterations = 0;
  long long objectiveEvaluations = 0;  ///< curve evaluations with gradient
  std::string stopReason;
  Eigen::VectorXd klFromStar;  ///< KL(p_z* || p_z_n) along the final curve (region avoidance)
};

/// Stages the optimiser runs, each with up to maxIterations iterations: 2 for L-BFGS with the
/// low-variance term started from the straight line (weight 0, then lambda), otherwise 1.
int geodesicStages(const GeodesicSettings& settings);

/// Called after each iteration with (iteration, objective, curve energy).
using GeodesicProgress = std::function<void(long long, double, double)>;

GeodesicResult solveGeodesic(const Denoiser& denoiser, const Eigen::VectorXd& zA,
                             const Eigen::VectorXd& zB, const GeodesicSettings& settings,
                             const GeodesicProgress& progress = {});

}  // namespace geotps

namespace geotps {

/// How curve points for sampling are placed along the spline.
enum class CurveSpacing {
  Parameter,  ///< uniform in the spline parameter s (as the paper does)
  FisherRao,  ///< equal Fisher-Rao arc length between consecutive points (equal information steps)
};

/// The curve of spline parameters `theta` (end points zA, zB, `nNodes` nodes) at `N` points with
/// the given spacing. FisherRao evaluates the curve at `fine` points to measure arc length, then
/// places the N points at equal length by linear interpolation of s(length).
Eigen::MatrixXd resampleCurve(const Denoiser& denoiser, const Eigen::VectorXd& zA,
                              const Eigen::VectorXd& zB, int nNodes, const Eigen::VectorXd& theta,
                              int N, CurveSpacing spacing, int fine = 4096);

}  // namespace geotps
