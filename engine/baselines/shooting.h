// Transition path sampling by two-way shooting (Dellago, Bolhuis, Chandler; the MCMC baselines of
// the paper's table), fixed-length and variable-length, on any dynamics that implements
// ShootingDynamics: overdamped Langevin on a potential in R^D, or full-atom Langevin with OpenMM
// forces.
//
// One trial: pick a shooting frame uniformly (fixed length: any of the L frames; variable length:
// any interior frame), draw fresh momenta p (none for overdamped dynamics), integrate backward from
// it (momenta -p) and forward (momenta p) with fresh noise, join the reversed backward segment, the
// shooting frame and the forward segment. Fixed length: the new path has L frames and is accepted
// when its first frame is in A and its last in B. Variable length: each segment stops on the first
// frame inside A or B (or when the path would exceed the maximum length, which rejects); the new
// path is accepted when it runs from A to B, with probability min(1, (L_old - 2) / (L_new - 2))
// (uniform selection among interior frames). The backward segment is integrated first, so a trial
// whose backward segment does not end in A is rejected without the forward one.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/random.h"
#include "potentials/potential.h"

namespace geotps {

struct FullAtomSetup;

/// What is recorded of a frame: its collective variables (the D coordinates in which the states are
/// defined), the energy that MaxEnergy is taken of, and an optional second energy (NaN if none).
struct FrameObservation {
  Eigen::VectorXd cv;
  double energy = 0.0;
  double energy2 = 0.0;
};

/// The dynamics shooting moves integrate. One object per chain: not shared between threads.
class ShootingDynamics {
 public:
  virtual ~ShootingDynamics() = default;
  /// Doubles per configuration (CV space: D; full atom: 3 * atoms, nm).
  virtual int configurationSize() const = 0;
  /// Fresh momenta for a shot (empty for overdamped dynamics).
  virtual std::vector<double> drawMomenta(Rng& rng) = 0;
  /// Puts the system at configuration `x` with momenta `sign * p` (p may be empty).
  virtual void setState(const double* x, const std::vector<double>& p, double sign) = 0;
  /// One integration step (one energy-and-force evaluation).
  virtual void step(Rng& rng) = 0;
  /// The current configuration.
  virtual const double* configuration() const = 0;
  /// Observation of the current configuration.
  virtual FrameObservation observe() const = 0;
  /// Energy-and-force evaluations so far (integration steps plus any evaluations setState needs).
  virtual long long evaluations() const = 0;
};

/// Overdamped Langevin on `potential` with the convention of docs/method.md, "Annealed Langevin
/// sampling": x <- x - (ds/2) grad U(x) / kT + sqrt(ds) xi; the observation's energy is `metric(x)`
/// (e.g. the surface at the nearest grid point) or U(x) when `metric` is empty; energy2 is NaN.
std::unique_ptr<ShootingDynamics> makeOverdampedDynamics(
    const Potential& potential, double stepSize, double kT,
    std::function<double(const double*)> metric = {});

/// Full-atom Langevin (LangevinMiddle, RestrainedDynamics without restraint) at the setup's
/// temperature; momenta from the Maxwell-Boltzmann distribution; observation: (phi, psi), the
/// potential energy minus `referenceEnergy` (kJ/mol) and `cvEnergy(cv)` (NaN when empty).
std::unique_ptr<ShootingDynamics> makeFullAtomDynamics(
    const FullAtomSetup& setup, double frictionPerPs, double timeStepPs, std::uint64_t seed,
    std::uint64_t stream, double referenceEnergy,
    std::function<double(const Eigen::VectorXd&)> cvEnergy = {});

/// States A and B: balls of radius `radiusA` around `a` and `radiusB` around `b` in CV space (D
/// coordinates), distances wrapped with `period` per coordinate (0 = not periodic), or, where
/// `boxA` / `boxB` is not empty, boxes [lo_0, hi_0, lo_1, hi_1, ..., lo_{D-1}, hi_{D-1}]: x_d in
/// [lo_d, hi_d], read on the circle of circumference period_d for a periodic coordinate (hi_d may
/// exceed the principal range, e.g. phi in [2.6, 5.8] is the arc through +-pi). `a`, `b` and
/// `period` have D entries; a box has 2 D.
struct StateBalls {
  Eigen::VectorXd a = Eigen::VectorXd::Zero(2), b = Eigen::VectorXd::Zero(2);
  double radiusA = 0.5, radiusB = 0.5;
  std::vector<double> boxA, boxB;
  Eigen::VectorXd period = Eigen::VectorXd::Zero(2);
  double distance(const Eigen::VectorXd& cv, const Eigen::VectorXd& centre) const;
  bool inBox(const Eigen::VectorXd& cv, const std::vector<double>& box) const;
  bool inA(const Eigen::VectorXd& cv) const {
    return boxA.empty() ? distance(cv, a) <= radiusA : inBox(cv, boxA);
  }
  bool inB(const Eigen::VectorXd& cv) const {
    return boxB.empty() ? distance(cv, b) <= radiusB : inBox(cv, boxB);
  }
  /// "a ball of radius 2.4 around (-2.645, 2.794)" / "the box phi in [..] x psi in [..]", for
  /// reports.
  std::string describeA() const;
  std::string describeB() const;
};

/// A path as the chain holds it: L configurations and their observations.
struct ShootingPath {
  std::vector<double> configurations;  ///< L x configurationSize
  std::vector<FrameObservation> frames;
  std::size_t length() const { return frames.size(); }
};

struct ShootingSettings {
  bool variableLength = false;
  int pathLength = 1000;               ///< fixed length: frames L per path
  int maxLength = 100000;              ///< variable length: longest path allowed (frames)
  long long maxEvaluations = 1000000;  ///< budget over all chains (energy evaluations)
  long long maxTrials = 0;             ///< per chain: stop after this many trials (0 = no cap)
  int chains = 1;   ///< independent chains, each with budget maxEvaluations / chains
  int threads = 0;  ///< 0 = all cores; results do not depend on it
  std::uint64_t seed = 0;
  int frameStride = 10;  ///< store the CVs of every stride-th frame of accepted paths (0 = none)
  int storeEvery = 1;    ///< store frames of every storeEvery-th accepted path of a chain
  bool storeConfigurations = false;  ///< also store the configurations of those frames
};

/// One accepted path.
struct AcceptedPath {
  int chain = 0;
  long long trial = 0;  ///< trial index within its chain (0-based)
  int length = 0;       ///< frames
  double maxEnergy = 0.0, maxEnergy2 = 0.0;
  Eigen::VectorXd firstCV, lastCV;
  std::vector<float> cvFrames;  ///< stored frames (stride frameStride), D values each; may be empty
  std::vector<float> configurationFrames;  ///< the same frames' configurations (if requested)
};

struct ShootingResult {
  std::vector<AcceptedPath> accepted;  ///< in chain order, then trial order
  long long trials = 0;
  long long evaluations = 0;             ///< energy-and-force evaluations by the dynamics
  long long initialPathEvaluations = 0;  ///< evaluations to observe the initial path's frames
  int initialLength = 0;
  double initialMaxEnergy = 0.0;
};

/// Observes configurations (L x configurationSize) with `dynamics` and returns the path; counts
/// nothing itself (see ShootingDynamics::evaluations()).
ShootingPath observePath(ShootingDynamics& dynamics, const std::vector<double>& configurations);

/// Cuts an A -> B path out of a trajectory: from its last frame in A before its first frame in B
/// to that frame. Returns false when the trajectory never goes from A to B.
bool extractTransition(const ShootingPath& trajectory, const StateBalls& states, ShootingPath& out);

/// Resamples a path to exactly `length` frames by nearest index (end points kept).
ShootingPath resamplePath(const ShootingPath& path, int length);

/// A path of exactly `length` frames for fixed-length shooting: a longer path is resampled
/// (resamplePath); a shorter one is padded with copies of its first frame before and of its last
/// frame after, half each, so that its transition sits in the middle and shots from it have time
/// to reach both states.
ShootingPath fitPathLength(const ShootingPath& path, int length);

using ShootingProgress = std::function<void(long long evaluationsDone, long long budget)>;

/// One chain's share of a ShootingResult: what a checkpoint keeps of a finished chain.
struct ChainResult {
  std::vector<AcceptedPath> accepted;  ///< in trial order
  long long trials = 0;
  long long evaluations = 0;
};

/// Checkpoint hooks of runShooting (`geotps compare --resume`): `load(c)` gives chain c's saved
/// result, which runShooting then uses instead of running the chain; `save(c, r)` receives each
/// chain runShooting ran, as soon as it is done, from the worker thread that ran it (calls may
/// come from several threads at once). Chain c's result depends only on the settings and c, so
/// a result built from saved and new chains equals that of one uninterrupted call.
struct ChainStore {
  std::function<std::optional<ChainResult>(int chain)> load;
  std::function<void(int chain, const ChainResult& result)> save;
};

/// Runs the chains from `initial` (which must run from A to B, with L frames for fixed length).
/// `makeDynamics(chain)` creates chain `chain`'s dynamics; chain c draws from Rng(seed, c).
/// Throws std::invalid_argument for a bad initial path or settings.
ShootingResult runShooting(
    const std::function<std::unique_ptr<ShootingDynamics>(int)>& makeDynamics,
    const ShootingPath& initial, const StateBalls& states, const ShootingSettings& settings,
    const ShootingProgress& progress = {}, const ChainStore* store = nullptr);

}  // namespace geotps
