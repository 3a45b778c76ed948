#!/usr/bin/python3
"""Write reference_values.txt for the alanine tetrapeptide files, for GeoTPS's C++ tests.

Run from the repository root after scripts/make_system.py has written this folder (README.md has
the exact command); paths resolve relative to this script's folder:

    /usr/bin/python3 data/alanine_tetrapeptide/make_reference_values.py

Reads system.xml and the state PDBs (extended, c7eq, c7ax) and writes `key value` lines:
n_atoms, mass_<i> (amu), <kind>_<resSeq>_atoms (mdtraj's 0-based indices), and per state the
potential energy of the PDB as stored (energy_<state>_kjmol), per-force energies, the forces on a
few atoms (force_<state>_atom<i>_<x|y|z>, kJ/mol/nm), the largest force component, and the six
backbone torsions (<kind>_<resSeq>_<state>, rad). Reference platform (double precision).
Needs Debian 12's python3-simtk (OpenMM 7.7, imported as `openmm`) and python3-mdtraj.
"""
import os
import sys

import numpy as np
import mdtraj
import openmm
from openmm import app, unit

HERE = os.path.dirname(os.path.abspath(__file__))
STATES = ('extended', 'c7eq', 'c7ax')
FORCE_ATOMS = (0, 8, 18, 28, 41)
EXPECTED = {  # mdtraj's torsions of ACE(1)-ALA(2)-ALA(3)-ALA(4)-NME(5) as built by make_system.py
    ('phi', 2): [4, 6, 8, 14], ('psi', 2): [6, 8, 14, 16],
    ('phi', 3): [14, 16, 18, 24], ('psi', 3): [16, 18, 24, 26],
    ('phi', 4): [24, 26, 28, 34], ('psi', 4): [26, 28, 34, 36],
}


def path(name):
    return os.path.join(HERE, name)


def fmt(x):
    return repr(float(x))


def torsions(traj):
    out = {}
    for kind, func in (('phi', mdtraj.compute_phi), ('psi', mdtraj.compute_psi)):
        idx, values = func(traj)
        for quad, value in zip(idx.tolist(), values[0].tolist()):
            res = traj.topology.atom(quad[2] if kind == 'phi' else quad[1]).residue.resSeq
            out[(kind, res)] = (quad, value)
    return out


def main():
    with open(path('system.xml')) as fh:
        xml = fh.read()
    system = openmm.XmlSerializer.deserialize(xml)
    groups = openmm.XmlSerializer.deserialize(xml)
    names = []
    for i, force in enumerate(groups.getForces()):
        force.setForceGroup(i)
        names.append(force.__class__.__name__)
    platform = openmm.Platform.getPlatformByName('Reference')
    ctx = openmm.Context(system, openmm.VerletIntegrator(0.001), platform)
    ctx_g = openmm.Context(groups, openmm.VerletIntegrator(0.001), platform)

    lines = ['# Alanine tetrapeptide (ACE-ALA-ALA-ALA-NME) reference values for GeoTPS tests.',
             '# Produced by: /usr/bin/python3 data/alanine_tetrapeptide/make_reference_values.py',
             '# OpenMM %s (Debian 12 python3-simtk), mdtraj %s, numpy %s'
             % (openmm.version.full_version, mdtraj.version.version, np.__version__),
             '# System: system.xml from scripts/make_system.py (amber14/protein.ff14SB.xml, vacuum, '
             'NoCutoff, constraints=None, rigidWater=False); README.md has the command',
             '# Platform: Reference (double precision). Units: kJ/mol, kJ/mol/nm, amu, radians.',
             '# Values of the PDBs as stored (3-decimal Angstrom coordinates of minimised states).',
             '# Torsions: mdtraj.compute_phi / compute_psi (float32, good to ~1e-6 rad); '
             '<kind>_<resSeq>_atoms are 0-based atom indices; resSeq = PDB residue number of the CA.',
             '# Force groups (energy_<state>_<term>_kjmol): %s'
             % ', '.join('%d=%s' % (i, n) for i, n in enumerate(names)),
             'n_atoms %d' % system.getNumParticles()]
    for i in range(system.getNumParticles()):
        lines.append('mass_%d %s' % (i, fmt(system.getParticleMass(i).value_in_unit(unit.dalton))))
    first = True
    summary = []
    for s in STATES:
        pdb = app.PDBFile(path(s + '.pdb'))
        if pdb.topology.getNumAtoms() != system.getNumParticles():
            sys.exit('%s.pdb: %d atoms, system.xml %d' % (s, pdb.topology.getNumAtoms(),
                                                         system.getNumParticles()))
        x = np.asarray(pdb.getPositions(asNumpy=True).value_in_unit(unit.nanometer))
        traj = mdtraj.load(path(s + '.pdb'))
        tors = torsions(traj)
        if sorted(tors) != sorted(EXPECTED) or any(tors[k][0] != v for k, v in EXPECTED.items()):
            sys.exit('%s.pdb: unexpected mdtraj torsions %s' % (s, {k: v[0] for k, v in tors.items()}))
        if first:
            for (kind, res), quad in sorted(EXPECTED.items(), key=lambda t: (t[0][1], t[0][0])):
                lines.append('%s_%d_atoms %s' % (kind, res, ' '.join(str(i) for i in quad)))
            first = False
        ctx.setPositions(x * unit.nanometer)
        st = ctx.getState(getEnergy=True, getForces=True)
        e = st.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
        f = np.asarray(st.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.nanometer))
        lines.append('# --- %s.pdb ---' % s)
        lines.append('energy_%s_kjmol %s' % (s, fmt(e)))
        ctx_g.setPositions(x * unit.nanometer)
        for g, n in enumerate(names):
            ge = ctx_g.getState(getEnergy=True, groups={g}).getPotentialEnergy()
            lines.append('energy_%s_%s_kjmol %s' % (s, n, fmt(ge.value_in_unit(unit.kilojoule_per_mole))))
        for i in FORCE_ATOMS:
            for k, c in enumerate('xyz'):
                lines.append('force_%s_atom%d_%s %s' % (s, i, c, fmt(f[i, k])))
        lines.append('max_force_%s_kjmolnm %s' % (s, fmt(np.abs(f).max())))
        for (kind, res) in sorted(EXPECTED, key=lambda t: (t[1], t[0] != 'phi')):
            lines.append('%s_%d_%s %s' % (kind, res, s, fmt(tors[(kind, res)][1])))
        summary.append('%-9s E=%.4f kJ/mol  %s' % (s, e, ' '.join(
            '%s%d=%.4f' % (kind, res, tors[(kind, res)][1])
            for (kind, res) in sorted(EXPECTED, key=lambda t: (t[1], t[0] != 'phi')))))
    with open(path('reference_values.txt'), 'w') as fh:
        fh.write('\n'.join(lines) + '\n')
    print('\n'.join(summary))


if __name__ == '__main__':
    main()
