#!/usr/bin/python3
"""Build the alanine dipeptide OpenMM System and reference values for GeoTPS tests.

Run from the repository root (paths are resolved relative to this script's folder,
so any working directory works):

    /usr/bin/python3 data/alanine_dipeptide/make_system.py

Needs Debian 12's python3-simtk (OpenMM 7.7, imported as `openmm`) and python3-mdtraj.

Inputs (this folder): extended.pdb, c7ax.pdb.
Outputs (this folder):
  system.xml                  OpenMM System (XmlSerializer), amber14/protein.ff14SB.xml,
                              vacuum, NoCutoff, no constraints, rigidWater=False
  reference_values.txt        `key value` lines (energies, forces, masses, phi/psi)
  extended_minimized.pdb      LocalEnergyMinimizer result from extended.pdb
  c7ax_minimized.pdb          LocalEnergyMinimizer result from c7ax.pdb

All energies/forces are computed with the Reference platform (double precision).
Units: kJ/mol, kJ/mol/nm, nm, amu, radians.
"""
import os
import sys

import numpy as np
import mdtraj
import openmm
from openmm import app, unit

HERE = os.path.dirname(os.path.abspath(__file__))
FORCEFIELD = 'amber14/protein.ff14SB.xml'
STATES = ('extended', 'c7ax')
FORCE_ATOMS = (0, 8, 14)
MIN_TOLERANCE = 0.1  # kJ/mol/nm
MIN_MAX_ITER = 0     # 0 = until converged
EXPECTED_PHI_ATOMS = [4, 6, 8, 14]
EXPECTED_PSI_ATOMS = [6, 8, 14, 16]


def path(name):
    return os.path.join(HERE, name)


def atom_signature(topology):
    return [(a.index, a.residue.name, a.residue.index, a.name,
             a.element.symbol if a.element is not None else None)
            for a in topology.atoms()]


def bond_signature(topology):
    return sorted(tuple(sorted((b[0].index, b[1].index))) for b in topology.bonds())


def make_context(system):
    integrator = openmm.VerletIntegrator(0.001 * unit.picoseconds)
    platform = openmm.Platform.getPlatformByName('Reference')
    return openmm.Context(system, integrator, platform), integrator


def energy_and_forces(context, positions_nm):
    context.setPositions(positions_nm * unit.nanometer)
    state = context.getState(getEnergy=True, getForces=True)
    e = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    f = np.asarray(state.getForces(asNumpy=True).value_in_unit(
        unit.kilojoule_per_mole / unit.nanometer))
    return e, f


def group_energies(context_groups, names, positions_nm):
    context_groups.setPositions(positions_nm * unit.nanometer)
    out = []
    for g, name in enumerate(names):
        s = context_groups.getState(getEnergy=True, groups={g})
        out.append((name, s.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)))
    return out


def phi_psi(md_top, positions_nm):
    traj = mdtraj.Trajectory(np.asarray(positions_nm, dtype=np.float64).reshape(1, -1, 3), md_top)
    phi_idx, phi = mdtraj.compute_phi(traj)
    psi_idx, psi = mdtraj.compute_psi(traj)
    return phi_idx, float(phi[0, 0]), psi_idx, float(psi[0, 0])


def fmt(x):
    return repr(float(x))


