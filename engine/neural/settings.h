// Settings of engine/neural/: its configuration keys (a section of the job schema).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/config/config.h"

namespace geotps {

/// Network architecture and optimiser settings (training.* keys and seed); TrainingSettings
/// (engine/neural/denoiser_training.h) adds what needs LibTorch.
struct TrainingOptimizerSettings {
  int hidden = 128;                  ///< width of the hidden layers
  int layers = 3;                    ///< hidden layers
  int xFrequencies = 6;              ///< sinusoidal frequencies per coordinate of x
  int lFrequencies = 4;              ///< sinusoidal frequencies of l
  std::string features = "natural";  ///< network input features: "natural" or "edm"
  /// Posterior bank (see posteriorBank): points drawn (0 = none), their share of each step's
  /// batch, the half-width of eta_x of the tilted points, their l range and the smallest ESS kept.
  long long bankPoints = 0;
  double bankFraction = 0.5;
  double bankEta = 10.0;
  double bankLLow = -8.0, bankLHigh = 8.0;
  double bankMinEss = 1.0;
  /// Geodesic-guided refinement (see BankRefiner): rounds, their share of each step's batch, and
  /// the budget fractions of the first and last round (rounds evenly spaced between).
  int refineRounds = 0;
  double refineFraction = 0.25;
  double refineStart = 0.4, refineEnd = 0.85;
  /// Posterior-covariance term on bank and refinement points (0 = none): the weight of the
  /// squared difference between the network's Tweedie covariance trace (sigma^2 / alpha) div_x D
  /// and the samples' (PosteriorBank::covTrace; points with an effective sample size >= 10 only),
  /// in the same w(l) weighting, at up to covariancePoints of each set's points per step (each
  /// costs a second-order backward pass).
  double covarianceWeight = 0.0;
  int covariancePoints = 256;
  double lMin = -12.0;  ///< training range of the log-SNR l (dimensionless)
  double lMax = 12.0;
  /// Arithmetic of the optimisation: "float32" (about twice as fast on a CPU) or "float64". The
  /// returned network is float64 either way.
  std::string precision = "float32";
  int batchSize = 4096;        ///< samples per optimiser step
  double learningRate = 2e-3;  ///< peak Adam step size; a cosine decays it to 1/20 of this
  long long maxSteps = 20000;  ///< stop after this many optimiser steps ...
  double maxSeconds = 240.0;   ///< ... or this many wall-clock seconds, whichever comes first
  /// Which budget drives the learning-rate schedule and the refinement rounds: "both" (the one
  /// used up faster), "steps" (reproducible for a seed whatever the machine's speed; maxSeconds
  /// then only stops a run that overruns it) or "seconds".
  std::string budget = "both";
  int threads = 1;                ///< torch intra-op threads (torch::set_num_threads)
  std::uint64_t seed = 0;         ///< network initialisation, minibatches, l and noise draws
  int lBins = 48;                 ///< bins of the piecewise-constant sampling density of l
  double uniformFraction = 0.15;  ///< share of the l density kept uniform, so that no bin starves
  int logInterval = 100;          ///< steps per loss-curve entry (mean of the loss over them)
};

/// Where `geotps train-denoiser` takes its samples from, and where it writes (training.* keys).
struct TrainingJobSettings {
  TrainingOptimizerSettings optimizer;
  std::string source = "langevin";  ///< "langevin", "result_file" or "md"
  long long nSamples = 0;
  int langevinSteps = 0;
  std::string langevinStart = "boltzmann";  ///< "boltzmann" or "uniform"
  double langevinTemperatureFactor = 1.0;
  bool scoreTargets = false;
  double langevinStepSize = 0.0;
  std::string resultFile;  ///< training.source result_file: a full-atom result (resolved path)
  int mdWalkers = 16;             ///< training.source md: walkers (half from A, half from B)
  long long mdSteps = 20000;      ///< md: recorded steps per walker
  long long mdEquilibration = 1000;  ///< md: steps before recording
  int mdStride = 20;              ///< md: steps between recorded CVs
  int refinePoints = 0;
  double refineLJitter = 0.0, refineEtaJitter = 0.0;
  std::string output;  ///< empty = results/<name>_denoiser.pt
};

/// The keys training.*.
const std::vector<KeySpec>& trainingKeys();

/// The training.* keys (and seed); checks the ranges that relate two keys (errors name the key).
TrainingJobSettings readTrainingJobSettings(const Config& config);

}  // namespace geotps
