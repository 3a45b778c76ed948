// Configuration keys read by engine/neural/ (sections of the job schema, assembled in
// engine/config/schema.cpp).
#include "engine/neural/settings.h"

#include <fmt/format.h>

// Keys are written with designated initializers; members left out keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace geotps {

/// training.*: `geotps train-denoiser`
const std::vector<KeySpec>& trainingKeys() {
  static const std::vector<KeySpec> keys = {
      {.key = "training.source",
       .type = KeyType::String,
       .defaultValue = "langevin",
       .unit = "",
       .description =
           "training samples: `langevin` walkers on the job's density in its D dimensions (the "
           "potential, or cv.surface for openmm jobs), the CVs of the full-atom frames of "
           "training.result_file, or `md`: the CVs along unrestrained full-atom Langevin "
           "dynamics of the openmm job's molecule at dynamics.temperature from both end states "
           "(any number of CVs; training.md_*)",
       .choices = {"langevin", "result_file", "md"}},
      {.key = "training.n_samples",
       .type = KeyType::Int,
       .defaultValue = "100000",
       .unit = "1",
       .description = "number of training samples (result_file: every k-th frame, k chosen so "
                      "that at least this many remain when the file has them)",
       .min = 1.0,
       .max = 100000000.0},
      {.key = "training.langevin_steps",
       .type = KeyType::Int,
       .defaultValue = "2000",
       .unit = "1",
       .description = "overdamped Langevin steps of each walker from its start (langevin only)",
       .min = 0.0,
       .max = 1e9},
      {.key = "training.langevin_start",
       .type = KeyType::String,
       .defaultValue = "boltzmann",
       .unit = "",
       .description = "where the walkers start on a grid over the data box: `uniform` (basins "
                      "end up weighted by catchment area, since walkers do not cross high "
                      "barriers) or `boltzmann` (grid points drawn with probability proportional "
                      "to exp(-U/kT), so basins get their equilibrium weight) (langevin only)",
       .choices = {"uniform", "boltzmann"}},
      {.key = "training.langevin_temperature_factor",
       .type = KeyType::Real,
       .defaultValue = "1.0",
       .unit = "1",
       .description =
           "the Langevin walkers run at this multiple f of kT, and each sample carries the "
           "importance weight exp(-U (1 - 1/f) / kT) that makes the set a sample of exp(-U/kT) "
           "(minibatches draw samples by weight; the posterior bank's means are weighted). f > 1 "
           "puts samples into high-energy regions that strongly tilted posteriors reach (the "
           "geodesic's metric there depends on them); the log states the weights' effective "
           "sample size",
       .min = 1.0,
       .max = 100.0},
      {
          .key = "training.score_targets",
          .type = KeyType::Bool,
          .defaultValue = "false",
          .unit = "",
          .description =
              "langevin source only: mix the potential's force at each sample into its regression "
              "target (target score matching: E[x0|z] = x/alpha - s^2 E[grad U(x0)/kT | z], s^2 = "
              "exp(-l)), weighted by sigmoid(2 l) / (1 + s^2 U''(x/alpha)/kT) per coordinate where "
              "U'' > 0 and switched off where U'' <= 0 and within 3 s of the edges of a periodic "
              "box; the target keeps its conditional mean and loses most of its noise near the "
              "data "
              "at high l",
      },
      {.key = "training.langevin_step_size",
       .type = KeyType::Real,
       .defaultValue = "1e-3",
       .unit = "(length unit)^2 / kT",
       .description = "time step ds of the training walkers (langevin only)",
       .min = 0.0,
       .minExclusive = true},
      {.key = "training.md_walkers",
       .type = KeyType::Int,
       .defaultValue = "16",
       .unit = "1",
       .description = "md source: walkers, half started at the minimised potential.pdb_a and "
                      "half at potential.pdb_b, each with its own random stream",
       .min = 1.0,
       .max = 100000.0},
      {.key = "training.md_steps",
       .type = KeyType::Int,
       .defaultValue = "20000",
       .unit = "steps",
       .description = "md source: recorded Langevin steps of dynamics.time_step per walker (after "
                      "training.md_equilibration)",
       .min = 1.0,
       .max = 1e9},
      {.key = "training.md_equilibration",
       .type = KeyType::Int,
       .defaultValue = "1000",
       .unit = "steps",
       .description = "md source: steps per walker before recording",
       .min = 0.0,
       .max = 1e9},
      {.key = "training.md_stride",
       .type = KeyType::Int,
       .defaultValue = "20",
       .unit = "steps",
       .description = "md source: steps between recorded CVs, at most training.md_steps; the "
                      "samples are md_walkers x (md_steps / md_stride) CV points, thinned to "
                      "about training.n_samples when there are more",
       .min = 1.0,
       .max = 1e9},
      {.key = "training.result_file",
       .type = KeyType::Path,
       .defaultValue = "../results/alanine_dipeptide.h5",
       .unit = "",
       .description = "result file of `geotps run` on an openmm config whose /full_atom/cv frames "
                      "are the samples (result_file only)"},
      {.key = "training.hidden",
       .type = KeyType::Int,
       .defaultValue = "128",
       .unit = "1",
       .description = "width of the network's hidden layers",
       .min = 1.0,
       .max = 4096.0},
      {.key = "training.layers",
       .type = KeyType::Int,
       .defaultValue = "3",
       .unit = "1",
       .description = "number of hidden layers",
       .min = 1.0,
       .max = 32.0},
      {.key = "training.features",
       .type = KeyType::String,
       .defaultValue = "natural",
       .unit = "",
       .description =
           "network input: `natural` feeds the scaled natural parameter u = sd eta_x / (1 + sd^2 "
           "SNR) (sd the data spread; u -> x / (alpha sd) at high l) and saturating functions "
           "sigmoid(l - c) of the log-SNR, so that posteriors with the same natural parameters "
           "look alike at every low l (tilted posteriors far from the forward process's noisy "
           "states are then an interpolation, not an extrapolation); `edm` feeds x / sigma "
           "(EDM preconditioning) and sinusoids of l (the earlier design)",
       .choices = {"natural", "edm"}},
      {.key = "training.posterior_bank",
       .type = KeyType::Int,
       .defaultValue = "60000",
       .unit = "1",
       .description =
           "spacetime points drawn once, off the forward process (half with the tether centre "
           "x / alpha uniform over the data box enlarged by 10 % per side, half with the natural "
           "parameter eta_x uniform in [-bank_eta, bank_eta]^D), whose regression target is the "
           "posterior mean over all training samples (self-normalised weights exp(eta . T(x0))); "
           "points with an effective sample size below training.bank_min_ess are dropped. "
           "0 = plain denoising score matching only",
       .min = 0.0,
       .max = 10000000.0},
      {.key = "training.covariance_weight",
       .type = KeyType::Real,
       .defaultValue = "0",
       .unit = "1",
       .description =
           "weight of the posterior-covariance term on posterior-bank and refinement points: "
           "the squared difference between the network's covariance trace by Tweedie, "
           "(sigma^2 / alpha) div_x D, and the samples' self-normalised one (points with an "
           "effective sample size >= 10), weighted like the denoising loss. It trains the "
           "divergence that E[|x0|^2 | z] = mu_last rests on. 0 = off",
       .min = 0.0,
       .max = 1000.0},
      {.key = "training.covariance_points",
       .type = KeyType::Int,
       .defaultValue = "256",
       .unit = "1",
       .description =
           "posterior-bank points and refinement points (each) per optimiser step at which the "
           "training.covariance_weight term is evaluated (a random subset of the step's points; "
           "each costs a second-order backward pass)",
       .min = 1.0,
       .max = 1000000.0},
      {.key = "training.bank_fraction",
       .type = KeyType::Real,
       .defaultValue = "0.5",
       .unit = "1",
       .description = "bank points per optimiser step, as a fraction of training.batch_size "
                      "(their loss is added to the denoising loss with the same weight "
                      "sigmoid(l + 2)^0.5)",
       .min = 0.0,
       .max = 4.0,
       .minExclusive = true},
      {.key = "training.bank_eta",
       .type = KeyType::Real,
       .defaultValue = "10.0",
       .unit = "1 / length unit",
       .description = "half-width of the range of the natural parameter eta_x = alpha x / sigma^2 "
                      "of the tilted bank points",
       .min = 0.0,
       .minExclusive = true},
      {.key = "training.bank_l_range",
       .type = KeyType::RealList,
       .defaultValue = "[-8.0, 8.0]",
       .unit = "1",
       .description = "log-SNR range [low, high] of the bank points (drawn uniformly)",
       .listLength = 2},
      {.key = "training.bank_min_ess",
       .type = KeyType::Real,
       .defaultValue = "1.0",
       .unit = "samples",
       .description = "smallest effective sample size 1 / sum w_i^2 of a bank point's posterior "
                      "weights; points below it (where the samples say little) are dropped",
       .min = 1.0},
      {.key = "training.refine_rounds",
       .type = KeyType::Int,
       .defaultValue = "0",
       .unit = "1",
       .description =
           "geodesic-guided refinement: during training, this many times (evenly spaced over "
           "training.refine_range of the budget) the job's geodesic (states.*, geodesic.*, "
           "penalty.*) is computed with the network as it stands, and points around it, with the "
           "samples' posterior means as targets (like the posterior bank), join the loss of every "
           "later step. The geodesic optimiser seeks out places where the network under-estimates "
           "the metric; this teaches the network the samples' answer there. 0 = off",
       .min = 0.0,
       .max = 100.0},
      {.key = "training.refine_range",
       .type = KeyType::RealList,
       .defaultValue = "[0.4, 0.85]",
       .unit = "1",
       .description = "fractions of the training budget (steps or seconds) at which the first and "
                      "the last refinement round run",
       .listLength = 2},
      {.key = "training.refine_fraction",
       .type = KeyType::Real,
       .defaultValue = "0.25",
       .unit = "1",
       .description = "refinement points per optimiser step, as a fraction of "
                      "training.batch_size (same loss weight as the bank)",
       .min = 0.0,
       .max = 4.0,
       .minExclusive = true},
      {.key = "training.refine_points",
       .type = KeyType::Int,
       .defaultValue = "32",
       .unit = "1",
       .description = "refinement points per geodesic point and round: the point itself and "
                      "neighbours with l + refine_l_jitter N(0,1) and eta_x + refine_eta_jitter "
                      "(1 + |eta_x|) N(0,1) per coordinate",
       .min = 1.0,
       .max = 100000.0},
      {.key = "training.refine_l_jitter",
       .type = KeyType::Real,
       .defaultValue = "0.5",
       .unit = "1",
       .description = "standard deviation of the log-SNR of refinement points around a geodesic "
                      "point",
       .min = 0.0},
      {.key = "training.refine_eta_jitter",
       .type = KeyType::Real,
       .defaultValue = "0.2",
       .unit = "1",
       .description = "relative standard deviation of the natural parameter eta_x of refinement "
                      "points around a geodesic point (times 1 + |eta_x|)",
       .min = 0.0},
      {.key = "training.x_frequencies",
       .type = KeyType::Int,
       .defaultValue = "1",
       .unit = "1",
       .description = "sinusoidal embedding frequencies per coordinate of the network's x input "
                      "(0.5, 1, 2, ... per unit; few frequencies keep mu smooth along curves, "
                      "which the curve energy's differences of mu need)",
       .min = 0.0,
       .max = 16.0},
      {.key = "training.l_frequencies",
       .type = KeyType::Int,
       .defaultValue = "4",
       .unit = "1",
       .description = "sinusoidal embedding frequencies of the log-SNR (0.5, 1, 2, ... on l scaled "
                      "to [-1, 1])",
       .min = 0.0,
       .max = 16.0},
      {.key = "training.l_min",
       .type = KeyType::Real,
       .defaultValue = "-12.0",
       .unit = "1",
       .description = "lowest log-SNR l trained on",
       .min = -30.0,
       .max = 30.0},
      {.key = "training.l_max",
       .type = KeyType::Real,
       .defaultValue = "12.0",
       .unit = "1",
       .description = "highest log-SNR l trained on (must exceed training.l_min)",
       .min = -30.0,
       .max = 30.0},
      {.key = "training.precision",
       .type = KeyType::String,
       .defaultValue = "float32",
       .unit = "",
       .description = "arithmetic of the optimisation: float32 (about twice the steps per second "
                      "on a CPU) or float64; the saved network and everything that uses it are "
                      "float64 either way",
       .choices = {"float32", "float64"}},
      {.key = "training.batch_size",
       .type = KeyType::Int,
       .defaultValue = "2048",
       .unit = "1",
       .description = "samples per optimiser step",
       .min = 1.0,
       .max = 1000000.0},
      {.key = "training.learning_rate",
       .type = KeyType::Real,
       .defaultValue = "2e-3",
       .unit = "1",
       .description = "peak Adam step size; a cosine over the step / time budget decays it to 1/20",
       .min = 0.0,
       .max = 1.0,
       .minExclusive = true},
      {.key = "training.max_steps",
       .type = KeyType::Int,
       .defaultValue = "20000",
       .unit = "1",
       .description = "stop after this many optimiser steps (or training.max_seconds, whichever "
                      "comes first)",
       .min = 1.0,
       .max = 1e9},
      {.key = "training.max_seconds",
       .type = KeyType::Real,
       .defaultValue = "240.0",
       .unit = "s",
       .description =
           "wall-clock budget of the optimisation, the posterior bank included (sampling "
           "not included); a run that stops on it is not bit-reproducible",
       .min = 0.0,
       .minExclusive = true},
      {.key = "training.budget",
       .type = KeyType::String,
       .defaultValue = "both",
       .unit = "",
       .description =
           "which budget drives the learning-rate schedule and the refinement rounds: `both` (the "
           "one used up faster), `steps` (training.max_steps: a seed gives the same network "
           "whatever the machine's speed; training.max_seconds then only stops a run that "
           "overruns it) or `seconds`",
       .choices = {"both", "steps", "seconds"}},
      {.key = "training.threads",
       .type = KeyType::Int,
       .defaultValue = "1",
       .unit = "1",
       .description = "torch intra-op (OpenMP) threads of the training; 1 is fastest on a shared "
                      "2-core machine (the matrix products still use OpenBLAS's threads); with 1 "
                      "the weights are bit-reproducible for a seed, with more only to rounding. "
                      "The Langevin walkers use sampler.threads",
       .min = 1.0,
       .max = 1024.0},
      {.key = "training.output",
       .type = KeyType::String,
       .defaultValue = "\"\"",
       .unit = "",
       .description = "model file written, relative to the working directory; empty = "
                      "`results/<name>_denoiser.pt`"},
  };
  return keys;
}

