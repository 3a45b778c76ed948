// Registration of the potential types a job config can name.
#include "engine/potential_registry.h"

#include <fmt/format.h>

#include "potentials/analytic_potentials.h"
#include "potentials/tabulated_surface.h"

namespace geotps {

const std::map<std::string, PotentialFactory>& potentialRegistry() {
  static const std::map<std::string, PotentialFactory> registry = {
      {"tabulated_surface",
       [](const Config& c) -> PotentialPtr {
         try {
           return TabulatedSurface::fromFile(c.getString("potential.file"),
                                             c.getReal("potential.energy_scale"));
         } catch (const std::runtime_error& e) {
           throw ConfigError(fmt::format("{}: key 'potential.file': {}", c.sourceName(), e.what()));
         }
       }},
      {"mueller_brown",
       [](const Config& c) -> PotentialPtr {
         return std::make_shared<MuellerBrown>(c.getReal("potential.energy_scale"));
       }},
      {"double_well",
       [](const Config& c) -> PotentialPtr {
         const double s = c.getReal("potential.energy_scale");
         return std::make_shared<DoubleWell>(s * c.getReal("potential.barrier"),
                                             s * c.getReal("potential.stiffness"));
       }},
  };
  return registry;
}

PotentialPtr makePotential(const Config& config) {
  const std::string type = config.getString("potential.type");
  const auto& reg = potentialRegistry();
  const auto it = reg.find(type);
  if (it == reg.end()) {
    throw ConfigError(
        fmt::format("{}: key 'potential.type': unknown potential '{}'", config.sourceName(), type));
  }
  try {
    return it->second(config);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("{}: key 'potential': {}", config.sourceName(), e.what()));
  }
}

}  // namespace geotps
