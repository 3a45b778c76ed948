#!/usr/bin/python3
"""Print mdtraj's backbone and side-chain torsions of a PDB: 0-based atom indices, residues, values.

Usage (from anywhere):

    /usr/bin/python3 scripts/cv_indices.py data/alanine_dipeptide/extended.pdb
    /usr/bin/python3 scripts/cv_indices.py PDB --write data/<molecule>/mdtraj_torsions.txt

For every torsion that mdtraj.compute_phi, compute_psi and compute_chi1 find, prints its kind,
its residue (name and number), the four 0-based atom indices (the indices that GeoTPS's cv.*
keys take; the atom order of the PDB is the order of the OpenMM System built from it), the atoms'
names and the torsion's value in the PDB (rad and degrees).

Residue convention (the one GeoTPS's torsion names use, docs/bring_your_own_molecule.md):
a torsion belongs to the residue that holds its CA atom, and that residue is named by mdtraj's
`resSeq`, the residue number in the PDB's columns 23-26 (not mdtraj's 0-based residue index).
  phi  <r> = C(r-1) - N(r) - CA(r) - C(r)
  psi  <r> = N(r) - CA(r) - C(r) - N(r+1)
  chi1 <r> = N(r) - CA(r) - CB(r) - XG(r)   (CG, SG, OG, CG1 or OG1 as mdtraj picks)
In a capped peptide ACE(1)-X(2)-...-NME(n) the caps have no phi/psi of their own: phi 2 uses the
C of ACE, psi n-1 the N of NME.

--write FILE writes the torsions in a simple text format for tests and tools: `#` comment lines
(the first ones say which mdtraj version and command produced the file), then one line per torsion,
six fields separated by single spaces:

    <kind> <resSeq> <a> <b> <c> <d>

kind is phi, psi or chi1; resSeq and the indices are integers (indices 0-based); the lines come in
mdtraj's order, all phi, then all psi, then all chi1. The file is deterministic (no date).

Needs Debian 12's python3-mdtraj (and numpy).
"""
import argparse
import math
import os
import sys

KINDS = ('phi', 'psi', 'chi1')


def torsions_of_topology(md_top):
    """[(kind, resSeq, resName, (a, b, c, d))] in mdtraj's order, for an mdtraj Topology."""
    import mdtraj
    import numpy as np
    traj = mdtraj.Trajectory(np.zeros((1, md_top.n_atoms, 3), dtype=np.float32), md_top)
    funcs = {'phi': mdtraj.compute_phi, 'psi': mdtraj.compute_psi, 'chi1': mdtraj.compute_chi1}
    out = []
    for kind in KINDS:
        idx, _ = funcs[kind](traj)
        for quad in idx.tolist():
            quad = tuple(int(i) for i in quad)
            # The residue is the one holding the CA (3rd atom for phi, 2nd for psi and chi1).
            ca = quad[2] if kind == 'phi' else quad[1]
            atom = md_top.atom(ca)
            if atom.name != 'CA':
                raise RuntimeError('mdtraj %s torsion %s: expected atom %d to be a CA, it is %s'
                                   % (kind, quad, ca, atom.name))
            out.append((kind, int(atom.residue.resSeq), atom.residue.name, quad))
    return out


def dihedral(x, quad):
    """Torsion angle in rad of atoms quad in positions x (N x 3), the IUPAC sign convention."""
    import numpy as np
    p0, p1, p2, p3 = (np.asarray(x[i], dtype=np.float64) for i in quad)
    b0 = p0 - p1
    b1 = p2 - p1
    b2 = p3 - p2
    b1 = b1 / np.linalg.norm(b1)
    v = b0 - np.dot(b0, b1) * b1
    w = b2 - np.dot(b2, b1) * b1
    return math.atan2(float(np.dot(np.cross(b1, v), w)), float(np.dot(v, w)))


def torsion_file_text(torsions, source, command=None):
    import mdtraj
    if command is None:
        command = '/usr/bin/python3 scripts/cv_indices.py %s --write <this file>' % source
    lines = ['# mdtraj torsions (phi, psi, chi1) of %s' % source,
             '# Produced by mdtraj %s via %s' % (mdtraj.version.version, command),
             '# Format: <kind> <resSeq> <a> <b> <c> <d>; 0-based atom indices; the residue is the one '
             'holding the CA, by its PDB residue number (mdtraj resSeq)']
    for kind, res_seq, _, quad in torsions:
        lines.append('%s %d %d %d %d %d' % ((kind, res_seq) + quad))
    return '\n'.join(lines) + '\n'


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('pdb', help='PDB file (its atom order is the System\'s)')
    p.add_argument('--write', metavar='FILE',
                   help='also write the torsions as `<kind> <resSeq> <a> <b> <c> <d>` lines to FILE')
    p.add_argument('--source-name', metavar='TEXT',
                   help='how the --write header names the PDB (default: the path as given)')
    a = p.parse_args()
    import mdtraj
    if not os.path.isfile(a.pdb):
        sys.exit('cv_indices: %s: no such file' % a.pdb)
    try:
        traj = mdtraj.load_pdb(a.pdb, standard_names=False)
    except Exception as e:  # noqa: BLE001 - report any parser error with the file name
        sys.exit('cv_indices: %s: mdtraj cannot read it: %s' % (a.pdb, e))
    top = traj.topology
    torsions = torsions_of_topology(top)
    if not torsions:
        sys.exit('cv_indices: %s: mdtraj finds no phi/psi/chi1 torsion (atom names N, CA, C, CB?)'
                 % a.pdb)
    x = traj.xyz[0].astype('float64')
    print('# %s: %d atoms; mdtraj %s; indices 0-based; residue = the one holding the CA (PDB number)'
          % (a.pdb, top.n_atoms, mdtraj.version.version))
    print('# %-5s %-9s %-17s %-31s %9s %8s' % ('kind', 'residue', 'atoms', 'names', 'rad', 'deg'))
    for kind, res_seq, res_name, quad in torsions:
        names = '-'.join('%s(%d)' % (top.atom(i).name, top.atom(i).residue.resSeq) for i in quad)
        value = dihedral(x, quad)
        print('%-7s %-9s %-17s %-31s %9.4f %8.2f' % (
            kind, '%s %d' % (res_name, res_seq), ' '.join(str(i) for i in quad), names, value,
            math.degrees(value)))
    if a.write:
        text = torsion_file_text(torsions, a.source_name or a.pdb)
        with open(a.write + '.tmp', 'w') as fh:
            fh.write(text)
        os.replace(a.write + '.tmp', a.write)
        print('# wrote %s (%d torsions)' % (a.write, len(torsions)))


if __name__ == '__main__':
    main()
