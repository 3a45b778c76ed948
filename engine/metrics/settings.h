// Settings of engine/metrics/: its configuration keys (a section of the job schema).
#pragma once

#include <string>
#include <vector>

#include "engine/config/config.h"

namespace geotps {

/// metrics.*: how paths are judged.
struct MetricsSettings {
  double successRadius = 0.5;  ///< a path succeeds when it ends this close to B (units of x)
};

/// The keys metrics.*.
const std::vector<KeySpec>& metricsKeys();

MetricsSettings readMetricsSettings(const Config& config);

}  // namespace geotps
