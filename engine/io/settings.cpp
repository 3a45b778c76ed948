// Configuration keys read by engine/io/ (sections of the job schema, assembled in
// engine/config/schema.cpp).
#include "engine/io/settings.h"

// Keys are written with designated initializers; members left out keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace geotps {

/// output.*: what the result file stores
const std::vector<KeySpec>& outputKeys() {
  static const std::vector<KeySpec> keys = {
      // Written as the YAML text `""` (the empty string), not "" (which would make it required).
      {.key = "output.file",
       .type = KeyType::String,
       .defaultValue = "\"\"",
       .unit = "",
       .description = "HDF5 result file, relative to the working directory; empty = "
                      "`results/<name>.h5`"},
      {.key = "output.frame_stride",
       .type = KeyType::Int,
       .defaultValue = "1",
       .unit = "1",
       .description = "store every stride-th frame of each path (0 = store no frames)",
       .min = 0.0,
       .max = 1e9},
      {.key = "output.checkpoint_walkers",
       .type = KeyType::Int,
       .defaultValue = "0",
       .unit = "1",
       .description = "walkers per checkpoint chunk of `geotps run` (and of the geodesic run of "
                      "`geotps compare`): each finished chunk is saved in `<output "
                      "file>.checkpoint/`, which `--resume` continues from; 0 = "
                      "automatic (about 20 chunks, at least 4 walkers per thread); batched walkers "
                      "round it up to whole batches",
       .min = 0.0,
       .max = 1e9},
  };
  return keys;
}

OutputSettings readOutputSettings(const Config& c) {
  OutputSettings s;
  s.file = c.getString("output.file");
  s.frameStride = static_cast<int>(c.getInt("output.frame_stride"));
  s.checkpointWalkers = static_cast<int>(c.getInt("output.checkpoint_walkers"));
  return s;
}

}  // namespace geotps
