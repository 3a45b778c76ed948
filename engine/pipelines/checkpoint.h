// Checkpoints of `geotps run` (docs/output.md, "Checkpoint and resume"): the walkers are sampled in
// chunks, and each finished chunk is saved at once in the folder `<output>.checkpoint/`, so that an
// interrupted run (Ctrl-C, a killed job, a full disk, a lost node) keeps every finished chunk and
// `geotps run CONFIG --resume` samples only the rest. Walker i keeps random stream i, so the
// resumed result file's datasets equal an uninterrupted run's.
#pragma once

#include <Eigen/Dense>
#include <cstdio>
#include <string>

#include "engine/samplers/sampler.h"

namespace geotps {

class RunCheckpoint {
 public:
  /// The checkpoint of output file `outputFile` (folder `outputFile + ".checkpoint"`). Without
  /// `resume`, an earlier run's checkpoint there is discarded (with a warning on stderr); with it,
  /// a missing checkpoint starts the run from the beginning (a note on `log`).
  RunCheckpoint(const std::string& outputFile, bool resume, std::FILE* log);

  /// Starts or continues the checkpoint of a job with this effective configuration, sampling
  /// curve and walker count; `chunkWalkers` applies to a new checkpoint (a resumed one keeps its
  /// own). Throws ConfigError (naming `source`, the folder and the first difference) when the
  /// checkpoint belongs to another configuration or another curve.
  void begin(const std::string& source, const std::string& effectiveYaml,
             const Eigen::MatrixXd& curve, int nPaths, int chunkWalkers);

  int chunkWalkers() const { return chunkWalkers_; }
  int chunkCount() const;
  /// Walkers [first, first + count) of chunk c.
  int chunkFirst(int c) const { return c * chunkWalkers_; }
  int chunkSize(int c) const;
  bool hasChunk(int c) const;
  SamplerResult loadChunk(int c) const;
  /// Saves chunk c (temporary file + rename: a chunk is there whole or not at all).
  void saveChunk(int c, const SamplerResult& part) const;
  /// Removes the folder (after the result file is in place).
  void remove() const;
  const std::string& folder() const { return folder_; }

 private:
  std::string chunkPath(int c) const;
  std::string folder_;
  bool resume_ = false;
  std::FILE* log_ = nullptr;
  int nPaths_ = 0, chunkWalkers_ = 1;
};

/// Walkers per chunk when output.checkpoint_walkers is 0: about 20 chunks, at least 4 walkers per
/// thread, a multiple of `alignment` (batched walkers: whole batches).
int automaticChunkWalkers(int nPaths, int threads, int alignment);

}  // namespace geotps
