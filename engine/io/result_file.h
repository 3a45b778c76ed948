// The version check every reader of a stored `geotps run` result makes before using a dataset.
#pragma once

#include <cstdint>

#include "engine/io/h5_file.h"

namespace geotps {

/// Version of the result-file layout; readers refuse other versions.
inline constexpr std::int64_t kResultSchemaVersion = 1;

/// Checks that `f` is a result file of `geotps run` this build reads (root attributes
/// schema_version == kResultSchemaVersion and file_type "run" where present); throws H5Error
/// naming the file and what it found otherwise.
void requireRunResult(const H5File& f);

/// Checks that `f` is a result file of `geotps compare` this build reads (root attribute file_type
/// "compare", or, in files written before file_type, the datasets /summary/table_markdown and
/// /methods; schema_version == kResultSchemaVersion where present); throws H5Error naming the file
/// and what it found otherwise.
void requireCompareResult(const H5File& f);

}  // namespace geotps
