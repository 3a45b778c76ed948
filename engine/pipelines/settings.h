// Settings of engine/pipelines/: its configuration keys (a section of the job schema).
#pragma once

#include <string>
#include <vector>

#include "engine/config/config.h"

namespace geotps {

/// compare.*: which methods `geotps compare` runs and where it writes.
struct CompareSettings {
  std::vector<std::string> methods;  ///< registered names (engine/pipelines/compare.h)
  std::string output;                ///< empty = results/<name>_compare.h5
  double crossingLine = 0.0;         ///< x[0] of the dividing line for crossing points
  int shootingMoves = 20;  ///< geodesic_shooting: two-way shooting trials per geodesic path
};

/// The keys compare.*.
const std::vector<KeySpec>& compareKeys();

CompareSettings readCompareSettings(const Config& config);

/// distance.*: the points `geotps distance` measures (docs/method.md, "Diffusion Edit Distance").
struct DistanceSettings {
  std::string points;  ///< resolved path of a points file; empty = states.a and states.b
  int path = 0;        ///< a run result file: the walker whose frames are the points
  int stride = 1;      ///< every stride-th point of the file
  std::string output;  ///< empty = results/<name>_distance.h5
};

/// The keys distance.*.
const std::vector<KeySpec>& distanceKeys();

DistanceSettings readDistanceSettings(const Config& config);

}  // namespace geotps
