// Registration of the potential types a job config can name.
#include "engine/problem/potential_registry.h"

#include <fmt/format.h>

#include "engine/config/config.h"
#include "engine/molecule/cv_space.h"
#include "potentials/analytic_potentials.h"
#include "potentials/tabulated_surface.h"

namespace geotps {

namespace {

std::map<std::string, PotentialFactory>& registry() {
  static std::map<std::string, PotentialFactory> r = {
      {"tabulated_surface",
       [](const PotentialSettings& p, const MoleculeSettings&, const std::string& source) {
         try {
           return PotentialSetup{
               TabulatedSurface::fromFile(p.file, p.energyScale, 0.0, p.periodic), nullptr};
         } catch (const std::runtime_error& e) {
           throw ConfigError(fmt::format("{}: key 'potential.file': {}", source, e.what()));
         }
       }},
      {"mueller_brown",
       [](const PotentialSettings& p, const MoleculeSettings&, const std::string&) {
         return PotentialSetup{std::make_shared<MuellerBrown>(p.energyScale), nullptr};
       }},
      {"double_well",
       [](const PotentialSettings& p, const MoleculeSettings&, const std::string&) {
         const double s = p.energyScale;
         return PotentialSetup{std::make_shared<DoubleWell>(s * p.barrier, s * p.stiffness),
                               nullptr};
       }},
      {"double_well_nd",
       [](const PotentialSettings& p, const MoleculeSettings&, const std::string&) {
         const double s = p.energyScale;
         return PotentialSetup{std::make_shared<DoubleWellND>(p.dimension, s * p.barrier,
                                                              s * p.stiffness, p.coupling),
                               nullptr};
       }},
      // Full atom (docs/method.md, "Full atom (beyond the paper)"): the walkers are OpenMM
      // molecules; the geodesic lives in CV space, on the CV free-energy surface at the job's
      // temperature.
      {"openmm",
       [](const PotentialSettings& p, const MoleculeSettings& m, const std::string& source) {
         auto molecule = std::make_shared<const FullAtomSetup>(prepareFullAtom(p, m, source));
         if (molecule->cvDimension() != 2) {
           // No tabulated surface spans D != 2 CVs: the CV space without an energy, for a
           // neural denoiser trained on the molecule's dynamics.
           if (m.cvSurfaceSet) {
             throw ConfigError(fmt::format(
                 "{}: key 'cv.surface': {} is a (phi, psi) surface, and the job has {} CVs "
                 "(cv.variables); expected no cv.surface (a job with other than two CVs takes "
                 "mu from denoiser.type torch, trained with training.source md)",
                 source, m.cvSurface, molecule->cvDimension()));
           }
           return PotentialSetup{std::make_shared<CvSpace>(molecule->cvDimension()), molecule};
         }
         return PotentialSetup{loadCVSurface(m, molecule->kT(), source), molecule};
       }},
  };
  return r;
}

}  // namespace

const std::map<std::string, PotentialFactory>& potentialRegistry() { return registry(); }

void registerPotential(const std::string& name, PotentialFactory factory) {
  registry()[name] = std::move(factory);
}

PotentialSetup makePotential(const PotentialSettings& potential, const MoleculeSettings& molecule,
                             const std::string& source) {
  const auto& reg = registry();
  const auto it = reg.find(potential.type);
  if (it == reg.end()) {
    throw ConfigError(
        fmt::format("{}: key 'potential.type': unknown potential '{}'", source, potential.type));
  }
  try {
    return it->second(potential, molecule, source);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("{}: key 'potential': {}", source, e.what()));
  }
}

std::shared_ptr<const TabulatedSurface> loadCVSurface(const MoleculeSettings& molecule, double kTkJ,
                                                      const std::string& source) {
  try {
    return TabulatedSurface::fromFile(molecule.cvSurface, 1.0 / kTkJ);
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("{}: key 'cv.surface': {}", source, e.what()));
  }
}

}  // namespace geotps
