// Writing a whole file atomically: to a temporary name beside it, renamed on success, so a reader
// never sees a partial file under the final name.
#pragma once

#include <string>
#include <string_view>

namespace geotps {

/// The output policy of every command that writes a file: `path` must be a new path or an existing
/// regular file (which is then replaced); a directory, a device, a FIFO, a socket or a symbolic link
/// is refused (std::runtime_error naming the path and what it is). Also removes stale temporaries
/// of `path` (`path.tmp-<pid>` of a process that no longer runs, e.g. one killed by SIGKILL).
void checkOutputTarget(const std::string& path);

/// Writes `bytes` to `path` via `path.tmp-<pid>` and a rename. Throws std::runtime_error naming the
/// file on failure, leaving neither file behind.
void writeFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace geotps
