// A molecular potential evaluated by OpenMM: the energy and forces of an OpenMM System (read
// from a file written by XmlSerializer) as a geotps::Potential over the flattened atom positions,
// with a pool of Contexts so that several threads can evaluate at once. Also the checks that a
// PDB's atoms match the System.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "potentials/potential.h"

namespace OpenMM {
class System;
class Platform;
class Context;
class Integrator;
}  // namespace OpenMM

namespace geotps {

/// Reads an OpenMM System serialized with OpenMM::XmlSerializer (Python:
/// `open(path, 'w').write(openmm.XmlSerializer.serialize(system))`).
///
/// Throws std::runtime_error naming `path` and saying that an OpenMM System serialized with
/// XmlSerializer was expected when the file is missing or unreadable, is not XML, holds another
/// serialized object (an Integrator, a State, a Force) or arbitrary XML, fails to deserialize
/// (e.g. an unsupported version), or has no particles.
std::unique_ptr<OpenMM::System> loadSystemXml(const std::string& path);

/// Standard atomic mass in amu (g/mol) of a chemical element given by its symbol ("H", "C",
/// "N", "O", "S", "P", and common ions and halogens; case is ignored, "CL" == "Cl"), with the
/// values the Amber force fields use (H 1.008, C 12.01, N 14.01, O 16.00, S 32.06, P 30.97).
/// Throws std::invalid_argument naming the symbol for an element not in the table.
double elementMass(const std::string& element);

/// Checks that the atoms of a PDB file match `system`: the same number of atoms as particles, and
/// each atom's element mass (`massesFromElementsAmu[i]`, in amu, e.g. from elementMass()) within
/// 0.5 amu of particle i's mass in the System. Throws std::runtime_error naming `pdbPath`, and for
/// a mass mismatch the 0-based atom index and both masses, otherwise. A System with hydrogen mass
/// repartitioning or virtual sites does not pass: compare against the unmodified System.
void checkAtomsMatchSystem(const OpenMM::System& system,
                           const std::vector<double>& massesFromElementsAmu,
                           const std::string& pdbPath);

/// The potential energy of an OpenMM System as a Potential over x = (x0, y0, z0, x1, ...) in nm,
/// D = 3 * nAtoms; U in kJ/mol and dU/dx = -force in kJ/mol/nm.
///
/// Holds a pool of up to `poolSize` Contexts (each with its own copy of the System), created on
/// demand: the first in the constructor (so a platform that cannot run the System fails early),
/// the others the first time every existing Context is busy. evaluate() and minimize() borrow a
/// free Context and wait when all `poolSize` are in use, so any number of threads may call them;
/// use poolSize = number of walker threads.
class OpenMMPotential final : public Potential {
 public:
  /// `platformName`: "Reference", "CPU", "OpenCL", "CUDA" or "auto" (see choosePlatform(); "auto"
  /// times every platform at `probePositionsNm`, 3 * nAtoms values in nm, which it then needs).
  /// `precision`: "single", "mixed", "double" or "" (platform default) for CUDA and OpenCL;
  /// ignored by CPU (single with double accumulation) and Reference (double).
  /// Throws PlatformError for an unavailable platform or a platform that cannot run the System,
  /// std::invalid_argument for poolSize < 1 or a System without particles.
  OpenMMPotential(std::shared_ptr<const OpenMM::System> system, const std::string& platformName,
                  const std::string& precision = "", int poolSize = 1,
                  const std::vector<double>& probePositionsNm = {});
  ~OpenMMPotential() override;
  OpenMMPotential(const OpenMMPotential&) = delete;
  OpenMMPotential& operator=(const OpenMMPotential&) = delete;

  int dimension() const override { return 3 * nAtoms_; }
  /// x in nm; energy in kJ/mol; gradient (dU/dx = -force) in kJ/mol/nm.
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override;
  std::string name() const override { return "openmm"; }
  std::string energyUnit() const override { return "kJ/mol"; }
  std::string coordinateUnit() const override { return "nm"; }

  /// Minimises the energy from `positions` (3 * nAtoms values in nm, overwritten with the result)
  /// with OpenMM::LocalEnergyMinimizer until the root-mean-square force is below
  /// `toleranceKjMolNm` (kJ/mol/nm) or after `maxIterations` iterations (0 = no limit). Returns
  /// the minimised energy in kJ/mol.
  double minimize(std::vector<double>& positions, double toleranceKjMolNm = 1.0,
                  int maxIterations = 0) const;

  int nAtoms() const { return nAtoms_; }
  /// Name of the platform in use, e.g. "CPU" (never "auto").
  std::string platformName() const;
  /// The precision requested for GPU platforms ("" = default).
  const std::string& precision() const { return precision_; }
  /// What choosePlatform() reported (the timings for "auto").
  const std::string& platformReport() const { return platformReport_; }
  /// The System every Context copies.
  const OpenMM::System& system() const { return *system_; }
  int poolSize() const { return poolSize_; }
  /// Contexts created so far (1 .. poolSize).
  int contextsCreated() const;
  /// Points evaluated by evaluate() so far (minimize() not counted).
  long long energyEvaluations() const { return energyEvaluations_.load(); }
  /// Calls of minimize() so far.
  long long minimizations() const { return minimizations_.load(); }

 private:
  struct Slot;
  class Lease;
  std::unique_ptr<Slot> makeSlot() const;
  void checkSize(std::size_t size, const char* what) const;

  std::shared_ptr<const OpenMM::System> system_;
  OpenMM::Platform* platform_ = nullptr;
  std::string precision_;
  std::string platformReport_;
  int nAtoms_ = 0;
  int poolSize_ = 1;

  mutable std::mutex mutex_;
  mutable std::condition_variable available_;
  mutable std::vector<std::unique_ptr<Slot>> slots_;  // every Context created, owned here
  mutable std::vector<Slot*> free_;                   // the idle ones
  mutable int reserved_ = 0;                          // slots created or being created

  mutable std::atomic<long long> energyEvaluations_{0};
  mutable std::atomic<long long> minimizations_{0};
};

}  // namespace geotps
