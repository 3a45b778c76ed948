// CV samples from the molecule's own dynamics (training.source md): unrestrained Langevin at the
// job's temperature from both minimised end states, the CVs recorded along the way. They are the
// data a neural denoiser learns the CV density from when no CV surface exists (any number of CVs;
// docs/method.md, "Collective variables of a molecule").
#pragma once

#include <Eigen/Dense>
#include <cstdint>

#include "engine/core/progress.h"
#include "engine/molecule/molecule.h"

namespace geotps {

struct CvDynamicsSettings {
  int walkers = 16;                  ///< even walkers start at A, odd ones at B
  long long equilibrationSteps = 1000;  ///< steps before recording
  long long steps = 20000;           ///< recorded steps per walker
  int stride = 20;                   ///< steps between recorded CVs
  double frictionPerPs = 1.0;
  double timeStepPs = 0.001;
  std::uint64_t seed = 0;
  int threads = 0;
};

/// Unrestrained LangevinMiddle dynamics (RestrainedDynamics with the restraint off) of
/// `setup`'s molecule at its temperature, velocities drawn at that temperature. Returns the CVs
/// (rad, in (-pi, pi]) of every stride-th step after the equilibration, walker by walker:
/// walkers * (steps / stride) rows, D columns. Walker i draws from random stream i of `seed`,
/// so the samples do not depend on the number of threads. Throws std::runtime_error naming the
/// walker and step when the energy becomes non-finite.
Eigen::MatrixXd sampleCvDynamics(const FullAtomSetup& setup, const CvDynamicsSettings& settings,
                                 const ProgressCallback& progress = {});

}  // namespace geotps
