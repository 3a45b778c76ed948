// The version check of stored `geotps run` results.
#include "engine/io/result_file.h"

#include <fmt/format.h>

namespace geotps {

void requireRunResult(const H5File& f) {
  const std::string& path = f.path();
  if (!f.hasAttribute("/", "schema_version")) {
    throw H5Error(path + ": not a GeoTPS result file (no schema_version attribute)");
  }
  if (f.hasAttribute("/", "file_type") && f.readAttributeString("/", "file_type") != "run") {
    throw H5Error(fmt::format("{}: a `geotps {}` result file, not one of `geotps run`", path,
                              f.readAttributeString("/", "file_type")));
  }
  const auto version = f.readAttributeInt("/", "schema_version");
  if (version != kResultSchemaVersion) {
    throw H5Error(fmt::format("{}: result schema version {} is not supported (this build reads {})",
                              path, version, kResultSchemaVersion));
  }
}

}  // namespace geotps
