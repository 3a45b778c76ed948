// Settings of engine/baselines/: its configuration keys (a section of the job schema).
#pragma once

#include <string>
#include <vector>

#include "engine/config/config.h"

namespace geotps {

/// mcmc.*: the two-way shooting baselines.
struct McmcSettings {
  double radiusA = 0.5, radiusB = 0.5;  ///< state balls (units of x)
  std::vector<double> boxA, boxB;       ///< state boxes [lo_0, hi_0, lo_1, hi_1]; empty = ball
  double stepSize = 0.0;                ///< 2D overdamped ds; 0 = sampler.step_size
  int pathLength = 2000;                ///< fixed length, frames
  int maxLength = 20000;                ///< variable length: longest path, frames
  long long fixedMaxEvaluations = 20000000, variableMaxEvaluations = 20000000;
  int chains = 2;
  int frameStride = 10;
  int storeEvery = 1;
};

/// The keys mcmc.*.
const std::vector<KeySpec>& mcmcKeys();

McmcSettings readMcmcSettings(const Config& config);

}  // namespace geotps
