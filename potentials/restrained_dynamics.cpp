// Restrained OpenMM Langevin dynamics on (phi, psi) with a movable restraint.
#include "potentials/restrained_dynamics.h"

#include <OpenMM.h>
#include <fmt/format.h>

#include <mutex>
#include <sstream>
#include <stdexcept>

namespace geotps {

std::mutex& openmmSetupMutex() {
  static std::mutex m;
  return m;
}

RestrainedDynamics::RestrainedDynamics(const OpenMM::System& system, const DihedralAtoms& phi,
                                       const DihedralAtoms& psi, double temperatureK,
                                       double frictionPerPs, double timeStepPs,
                                       OpenMM::Platform& platform,
                                       const std::map<std::string, std::string>& properties,
                                       int seed)
    : nAtoms_(system.getNumParticles()) {
  for (const auto& atoms : {phi, psi}) {
    for (int a : atoms) {
      if (a < 0 || a >= nAtoms_) {
        throw std::invalid_argument(fmt::format(
            "dihedral atom index {} is outside the system's {} atoms (indices are 0-based)", a,
            nAtoms_));
      }
    }
  }
  // Copy the System through serialization (System has no copy constructor). OpenMM's serializer and
  // Context creation are not safe to run concurrently, so walkers on several threads take turns.
  std::unique_lock<std::mutex> lock(openmmSetupMutex());
  std::stringstream buffer;
  OpenMM::XmlSerializer::serialize<OpenMM::System>(&system, "System", buffer);
  system_.reset(OpenMM::XmlSerializer::deserialize<OpenMM::System>(buffer));
  // The restraint goes in group 31; every existing force that uses group 31 is moved to 30.
  for (int f = 0; f < system_->getNumForces(); ++f) {
    if (system_->getForce(f).getForceGroup() == restraintGroup_) {
      system_->getForce(f).setForceGroup(30);
    }
  }
  auto* restraint = new OpenMM::CustomTorsionForce(
      "0.5*k_cv*d^2; d = min(dt, 2*pi - dt); dt = abs(theta - theta0);"
      "theta0 = sel*psi0 + (1 - sel)*phi0; pi = 3.141592653589793");
  restraint->addGlobalParameter("k_cv", 0.0);
  restraint->addGlobalParameter("phi0", 0.0);
  restraint->addGlobalParameter("psi0", 0.0);
  restraint->addPerTorsionParameter("sel");
  restraint->addTorsion(phi[0], phi[1], phi[2], phi[3], {0.0});
  restraint->addTorsion(psi[0], psi[1], psi[2], psi[3], {1.0});
  restraint->setForceGroup(restraintGroup_);
  system_->addForce(restraint);  // the System owns it
  integrator_ =
      std::make_unique<OpenMM::LangevinMiddleIntegrator>(temperatureK, frictionPerPs, timeStepPs);
  integrator_->setRandomNumberSeed(seed);
  context_ = std::make_unique<OpenMM::Context>(*system_, *integrator_, platform, properties);
}

RestrainedDynamics::~RestrainedDynamics() = default;

void RestrainedDynamics::setPositions(const std::vector<double>& x) {
  if (static_cast<int>(x.size()) != 3 * nAtoms_) {
    throw std::invalid_argument(fmt::format("expected {} coordinates (3 x {} atoms), got {}",
                                            3 * nAtoms_, nAtoms_, x.size()));
  }
  std::vector<OpenMM::Vec3> pos(nAtoms_);
  for (int i = 0; i < nAtoms_; ++i) pos[i] = OpenMM::Vec3(x[3 * i], x[3 * i + 1], x[3 * i + 2]);
  context_->setPositions(pos);
}

void RestrainedDynamics::setVelocitiesToTemperature(int seed) {
  context_->setVelocitiesToTemperature(integrator_->getTemperature(), seed);
}

void RestrainedDynamics::setRestraint(double stiffness, double phi0, double psi0) {
  context_->setParameter("k_cv", stiffness);
  context_->setParameter("phi0", phi0);
  context_->setParameter("psi0", psi0);
}

void RestrainedDynamics::step(int n) { integrator_->step(n); }

void RestrainedDynamics::getState(std::vector<double>* positions, double* energy) const {
  int types = 0;
  if (positions) types |= OpenMM::State::Positions;
  if (energy) types |= OpenMM::State::Energy;
  if (!types) return;
  const OpenMM::State s = context_->getState(types, false, ~(1 << restraintGroup_));
  if (energy) *energy = s.getPotentialEnergy();
  if (positions) {
    const auto& p = s.getPositions();
    positions->resize(3 * nAtoms_);
    for (int i = 0; i < nAtoms_; ++i) {
      for (int d = 0; d < 3; ++d) (*positions)[3 * i + d] = p[i][d];
    }
  }
}

double RestrainedDynamics::restraintEnergy(std::vector<double>* forces) const {
  int types = OpenMM::State::Energy;
  if (forces) types |= OpenMM::State::Forces;
  const OpenMM::State s = context_->getState(types, false, 1 << restraintGroup_);
  if (forces) {
    const auto& f = s.getForces();
    forces->resize(3 * nAtoms_);
    for (int i = 0; i < nAtoms_; ++i) {
      for (int d = 0; d < 3; ++d) (*forces)[3 * i + d] = f[i][d];
    }
  }
  return s.getPotentialEnergy();
}

double RestrainedDynamics::minimize(double tolerance, int maxIterations) {
  OpenMM::LocalEnergyMinimizer::minimize(*context_, tolerance, maxIterations);
  double e = 0.0;
  getState(nullptr, &e);
  return e;
}

std::string RestrainedDynamics::platformName() const { return context_->getPlatform().getName(); }

}  // namespace geotps
