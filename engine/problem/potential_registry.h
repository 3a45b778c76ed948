// Maps the YAML `potential.type` string to a factory that builds the job's potential from its typed
// settings. Adding a potential: one file in potentials/ plus one registerPotential call (built-in
// types are registered in potential_registry.cpp).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "engine/molecule/molecule.h"
#include "engine/molecule/settings.h"
#include "engine/problem/settings.h"
#include "potentials/potential.h"
#include "potentials/tabulated_surface.h"

namespace geotps {

/// What a potential type gives a job: the potential the geodesic, the denoiser and the 2D sampler
/// see, and for a full-atom type the molecule whose dynamics the full-atom sampler runs.
struct PotentialSetup {
  /// 2D types: the potential itself (energy in its own unit). Full-atom types (openmm): the CV
  /// free-energy surface cv.surface in units of kT at dynamics.temperature.
  PotentialPtr potential;
  std::shared_ptr<const FullAtomSetup> molecule;  ///< full-atom types only
};

/// Builds a potential from the job's settings; `source` (the config file) is for messages.
using PotentialFactory = std::function<PotentialSetup(
    const PotentialSettings&, const MoleculeSettings&, const std::string& source)>;

/// The registered potential types, by name.
const std::map<std::string, PotentialFactory>& potentialRegistry();

/// Adds (or replaces) a potential type.
void registerPotential(const std::string& name, PotentialFactory factory);

/// Builds the potential named by `potential.type`; errors name the key and the config file.
PotentialSetup makePotential(const PotentialSettings& potential, const MoleculeSettings& molecule,
                             const std::string& source);

/// The CV free-energy surface of a full-atom job (cv.surface, kJ/mol), as a potential in units of
/// kT: energies scaled by 1 / kTkJ. The one place that loads cv.surface; errors name the key.
std::shared_ptr<const TabulatedSurface> loadCVSurface(const MoleculeSettings& molecule, double kTkJ,
                                                      const std::string& source);

}  // namespace geotps
