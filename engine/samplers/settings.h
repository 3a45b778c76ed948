// Settings of engine/samplers/: its configuration keys (a section of the job schema).
#pragma once

#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/geodesic/geodesic_solver.h"

namespace geotps {

/// sampler.*: annealed Langevin along the curve (2D and full atom).
struct SamplingSettings {
  int nPaths = 1000;  ///< walkers M
  int nPoints = 0;    ///< curve points the sampler visits (0 = geodesic.n_points)
  CurveSpacing spacing = CurveSpacing::Parameter;
  int stepsPerPoint = 128;         ///< K
  double stepSize = 4e-4;          ///< ds (2D)
  int threads = 0;                 ///< 0 = all cores
  bool unwrappedRestraint = true;  ///< full atom: sampler.cv_restraint unwrapped (else wrapped)
  /// full atom: sampler.walkers, "per_context", "batched" or "auto" (batched on OpenCL / CUDA)
  std::string walkers = "auto";
  int batchSize = 10000;  ///< full atom, batched: most walkers in one Context
  /// sampler.direction: "forward" (walkers driven from A to B), "reverse" (from B to A, the paths
  /// then reversed in time) or "auto" (reverse when states.b lies lower on the potential).
  std::string direction = "auto";
};

/// The keys sampler.*.
const std::vector<KeySpec>& samplerKeys();

SamplingSettings readSamplingSettings(const Config& config);

}  // namespace geotps
