// Configuration keys read by engine/baselines/ (sections of the job schema, assembled in
// engine/config/schema.cpp).
#include "engine/baselines/settings.h"

#include <fmt/format.h>

#include <utility>

// Keys are written with designated initializers; members left out keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace geotps {

/// mcmc.*: the two-way shooting baselines
const std::vector<KeySpec>& mcmcKeys() {
  static const std::vector<KeySpec> keys = {
      {.key = "mcmc.state_radius",
       .type = KeyType::RealList,
       .defaultValue = "[0.5, 0.5]",
       .unit = "rad (length unit)",
       .description = "states A and B of the shooting moves: balls of these (periodically wrapped) "
                      "radii [r_A, r_B] around states.a and states.b in x, or around the minimised "
                      "end states' (phi, psi) in full atom. On the alanine surface the global "
                      "minimum C7eq lies between C5 (states.a) and the barrier, so A must contain "
                      "it to be a metastable region; the compare configs use r_A = 2.4 "
                      "(docs/method.md)",
       .min = 0.0,
       .minExclusive = true,
       .listLength = 2},
      {.key = "mcmc.state_a_box",
       .type = KeyType::RealList,
       .defaultValue = "[]",
       .unit = "rad (length unit)",
       .description = "state A of the shooting moves as a box [lo_0, hi_0, lo_1, hi_1, ...] (2 D "
                      "values) instead of the ball of mcmc.state_radius: x[d] in [lo_d, hi_d], taken on the circle "
                      "for a periodic coordinate (an arc may run past pi, e.g. phi in [2.7, 5.78] "
                      "is the arc from 2.7 through +-pi to -0.5). Must contain state A's centre "
                      "and not B's. [] = use the ball. The full-atom compare config uses it: a "
                      "ball large enough to hold C5 and C7eq wraps round the torus into the "
                      "phi > 0 side (docs/method.md)"},
      {.key = "mcmc.state_b_box",
       .type = KeyType::RealList,
       .defaultValue = "[]",
       .unit = "rad (length unit)",
       .description = "state B as a box, as mcmc.state_a_box; [] = the ball of mcmc.state_radius"},
      {.key = "mcmc.step_size",
       .type = KeyType::Real,
       .defaultValue = "0.0",
       .unit = "(length unit)^2 / kT",
       .description = "time step ds of the overdamped Langevin dynamics of 2D shooting (0 = "
                      "sampler.step_size); full-atom shooting uses dynamics.time_step and "
                      "dynamics.friction",
       .min = 0.0},
      {.key = "mcmc.path_length",
       .type = KeyType::Int,
       .defaultValue = "2000",
       .unit = "frames",
       .description = "frames L of every path of fixed-length shooting (L - 1 steps)",
       .min = 3.0,
       .max = 1e7},
      {.key = "mcmc.max_length",
       .type = KeyType::Int,
       .defaultValue = "20000",
       .unit = "frames",
       .description = "longest path of variable-length shooting; longer trials are rejected",
       .min = 3.0,
       .max = 1e7},
      {.key = "mcmc.fixed_max_evaluations",
       .type = KeyType::Int,
       .defaultValue = "20000000",
       .unit = "1",
       .description = "energy-evaluation budget of fixed-length shooting (all chains together)",
       .min = 1.0,
       .max = 1e13},
      {.key = "mcmc.variable_max_evaluations",
       .type = KeyType::Int,
       .defaultValue = "20000000",
       .unit = "1",
       .description = "energy-evaluation budget of variable-length shooting (all chains together)",
       .min = 1.0,
       .max = 1e13},
      {.key = "mcmc.chains",
       .type = KeyType::Int,
       .defaultValue = "2",
       .unit = "1",
       .description = "independent Markov chains (run on sampler.threads threads), each with an "
                      "equal share of the budget and its own random stream",
       .min = 1.0,
       .max = 1024.0},
      {.key = "mcmc.frame_stride",
       .type = KeyType::Int,
       .defaultValue = "10",
       .unit = "1",
       .description = "store the (phi, psi) or x of every stride-th frame of accepted paths (0 = "
                      "none)",
       .min = 0.0,
       .max = 1e9},
      {.key = "mcmc.store_every",
       .type = KeyType::Int,
       .defaultValue = "1",
       .unit = "1",
       .description = "store the frames of every n-th accepted path of a chain (the MaxEnergy of "
                      "every accepted path is always stored)",
       .min = 1.0,
       .max = 1e9},
  };
  return keys;
}

McmcSettings readMcmcSettings(const Config& c) {
  McmcSettings s;
  const auto radii = c.getRealList("mcmc.state_radius");
  s.radiusA = radii[0];
  s.radiusB = radii[1];
  for (const auto& [key, box] :
       {std::pair{"mcmc.state_a_box", &s.boxA}, std::pair{"mcmc.state_b_box", &s.boxB}}) {
    *box = c.getRealList(key);
    if (box->size() % 2) {
      throw ConfigError(fmt::format(
          "{}: key '{}' has {} values; expected [lo, hi] for each coordinate ([lo_0, hi_0, lo_1, "
          "hi_1, ...], 2 D values)",
          c.sourceName(), key, box->size()));
    }
    for (std::size_t d = 0; d + 1 < box->size(); d += 2) {
      if (!((*box)[d] < (*box)[d + 1])) {
        throw ConfigError(fmt::format(
            "{}: key '{}': coordinate {}: the interval [{}, {}] is empty; expected lo < hi "
            "([lo_0, hi_0, lo_1, hi_1, ...])",
            c.sourceName(), key, d / 2, (*box)[d], (*box)[d + 1]));
      }
    }
  }
  s.stepSize = c.getReal("mcmc.step_size");
  s.pathLength = static_cast<int>(c.getInt("mcmc.path_length"));
  s.maxLength = static_cast<int>(c.getInt("mcmc.max_length"));
  s.fixedMaxEvaluations = c.getInt("mcmc.fixed_max_evaluations");
  s.variableMaxEvaluations = c.getInt("mcmc.variable_max_evaluations");
  s.chains = static_cast<int>(c.getInt("mcmc.chains"));
  s.frameStride = static_cast<int>(c.getInt("mcmc.frame_stride"));
  s.storeEvery = static_cast<int>(c.getInt("mcmc.store_every"));
  return s;
}

}  // namespace geotps
