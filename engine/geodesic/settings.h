// Settings of engine/geodesic/: its configuration keys (a section of the job schema).
#pragma once

#include <vector>

#include "engine/config/config.h"
#include "engine/geodesic/geodesic_solver.h"

namespace geotps {

/// The keys geodesic.* and penalty.*.
const std::vector<KeySpec>& geodesicKeys();

/// The geodesic.* and penalty.* keys (GeodesicSettings::initialTheta is left empty: the run
/// pipeline reads it from GeodesicSettings::initialFile).
GeodesicSettings readGeodesicSettings(const Config& config);

}  // namespace geotps
