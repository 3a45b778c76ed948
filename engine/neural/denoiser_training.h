// Training of the neural denoiser D(x, l) ~ E[x0 | z] (docs/method.md, "The neural denoiser
// (LibTorch)") from samples of the data density: the samples (Langevin walkers on a 2D potential,
// or the CV projections of the frames of a full-atom result file), the weighted denoising loss with
// adaptive importance sampling of the log-SNR l, and the `geotps train-denoiser` command built on
// them.
#pragma once

#include <torch/torch.h>

#include <Eigen/Dense>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/neural/denoiser_network.h"
#include "engine/neural/settings.h"
#include "potentials/potential.h"

namespace geotps {

/// Network architecture and optimiser settings (TrainingOptimizerSettings, from the `training.*`
/// keys) and the samples' description, weights and score potential.
struct TrainingSettings : TrainingOptimizerSettings {
  std::string source;  ///< description of the samples, stored in the metadata
  /// Importance log-weights of the samples ([n], up to a constant; undefined = equal weights),
  /// e.g. -U (1/kT - 1/kT') for samples drawn at a higher temperature kT': minibatches then draw
  /// sample j with probability ∝ exp(logWeight_j), and the bank's self-normalised posterior means
  /// include them.
  torch::Tensor sampleLogWeights;
  /// Data box stored in the metadata (units of x); empty = the samples' bounding box.
  std::vector<double> dataLow, dataHigh;
  /// Target score matching (optional): the potential U of the data density exp(-U / scoreKT).
  /// When set, the regression target of a sample x0 at y = x / alpha = x0 + s eps (s^2 = exp(-l))
  /// becomes, per coordinate d,
  ///   x0 + w_d (s eps - s^2 dU(x0)/dx_d / scoreKT),
  /// where y - s^2 grad U(x0) / kT is the target-score-matching estimate of E[x0 | z] (De Bortoli
  /// et al. 2024: E[x0 | y] = y + s^2 E[grad log q(x0) | y]) and the weight depends on (y, l)
  /// only, so the target's conditional mean is still E[x0 | z]:
  ///   w_d = sigmoid(2 l) ramp(y) / (1 + s^2 U_dd(y) / scoreKT)  where U_dd = d^2U/dx_d^2 > 0,
  ///   w_d = 0 where U_dd <= 0 (between wells, where the posterior may be bimodal and the score
  ///   noisier than x0).
  /// On a harmonic U the mixture has zero variance; the plain target's variance is s^2 / (1 + s^2
  /// U''), so near the data at high l (where the geodesic's end points are) the network learns
  /// from nearly noise-free targets. sigmoid(2 l) keeps the score out where SNR < 1. For a periodic
  /// potential the density's support is the data box, whose edges add a boundary term to the
  /// identity: ramp(y) = clamp((dist(y, box edge) / s - 3) / 2, 0, 1) switches the score off
  /// within 3 s of an edge (1 beyond 5 s); for other potentials ramp = 1. The curvature is a
  /// central difference of the gradient at y. Importance-weighted samples are fine: the score is
  /// that of exp(-U / scoreKT), the weighted samples' density. The posterior bank and refinement
  /// targets stay the samples' empirical posterior means (mixing the score into those measured
  /// worse: where the empirical posterior rests on distant samples, the two estimates disagree).
  std::shared_ptr<const Potential> scorePotential;
  double scoreKT = 1.0;
};

/// Spacetime points off the forward process with their empirical posterior means.
struct PosteriorBank {
  torch::Tensor l;       ///< [m] log-SNR
  torch::Tensor x;       ///< [m, D] noisy state (units of x)
  torch::Tensor target;  ///< [m, D] sum_j w_j x0_j, w ∝ exp(eta(z) . T(x0_j)) over the samples
  /// [m] trace of the samples' posterior covariance, sum_j w_j |x0_j - target|^2 (units of x^2)
  torch::Tensor covTrace;
  torch::Tensor ess;    ///< [m] effective sample size 1 / sum_j w_j^2 of each point's weights
  long long drawn = 0;  ///< points drawn before the effective-sample-size filter
};

/// Draws `count` spacetime points z = (l, x), l uniform on [lLow, lHigh]; half of them (at random)
/// with the natural parameter eta_x = alpha x / sigma^2 uniform in [-etaHalfWidth,
/// etaHalfWidth]^D (posteriors tilted far beyond what the forward process produces at low l), the
/// others with the tether centre x / alpha uniform over the box [low, high] enlarged by 10 % per
/// side. Each point's target is the posterior mean of the samples' empirical distribution,
/// self-normalised weights w_j ∝ exp(eta(z) . T(x0_j)) over every sample (the optimal denoiser
/// of the samples, which is what denoising score matching converges to where it has data). Points
/// whose effective sample size 1 / sum_j w_j^2 is below `minEss` are dropped: there the samples
/// say too little. With `logWeights` ([n], importance log-weights of the samples) the weights are
/// w_j ∝ exp(eta(z) . T(x0_j) + logWeights_j). Deterministic for a seed; cost count x n x D
/// (float32 arithmetic on all cores, about 0.2 ms per point for n = 100,000 on this machine).
PosteriorBank posteriorBank(const torch::Tensor& samples, const std::vector<double>& low,
                            const std::vector<double>& high, long long count, double etaHalfWidth,
                            double lLow, double lHigh, double minEss, std::uint64_t seed,
                            const torch::Tensor& logWeights = {});

/// The posterior means of the samples' empirical distribution at the spacetime points (l, x)
/// ([m], [m, D]), as posteriorBank computes them; points with an effective sample size below
/// `minEss` are dropped.
PosteriorBank posteriorTargets(const torch::Tensor& samples, const torch::Tensor& l,
                               const torch::Tensor& x, double minEss,
                               const torch::Tensor& logWeights = {});

/// Bank points around a curve (N x (D+1) spacetime points, l first): each curve point itself and
/// perPoint - 1 neighbours with l + lJitter N(0, 1) and eta_x + etaJitter (1 + |eta_x|) N(0, 1)
/// per coordinate, with their posteriorTargets. Deterministic for a seed.
PosteriorBank curveBank(const torch::Tensor& samples, const Eigen::MatrixXd& curve, int perPoint,
                        double lJitter, double etaJitter, double minEss, std::uint64_t seed,
                        const torch::Tensor& logWeights = {});

/// The score-mixed regression targets of TrainingSettings::scorePotential for a batch of B points:
/// clean samples x0 [B*D], the noise eps [B*D] (y = x0 + exp(-l/2) eps), log-SNRs l [B] and
/// dU/dx / kT at x0 [B*D]; edgeLow/High are the support's box (empty = R^D); the curvature at y is
/// a central difference of the gradient with step curvatureStep. Returns the targets [B*D].
std::vector<double> scoreMixedTargets(const Potential& potential, double kT,
                                      const std::vector<double>& edgeLow,
                                      const std::vector<double>& edgeHigh,
                                      const std::vector<double>& x0, const std::vector<double>& eps,
                                      const std::vector<double>& l,
                                      const std::vector<double>& gradAtX0, double curvatureStep);

/// Called during training with the network as it stands (averaged weights, eval mode) and the
/// round number; returns bank points to add to every later step's loss (refineFraction of the
/// batch). runTrainDenoiser's refiner computes the job's geodesic with the network and returns
/// curveBank points around it: the geodesic optimiser seeks out regions where the network
/// under-estimates the metric, and these points teach the network the samples' posterior means
/// exactly there.
using BankRefiner = std::function<PosteriorBank(const DenoiserNetwork& current, int round)>;

/// Called after every optimiser step with the step count, the fraction of the budget used
/// (max of steps / maxSteps and seconds / maxSeconds) and the latest loss-curve value.
using TrainingProgress = std::function<void(long long step, double fraction, double loss)>;

/// Trains a denoiser on `samples` ([n, D], any floating type; used as float64).
///
/// With settings.bankPoints > 0 a posteriorBank is drawn first (inside the time budget) and every
/// step adds round(bankFraction * batchSize) bank points to the loss: the mean over them of
/// w(l) |D(x, l) - target|^2.
///
/// Each step draws a minibatch x0 (uniformly, with replacement), l from an adaptive
/// piecewise-constant density p(l) on [lMin, lMax], eps ~ N(0, I), and x = alpha(l) x0 + sigma(l)
/// eps (in R^D: no wrapping, whatever the data box). The loss is the importance-weighted
///   mean over the batch of w(l) |D(x, l) - x0|^2 / (p(l) (lMax - lMin)),  w(l) = sigmoid(l +
///   2)^0.5,
/// an unbiased estimate of the w-weighted loss with l uniform on [lMin, lMax], whatever p. The bin
/// probabilities of p follow a running mean of w |D - x0|^2 per bin, mixed with `uniformFraction`
/// of the uniform density. Adam, float64; the learning rate warms up over 50 steps, then follows a
/// cosine in the budget fraction; the returned weights are an exponential moving average of the
/// iterates. Bit-reproducible for a seed with threads = 1 when the run stops on maxSteps (with more
/// threads, parallel reductions may differ in the last bit; a run stopped by maxSeconds depends on
/// the machine's speed). The returned network is
/// in eval mode, with its metadata (architecture, data box, seed, source, loss curve, steps,
/// seconds) filled in.
DenoiserNetwork trainDenoiser(const torch::Tensor& samples, const TrainingSettings& settings,
                              const TrainingProgress& progress = {},
                              const BankRefiner& refiner = {});

/// Where the Langevin walkers of `langevinSamples` start.
enum class LangevinStart {
  /// Spread evenly over a uniform grid of the box. Walkers relax into the nearest basin but do not
  /// cross barriers of many kT, so basins are weighted by their catchment area, not by
  /// exp(-F/kT) (on the alanine surface: 36 % of walkers at phi > 0, against 0.1 %).
  UniformGrid,
  /// Drawn from the same grid with probability ∝ exp(-U/kT) at the grid point (systematic
  /// resampling): the start is already close to equilibrium, basins included, and the Langevin
  /// steps remove the grid's discreteness.
  Boltzmann,
};

/// Draws `n` samples of exp(-U/kT) by overdamped Langevin dynamics
/// x <- x - (ds/2) grad U / kT + sqrt(ds) xi. The walkers start on a cell-centred grid of g^D >= n
/// points over the box [low, high] (units of x; when both are empty, the potential's data box,
/// Potential::hasDataBox), placed as `start` says, and take `steps` steps of size `stepSize` (units
/// of x^2). Returns their final positions [n, D] (float64), wrapped into the periodic box along the
/// potential's periodic axes (period(d) > 0).
/// Walker i uses its own random stream, so the result does not depend on `threads` (0 = all
/// cores). Throws SamplerError when a walker leaves the finite range.
torch::Tensor langevinSamples(const Potential& potential, double kT, const std::vector<double>& low,
                              const std::vector<double>& high, long long n, int steps,
                              double stepSize, std::uint64_t seed, int threads = 0,
                              LangevinStart start = LangevinStart::UniformGrid);

/// Importance log-weights -U(x_j) (1 - 1/factor) / kT (up to a constant) that turn samples of
/// exp(-U / (factor kT)) into a weighted sample of exp(-U / kT). Throws SamplerError where U is
/// not finite.
torch::Tensor temperedLogWeights(const Potential& potential, const torch::Tensor& samples,
                                 double kT, double factor);

/// Effective sample size (sum w)^2 / sum w^2 of importance weights given as log-weights ([n]).
double effectiveSampleSize(const torch::Tensor& logWeights);

/// Number of full-atom frames (paths x frames per path) in a result file's /full_atom/cv.
long long cvFrameCount(const std::string& h5path);
/// D, the number of CVs per frame of /full_atom/cv (checked as cvFrameCount).
int cvDimensionOf(const std::string& h5path);

/// The CVs of every `stride`-th full-atom frame of a result file written by `geotps run` on an
/// openmm config (dataset /full_atom/cv [M, F, D], rad), frames taken in file order (path by
/// path), wrapped into [-pi, pi). Returns [n, D] float64.
torch::Tensor cvSamplesFromResult(const std::string& h5path, long long stride);

}  // namespace geotps
