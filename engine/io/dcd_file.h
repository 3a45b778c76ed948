// DCD trajectory files (CHARMM/NAMD binary layout) for trajectories of full-atom systems, so
// that paths can be viewed in VMD and analysed with mdtraj. Coordinates are in nm in memory and
// in Angstrom (float32) in the file; the conversion happens here and nowhere else.
//
// Layout written (little-endian; every record is framed by int32 Fortran markers holding its
// byte length):
//   header  [84] "CORD" + 20 int32 ICNTRL: NSET (frames), ISTART (step of the first frame), NSAVC
//                 (steps between frames), NSTEP = NSAVC * NSET, zeros, DELTA (float32, AKMA time
//                 units) at 9, unit cell flag 0 at 10, CHARMM version 24 at 19
//   title   [4 + 80*2] NTITLE = 2, two 80-character "REMARKS ..." lines
//   atoms   [4] N
//   frame   [4N] x (float32, Angstrom), [4N] y, [4N] z      -- NSET times
// so a file holds 92 + 172 + 12 = 276 header bytes and 3*(4N + 8) bytes per frame.
#pragma once

#include <string>
#include <vector>

namespace geotps {

/// Writes `framesNm` (each frame 3*n values x0 y0 z0 x1 ..., in nm; at least one frame, all of
/// the same size) as a DCD file with no unit cell. `timestepPs` (in ps) is stored as DELTA
/// converted to AKMA time units (1 AKMA = 0.0488882129 ps), as CHARMM and NAMD do; 0 when unknown.
/// `firstStep` (ISTART) is the integration step of the first frame and `stepStride` (NSAVC) the
/// steps between frames, so that readers (MDAnalysis, VMD) give frame k the time
/// (firstStep + k * stepStride) * timestepPs. Writes to a temporary file renamed to `path` on
/// success. Throws std::runtime_error naming the file on inconsistent frame sizes, non-finite or
/// float-overflowing coordinates, a negative firstStep, a stepStride below 1, or I/O errors.
void writeDcd(const std::string& path, const std::vector<std::vector<double>>& framesNm,
              double timestepPs = 0.0, long long firstStep = 0, long long stepStride = 1);

/// Reads a little-endian CHARMM/NAMD/X-PLOR DCD file (with or without unit cell records; fixed
/// atoms and 4D coordinates are not supported). Stores the number of atoms in `nAtoms` and returns
/// one 3*nAtoms vector of positions per frame, in nm. Throws std::runtime_error naming the file
/// for a missing file, a bad record marker, a big-endian file or a truncated file (one whose size
/// does not hold NSET complete frames).
std::vector<std::vector<double>> readDcd(const std::string& path, int& nAtoms);

}  // namespace geotps
