// Configuration keys read by engine/baselines/doob/ (sections of the job schema, assembled in
// engine/config/schema.cpp).
#include "engine/baselines/doob/settings.h"

// Keys are written with designated initializers; members left out keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace geotps {

/// doob.*: the Doob's Lagrangian baseline
const std::vector<KeySpec>& doobKeys() {
  static const std::vector<KeySpec> keys = {
      {.key = "doob.time_horizon",
       .type = KeyType::Real,
       .defaultValue = "1.0",
       .unit = "2D: units of ds; full atom: ps",
       .description = "duration T of the transition; the first-order dynamics is dx = -D grad U / "
                      "kT dt + sqrt(2 D) dW with D = 1/2 in 2D (the sampler's convention) and "
                      "D = kT / (m dynamics.friction) per atom in full atom",
       .min = 0.0,
       .minExclusive = true},
      {.key = "doob.sigma_min",
       .type = KeyType::Real,
       .defaultValue = "0.05",
       .unit = "rad (2D) or nm (full atom)",
       .description = "standard deviation of the Gaussian path at A and B",
       .min = 0.0,
       .minExclusive = true},
      {.key = "doob.length_scale",
       .type = KeyType::Real,
       .defaultValue = "1.0",
       .unit = "rad (2D) or nm (full atom)",
       .description = "unit of the network's corrections to the mean and of the standard "
                      "deviation's bump (about the size of the expected detour; in full atom a "
                      "tenth of a nanometre, so that the untrained path does not tear molecules "
                      "apart)",
       .min = 0.0,
       .minExclusive = true},
      {.key = "doob.hidden",
       .type = KeyType::Int,
       .defaultValue = "128",
       .unit = "1",
       .description = "width of the hidden layers of the MLP in time",
       .min = 1.0,
       .max = 4096.0},
      {.key = "doob.layers",
       .type = KeyType::Int,
       .defaultValue = "3",
       .unit = "1",
       .description = "hidden layers of the MLP in time",
       .min = 1.0,
       .max = 32.0},
      {.key = "doob.iterations",
       .type = KeyType::Int,
       .defaultValue = "2000",
       .unit = "1",
       .description = "Adam steps of the training",
       .min = 1.0,
       .max = 1e9},
      {.key = "doob.batch_size",
       .type = KeyType::Int,
       .defaultValue = "256",
       .unit = "1",
       .description = "samples (each at its own time) per Adam step; each costs 3 gradient "
                      "evaluations (one for the drift, two for its Hessian-vector product)",
       .min = 1.0,
       .max = 1000000.0},
      {.key = "doob.learning_rate",
       .type = KeyType::Real,
       .defaultValue = "1e-3",
       .unit = "1",
       .description = "Adam step size",
       .min = 0.0,
       .max = 1.0,
       .minExclusive = true},
      {.key = "doob.hvp_step",
       .type = KeyType::Real,
       .defaultValue = "1e-4",
       .unit = "rad (2D) or nm (full atom)",
       .description = "finite-difference step of the Hessian-vector products of U",
       .min = 0.0,
       .minExclusive = true},
      {.key = "doob.warmup_iterations",
       .type = KeyType::Int,
       .defaultValue = "0",
       .unit = "1",
       .description = "continuation for stiff potentials: the first Adam steps train on the "
                      "softened energy U0 + c asinh((U - U0) / c), whose forces stay finite where "
                      "atoms overlap (a straight line between two conformations can push atoms "
                      "through each other); the remaining steps on U itself",
       .min = 0.0,
       .max = 1e9},
      {.key = "doob.energy_cap",
       .type = KeyType::Real,
       .defaultValue = "100.0",
       .unit = "energy unit of the potential",
       .description = "c of the softened energy of the warm-up steps",
       .min = 0.0,
       .minExclusive = true},
      {.key = "doob.n_paths",
       .type = KeyType::Int,
       .defaultValue = "1000",
       .unit = "1",
       .description = "paths sampled from the trained model",
       .min = 1.0,
       .max = 10000000.0},
      {.key = "doob.n_steps",
       .type = KeyType::Int,
       .defaultValue = "1000",
       .unit = "1",
       .description = "Euler-Maruyama steps of a sampled path over [0, T]",
       .min = 1.0,
       .max = 1e7},
      {.key = "doob.frame_stride",
       .type = KeyType::Int,
       .defaultValue = "10",
       .unit = "1",
       .description =
           "store the (phi, psi) or x of every stride-th frame of the sampled paths (0 = "
           "none)",
       .min = 0.0,
       .max = 1e9},
  };
  return keys;
}

DoobSettings readDoobSettings(const Config& c) {
  DoobSettings ds;
  ds.hidden = static_cast<int>(c.getInt("doob.hidden"));
  ds.layers = static_cast<int>(c.getInt("doob.layers"));
  ds.sigmaMin = c.getReal("doob.sigma_min");
  ds.lengthScale = c.getReal("doob.length_scale");
  ds.timeHorizon = c.getReal("doob.time_horizon");
  ds.iterations = static_cast<int>(c.getInt("doob.iterations"));
  ds.batchSize = static_cast<int>(c.getInt("doob.batch_size"));
  ds.learningRate = c.getReal("doob.learning_rate");
  ds.hvpStep = c.getReal("doob.hvp_step");
  ds.warmupIterations = static_cast<int>(c.getInt("doob.warmup_iterations"));
  ds.energyCap = c.getReal("doob.energy_cap");
  ds.nPaths = static_cast<int>(c.getInt("doob.n_paths"));
  ds.nSteps = static_cast<int>(c.getInt("doob.n_steps"));
  ds.frameStride = static_cast<int>(c.getInt("doob.frame_stride"));
  return ds;
}

}  // namespace geotps
