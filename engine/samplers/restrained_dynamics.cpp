// Restrained Langevin dynamics on D torsions: LangevinMiddle integration with OpenMM forces, an
// analytic dihedral restraint and a per-walker random stream.
#include "engine/samplers/restrained_dynamics.h"

#include <OpenMM.h>
#include <fmt/format.h>

#include <cmath>
#include <mutex>
#include <numbers>
#include <sstream>
#include <stdexcept>

#include "potentials/dihedral.h"

namespace geotps {

std::mutex& openmmSetupMutex() {
  static std::mutex m;
  return m;
}

RestrainedDynamics::RestrainedDynamics(const OpenMM::System& system,
                                       const std::vector<DihedralAtoms>& cvs, double temperatureK,
                                       double frictionPerPs, double timeStepPs,
                                       OpenMM::Platform& platform,
                                       const std::map<std::string, std::string>& properties,
                                       std::uint64_t seed, std::uint64_t stream)
    : nAtoms_(system.getNumParticles()),
      cvs_(cvs),
      kT_(kBoltzmannKjMolK * temperatureK),
      friction_(frictionPerPs),
      dt_(timeStepPs),
      rng_(std::make_unique<Rng>(seed, stream)) {
  if (cvs.empty()) throw std::invalid_argument("restrained dynamics: no collective variables");
  for (const auto& atoms : cvs) {
    for (int a : atoms) {
      if (a < 0 || a >= nAtoms_) {
        throw std::invalid_argument(fmt::format(
            "dihedral atom index {} is outside the system's {} atoms (indices are 0-based)", a,
            nAtoms_));
      }
    }
  }
  invMass_.resize(3 * nAtoms_);
  sqrtKTOverMass_.resize(3 * nAtoms_);
  for (int i = 0; i < nAtoms_; ++i) {
    const double m = system.getParticleMass(i);
    if (!(m > 0)) {
      throw std::invalid_argument(fmt::format(
          "particle {} has mass {}: massless particles (virtual sites) are not supported", i, m));
    }
    for (int d = 0; d < 3; ++d) {
      invMass_[3 * i + d] = 1.0 / m;
      sqrtKTOverMass_[3 * i + d] = std::sqrt(kT_ / m);
    }
  }
  // Copy the System through serialization (System has no copy constructor). OpenMM's serializer and
  // Context creation are not safe to run concurrently, so walkers on several threads take turns.
  std::unique_lock<std::mutex> lock(openmmSetupMutex());
  std::stringstream buffer;
  OpenMM::XmlSerializer::serialize<OpenMM::System>(&system, "System", buffer);
  system_.reset(OpenMM::XmlSerializer::deserialize<OpenMM::System>(buffer));
  // The OpenMM form of the restraint (for minimisation) goes in group 31; a force already using
  // group 31 is moved to 30.
  for (int f = 0; f < system_->getNumForces(); ++f) {
    if (system_->getForce(f).getForceGroup() == restraintGroup_) {
      system_->getForce(f).setForceGroup(30);
    }
  }
  // Each torsion's centre theta0 is a per-torsion parameter (pushRestraintCentre).
  auto* restraint = new OpenMM::CustomTorsionForce(
      "0.5*k_cv*d^2; d = min(dt, 2*pi - dt); dt = abs(theta - theta0); pi = 3.141592653589793");
  restraint->addGlobalParameter("k_cv", 0.0);
  restraint->addPerTorsionParameter("theta0");
  for (const auto& a : cvs) restraint->addTorsion(a[0], a[1], a[2], a[3], {0.0});
  restraint->setForceGroup(restraintGroup_);
  system_->addForce(restraint);  // the System owns it
  restraint_ = restraint;
  centre_.assign(cvs.size(), 0.0);
  last_cv_.assign(cvs.size(), 0.0);
  unwrapped_cv_.assign(cvs.size(), 0.0);
  integrator_ = std::make_unique<OpenMM::VerletIntegrator>(timeStepPs);
  context_ = std::make_unique<OpenMM::Context>(*system_, *integrator_, platform, properties);
  x_.assign(3 * nAtoms_, 0.0);
  v_.assign(3 * nAtoms_, 0.0);
  force_.assign(3 * nAtoms_, 0.0);
}

RestrainedDynamics::~RestrainedDynamics() = default;

void RestrainedDynamics::setPositions(const std::vector<double>& x) {
  if (static_cast<int>(x.size()) != 3 * nAtoms_) {
    throw std::invalid_argument(fmt::format("expected {} coordinates (3 x {} atoms), got {}",
                                            3 * nAtoms_, nAtoms_, x.size()));
  }
  x_ = x;
  positionsSet_ = true;
  resetUnwrappedCVs();
  evaluate();
}

void RestrainedDynamics::setUnwrappedRestraint(bool unwrapped) {
  unwrapped_ = unwrapped;
  if (positionsSet_) evaluate();  // the forces of the current positions under the new form
}

void RestrainedDynamics::resetUnwrappedCVs() {
  for (std::size_t d = 0; d < cvs_.size(); ++d)
    last_cv_[d] = unwrapped_cv_[d] = dihedralAngle(x_.data(), cvs_[d], nullptr);
}

void RestrainedDynamics::followCVs() {
  // One step moves a dihedral by far less than pi, so the wrapped increment is the true one.
  for (std::size_t d = 0; d < cvs_.size(); ++d) {
    const double theta = dihedralAngle(x_.data(), cvs_[d], nullptr);
    unwrapped_cv_[d] += wrapAngle(theta - last_cv_[d]);
    last_cv_[d] = theta;
  }
}

void RestrainedDynamics::setVelocitiesToTemperature() {
  for (int q = 0; q < 3 * nAtoms_; ++q) v_[q] = sqrtKTOverMass_[q] * rng_->normal();
}

void RestrainedDynamics::setVelocities(const std::vector<double>& v) {
  if (v.size() != v_.size()) {
    throw std::invalid_argument(fmt::format(
        "expected {} velocity components (3 x {} atoms), got {}", v_.size(), nAtoms_, v.size()));
  }
  v_ = v;
}

void RestrainedDynamics::setRestraint(double stiffness, const Eigen::VectorXd& centre) {
  if (centre.size() != static_cast<Eigen::Index>(cvs_.size())) {
    throw std::invalid_argument(fmt::format("restraint centre has {} angles, expected {} (one per CV)",
                                            centre.size(), cvs_.size()));
  }
  k_ = stiffness;
  for (std::size_t d = 0; d < cvs_.size(); ++d) {
    if (centre_[d] != centre[static_cast<Eigen::Index>(d)]) centrePushed_ = false;
    centre_[d] = centre[static_cast<Eigen::Index>(d)];
  }
  context_->setParameter("k_cv", stiffness);
  evaluate();
}

void RestrainedDynamics::pushRestraintCentre() {
  // Only minimize() and restraintEnergy() use the OpenMM form; the dynamics computes the restraint
  // analytically, so the centre reaches the Context only when they need it.
  if (centrePushed_) return;
  for (std::size_t d = 0; d < cvs_.size(); ++d) {
    const auto& a = cvs_[d];
    restraint_->setTorsionParameters(static_cast<int>(d), a[0], a[1], a[2], a[3], {centre_[d]});
  }
  restraint_->updateParametersInContext(*context_);
  centrePushed_ = true;
}

void RestrainedDynamics::evaluate() {
  followCVs();
  std::vector<OpenMM::Vec3> pos(nAtoms_);
  for (int i = 0; i < nAtoms_; ++i) pos[i] = OpenMM::Vec3(x_[3 * i], x_[3 * i + 1], x_[3 * i + 2]);
  context_->setPositions(pos);
  const OpenMM::State s = context_->getState(OpenMM::State::Energy | OpenMM::State::Forces, false,
                                             ~(1 << restraintGroup_));
  energy_ = s.getPotentialEnergy();
  const auto& f = s.getForces();
  for (int i = 0; i < nAtoms_; ++i) {
    for (int d = 0; d < 3; ++d) force_[3 * i + d] = f[i][d];
  }
  addRestraintForces();
  ++evaluations_;
}

void RestrainedDynamics::addRestraintForces() {
  if (k_ == 0.0) return;
  // E = k/2 sum_d delta_d^2 with delta_d = w(theta_d - c_d), w the wrap to (-pi, pi], or with the
  // unwrapped restraint delta_d = theta_d,unwrapped - c_d; F = -dE/dx (d delta_d / dx = d theta_d
  // / dx either way). The torsions' terms are added in CV order.
  std::vector<double> grad(3 * nAtoms_, 0.0);
  std::vector<double> delta(cvs_.size());
  for (std::size_t d = 0; d < cvs_.size(); ++d) {
    delta[d] = unwrapped_ ? unwrapped_cv_[d] - centre_[d]
                          : wrapAngle(dihedralAngle(x_.data(), cvs_[d], nullptr) - centre_[d]);
  }
  std::vector<double> g(3 * nAtoms_, 0.0);
  for (std::size_t d = 0; d < cvs_.size(); ++d) {
    if (d > 0) std::fill(g.begin(), g.end(), 0.0);
    dihedralAngle(x_.data(), cvs_[d], g.data());
    for (int q = 0; q < 3 * nAtoms_; ++q) grad[q] += k_ * delta[d] * g[q];
  }
  for (int q = 0; q < 3 * nAtoms_; ++q) force_[q] -= grad[q];
}

void RestrainedDynamics::step(int n) {
  const double a = std::exp(-friction_ * dt_), b = std::sqrt(1.0 - a * a);
  for (int s = 0; s < n; ++s) {
    for (int q = 0; q < 3 * nAtoms_; ++q) {
      v_[q] += dt_ * force_[q] * invMass_[q];
      x_[q] += 0.5 * dt_ * v_[q];
      v_[q] = a * v_[q] + b * sqrtKTOverMass_[q] * rng_->normal();
      x_[q] += 0.5 * dt_ * v_[q];
    }
    evaluate();
  }
}

void RestrainedDynamics::getState(std::vector<double>* positions, double* energy) const {
  if (positions) *positions = x_;
  if (energy) *energy = energy_;
}

double RestrainedDynamics::restraintEnergy(std::vector<double>* forces) {
  pushRestraintCentre();
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
  pushRestraintCentre();
  OpenMM::LocalEnergyMinimizer::minimize(*context_, tolerance, maxIterations);
  const OpenMM::State s = context_->getState(OpenMM::State::Positions);
  const auto& p = s.getPositions();
  for (int i = 0; i < nAtoms_; ++i) {
    for (int d = 0; d < 3; ++d) x_[3 * i + d] = p[i][d];
  }
  resetUnwrappedCVs();
  evaluate();
  return energy_;
}

std::string RestrainedDynamics::platformName() const { return context_->getPlatform().getName(); }

}  // namespace geotps
