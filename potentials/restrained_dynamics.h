// OpenMM Langevin dynamics of a molecular System under a harmonic restraint on two dihedral
// collective variables (phi, psi) whose centre and stiffness can be moved between steps. Knows
// nothing about geodesics: the engine moves the restraint along a curve.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace OpenMM {
class System;
class Platform;
class Context;
class LangevinMiddleIntegrator;
}  // namespace OpenMM

namespace geotps {

/// Serialises OpenMM set-up work (System copies, Context creation) across threads.
std::mutex& openmmSetupMutex();

/// Four 0-based atom indices defining a dihedral.
using DihedralAtoms = std::array<int, 4>;

/// One walker: a Context with a LangevinMiddleIntegrator and the restraint
/// E_r = 1/2 k (d(phi, phi0)^2 + d(psi, psi0)^2), d the angle difference wrapped to [0, pi]
/// (so the restraint is smooth and correct across +-pi). The restraint is force group 1; every
/// other force keeps its own group, and reported potential energies exclude the restraint.
class RestrainedDynamics {
 public:
  /// `system` is copied. `temperatureK` in K, `frictionPerPs` in 1/ps, `timeStepPs` in ps.
  /// `seed` seeds the integrator's random stream (reproducible per walker).
  RestrainedDynamics(const OpenMM::System& system, const DihedralAtoms& phi,
                     const DihedralAtoms& psi, double temperatureK, double frictionPerPs,
                     double timeStepPs, OpenMM::Platform& platform,
                     const std::map<std::string, std::string>& properties, int seed);
  ~RestrainedDynamics();
  RestrainedDynamics(const RestrainedDynamics&) = delete;
  RestrainedDynamics& operator=(const RestrainedDynamics&) = delete;

  /// Positions in nm (3 * nAtoms values).
  void setPositions(const std::vector<double>& positionsNm);
  /// Draws velocities from the Maxwell-Boltzmann distribution at the temperature.
  void setVelocitiesToTemperature(int seed);
  /// Restraint stiffness in kJ/mol/rad^2 and centre (phi0, psi0) in rad. k = 0 switches it off.
  void setRestraint(double stiffness, double phi0, double psi0);
  /// Advances `n` Langevin steps.
  void step(int n);
  /// Current positions (nm) and potential energy without the restraint (kJ/mol); either may be
  /// null.
  void getState(std::vector<double>* positionsNm, double* potentialEnergyKjMol) const;
  /// The restraint's own energy (kJ/mol) and forces (kJ/mol/nm, 3 * nAtoms) at the current
  /// positions.
  double restraintEnergy(std::vector<double>* forces = nullptr) const;
  /// Local energy minimisation with the current restraint; returns the energy without restraint.
  double minimize(double toleranceKjMolNm = 1.0, int maxIterations = 0);
  int atomCount() const { return nAtoms_; }
  std::string platformName() const;

 private:
  int nAtoms_;
  std::unique_ptr<OpenMM::System> system_;
  std::unique_ptr<OpenMM::LangevinMiddleIntegrator> integrator_;
  std::unique_ptr<OpenMM::Context> context_;
  int restraintGroup_ = 31;
};

}  // namespace geotps
