// Configuration keys read by engine/samplers/ (sections of the job schema, assembled in
// engine/config/schema.cpp).
#include "engine/samplers/settings.h"

// Keys are written with designated initializers; members left out keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace geotps {

/// sampler.*: annealed Langevin along the curve
const std::vector<KeySpec>& samplerKeys() {
  static const std::vector<KeySpec> keys = {
      {.key = "sampler.n_paths",
       .type = KeyType::Int,
       .defaultValue = "1000",
       .unit = "1",
       .description = "number of transition paths (walkers) M",
       .min = 1.0,
       .max = 10000000.0},
      {.key = "sampler.n_points",
       .type = KeyType::Int,
       .defaultValue = "0",
       .unit = "1",
       .description = "curve points used for sampling (0 = geodesic.n_points)",
       .min = 0.0,
       .max = 1000000.0},
      {.key = "sampler.spacing",
       .type = KeyType::String,
       .defaultValue = "parameter",
       .unit = "",
       .description = "where the sampler's curve points lie on the geodesic's spline: `parameter` "
                      "uniform in the spline parameter s (the paper's choice), `fisher_rao` at "
                      "equal Fisher-Rao arc length (equal information steps between consecutive "
                      "points, measured with the job's denoiser on 4096 points)",
       .choices = {"parameter", "fisher_rao"}},
      {.key = "sampler.steps_per_point",
       .type = KeyType::Int,
       .defaultValue = "128",
       .unit = "1",
       .description = "Langevin steps K per curve point",
       .min = 1.0,
       .max = 1e7},
      {.key = "sampler.step_size",
       .type = KeyType::Real,
       .defaultValue = "4e-4",
       .unit = "(length unit)^2 / kT",
       .description = "time step ds of the overdamped Langevin dynamics",
       .min = 0.0,
       .minExclusive = true},
      {.key = "sampler.threads",
       .type = KeyType::Int,
       .defaultValue = "0",
       .unit = "1",
       .description = "worker threads (0 = all cores); results do not depend on it",
       .min = 0.0,
       .max = 1024.0},
      {.key = "sampler.cv_restraint",
       .type = KeyType::String,
       .defaultValue = "unwrapped",
       .unit = "",
       .description =
           "full atom: how the moving (phi, psi) restraint measures the distance to its centre "
           "x_n / alpha_n: `unwrapped` follows the walker's angles continuously and pulls it along "
           "the curve as the 2D tether does; `wrapped` takes the shortest way round the torus, "
           "which carries walkers the other way round once the centre is more than pi away "
           "(docs/method.md, \"Full atom (beyond the paper)\")",
       .choices = {"unwrapped", "wrapped"}},
      {.key = "sampler.direction",
       .type = KeyType::String,
       .defaultValue = "auto",
       .unit = "",
       .description =
           "which end state the walkers start from: `forward` drives them from states.a to "
           "states.b; `reverse` drives them from states.b to states.a along the same curve and "
           "reverses every path in time, so that the paths still run from A to B (an equilibrium "
           "transition path ensemble is invariant under time reversal); `auto` is `reverse` when "
           "the potential (full atom: the CV surface) is lower at states.b than at states.a, "
           "since walkers cannot leave a shallow start basin while the restraint is weak "
           "(docs/method.md, \"Which end the walkers start from\")",
       .choices = {"auto", "forward", "reverse"}},
      {.key = "sampler.walkers",
       .type = KeyType::String,
       .defaultValue = "auto",
       .unit = "",
       .description =
           "full atom: `per_context` gives every walker its own OpenMM Context and integrates "
           "on the host (reproducible across threads; energy and CVs of every frame); `batched` "
           "puts up to sampler.batch_size walkers as non-interacting copies in one Context and "
           "lets OpenMM's LangevinMiddleIntegrator step them on the device, fetching positions "
           "every output.frame_stride steps (energy, CVs and MaxEnergy over those frames); "
           "`auto`: batched on OpenCL and CUDA, per_context on Reference and CPU "
           "(docs/method.md, \"Batched walkers\")",
       .choices = {"auto", "per_context", "batched"}},
      {.key = "sampler.batch_size",
       .type = KeyType::Int,
       .defaultValue = "10000",
       .unit = "walkers",
       .description = "full atom, batched: most walkers in one OpenMM Context (memory: about "
                      "3 KB of positions per walker of 22 atoms, plus the platform's own); more "
                      "walkers run in successive batches",
       .min = 1.0,
       .max = 1000000.0},
  };
  return keys;
}

SamplingSettings readSamplingSettings(const Config& c) {
  SamplingSettings s;
  s.nPaths = static_cast<int>(c.getInt("sampler.n_paths"));
  s.nPoints = static_cast<int>(c.getInt("sampler.n_points"));
  s.spacing = c.getString("sampler.spacing") == "fisher_rao" ? CurveSpacing::FisherRao
                                                             : CurveSpacing::Parameter;
  s.stepsPerPoint = static_cast<int>(c.getInt("sampler.steps_per_point"));
  s.stepSize = c.getReal("sampler.step_size");
  s.threads = static_cast<int>(c.getInt("sampler.threads"));
  s.unwrappedRestraint = c.getString("sampler.cv_restraint") == "unwrapped";
  s.walkers = c.getString("sampler.walkers");
  s.batchSize = static_cast<int>(c.getInt("sampler.batch_size"));
  s.direction = c.getString("sampler.direction");
  return s;
}

}  // namespace geotps
