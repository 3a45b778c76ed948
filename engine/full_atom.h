// Full-atom transition paths (MATH.md section 7): an OpenMM System, its (phi, psi) collective
// variables, the adiabatic (phi, psi) map by restrained minimisation, and annealed Langevin
// dynamics along a CV-space curve as OpenMM Langevin dynamics with a moving dihedral restraint.
#pragma once

#include <Eigen/Dense>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/restrained_dynamics.h"
#include "potentials/pdb_file.h"
#include "potentials/tabulated_surface.h"

namespace OpenMM {
class System;
class Platform;
}  // namespace OpenMM

namespace geotps {

/// Everything a full-atom job needs before sampling: the System, the end states (minimised), the
/// platform chosen, and the CV definitions.
struct FullAtomSetup {
  std::shared_ptr<OpenMM::System> system;
  PdbStructure topology;           ///< atoms of state A's PDB (names, residues, bonds)
  std::vector<double> positionsA;  ///< minimised state A, nm
  std::vector<double> positionsB;  ///< minimised state B, nm
  double energyA = 0.0;            ///< minimised energy of A, kJ/mol
  double energyB = 0.0;            ///< minimised energy of B, kJ/mol
  Eigen::Vector2d cvA, cvB;        ///< (phi, psi) of the minimised states, rad
  DihedralAtoms phiAtoms{}, psiAtoms{};
  OpenMM::Platform* platform = nullptr;
  std::map<std::string, std::string> platformProperties;
  std::string platformReport;  ///< how the platform was chosen (timings for "auto")
  double temperatureK = 300.0;
  double kT() const { return kBoltzmannKjMolK * temperatureK; }
};

/// Loads potential.system and the two PDBs, checks that the PDB atoms match the System, chooses the
/// platform (potential.platform), and minimises both states. Errors name the file or key.
FullAtomSetup prepareFullAtom(const Config& config);

/// (phi, psi) of positions (nm), rad in (-pi, pi].
Eigen::Vector2d computeCVs(const std::vector<double>& positionsNm, const DihedralAtoms& phi,
                           const DihedralAtoms& psi);

using ProgressCallback = std::function<void(long long done, long long total)>;

/// The adiabatic map: for each point of an n x n grid over [-pi, pi)^2 (points at -pi + i*2pi/n),
/// the energy minimised under a stiff (phi, psi) restraint, reported without the restraint, minus
/// the lowest value (kJ/mol). Rows are swept in a serpentine order from the nearest minimised state
/// so that each minimisation starts from its neighbour's structure; rows run on `threads` threads.
Grid2D adiabaticMap(const FullAtomSetup& setup, int n, double stiffnessKjMolRad2,
                    double toleranceKjMolNm, int threads, const ProgressCallback& progress = {});

/// Writes a grid as a `phi psi U` file (phi fastest) that readGridFile reads, with `header` lines
/// written as '#' comments first. Written under a temporary name and renamed.
void writeSurfaceFile(const std::string& path, const Grid2D& grid,
                      const std::vector<std::string>& header);

struct FullAtomSamplerSettings {
  int nPaths = 100;
  int stepsPerPoint = 100;  ///< K
  double frictionPerPs = 1.0;
  double timeStepPs = 0.001;
  std::uint64_t seed = 0;
  int threads = 0;
  int frameStride = 10;  ///< store positions every stride-th frame (0 = none)
};

struct FullAtomPaths {
  int nAtoms = 0;
  std::size_t framesPerPath = 0;  ///< N*K
  std::size_t storedPerPath = 0;
  std::vector<float> frames;        ///< M x stored x (3 nAtoms), nm
  std::vector<float> energy;        ///< M x N*K potential energy without restraint, kJ/mol
  std::vector<float> cv;            ///< M x N*K x 2 (phi, psi), rad
  Eigen::VectorXd maxEnergy;        ///< per path, max frame energy, kJ/mol (absolute)
  Eigen::VectorXd maxEnergyCV;      ///< per path, max of `cvEnergy` over frames
  Eigen::MatrixXd finalCV;          ///< M x 2
  long long energyEvaluations = 0;  ///< one energy-and-forces evaluation per step
};

/// Annealed Langevin in full-atom space along the CV curve (rows (l, phi, psi)): at curve point n
/// the restraint stiffness is kT * SNR_n (kJ/mol/rad^2) centred at x_n / alpha_n; K OpenMM Langevin
/// steps per point, every frame's energy and CVs recorded. Walkers start at the minimised state A
/// with velocities drawn at the temperature; walker i uses seed-derived streams, independent of
/// threads.
FullAtomPaths sampleFullAtomPaths(const FullAtomSetup& setup, const Eigen::MatrixXd& curve,
                                  const FullAtomSamplerSettings& settings,
                                  const std::function<double(double, double)>& cvEnergy,
                                  const ProgressCallback& progress = {});

}  // namespace geotps
