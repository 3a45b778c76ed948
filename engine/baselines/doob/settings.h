// Settings of engine/baselines/doob/: its configuration keys (a section of the job schema).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/config/config.h"

namespace geotps {

struct DoobSettings {
  // model
  int hidden = 128;          ///< width of the MLP's hidden layers
  int layers = 3;            ///< hidden layers
  double sigmaMin = 1e-2;    ///< standard deviation at the end points (length unit)
  double lengthScale = 1.0;  ///< unit of the network's outputs (length unit)
  double timeHorizon = 1.0;  ///< T, in the dynamics' time unit
  // training
  int iterations = 2000;  ///< Adam steps
  int batchSize = 256;    ///< samples (each with its own s) per step
  double learningRate = 1e-3;
  double hvpStep = 1e-4;  ///< finite-difference step of the Hessian-vector product (length unit)
  /// Continuation for stiff potentials: the first `warmupIterations` steps train on the softened
  /// energy U0 + c asinh((U - U0) / c) (c = energyCap, U0 = the lower end-point energy), whose
  /// gradient grad U / sqrt(1 + ((U - U0) / c)^2) stays finite where atoms overlap; the remaining
  /// steps train on U itself. 0 = none.
  int warmupIterations = 0;
  double energyCap = 100.0;  ///< c, in the potential's energy unit
  // sampling
  int nPaths = 1000;
  int nSteps = 1000;    ///< integration steps over [0, T]
  int frameStride = 1;  ///< store frames f with (f+1) % stride == 0 (f = 0..nSteps); 0 = none
  std::uint64_t seed = 0;
  int threads = 0;  ///< 0 = all cores (energy evaluations and path sampling)
};

/// The keys doob.*.
const std::vector<KeySpec>& doobKeys();

/// The doob.* keys; seed and threads are left at their defaults (the compare pipeline sets them).
DoobSettings readDoobSettings(const Config& config);

}  // namespace geotps
