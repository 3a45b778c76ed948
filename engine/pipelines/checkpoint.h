// Checkpoints of `geotps run` and `geotps compare` (docs/output.md, "Checkpoint and resume"): each
// finished piece of work (a chunk of walkers; a compare method's result) is saved at once in the
// folder `<output>.checkpoint/`, so that an interrupted command (Ctrl-C, a killed job, a full disk,
// a lost node) keeps every finished piece and the same command with `--resume` does only the rest.
// Walker i keeps random stream i and each compare method its own streams, so the resumed result
// file's datasets equal an uninterrupted run's.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>

#include "engine/pipelines/job_settings.h"
#include "engine/samplers/sampler.h"

namespace geotps {

class H5File;

/// The folder of a command's checkpoint and what every checkpoint shares: the effective
/// configuration in `job.h5`, written with the first saved piece (a command stopped before any
/// piece is done leaves nothing); each piece written under a temporary name and renamed, so that a
/// piece is there whole or not at all; another configuration refused on --resume; an old folder
/// discarded (with a warning) without --resume.
class CheckpointFolder {
 public:
  /// The checkpoint folder `folder` of command `command` ("run", "compare"), whose pieces are the
  /// files `piecePrefix*.h5` (counted in the warning as `pieceNoun`). Without `resume`, an earlier
  /// checkpoint there is discarded (with a warning on stderr); with it, a missing checkpoint starts
  /// the command from the beginning (a note on `log`). Throws ConfigError when `folder` exists and
  /// is not a folder.
  CheckpointFolder(std::string folder, const std::string& command, const std::string& piecePrefix,
                   const std::string& pieceNoun, bool resume, std::FILE* log);
  /// Removes the folder if it is empty (a nested checkpoint that removed its own folder after a
  /// failed first piece leaves its parent so).
  virtual ~CheckpointFolder();
  CheckpointFolder(const CheckpointFolder&) = delete;
  CheckpointFolder& operator=(const CheckpointFolder&) = delete;

  /// Removes the folder (after the result file is in place).
  void remove() const;
  const std::string& folder() const { return folder_; }
  /// The OpenMM platform the saved work ran on, recorded in job.h5 (full-atom jobs; set before
  /// the first piece is saved).
  void setPlatform(const std::string& platform) { platform_ = platform; }
  /// The platform recorded in the job.h5 of checkpoint folder `folder`; empty when there is none.
  /// With `potential.platform: auto`, a resumed command uses it (the choice by timing can differ
  /// from run to run, and walkers on another platform would not continue the saved ones).
  static std::string recordedPlatform(const std::string& folder);

 protected:
  /// Starts or continues the checkpoint of a job with this effective configuration. Returns true
  /// when a checkpoint written by an earlier command was found (--resume) and its configuration
  /// equals `effectiveYaml`, after `check` (which may throw) has inspected its job.h5; false when
  /// the command starts afresh (job.h5 is written with the first piece, with writeManifest's
  /// extras). Throws ConfigError naming `source`, the folder and the first difference otherwise.
  bool openManifest(const std::string& source, const std::string& effectiveYaml,
                    const std::function<void(const H5File&, const std::string&)>& check);
  /// The path of piece `name` (a file name in the folder).
  std::string piecePath(const std::string& name) const;
  bool hasPiece(const std::string& name) const;
  /// Saves piece `name` through `fill` (an HDF5 file written under a temporary name, renamed when
  /// complete); the first piece writes job.h5 first.
  void savePiece(const std::string& name, const std::function<void(H5File&)>& fill);
  /// Saves piece `name` as a copy of the file `source` (temporary name and rename).
  void savePieceCopy(const std::string& name, const std::string& source);
  /// What a subclass adds to job.h5 (beside /effective and geotps_version).
  virtual void writeManifestExtras(H5File&) const {}

  bool resume_ = false;
  std::FILE* log_ = nullptr;

 private:
  void withManifest(const std::function<void()>& save);
  std::string folder_;
  std::string pendingYaml_;
  std::string platform_;
  bool manifestWritten_ = false;
};

/// `settings`, with `potential.platform: auto` replaced by the platform recorded in checkpoint
/// folder `folder` when `resume` and there is one (a note on `log`): the platform a resumed
/// command continues the saved work on.
JobSettings resumedPlatform(const JobSettings& settings, bool resume, const std::string& folder,
                            std::FILE* log);

/// `n` rounded up to a whole multiple of `multiple` (taken as 1 when smaller).
int roundUpToMultiple(int n, int multiple);

/// How a run's walkers are split into chunks (docs/output.md, "Checkpoint and resume"): chunk c
/// holds walkers [first(c), first(c) + size(c)); the last chunk may be shorter. The one place
/// that does this arithmetic, for `geotps run` and a compare's geodesic run.
struct ChunkPlan {
  int nPaths = 0;
  int walkers = 1;  ///< walkers per chunk (>= 1)

  /// The plan for output.checkpoint_walkers = `requested` (0: automatic, automaticChunkWalkers),
  /// rounded up to a multiple of `alignment` (batched walkers: whole batches).
  static ChunkPlan choose(int nPaths, int requested, int threads, int alignment);
  /// All walkers in one chunk (a run without a checkpoint).
  static ChunkPlan single(int nPaths) { return {nPaths, std::max(nPaths, 1)}; }
  int count() const { return (nPaths + walkers - 1) / walkers; }
  int first(int c) const { return c * walkers; }
  int size(int c) const { return std::min(walkers, nPaths - first(c)); }
};

/// The checkpoint of `geotps run`: the walkers in the chunks of `plan()`.
class RunCheckpoint : public CheckpointFolder {
 public:
  /// The checkpoint in folder `folder` (`<output file>.checkpoint` for `geotps run`; a compare
  /// keeps its geodesic run's chunks in a folder inside its own checkpoint).
  RunCheckpoint(const std::string& folder, bool resume, std::FILE* log);

  /// Starts or continues the checkpoint of a job with this effective configuration, sampling
  /// curve and chunk plan; `plan` applies to a new checkpoint (a resumed one keeps its own chunk
  /// size). Throws ConfigError (naming `source`, the folder and the first difference) when the
  /// checkpoint belongs to another configuration or another curve.
  void begin(const std::string& source, const std::string& effectiveYaml,
             const Eigen::MatrixXd& curve, const ChunkPlan& plan);

  /// The chunks of this checkpoint (after begin).
  const ChunkPlan& plan() const { return plan_; }
  bool hasChunk(int c) const;
  SamplerResult loadChunk(int c) const;
  /// Saves chunk c; the first saved chunk creates the folder and its job.h5, so that a run stopped
  /// before any walker is done leaves nothing.
  void saveChunk(int c, const SamplerResult& part);

 private:
  void writeManifestExtras(H5File& f) const override;
  static std::string chunkName(int c);
  Eigen::MatrixXd pendingCurve_;
  ChunkPlan plan_;
};

/// Walkers per chunk when output.checkpoint_walkers is 0: about 20 chunks, at least 4 walkers per
/// thread, a multiple of `alignment` (batched walkers: whole batches).
int automaticChunkWalkers(int nPaths, int threads, int alignment);

}  // namespace geotps
