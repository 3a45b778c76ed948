// mdtraj's HDF5 trajectory format ("Pande" conventions 1.1, what mdtraj.save_hdf5 writes and
// mdtraj.load reads with its topology): root attributes conventions, conventionVersion, program,
// programVersion, title, application; datasets `coordinates` (frames x atoms x 3, float32,
// nanometers), `time` (frames, float32, picoseconds) and `topology` (a one-element array of a
// fixed-length ASCII string holding the topology as mdtraj's JSON: chains, residues, atoms,
// bonds). No unit cell datasets (vacuum).
#pragma once

#include <string>
#include <vector>

#include "engine/io/pdb_file.h"

namespace geotps {

/// The topology as the JSON object mdtraj's HDF5TrajectoryFile stores: chains (consecutive atoms
/// with the same chain identifier), residues (consecutive atoms with the same chain, residue
/// number and name; resSeq = the residue number), atoms (name, element symbol) and every bond of
/// `topology.bonds` once, as [i, j] 0-based atom indices.
std::string mdtrajTopologyJson(const PdbStructure& topology);

/// Writes `framesNm` (each 3*n values, in nm, n = topology.atoms.size()) with the time of each
/// frame (`timesPs`, ps) as an mdtraj HDF5 trajectory; `title` goes to the root attribute title.
/// Writes to a temporary file renamed to `path` on success (AtomicH5Writer). Throws
/// std::runtime_error (H5Error for HDF5 failures) naming the file on a size mismatch, a
/// non-finite coordinate or time, or an I/O error.
void writeMdtrajH5(const std::string& path, const PdbStructure& topology,
                   const std::vector<std::vector<double>>& framesNm,
                   const std::vector<double>& timesPs, const std::string& title);

}  // namespace geotps
