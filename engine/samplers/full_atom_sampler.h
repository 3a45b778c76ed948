// Annealed Langevin in full-atom space along a CV-space curve: OpenMM Langevin dynamics of the
// molecule under a dihedral restraint that moves along the curve (docs/method.md, "Full atom
// (beyond the paper)").
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/core/progress.h"
#include "engine/molecule/molecule.h"

namespace geotps {

/// The CV free energy of a frame's CVs (kJ/mol), for the CV MaxEnergy; empty: not computed.
using CvEnergyFunction = std::function<double(const Eigen::VectorXd&)>;

struct FullAtomSamplerSettings {
  int nPaths = 100;
  int stepsPerPoint = 100;  ///< K
  double frictionPerPs = 1.0;
  double timeStepPs = 0.001;
  std::uint64_t seed = 0;
  int threads = 0;
  int frameStride = 10;  ///< store positions every stride-th frame (0 = none)
  /// The restraint follows the walker's angles continuously (RestrainedDynamics::
  /// setUnwrappedRestraint); false: shortest way round the torus.
  bool unwrappedRestraint = true;
  /// Index of this call's walker 0 in the whole job (random streams; SamplerSettings::firstWalker).
  /// Batched walkers: a multiple of the batch size.
  std::uint64_t firstWalker = 0;
  /// Walkers start at the minimised state B instead of A (sampler.direction reverse: the caller
  /// passes the curve from B to A and reverses the paths in time; docs/method.md).
  bool startAtB = false;
};

struct FullAtomPaths {
  int nAtoms = 0;
  std::size_t framesPerPath = 0;  ///< N*K
  std::size_t storedPerPath = 0;
  std::vector<float> frames;        ///< M x stored x (3 nAtoms), nm
  /// Frames between rows of `energy` and `cv`: 1 (every frame) for the per-walker sampler, the
  /// observation stride for the batched one.
  int observeStride = 1;
  std::size_t observedPerPath = 0;  ///< framesPerPath / observeStride
  std::vector<float> energy;        ///< M x observed potential energy without restraint, kJ/mol
  int cvDimension = 2;              ///< D, the number of CVs
  std::vector<float> cv;            ///< M x observed x D, rad
  Eigen::VectorXd maxEnergy;        ///< per path, max observed frame energy, kJ/mol (absolute)
  Eigen::VectorXd maxEnergyCV;      ///< per path, max of `cvEnergy` over frames (-inf: none)
  Eigen::MatrixXd finalCV;          ///< M x D
  long long energyEvaluations = 0;  ///< one energy-and-forces evaluation per step
};

/// Annealed Langevin in full-atom space along the CV curve (rows (l, x_1 .. x_D), D the molecule's
/// CVs): at curve point n
/// the restraint stiffness is kT * SNR_n (kJ/mol/rad^2) centred at x_n / alpha_n; K OpenMM Langevin
/// steps per point, every frame's energy and CVs recorded. Walkers start at the minimised state A
/// with velocities drawn at the temperature; walker i uses seed-derived streams, independent of
/// threads.
FullAtomPaths sampleFullAtomPaths(const FullAtomSetup& setup, const Eigen::MatrixXd& curve,
                                  const FullAtomSamplerSettings& settings,
                                  const CvEnergyFunction& cvEnergy,
                                  const ProgressCallback& progress = {});

}  // namespace geotps
