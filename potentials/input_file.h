// Reading an input file (PDB, OpenMM System XML, tabulated surface, DCD) whole, with a size cap
// (here, in the lowest library, because the potentials read files too):
// a device such as /dev/zero or a runaway file would otherwise be read until memory runs out.
#pragma once

#include <cstddef>
#include <string>

namespace geotps {

/// The cap readInputFile applies unless told otherwise: 1 GiB.
inline constexpr std::size_t kMaxInputFileBytes = std::size_t{1} << 30;

/// Returns the bytes of `path`, which must be a regular file or a pipe of at most `maxBytes`.
/// Throws std::runtime_error naming the file, what is wrong (missing, a directory, a device, too
/// large, unreadable) and `expected` (e.g. "a PDB file").
std::string readInputFile(const std::string& path, const std::string& expected,
                          std::size_t maxBytes = kMaxInputFileBytes);

}  // namespace geotps
