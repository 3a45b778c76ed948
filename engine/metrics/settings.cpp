// Configuration keys read by engine/metrics/ (sections of the job schema, assembled in
// engine/config/schema.cpp).
#include "engine/metrics/settings.h"

// Keys are written with designated initializers; members left out keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace geotps {

/// metrics.*: how paths are judged
const std::vector<KeySpec>& metricsKeys() {
  static const std::vector<KeySpec> keys = {
      {.key = "metrics.success_radius",
       .type = KeyType::Real,
       .defaultValue = "0.5",
       .unit = "rad (length unit)",
       .description = "a path succeeds when its last frame is within this (periodically wrapped) "
                      "distance of state B",
       .min = 0.0,
       .minExclusive = true},
  };
  return keys;
}

MetricsSettings readMetricsSettings(const Config& c) {
  MetricsSettings s;
  s.successRadius = c.getReal("metrics.success_radius");
  return s;
}

}  // namespace geotps
