// The checkpoint of `geotps compare` (docs/output.md, "Checkpoint and resume"): each method's
// result is saved in `<compare file>.checkpoint/` as soon as the method is done (the geodesic
// method's with a copy of its run's result file, from which the MCMC chains start), and the
// geodesic run keeps its walker chunks in the folder `geodesic_walkers/` inside, as `geotps run`
// does, and the MCMC methods keep each finished chain in `chains_<method>/`. `geotps compare CONFIG
// --resume` loads the saved results and chains and runs only the rest;
// each method draws from its own random streams, so the resumed file equals an uninterrupted one.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "engine/baselines/shooting.h"
#include "engine/pipelines/checkpoint.h"
#include "engine/pipelines/compare.h"

namespace geotps {

class CompareCheckpoint : public CheckpointFolder {
 public:
  /// The checkpoint of compare file `outputFile` (folder `outputFile + ".checkpoint"`).
  CompareCheckpoint(const std::string& outputFile, bool resume, std::FILE* log);

  /// Starts or continues the checkpoint of a compare with this effective configuration running
  /// `methods`; throws ConfigError (naming `source`, the folder and the first difference) when
  /// the checkpoint belongs to another configuration.
  void begin(const std::string& source, const std::string& effectiveYaml,
             const std::vector<std::string>& methods);

  /// The folder of the geodesic run's walker chunks (a RunCheckpoint), inside this one.
  std::string walkerFolder() const;
  /// Removes the walker chunks (once the geodesic method's result is saved).
  void removeWalkers() const;

  bool hasMethod(const std::string& method) const;
  /// The saved result of `method`, equal to the one saved (every number bit for bit).
  MethodResult loadMethod(const std::string& method) const;
  /// Saves a finished method's result; for the geodesic method, `geodesicRun` is its run's result
  /// file, saved first (a copy).
  void saveMethod(const MethodResult& r, const std::string& geodesicRun = "");
  /// Copies the saved geodesic run's result file to `path`.
  void restoreGeodesicRun(const std::string& path) const;

  /// The chain store of MCMC method `method` with `chains` chains: each finished chain saved at
  /// once in `chains_<method>/chain_<c>.h5`, loaded again on --resume (a note on the log says how
  /// many). Safe to call from several threads.
  ChainStore chainStore(const std::string& method, int chains);
  /// Removes the chains of `method` (once its result is saved).
  void removeChains(const std::string& method) const;

 private:
  std::mutex mutex_;  ///< chains are saved and loaded from the worker threads
};

}  // namespace geotps
