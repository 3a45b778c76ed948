// `geotps export FILE`: full-atom paths of a run result file, or of a method of a full-atom compare
// file, as DCD + topology PDB, mdtraj HDF5 + topology PDB, or multi-model PDB files, for VMD,
// mdtraj and MDAnalysis (docs/output.md, "geotps export").
#pragma once

#include <string>
#include <vector>

namespace geotps {

struct ExportOptions {
  std::string file;            ///< a `geotps run` or `geotps compare` result file
  std::string paths = "0";     ///< --path: I, all, A:B (half-open, A < B) or A: (0-based)
  std::string format = "dcd";  ///< dcd | mdtraj-h5 | pdb
  std::string method;          ///< --method: the compare method whose paths to export
  std::string prefix;          ///< --out; empty: the file's name without .h5 (see exportPaths)
};

struct ExportResult {
  std::vector<std::string> written;  ///< the files written, in order
  std::vector<std::string> notes;    ///< paths selected but skipped (no stored frames), and why
};

/// The path indices a --path value selects out of `count` paths: "I", "all", "A:B" (A <= i < B,
/// A < B) or "A:" (A to the last path). Throws ConfigError naming --path, the value and the valid
/// range (`what` names the paths, e.g. "fa.h5 has paths 0..2") for anything else: a negative,
/// out-of-range or non-numeric index, an empty range.
std::vector<long long> selectPaths(const std::string& value, long long count,
                                   const std::string& what);

/// Writes the selected paths. One path: PREFIX.dcd or PREFIX.h5 plus the topology PREFIX.pdb
/// (formats dcd, mdtraj-h5) or a multi-model PREFIX.pdb (pdb); PREFIX defaults to the file's name
/// without .h5, then _<method> for a compare file, then _path<I>. Several paths: the topology
/// PREFIX.pdb and PREFIX_path<I>.dcd / .h5 per path (pdb: PREFIX_path<I>.pdb per path); PREFIX
/// defaults to the file's name without .h5 (then _<method>). Frame k of a run path is integration
/// step (k + 1) * frame_stride (time that times dynamics.time_step, or /full_atom/time where
/// stored); frame k of an MCMC or Doob path is its frame (k + 1) * stride - 1 counted from the
/// path's first frame (time 0). All files are written under temporary names and renamed at the
/// end: a failure leaves none of them (and no folder this call created). Throws ConfigError for a
/// bad --path / --method / --format, H5Error for a file that is not a readable full-atom result.
ExportResult exportPaths(const ExportOptions& options);

}  // namespace geotps
