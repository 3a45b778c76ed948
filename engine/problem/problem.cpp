#include "engine/problem/problem.h"

#include "engine/metrics/distance.h"
#include "engine/problem/potential_registry.h"

namespace geotps {

Eigen::VectorXd Problem::periods() const { return coordinatePeriods(*potential); }

double Problem::cvEnergyKjMol(double phi, double psi) const {
  const double x[2] = {phi, psi};
  return surface->nearestGridEnergy(x) * molecule->kT();
}

Problem makeProblem(const JobSettings& settings) {
  Problem p;
  p.source = settings.source;
  const PotentialSetup setup =
      makePotential(settings.potential, settings.molecule, settings.source);
  p.potential = setup.potential;
  p.molecule = setup.molecule;
  p.surface = dynamic_cast<const TabulatedSurface*>(p.potential.get());
  p.kT = p.molecule ? 1.0 : settings.kT;
  p.energyUnit = p.molecule ? "kJ/mol" : p.potential->energyUnit();
  p.a = Eigen::Map<const Eigen::VectorXd>(settings.states.a.data(),
                                          static_cast<Eigen::Index>(settings.states.a.size()));
  p.b = Eigen::Map<const Eigen::VectorXd>(settings.states.b.data(),
                                          static_cast<Eigen::Index>(settings.states.b.size()));
  return p;
}

}  // namespace geotps
