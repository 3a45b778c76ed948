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
  /// Runs walkers [first, first + count) of the job along `curve` (N x (D+1), rows (l, x)); walker
  /// i keeps random stream i whatever the range, so the job's walkers sampled in parts and joined
  /// with appendWalkers() equal one call over all of them. The result is in the problem's x (CV)
  /// space: final positions, per-path MaxEnergy in Problem::energyUnit (full atom: relative to the
  /// lower minimised end state), and for full atom the per-path CV MaxEnergy and the molecule's
  /// frames (SamplerResult::fullAtom). `progress` gets (walker-steps done, of this call's).
  virtual SamplerResult sample(const Eigen::MatrixXd& curve, int first, int count,
                               const SamplerProgress& progress) = 0;
  /// Parts of the job must start at multiples of this (batched walkers: the batch size).
  virtual int walkerAlignment() const { return 1; }
  /// Whether the walkers start at states.b and walk the curve backwards (sampler.direction); the
  /// paths sample() returns run from A to B either way (reverseInTime()).
  bool reversed() const { return reversed_; }
  void setReversed(bool reversed) { reversed_ = reversed; }
  /// Writes the sampler's datasets of `result` (all the job's walkers: its frames and MaxEnergy
  /// columns) to a result file; the pipeline writes the shared ones (success, final positions).
  virtual void write(H5File& file, const SamplerResult& result) const = 0;

 protected:
  /// The curve as the walkers visit it: `curve`, or its rows in reverse order when reversed().
  Eigen::MatrixXd walkedCurve(const Eigen::MatrixXd& curve) const;

 private:
  bool reversed_ = false;
};

/// Whether sampler.direction = `direction` ("forward", "reverse" or "auto") starts the walkers at
/// states.b: "auto" does when the problem's potential is lower there than at states.a.
bool samplesReversed(const Problem& problem, const std::string& direction);

/// Turns paths sampled from B to A into paths from A to B: reverses every path's frames (and the
/// full-atom energies and CVs) in time; the walkers' end points become `startPositions` and
/// `startedFrom` (the point every walker started at, in x) their `finalPositions`.
void reverseInTime(SamplerResult& result, const Eigen::VectorXd& startedFrom);

/// Appends `part` (the walkers after those of `all`) to `all`; an empty `all` becomes `part`, with
/// room in its frame arrays for `totalWalkers` walkers (the job's count, when known), so that
/// appending the later parts allocates nothing more.
void appendWalkers(SamplerResult& all, const SamplerResult& part, int totalWalkers = 0);

/// Every field of a (partial) sampler result, exactly (frames float32, the rest as computed), in
/// `file` under `group`; loadWalkers() reads it back equal, checking shapes against `expected`
/// walkers (errors name the file).
void saveWalkers(H5File& file, const std::string& group, const SamplerResult& result);
SamplerResult loadWalkers(const H5File& file, const std::string& group, int expectedWalkers);

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
