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

void requireCompareResult(const H5File& f) {
  const std::string& path = f.path();
  if (f.hasAttribute("/", "file_type")) {
    const std::string type = f.readAttributeString("/", "file_type");
    if (type != "compare") {
      throw H5Error(
          fmt::format("{}: a `geotps {}` result file, not one of `geotps compare`", path, type));
    }
  } else if (!f.exists("/summary/table_markdown") || !f.exists("/methods")) {
    throw H5Error(
        fmt::format("{}: not a `geotps compare` result file (no file_type attribute, and no "
                    "/summary/table_markdown and /methods)",
                    path));
  }
  if (f.hasAttribute("/", "schema_version") &&
      f.readAttributeInt("/", "schema_version") != kResultSchemaVersion) {
    throw H5Error(
        fmt::format("{}: compare file schema version {} is not supported (this build "
                    "reads {})",
                    path, f.readAttributeInt("/", "schema_version"), kResultSchemaVersion));
  }
}

}  // namespace geotps
