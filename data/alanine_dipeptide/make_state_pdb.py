#!/usr/bin/python3
"""Write a PDB of alanine dipeptide in the basin around a given (phi, psi), for use as an end state.

Run from anywhere (paths default to this script's folder):

    /usr/bin/python3 data/alanine_dipeptide/make_state_pdb.py --phi -1.40 --psi 1.10 --out c7eq.pdb

Starts from extended.pdb, minimises the energy of system.xml (Reference platform) under a stiff
harmonic restraint on (phi, psi) (atoms 4-6-8-14 and 6-8-14-16, 5000 kJ/mol/rad^2 towards the
target, wrapped difference), then without it (the state relaxes to the bottom of its basin), and
writes the result with the topology of extended.pdb. Prints the final (phi, psi) in rad and the
energy in kJ/mol. Needs Debian 12's python3-simtk (OpenMM 7.7, imported as `openmm`).
"""
import argparse
import math
import os
import sys

import numpy as np
import openmm
from openmm import app, unit

HERE = os.path.dirname(os.path.abspath(__file__))
PHI = (4, 6, 8, 14)
PSI = (6, 8, 14, 16)


def dihedral(x, atoms):
    b0 = x[atoms[0]] - x[atoms[1]]
    b1 = x[atoms[2]] - x[atoms[1]]
    b2 = x[atoms[3]] - x[atoms[2]]
    b1 = b1 / np.linalg.norm(b1)
    v = b0 - np.dot(b0, b1) * b1
    w = b2 - np.dot(b2, b1) * b1
    return math.atan2(np.dot(np.cross(b1, v), w), np.dot(v, w))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--phi', type=float, required=True, help='target phi, rad')
    p.add_argument('--psi', type=float, required=True, help='target psi, rad')
    p.add_argument('--out', required=True, help='PDB file to write (must not exist)')
    p.add_argument('--start', default=os.path.join(HERE, 'extended.pdb'), help='starting PDB')
    p.add_argument('--system', default=os.path.join(HERE, 'system.xml'), help='OpenMM System XML')
    a = p.parse_args()
    if os.path.exists(a.out):
        sys.exit('make_state_pdb: %s exists; not replacing it' % a.out)
    pdb = app.PDBFile(a.start)
    with open(a.system) as fh:
        system = openmm.XmlSerializer.deserialize(fh.read())
    if system.getNumParticles() != pdb.topology.getNumAtoms():
        sys.exit('make_state_pdb: %s has %d atoms, %s %d' % (
            a.start, pdb.topology.getNumAtoms(), a.system, system.getNumParticles()))
    restraint = openmm.CustomTorsionForce(
        '0.5*k*d^2; d = theta - t0 - 6.283185307179586*floor((theta - t0 + 3.141592653589793)'
        '/6.283185307179586)')
    restraint.addGlobalParameter('k', 5000.0)
    restraint.addPerTorsionParameter('t0')
    restraint.addTorsion(*PHI, [a.phi])
    restraint.addTorsion(*PSI, [a.psi])
    restraint.setForceGroup(31)
    system.addForce(restraint)
    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName('Reference'))
    context.setPositions(pdb.getPositions())
    openmm.LocalEnergyMinimizer.minimize(context, 0.1, 0)
    context.setParameter('k', 0.0)
    openmm.LocalEnergyMinimizer.minimize(context, 0.1, 0)
    state = context.getState(getPositions=True, getEnergy=True)
    x = np.asarray(state.getPositions(asNumpy=True).value_in_unit(unit.nanometer))
    energy = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
    with open(a.out + '.tmp', 'w') as fh:
        app.PDBFile.writeFile(pdb.topology, x * unit.nanometer, fh, keepIds=True)
    os.replace(a.out + '.tmp', a.out)
    print('%s: phi %.4f psi %.4f rad, energy %.3f kJ/mol' % (
        a.out, dihedral(x, PHI), dihedral(x, PSI), energy))


if __name__ == '__main__':
    main()
