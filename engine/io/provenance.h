// What a result file records about where it came from (docs/output.md, "Provenance"): the engine's
// version and git commit, the OpenMM and LibTorch versions it was built with, and the SHA-256 of
// every input file the job read.
#pragma once

#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/io/h5_file.h"

namespace geotps {

/// Lower-case hex SHA-256 of bytes, and of a file's bytes (throws std::runtime_error naming the
/// file when it cannot be read).
std::string sha256OfBytes(const std::string& bytes);
std::string sha256OfFile(const std::string& path);

/// The input files of a job besides its config: the value of every path key (potential.system,
/// potential.pdb_a, cv.surface, ...) that names an existing regular file, each once, in key order.
std::vector<std::string> jobInputFiles(const Config& config);

/// Root attributes of a result or compare file: git_commit, openmm_version, libtorch_version and
/// input_files_sha256: lines "<sha256>  <path>" (the format `sha256sum -c` checks), first the
/// config text as read (under its source name), then jobInputFiles.
void writeProvenance(H5File& file, const Config& config);

}  // namespace geotps
