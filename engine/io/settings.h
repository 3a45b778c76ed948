// Settings of engine/io/: its configuration keys (a section of the job schema).
#pragma once

#include <string>
#include <vector>

#include "engine/config/config.h"

namespace geotps {

/// output.*: the result file of `geotps run`.
struct OutputSettings {
  std::string file;     ///< empty = results/<name>.h5
  int frameStride = 1;  ///< store every stride-th frame (0 = none)
  /// Walkers per checkpoint chunk of `geotps run` (0 = automatic; engine/pipelines/checkpoint.h).
  int checkpointWalkers = 0;
};

/// The keys output.*.
const std::vector<KeySpec>& outputKeys();

OutputSettings readOutputSettings(const Config& config);

}  // namespace geotps
