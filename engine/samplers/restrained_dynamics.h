// OpenMM Langevin dynamics of a molecular System under a harmonic restraint on D dihedral
// collective variables whose centre and stiffness can be moved between steps. Knows nothing about
// geodesics: the engine moves the restraint along a curve.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "engine/core/random.h"

namespace OpenMM {
class System;
class Platform;
class Context;
class Integrator;
class CustomTorsionForce;
}  // namespace OpenMM

namespace geotps {

/// Boltzmann constant times Avogadro's number, kJ/mol/K.
inline constexpr double kBoltzmannKjMolK = 0.00831446261815324;

/// Serialises OpenMM set-up work (System copies, Context creation) across threads.
std::mutex& openmmSetupMutex();

/// Four 0-based atom indices defining a dihedral.
using DihedralAtoms = std::array<int, 4>;

/// One walker under the restraint E_r = 1/2 k sum_d d(theta_d, c_d)^2 over its D torsions theta_d
/// (for two: phi and psi), d the angle difference wrapped to [0, pi] (smooth and correct across
/// +-pi).
///
/// Dynamics: the LangevinMiddle scheme (as OpenMM's LangevinMiddleIntegrator: v += dt f/m;
/// x += dt/2 v; v = a v + sqrt(1 - a^2) sqrt(kT/m) R; x += dt/2 v; a = exp(-friction dt))
/// integrated here, with OpenMM's Context used only to evaluate the System's energy and forces (one
/// evaluation per step, which also gives the recorded energy) and the restraint computed
/// analytically. The random numbers come from our own per-walker stream: OpenMM's Reference
/// platform draws from one process-wide generator, so walkers integrated by OpenMM on parallel
/// threads are not reproducible. Minimisation uses OpenMM's LocalEnergyMinimizer with the same
/// restraint as a CustomTorsionForce (force group 31); reported potential energies always exclude
/// the restraint.
class RestrainedDynamics {
 public:
  /// `system` is copied; `cvs` are the D >= 1 restrained torsions. `temperatureK` in K,
  /// `frictionPerPs` in 1/ps, `timeStepPs` in ps. `seed` and `stream` select the random stream
  /// (reproducible per walker).
  RestrainedDynamics(const OpenMM::System& system, const std::vector<DihedralAtoms>& cvs,
                     double temperatureK, double frictionPerPs, double timeStepPs,
                     OpenMM::Platform& platform,
                     const std::map<std::string, std::string>& properties, std::uint64_t seed,
                     std::uint64_t stream = 0);
  /// The two torsions (phi, psi).
  RestrainedDynamics(const OpenMM::System& system, const DihedralAtoms& phi,
                     const DihedralAtoms& psi, double temperatureK, double frictionPerPs,
                     double timeStepPs, OpenMM::Platform& platform,
                     const std::map<std::string, std::string>& properties, std::uint64_t seed,
                     std::uint64_t stream = 0)
      : RestrainedDynamics(system, std::vector<DihedralAtoms>{phi, psi}, temperatureK,
                           frictionPerPs, timeStepPs, platform, properties, seed, stream) {}
  ~RestrainedDynamics();
  RestrainedDynamics(const RestrainedDynamics&) = delete;
  RestrainedDynamics& operator=(const RestrainedDynamics&) = delete;

  /// Positions in nm (3 * nAtoms values).
  void setPositions(const std::vector<double>& positionsNm);
  /// Draws velocities from the Maxwell-Boltzmann distribution at the temperature (own stream).
  void setVelocitiesToTemperature();
  /// Sets the velocities, nm/ps (3 * nAtoms values), e.g. reversed ones for a backward shot.
  void setVelocities(const std::vector<double>& velocitiesNmPs);
  /// Restraint stiffness in kJ/mol/rad^2 and centre (one angle per CV) in rad. k = 0 switches it
  /// off.
  void setRestraint(double stiffness, const Eigen::VectorXd& centre);
  /// Two CVs: centre (phi0, psi0).
  void setRestraint(double stiffness, double phi0, double psi0) {
    setRestraint(stiffness, Eigen::Vector2d(phi0, psi0));
  }
  /// How the dynamics' restraint measures the distance to its centre (docs/method.md, "Full atom
  /// (beyond the paper)"). Wrapped (the default): the shortest way round the torus, d = w(phi -
  /// phi0), w the wrap to (-pi, pi]. Unwrapped: phi is followed continuously from the positions
  /// last set (setPositions starts it in (-pi, pi]) and d = phi_unwrapped - phi0, so that a centre
  /// moving along an unwrapped curve pulls the walker along that curve, never round the other way
  /// (the 2D sampler's tether, |x - x_n / alpha_n|). minimize() always uses the wrapped form.
  void setUnwrappedRestraint(bool unwrapped);
  /// The CVs followed continuously since the last setPositions, rad.
  const std::vector<double>& unwrappedCVs() const { return unwrapped_cv_; }
  int cvCount() const { return static_cast<int>(cvs_.size()); }
  /// Advances `n` Langevin steps.
  void step(int n);
  /// Current positions (nm) and potential energy without the restraint (kJ/mol); either may be
  /// null.
  void getState(std::vector<double>* positionsNm, double* potentialEnergyKjMol) const;
  /// The restraint's energy (kJ/mol) and forces (kJ/mol/nm, 3 * nAtoms) at the current positions
  /// as OpenMM's CustomTorsionForce computes them (the form used by minimize()).
  double restraintEnergy(std::vector<double>* forces = nullptr);
  /// Velocities, nm/ps (3 * nAtoms).
  const std::vector<double>& velocities() const { return v_; }
  /// The forces the dynamics uses at the current positions (System + analytic restraint),
  /// kJ/mol/nm.
  const std::vector<double>& dynamicsForces() const { return force_; }
  /// Energy-and-force evaluations so far (one per step, plus one per position or restraint change).
  long long forceEvaluations() const { return evaluations_; }
  /// Local energy minimisation with the current restraint; returns the energy without restraint.
  double minimize(double toleranceKjMolNm = 1.0, int maxIterations = 0);
  int atomCount() const { return nAtoms_; }
  std::string platformName() const;

 private:
  void evaluate();  // System energy/forces at x_ (+ restraint forces) into energy_, force_
  void resetUnwrappedCVs();
  void followCVs();
  void addRestraintForces();
  void pushRestraintCentre();  // the centre into the OpenMM restraint's per-torsion parameters
  int nAtoms_;
  std::vector<DihedralAtoms> cvs_;
  double kT_, friction_, dt_;
  std::unique_ptr<OpenMM::System> system_;
  std::unique_ptr<OpenMM::Integrator> integrator_;  // required by the Context; never stepped
  std::unique_ptr<OpenMM::Context> context_;
  int restraintGroup_ = 31;
  std::unique_ptr<Rng> rng_;
  std::vector<double> x_, v_, force_, invMass_, sqrtKTOverMass_;
  double energy_ = 0.0;
  double k_ = 0.0;
  std::vector<double> centre_;  // one angle per CV
  bool unwrapped_ = false, positionsSet_ = false, centrePushed_ = true;
  std::vector<double> last_cv_;       // wrapped angles at the last evaluation
  std::vector<double> unwrapped_cv_;  // followed continuously
  OpenMM::CustomTorsionForce* restraint_ = nullptr;  // owned by system_
  long long evaluations_ = 0;
};

}  // namespace geotps
