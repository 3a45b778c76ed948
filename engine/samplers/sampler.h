// The sampler seam: annealed Langevin dynamics along a spacetime curve, whatever moves the walkers
// (2D overdamped Langevin on the potential, or OpenMM dynamics of a molecule under a moving CV
// restraint). The run pipeline sees samplers only through this interface.
#pragma once

#include <Eigen/Dense>
#include <memory>
#include <string>

#include "engine/io/h5_file.h"
#include "engine/problem/problem.h"
#include "engine/samplers/annealed_langevin.h"
#include "engine/samplers/settings.h"

namespace geotps {

class Sampler {
 public:
  virtual ~Sampler() = default;
  /// "2d" or "full_atom": the kind of result (summary, output layout, units of MaxEnergy).
  virtual std::string kind() const = 0;
  /// Runs the walkers along `curve` (N x (D+1), rows (l, x)). The result is in the problem's x
  /// (CV) space: final positions, per-path MaxEnergy in Problem::energyUnit (full atom: relative
  /// to the lower minimised end state), and for full atom the per-path CV MaxEnergy.
  virtual SamplerResult sample(const Eigen::MatrixXd& curve, const SamplerProgress& progress) = 0;
  /// Writes the sampler's datasets of `result` (its frames and MaxEnergy columns) to a result
  /// file; the pipeline writes the shared ones (success, final positions).
  virtual void write(H5File& file, const SamplerResult& result) const = 0;
};

/// The sampler of a problem: full atom when it has a molecule, else 2D annealed Langevin.
/// `settings` (walkers, K, ds, threads, seed, frame stride; kT is taken from the problem) and, for
/// full atom, `molecule` (friction, time step) and from `sampling` the restraint's form
/// (sampler.cv_restraint) and the walkers' scheme (sampler.walkers, sampler.batch_size).
std::unique_ptr<Sampler> makeSampler(const Problem& problem, const SamplerSettings& settings,
                                     const MoleculeSettings& molecule,
                                     const SamplingSettings& sampling = {});

/// Whether sampler.walkers = `walkers` batches the walkers on `platformName` ("auto": on OpenCL
/// and CUDA).
bool batchesWalkers(const std::string& walkers, const std::string& platformName);

}  // namespace geotps
