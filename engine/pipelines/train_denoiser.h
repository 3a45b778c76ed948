// `geotps train-denoiser` (LibTorch builds): draws the samples named by training.source, trains the
// neural denoiser (engine/neural/denoiser_training.h) and saves it.
#pragma once

#include <cstdio>
#include <string>

#include "engine/config/config.h"
#include "engine/pipelines/job_settings.h"

namespace geotps {

/// What a training run ends with.
struct TrainingSummary {
  std::string outputFile;
  std::string source;
  long long samples = 0;
  long long steps = 0;
  long long maxSteps = 0;   ///< training.max_steps
  double maxSeconds = 0.0;  ///< training.max_seconds
  std::string budget;       ///< training.budget
  double finalLoss = 0.0;   ///< last loss-curve value (weighted loss, units of x^2)
  double samplingSeconds = 0.0;
  double trainingSeconds = 0.0;
};

/// `geotps train-denoiser`: draws the samples named by training.source, trains, and saves the
/// network to training.output (default results/<name>_denoiser.pt). Prints the effective
/// configuration to `log`.
TrainingSummary runTrainDenoiser(Config config, const JobOptions& options, std::FILE* log);

/// The summary as text lines for the terminal. When training.max_seconds stopped the run before
/// training.max_steps, a line says so (with budget "steps", the network is then no longer the one
/// its seed gives on a faster machine).
std::string formatTrainingSummary(const TrainingSummary& summary);

}  // namespace geotps
