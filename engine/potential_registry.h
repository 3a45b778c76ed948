// Maps the YAML `potential.type` string to a factory that builds the Potential from the job config.
// Adding a potential: one file in potentials/ plus one registration line in potential_registry.cpp.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "engine/config.h"
#include "potentials/potential.h"

namespace geotps {

using PotentialFactory = std::function<PotentialPtr(const Config&)>;

/// The registered potential types, by name.
const std::map<std::string, PotentialFactory>& potentialRegistry();

/// Builds the potential named by `potential.type`; errors name the key and the config file.
PotentialPtr makePotential(const Config& config);

}  // namespace geotps
