// The collective variables of a full-atom job: torsions given by four atom indices or by name
// (`phi 2`, `psi 2`, `omega 2`, `chi1 3`, `chi2 3`, with mdtraj's atom definitions), resolved
// against the molecule's PDB (docs/method.md, "Collective variables of a molecule").
#pragma once

#include <array>
#include <string>
#include <vector>

#include "engine/io/pdb_file.h"

namespace geotps {

/// One torsion CV: its label ("phi 2", or "torsion 4-6-8-14" when given by indices) and its four
/// 0-based atom indices.
struct TorsionCV {
  std::string label;
  std::array<int, 4> atoms{};
};

/// Every torsion of `topology` that has a name: phi, psi, omega, chi1 and chi2 of each residue
/// that has their atoms, in residue order. Residues are runs of atoms with the same chain,
/// residue number and residue name; "previous" and "next" residue mean the neighbours in the
/// file within the same chain. Atom definitions follow mdtraj's compute_phi, compute_psi,
/// compute_omega and compute_chi1/2: phi = C(r-1) N CA C; psi = N CA C N(r+1); omega = CA C
/// N(r+1) CA(r+1); chi1 = N CA CB {CG | CG1 | SG | OG | OG1}; chi2 = CA CB {CG | CG1} {CD | CD1
/// | OD1 | ND1 | SD}, the first alternative present.
std::vector<TorsionCV> namedTorsions(const PdbStructure& topology);

/// Resolves the entries of cv.variables: "<kind> <residue number>" (kind one of phi, psi, omega,
/// chi1, chi2; the residue number as written in the PDB) or four atom indices "a b c d"
/// (optionally after the word `torsion`). Throws ConfigError naming `source`, the key, the entry
/// and `pdbPath` when an entry cannot be read, names a torsion the molecule does not have (the
/// message lists the named torsions it has), is ambiguous (the same residue number in two
/// chains), has an index outside [0, nAtoms) or a repeated atom, or repeats another entry's
/// torsion.
std::vector<TorsionCV> resolveTorsionCVs(const std::vector<std::string>& entries,
                                         const PdbStructure& topology, int nAtoms,
                                         const std::string& source, const std::string& pdbPath);

}  // namespace geotps
