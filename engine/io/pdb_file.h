// PDB files: a strict reader of ATOM/HETATM/MODEL/CONECT records and a writer of single- or
// multi-model files that mdtraj (and OpenMM, VMD) read. Coordinates are in nm in memory and in
// Angstrom in the file; the conversion happens here and nowhere else.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace geotps {

/// One ATOM/HETATM record.
struct PdbAtom {
  int serial = 0;                    ///< atom serial number, columns 7-11
  std::string name;                  ///< atom name, columns 13-16, without surrounding blanks
  std::string residueName;           ///< residue name, columns 18-20, without surrounding blanks
  char chain = ' ';                  ///< chain identifier, column 22 (may be blank)
  int residueNumber = 0;             ///< residue sequence number, columns 23-26
  std::string element;               ///< element symbol, columns 77-78 or inferred from the name
  double x = 0.0, y = 0.0, z = 0.0;  ///< position, in nm
};

/// The atoms of one model and the bonds listed by CONECT records.
struct PdbStructure {
  std::vector<PdbAtom> atoms;
  std::vector<std::pair<int, int>> bonds;  ///< 0-based atom indices (first < second), from CONECT

  /// The atom positions as 3*n values x0 y0 z0 x1 ..., in nm.
  std::vector<double> positionsNm() const;
};

/// Reads the first model of a PDB file (atoms of later MODELs are skipped; CONECT records are
/// read wherever they are).
///
/// Fixed columns, as in the PDB format: serial 7-11, name 13-16, resName 18-20, chain 22,
/// resSeq 23-26, x 31-38, y 39-46, z 47-54, element 77-78 (in Angstrom in the file; returned in
/// nm). When columns 77-78 are blank or absent the element is the first letter of the name.
/// Throws std::runtime_error naming the file and the 1-based line and saying what was expected
/// for a missing file, a short or non-numeric field, a file without atoms, a CONECT record
/// naming an unknown serial, or badly nested MODEL/ENDMDL records.
PdbStructure readPdb(const std::string& path);

/// readPdb on PDB text held in memory (e.g. a topology stored in a result file); `name` labels
/// error messages in place of a file name.
PdbStructure parsePdbStructure(const std::string& text, const std::string& name);

/// Reads every model of a PDB file: returns one 3*n vector of positions (in nm) per model and,
/// when `topology` is not null, stores the first model's atoms (and the CONECT bonds) there.
/// Every model must list the same atoms (count and names) as the first; otherwise it throws
/// std::runtime_error naming the file and line.
std::vector<std::vector<double>> readPdbModels(const std::string& path,
                                               PdbStructure* topology = nullptr);

/// Writes `topology`'s atoms with the positions of each frame in `framesNm` (each 3*n values,
/// in nm, n = topology.atoms.size()).
///
/// A single frame is written without MODEL records; several frames as MODEL 1..N / ENDMDL. The
/// coordinates are written in Angstrom with 3 decimals (so they must lie in (-1000, 10000)
/// Angstrom); serial numbers are written as 1..n (not topology's serials) so that CONECT records
/// (written for topology.bonds when `writeConect`) stay consistent; no CRYST1 record; END last.
/// Writes to a temporary file renamed to `path` on success. Throws std::runtime_error naming the
/// file on a size mismatch, an out-of-range coordinate, more than 99999 atoms, or an I/O error.
void writePdb(const std::string& path, const PdbStructure& topology,
              const std::vector<std::vector<double>>& framesNm, bool writeConect = true);

/// The text writePdb writes; `name` labels error messages (a file name, or e.g. "topology").
std::string pdbText(const PdbStructure& topology, const std::vector<std::vector<double>>& framesNm,
                    bool writeConect = true, const std::string& name = "PDB");

}  // namespace geotps
