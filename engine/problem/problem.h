// The problem a job solves: the potential (or molecule), the thermal energy, the two states and how
// paths are judged; built once from the job's settings by every pipeline (run, compare, training).
#pragma once

#include <Eigen/Dense>
#include <memory>
#include <string>
#include <vector>

#include "engine/molecule/molecule.h"
#include "engine/pipelines/job_settings.h"
#include "potentials/potential.h"
#include "potentials/tabulated_surface.h"

namespace geotps {

struct Problem {
  std::string source;  ///< the config file, for messages
  /// The potential the geodesic and the denoiser see: a potential in R^D (analytic or a 2D
  /// tabulated surface), or for a full-atom job the CV free-energy surface in units of kT.
  PotentialPtr potential;
  /// `potential` when it is a tabulated surface (nearest-grid MaxEnergy, minimax bound), else null.
  const TabulatedSurface* surface = nullptr;
  std::shared_ptr<const FullAtomSetup> molecule;  ///< full-atom jobs only
  /// Thermal energy in the unit of `potential`: the job's kT, or 1 for a full-atom job.
  double kT = 1.0;
  Eigen::VectorXd a, b;  ///< states.a and states.b (units of x)
  /// Unit of the MaxEnergy a run reports: the potential's, or kJ/mol for a full-atom job.
  std::string energyUnit;
  /// What the job should be told but that does not stop it (e.g. an end state that is not a
  /// minimum of the surface); the commands print them on stderr.
  std::vector<std::string> warnings;

  bool fullAtom() const { return molecule != nullptr; }
  int dimension() const { return potential->dimension(); }
  /// Period of each coordinate of x (0 where not periodic), as the metrics wrap distances.
  Eigen::VectorXd periods() const;
  /// Full atom with a tabulated CV surface (`surface` not null): the surface at the grid point
  /// nearest to the CVs, kJ/mol.
  double cvEnergyKjMol(const Eigen::VectorXd& cv) const;
};

/// Checks that every list of one value per coordinate has the potential's dimension D: states.a,
/// states.b, for a potential without a data box (analytic) denoiser.grid_size, box_low and
/// box_high, and with the region-avoidance penalty penalty.z_star (D + 1). Errors name the key,
/// its length and the expected one. Called by makeProblem.
void checkDimensions(const JobSettings& settings, const Potential& potential, bool fullAtom);

/// Builds the problem through the potential registry; errors name the config file and key.
Problem makeProblem(const JobSettings& settings);

}  // namespace geotps
