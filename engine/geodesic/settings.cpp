// Configuration keys read by engine/geodesic/ (sections of the job schema, assembled in
// engine/config/schema.cpp).
#include "engine/geodesic/settings.h"

// Keys are written with designated initializers; members left out keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace geotps {

/// geodesic.* and penalty.*: the curve optimisation
const std::vector<KeySpec>& geodesicKeys() {
  static const std::vector<KeySpec> keys = {
      {.key = "geodesic.n_points",
       .type = KeyType::Int,
       .defaultValue = "128",
       .unit = "1",
       .description = "number of points N on the discretised spacetime curve",
       .min = 3.0,
       .max = 100000.0},
      {.key = "geodesic.n_nodes",
       .type = KeyType::Int,
       .defaultValue = "10",
       .unit = "1",
       .description = "spline nodes parametrising the curve, including the two fixed end points",
       .min = 2.0,
       .max = 200.0},
      {.key = "geodesic.optimizer",
       .type = KeyType::String,
       .defaultValue = "lbfgs",
       .unit = "",
       .description =
           "curve-energy minimiser; `none` keeps the initial curve (the straight line between "
           "the end points, or geodesic.initial)",
       .choices = {"lbfgs", "adam", "none"}},
      {.key = "geodesic.initial",
       .type = KeyType::Path,
       .defaultValue = "\"\"",
       .unit = "",
       .description =
           "result file of an earlier `geotps run` with the same states, states.l_end and "
           "geodesic.n_nodes: its optimised spline (/curve/spline_parameters) starts the optimiser "
           "instead of the straight line (L-BFGS with the low-variance term then runs only its "
           "final, full-weight stage); with optimizer `none` that curve is used as it is, so "
           "that paths can be sampled again (other seeds or sampler settings) without recomputing "
           "the geodesic. Empty: the straight line"},
      {.key = "geodesic.max_iterations",
       .type = KeyType::Int,
       .defaultValue = "500",
       .unit = "1",
       .description = "maximum optimiser iterations (L-BFGS: per penalty stage; Adam: total steps)",
       .min = 0.0,
       .max = 1000000.0},
      {.key = "geodesic.learning_rate",
       .type = KeyType::Real,
       .defaultValue = "0.1",
       .unit = "1",
       .description = "Adam step size (adam only)",
       .min = 0.0,
       .minExclusive = true},
      {.key = "geodesic.tolerance",
       .type = KeyType::Real,
       .defaultValue = "1e-7",
       .unit = "1",
       .description =
           "stop when |f_(k-10) - f_k| < tolerance * max(1, |f_k|), f the objective (energy + "
           "penalties) after iteration k",
       .min = 0.0},
      {.key = "geodesic.gradient_tolerance",
       .type = KeyType::Real,
       .defaultValue = "1e-6",
       .unit = "1",
       .description = "stop when |grad f| < gradient_tolerance * max(1, |theta|), theta the spline "
                      "parameters",
       .min = 0.0},
      {.key = "geodesic.negative_terms",
       .type = KeyType::String,
       .defaultValue = "clamp",
       .unit = "",
       .description =
           "what the optimised energy makes of a negative segment term (eta_n+1 - eta_n).(mu_n+1 "
           "- mu_n), which only an approximate (torch) denoiser can give: `clamp` counts it as 0 "
           "(docs/method.md, \"Curve, energy, geodesic\"), `absolute` counts its magnitude, so "
           "that the optimiser gains nothing by "
           "steering the curve where the network's mu runs backwards. The summary's energies "
           "always clamp; /curve/energy_history and /curve/objective_history record the "
           "optimised energy",
       .choices = {"clamp", "absolute"}},
      {.key = "penalty.type",
       .type = KeyType::String,
       .defaultValue = "none",
       .unit = "",
       .description = "extra term added to the curve energy: none, a low-variance (log-SNR floor) "
                      "term, or avoidance of a forbidden spacetime region",
       .choices = {"none", "low_variance", "region_avoidance"}},
      {.key = "penalty.l_floor",
       .type = KeyType::Real,
       .defaultValue = "3.0",
       .unit = "1",
       .description =
           "log-SNR floor of the low-variance term: the curve is pushed to stay above it"},
      {.key = "penalty.beta",
       .type = KeyType::Real,
       .defaultValue = "10.0",
       .unit = "1",
       .description = "sharpness of the softplus in the low-variance term",
       .min = 0.0,
       .minExclusive = true},
      {.key = "penalty.lambda",
       .type = KeyType::Real,
       .defaultValue = "100.0",
       .unit = "1",
       .description = "final weight of the low-variance term",
       .min = 0.0},
      {.key = "penalty.warmup_steps",
       .type = KeyType::Int,
       .defaultValue = "1200",
       .unit = "1",
       .description = "Adam steps run with zero low-variance weight before the ramp starts",
       .min = 0.0,
       .max = 1e9},
      {.key = "penalty.ramp_steps",
       .type = KeyType::Real,
       .defaultValue = "28.0",
       .unit = "1",
       .description = "ramp length of the low-variance weight: min((step - warmup_steps) / "
                      "ramp_steps, lambda)",
       .min = 0.0,
       .minExclusive = true},
      {.key = "penalty.z_star",
       .type = KeyType::RealList,
       .defaultValue = "[4.0, -0.8, -0.1]",
       .unit = "(1, rad, rad)",
       .description = "forbidden spacetime point z* = (l, x) of the region-avoidance term: D + 1 "
                      "values"},
      {.key = "penalty.kappa",
       .type = KeyType::Real,
       .defaultValue = "20.0",
       .unit = "nats",
       .description = "region avoidance keeps KL(p_z* || p_z) above kappa along the curve",
       .min = 0.0},
      {.key = "penalty.region_weight",
       .type = KeyType::Real,
       .defaultValue = "100.0",
       .unit = "1",
       .description = "weight of the region-avoidance term",
       .min = 0.0},
  };
  return keys;
}

GeodesicSettings readGeodesicSettings(const Config& config) {
  GeodesicSettings gs;
  gs.initialFile = config.getString("geodesic.initial");
  gs.optimizer = config.getString("geodesic.optimizer");
  gs.nPoints = static_cast<int>(config.getInt("geodesic.n_points"));
  gs.nNodes = static_cast<int>(config.getInt("geodesic.n_nodes"));
  gs.maxIterations = config.getInt("geodesic.max_iterations");
  gs.learningRate = config.getReal("geodesic.learning_rate");
  gs.tolerance = config.getReal("geodesic.tolerance");
  gs.gradientTolerance = config.getReal("geodesic.gradient_tolerance");
  gs.negativeTerms = config.getString("geodesic.negative_terms") == "absolute"
                         ? NegativeTerms::Absolute
                         : NegativeTerms::Clamp;
  gs.penalty.type = PenaltySettings::parseType(config.getString("penalty.type"));
  gs.penalty.lFloor = config.getReal("penalty.l_floor");
  gs.penalty.beta = config.getReal("penalty.beta");
  gs.penalty.lambda = config.getReal("penalty.lambda");
  gs.penalty.warmupSteps = static_cast<int>(config.getInt("penalty.warmup_steps"));
  gs.penalty.rampSteps = config.getReal("penalty.ramp_steps");
  gs.penalty.zStar = [&] {
    const auto v = config.getRealList("penalty.z_star");
    return Eigen::VectorXd(
        Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size())));
  }();
  gs.penalty.kappa = config.getReal("penalty.kappa");
  gs.penalty.regionWeight = config.getReal("penalty.region_weight");
  return gs;
}

}  // namespace geotps