TrainingJobSettings readTrainingJobSettings(const Config& c) {
  TrainingJobSettings t;
  TrainingOptimizerSettings& s = t.optimizer;
  s.hidden = static_cast<int>(c.getInt("training.hidden"));
  s.layers = static_cast<int>(c.getInt("training.layers"));
  s.xFrequencies = static_cast<int>(c.getInt("training.x_frequencies"));
  s.lFrequencies = static_cast<int>(c.getInt("training.l_frequencies"));
  s.features = c.getString("training.features");
  s.bankPoints = c.getInt("training.posterior_bank");
  s.bankFraction = c.getReal("training.bank_fraction");
  s.bankEta = c.getReal("training.bank_eta");
  const auto bankRange = c.getRealList("training.bank_l_range");
  s.bankLLow = bankRange[0];
  s.bankLHigh = bankRange[1];
  s.bankMinEss = c.getReal("training.bank_min_ess");
  if (!(s.bankLHigh >= s.bankLLow)) {
    throw ConfigError(fmt::format(
        "{}: key 'training.bank_l_range': expected [low, high] with low <= high, got [{}, {}]",
        c.sourceName(), s.bankLLow, s.bankLHigh));
  }
  s.refineRounds = static_cast<int>(c.getInt("training.refine_rounds"));
  const auto refineRange = c.getRealList("training.refine_range");
  s.refineStart = refineRange[0];
  s.refineEnd = refineRange[1];
  if (!(s.refineStart >= 0 && s.refineStart <= s.refineEnd && s.refineEnd <= 1)) {
    throw ConfigError(fmt::format(
        "{}: key 'training.refine_range': expected [first, last] with 0 <= first <= last <= 1, "
        "got [{}, {}]",
        c.sourceName(), s.refineStart, s.refineEnd));
  }
  s.refineFraction = c.getReal("training.refine_fraction");
  s.covarianceWeight = c.getReal("training.covariance_weight");
  s.covariancePoints = static_cast<int>(c.getInt("training.covariance_points"));
  s.lMin = c.getReal("training.l_min");
  s.lMax = c.getReal("training.l_max");
  s.batchSize = static_cast<int>(c.getInt("training.batch_size"));
  s.precision = c.getString("training.precision");
  s.learningRate = c.getReal("training.learning_rate");
  s.maxSteps = c.getInt("training.max_steps");
  s.maxSeconds = c.getReal("training.max_seconds");
  s.budget = c.getString("training.budget");
  s.threads = static_cast<int>(c.getInt("training.threads"));
  s.seed = static_cast<std::uint64_t>(c.getInt("seed"));
  if (!(s.lMax > s.lMin)) {
    throw ConfigError(
        fmt::format("{}: key 'training.l_max': must be larger than training.l_min "
                    "({} <= {})",
                    c.sourceName(), s.lMax, s.lMin));
  }
  t.source = c.getString("training.source");
  t.nSamples = c.getInt("training.n_samples");
  t.langevinSteps = static_cast<int>(c.getInt("training.langevin_steps"));
  t.langevinStart = c.getString("training.langevin_start");
  t.langevinTemperatureFactor = c.getReal("training.langevin_temperature_factor");
  t.scoreTargets = c.getBool("training.score_targets");
  t.langevinStepSize = c.getReal("training.langevin_step_size");
  t.resultFile = c.getString("training.result_file");
  t.mdWalkers = static_cast<int>(c.getInt("training.md_walkers"));
  t.mdSteps = c.getInt("training.md_steps");
  t.mdEquilibration = c.getInt("training.md_equilibration");
  t.mdStride = static_cast<int>(c.getInt("training.md_stride"));
  if (t.mdStride > t.mdSteps) {
    throw ConfigError(fmt::format(
        "{}: key 'training.md_stride': {} is more than training.md_steps ({}); expected at most "
        "that, so that each walker records at least one sample",
        c.sourceName(), t.mdStride, t.mdSteps));
  }
  t.refinePoints = static_cast<int>(c.getInt("training.refine_points"));
  t.refineLJitter = c.getReal("training.refine_l_jitter");
  t.refineEtaJitter = c.getReal("training.refine_eta_jitter");
  t.output = c.getString("training.output");
  return t;
}

}  // namespace geotps
