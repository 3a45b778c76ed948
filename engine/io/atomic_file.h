// Writing a whole file atomically: to a temporary name beside it, renamed on success, so a reader
// never sees a partial file under the final name.
#pragma once

#include <string>
#include <string_view>

namespace geotps {

/// Writes `bytes` to `path` via `path.tmp-<pid>` and a rename. Throws std::runtime_error naming the
/// file on failure, leaving neither file behind.
void writeFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace geotps