def main():
    pdbs = {s: app.PDBFile(path(s + '.pdb')) for s in STATES}
    top = pdbs['extended'].topology

    # Same atoms in the same order (residue, name, element) and same bonds.
    ref_sig = atom_signature(top)
    for s in STATES[1:]:
        if atom_signature(pdbs[s].topology) != ref_sig:
            sys.exit('atom mismatch between extended.pdb and %s.pdb' % s)
        if bond_signature(pdbs[s].topology) != bond_signature(top):
            sys.exit('bond mismatch between extended.pdb and %s.pdb' % s)
    n_atoms = top.getNumAtoms()
    if n_atoms != 22:
        sys.exit('expected 22 atoms, got %d' % n_atoms)

    ff = app.ForceField(FORCEFIELD)
    system = ff.createSystem(top, nonbondedMethod=app.NoCutoff, constraints=None,
                             rigidWater=False)
    xml = openmm.XmlSerializer.serialize(system)
    with open(path('system.xml'), 'w') as fh:
        fh.write(xml)

    # Copy with one force group per force, for per-term energies.
    system_groups = openmm.XmlSerializer.deserialize(xml)
    force_names = []
    for i, force in enumerate(system_groups.getForces()):
        force.setForceGroup(i)
        force_names.append(force.__class__.__name__)

    context, integ = make_context(system)
    context_g, integ_g = make_context(system_groups)

    md_tops = {s: mdtraj.load(path(s + '.pdb')).topology for s in STATES}

    lines = []
    add = lines.append
    add('# Alanine dipeptide (ACE-ALA-NME) reference values for GeoTPS tests.')
    add('# Produced by: /usr/bin/python3 data/alanine_dipeptide/make_system.py')
    add('# OpenMM %s (Debian 12 python3-simtk), mdtraj %s, numpy %s'
        % (openmm.version.full_version, mdtraj.version.version, np.__version__))
    add('# System: ForceField(%r), nonbondedMethod=NoCutoff, constraints=None, rigidWater=False '
        '(vacuum); serialised to system.xml' % FORCEFIELD)
    add('# Platform: Reference (double precision). Units: kJ/mol, kJ/mol/nm, amu, radians.')
    add('# Minimisation: LocalEnergyMinimizer tolerance %g kJ/mol/nm, maxIterations %d; '
        'results in <state>_minimized.pdb (PDB precision is 0.001 A; the *_minimized values below '
        'use the full-precision minimiser output)' % (MIN_TOLERANCE, MIN_MAX_ITER))
    add('# Angles: mdtraj.compute_phi / compute_psi on the positions (mdtraj computes in float32, so '
        'phi/psi are good to ~1e-6 rad); atom indices are 0-based.')
    add('# Force groups (per-term energies energy_<state>_<term>_kjmol): %s'
        % ', '.join('%d=%s' % (i, n) for i, n in enumerate(force_names)))
    add('n_atoms %d' % n_atoms)
    for i in range(system.getNumParticles()):
        add('mass_%d %s' % (i, fmt(system.getParticleMass(i).value_in_unit(unit.dalton))))

    checked_indices = False
    results = {}
    for s in STATES:
        pos = np.asarray(pdbs[s].getPositions(asNumpy=True).value_in_unit(unit.nanometer))
        phi_idx, phi, psi_idx, psi = phi_psi(md_tops[s], pos)
        if not checked_indices:
            if phi_idx.tolist() != [EXPECTED_PHI_ATOMS] or psi_idx.tolist() != [EXPECTED_PSI_ATOMS]:
                sys.exit('unexpected mdtraj dihedral atoms: phi %s psi %s'
                         % (phi_idx.tolist(), psi_idx.tolist()))
            add('phi_atoms %s' % ' '.join(str(i) for i in phi_idx[0]))
            add('psi_atoms %s' % ' '.join(str(i) for i in psi_idx[0]))
            checked_indices = True

        e, f = energy_and_forces(context, pos)
        add('# --- %s.pdb as stored ---' % s)
        add('energy_%s_kjmol %s' % (s, fmt(e)))
        for name, ge in group_energies(context_g, force_names, pos):
            add('energy_%s_%s_kjmol %s' % (s, name, fmt(ge)))
        for i in FORCE_ATOMS:
            for k, c in enumerate('xyz'):
                add('force_%s_atom%d_%s %s' % (s, i, c, fmt(f[i, k])))
        add('phi_%s %s' % (s, fmt(phi)))
        add('psi_%s %s' % (s, fmt(psi)))

        # Minimise.
        context.setPositions(pos * unit.nanometer)
        openmm.LocalEnergyMinimizer.minimize(context, MIN_TOLERANCE, MIN_MAX_ITER)
        st = context.getState(getEnergy=True, getPositions=True, getForces=True)
        e_min = st.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
        pos_min = np.asarray(st.getPositions(asNumpy=True).value_in_unit(unit.nanometer))
        f_min = np.asarray(st.getForces(asNumpy=True).value_in_unit(
            unit.kilojoule_per_mole / unit.nanometer))
        phi_m_idx, phi_m, psi_m_idx, psi_m = phi_psi(md_tops[s], pos_min)
        assert phi_m_idx.tolist() == [EXPECTED_PHI_ATOMS]
        assert psi_m_idx.tolist() == [EXPECTED_PSI_ATOMS]
        add('# --- %s.pdb after minimisation ---' % s)
        add('energy_%s_minimized_kjmol %s' % (s, fmt(e_min)))
        add('max_force_%s_minimized_kjmolnm %s' % (s, fmt(np.abs(f_min).max())))
        add('phi_%s_minimized %s' % (s, fmt(phi_m)))
        add('psi_%s_minimized %s' % (s, fmt(psi_m)))
        with open(path(s + '_minimized.pdb'), 'w') as fh:
            app.PDBFile.writeFile(pdbs[s].topology, pos_min * unit.nanometer, fh, keepIds=True)
        # Energy of the minimised PDB as written (0.001 A rounding).
        e_rt, _ = energy_and_forces(
            context, np.asarray(app.PDBFile(path(s + '_minimized.pdb'))
                                .getPositions(asNumpy=True).value_in_unit(unit.nanometer)))
        add('energy_%s_minimized_pdb_kjmol %s' % (s, fmt(e_rt)))
        results[s] = (e, phi, psi, e_min, phi_m, psi_m)

    with open(path('reference_values.txt'), 'w') as fh:
        fh.write('\n'.join(lines) + '\n')
    del context, integ, context_g, integ_g

    for s, (e, phi, psi, e_min, phi_m, psi_m) in results.items():
        print('%-9s E=%.4f phi=%.4f psi=%.4f | minimised E=%.4f phi=%.4f psi=%.4f'
              % (s, e, phi, psi, e_min, phi_m, psi_m))


if __name__ == '__main__':
    main()
