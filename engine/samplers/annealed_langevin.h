// Annealed overdamped Langevin dynamics along a spacetime curve (docs/method.md, "Annealed Langevin
// sampling"): M walkers start at state A and, for each curve point z_n, take K steps on
// U_n(x) = U(x)/kT + |x_n - alpha_n x|^2 / (2 sigma_n^2); the N*K positions of a walker are one
// transition path.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include "potentials/potential.h"

namespace geotps {

/// A walker's position became NaN or infinite: the step size is too large for the potential.
class SamplerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SamplerSettings {
  int nPaths = 1000;        ///< walkers M
  int stepsPerPoint = 128;  ///< K
  double stepSize = 4e-4;   ///< ds, in (length unit)^2 (U in units of kT)
  double kT = 1.0;          ///< thermal energy in the potential's unit
  int threads = 0;          ///< 0 = all cores
  std::uint64_t seed = 0;
  int frameStride = 1;  ///< store frames f with (f+1) % stride == 0; 0 = store none
  /// Index of this call's walker 0 in the whole job: walker i of the call uses random stream
  /// firstWalker + i, so a job sampled in parts (checkpoint chunks) gives the same paths.
  std::uint64_t firstWalker = 0;
};

struct FullAtomPaths;

struct SamplerResult {
  int dimension = 0;
  std::size_t framesPerPath = 0;     ///< N*K
  std::size_t storedPerPath = 0;     ///< frames stored per path
  std::vector<float> frames;         ///< M x storedPerPath x D, row-major, unwrapped coordinates
  Eigen::VectorXd maxEnergy;         ///< per path: max over all N*K frames of U (the potential)
  Eigen::VectorXd maxEnergyNearest;  ///< per path: max over frames of `nearestEnergy` (if given)
  Eigen::MatrixXd finalPositions;    ///< M x D, unwrapped
  /// Paths sampled in reverse (sampler.direction): M x D, where each path starts (the point the
  /// walker reached when it was driven from B to A); empty when every path starts at states.a.
  Eigen::MatrixXd startPositions;
  /// Full-atom samplers: per path, MaxEnergy on the CV surface (kJ/mol); empty otherwise.
  Eigen::VectorXd maxEnergyCV;
  long long energyEvaluations = 0;  ///< potential evaluations with gradient (M*N*K + M)
  long long nearestLookups = 0;     ///< nearest-grid lookups (M*N*K)
  /// Full-atom samplers: the molecule's frames, energies and CVs (engine/samplers/
  /// full_atom_sampler.h); null for 2D.
  std::shared_ptr<FullAtomPaths> fullAtom;
};

/// Optional energy used for the second MaxEnergy column (the surface at the nearest grid point).
using EnergyLookup = std::function<double(const double* x)>;
/// Called from one worker with (walker-steps done, total walker-steps).
using SamplerProgress = std::function<void(long long, long long)>;

/// Runs the sampler along `curve` (N x (D+1), rows (l, x)) starting every walker at `start`.
/// Reproducible for a seed: walker i uses its own random stream, whatever the thread count.
SamplerResult sampleAnnealedLangevin(const Potential& potential, const Eigen::MatrixXd& curve,
                                     const Eigen::VectorXd& start, const SamplerSettings& settings,
                                     const EnergyLookup& nearestEnergy = {},
                                     const SamplerProgress& progress = {});

}  // namespace geotps
