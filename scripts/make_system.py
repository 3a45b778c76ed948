#!/usr/bin/python3
"""Build an OpenMM System (system.xml) and minimised end-state PDBs for GeoTPS from a PDB or a sequence.

A data-preparation helper (not part of the engine's run path); docs/bring_your_own_molecule.md
shows how to use it. Examples (from the repository root):

    /usr/bin/python3 scripts/make_system.py --sequence "ACE VAL NME" --out /tmp/val \\
        --state c7eq=-80,75 --state c7ax=75,-60
    /usr/bin/python3 scripts/make_system.py --pdb my_peptide.pdb --out /tmp/mine \\
        --forcefield amber14/protein.ff14SB.xml implicit/obc2.xml --state a=-150,150,-80,75

Input, one of:
  --pdb FILE        a PDB of the molecule. Missing heavy atoms are added by PDBFixer, missing
                    hydrogens by OpenMM's Modeller (force-field aware); water is removed; other
                    residues are kept. A complete PDB (all atoms, hydrogens included) keeps its atom
                    order.
  --sequence "..."  a capped peptide, three-letter residue names separated by spaces, commas or
                    dashes, ACE first and NME last, e.g. "ACE ALA ALA ALA NME". The backbone heavy
                    atoms and CB are placed from ideal internal coordinates (trans peptide bonds,
                    phi/psi of --build-phi-psi), PDBFixer adds the rest of the side chains, Modeller
                    the hydrogens. Residues are numbered 1..n (ACE = 1) in chain A.

Output (in --out DIR, created if missing; existing files there are replaced):
  system.xml        the System, serialised with openmm.XmlSerializer: ForceField(--forcefield ...),
                    nonbondedMethod=NoCutoff (vacuum, or implicit solvent when an implicit/*.xml file
                    is among the force fields), constraints=None, rigidWater=False. No constraints
                    because GeoTPS's Langevin dynamics integrates every atom (hydrogens included)
                    with no constraint solver; its time step must then stay at 1 fs or less.
  prepared.pdb      the prepared molecule, minimised without restraints (the atom order of system.xml)
  <NAME>.pdb        one per --state NAME=..., see below
  mdtraj_torsions.txt  the molecule's mdtraj phi/psi/chi1 torsions (scripts/cv_indices.py's --write
                    format: `<kind> <resSeq> <a> <b> <c> <d>` lines, 0-based atom indices)

--state NAME=v1,v2,...  targets for the torsions listed by --state-torsions (default: every phi and
psi that mdtraj finds, ordered by residue, phi before psi: for a capped peptide phi_2,psi_2,phi_3,
psi_3,...). Values are in degrees (or radians with --angle-unit rad); `*` leaves a torsion free.
The prepared molecule's torsions are first set to the targets by rotating the part of the molecule
beyond each torsion's central bond, then the energy is minimised under harmonic restraints
(--restraint-k, kJ/mol/rad^2) towards the targets, then (unless --keep-restrained) without them,
so that the state is a minimum of system.xml itself, which the engine's states.* must match. The
torsions reached are printed (rad and degrees); a torsion that moves more than --max-drift degrees
on release is reported (the target was not in a basin of its own), and an error unless
--allow-drift is given.

Checks (each failure is an error naming the file or argument):
  chirality  every CA with a CB must be L (the signed volume (N-CA).((C-CA)x(CB-CA)) > 0), and CB of
             ILE and THR must have the natural configuration. --chirality check (default) stops
             with a list of the wrong centres; --chirality fix mirrors each wrong residue's side
             chain (and its HA) through the N-CA-C plane, re-checks and goes on; --chirality
             ignore only reports them (for deliberate D residues). A wrong CB centre is mended by
             reflecting the atoms beyond CB through the plane of CA-CB that bisects its two heavy
             substituents.
  atoms      every PDB written is read back and must match the System atom for atom: number of
             atoms, residue and atom names, and each particle's mass equal to its element's mass.

Deterministic: OpenMM's Reference platform for every calculation (the default platform is set to
Reference for PDBFixer's and Modeller's own minimisations), Python's random seeded, PDB files
without a date. Needs Debian 12's python3-simtk (OpenMM 7.7, imported as `openmm`),
python3-pdbfixer and python3-mdtraj.
"""
import os

# PDBFixer and Modeller create Contexts without naming a platform; make that Reference, so that the
# output does not depend on which platforms the machine has (must be set before the first Context).
os.environ['OPENMM_DEFAULT_PLATFORM'] = 'Reference'

import argparse  # noqa: E402
import io  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cv_indices  # noqa: E402

PROG = 'make_system'
DEFAULT_FORCEFIELD = ['amber14/protein.ff14SB.xml']
BACKBONE = {'N', 'H', 'CA', 'C', 'O', 'OXT', 'H1', 'H2', 'H3'}
# Ideal geometry for the sequence builder (Angstrom, degrees; Engh & Huber-like values).
BOND = {('N', 'CA'): 1.458, ('CA', 'C'): 1.525, ('C', 'N'): 1.329, ('C', 'O'): 1.231,
        ('CA', 'CB'): 1.530}
ANGLE_AT = {'CA': 111.2, 'C': 116.2, 'N': 121.7}  # N-CA-C, CA-C-N, C-N-CA
ANGLE_CA_C_O = 120.5
ANGLE_N_CA_CB = 110.5
TORSION_C_N_CA_CB = -122.6  # gives an L centre (checked by the chirality check)
# CB centres with a natural configuration: residue -> the four atoms (CB, X, Y, Z) with
# (X-CB).((Y-CB)x(Z-CB)) > 0 in the L-amino acids' natural (2S,3S)-Ile and (2S,3R)-Thr.
CB_CENTRES = {'ILE': ('CA', 'CG1', 'CG2'), 'THR': ('CA', 'OG1', 'CG2')}
CB_SIGN = {'ILE': None, 'THR': None}  # filled from PDBFixer's templates at run time


def fail(msg):
    sys.exit('%s: error: %s' % (PROG, msg))


def note(msg):
    print(msg, flush=True)


# ---- geometry ------------------------------------------------------------------------------------

def place(a, b, c, bond, angle_deg, torsion_deg):
    """NeRF: position of d with |cd| = bond, angle(b, c, d) and torsion(a, b, c, d) as given."""
    angle = math.radians(angle_deg)
    torsion = math.radians(torsion_deg)
    bc = c - b
    bc /= np.linalg.norm(bc)
    n = np.cross(b - a, bc)
    n /= np.linalg.norm(n)
    m = np.cross(n, bc)
    d2 = np.array([-bond * math.cos(angle), bond * math.sin(angle) * math.cos(torsion),
                   bond * math.sin(angle) * math.sin(torsion)])
    return c + d2[0] * bc + d2[1] * m + d2[2] * n


def signed_volume(x, centre, a, b, c):
    return float(np.dot(x[a] - x[centre], np.cross(x[b] - x[centre], x[c] - x[centre])))


# ---- building from a sequence -----------------------------------------------------------------------

def parse_sequence(text):
    names = [t.upper() for t in re.split(r'[\s,\-]+', text.strip()) if t]
    if len(names) < 3 or names[0] != 'ACE' or names[-1] != 'NME':
        fail('--sequence %r: give a capped peptide, ACE first and NME last, three-letter names, '
             'e.g. "ACE ALA ALA NME"' % text)
    standard = {'ALA', 'ARG', 'ASN', 'ASP', 'CYS', 'GLN', 'GLU', 'GLY', 'HIS', 'ILE', 'LEU', 'LYS',
                'MET', 'PHE', 'PRO', 'SER', 'THR', 'TRP', 'TYR', 'VAL'}
    for i, n in enumerate(names[1:-1], start=2):
        if n not in standard:
            fail('--sequence %r: residue %d is %r, not one of the 20 standard amino acids '
                 '(three-letter names; caps only at the ends)' % (text, i, n))
    return names


def kabsch(mobile, target):
    """Rotation R and translation t minimising |R mobile_i + t - target_i|^2 (no reflection)."""
    mc, tc = mobile.mean(axis=0), target.mean(axis=0)
    h = (mobile - mc).T @ (target - tc)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    r = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return r, tc - r @ mc


def side_chain_from_template(resname, frame):
    """Heavy side-chain atoms beyond CB of PDBFixer's template residue (a natural L amino acid),
    placed by a rigid least-squares fit of the template's N, CA, C, CB onto `frame` (Angstrom).

    A rigid motion keeps every stereo centre of the template, so CB centres (ILE, THR) come out
    natural; PDBFixer's own addMissingAtoms, which minimises the new atoms with a soft force field,
    was seen to build THR with an inverted CB from a backbone with CB."""
    import pdbfixer
    from openmm import app, unit
    path = os.path.join(os.path.dirname(pdbfixer.__file__), 'templates', resname + '.pdb')
    pdb = app.PDBFile(path)
    x = np.asarray(pdb.getPositions(asNumpy=True).value_in_unit(unit.angstrom))
    idx = {a.name: a.index for a in pdb.topology.atoms()}
    keys = ('N', 'CA', 'C', 'CB')
    r, t = kabsch(np.array([x[idx[k]] for k in keys]), np.array([frame[k] for k in keys]))
    out = []
    for a in pdb.topology.atoms():
        if a.name in BACKBONE or a.name == 'CB' or a.element is None or a.element.symbol == 'H':
            continue
        out.append((a.name, a.element.symbol, r @ x[a.index] + t))
    return out


def build_backbone_pdb(names, phi_deg, psi_deg):
    """PDB text of the heavy atoms of ACE-X...-NME: backbone and CB from ideal internal coordinates
    at the given phi/psi, the rest of each side chain from PDBFixer's template residue."""
    atoms = []  # (resname, resseq, atomname, element, xyz)
    # Main chain as a list of (resseq, role, name); role CA for the atom in the CA position.
    chain = [(1, 'CA', 'CH3'), (1, 'C', 'C')]
    for r in range(2, len(names)):
        chain += [(r, 'N', 'N'), (r, 'CA', 'CA'), (r, 'C', 'C')]
    chain += [(len(names), 'N', 'N'), (len(names), 'CA', 'C')]
    pos = {}
    # First three atoms: CH3(ACE) at the origin, C(ACE) along x, N(2) in the xy plane.
    roles = [role for _, role, _ in chain]
    pos[0] = np.zeros(3)
    pos[1] = np.array([1.52, 0.0, 0.0])
    ang = math.radians(ANGLE_AT['C'])
    pos[2] = pos[1] + BOND[('C', 'N')] * np.array([-math.cos(ang), math.sin(ang), 0.0])
    for k in range(3, len(chain)):
        res, role, _ = chain[k]
        prev = roles[k - 1]
        bond = BOND[(prev, role)] if (prev, role) in BOND else 1.449
        angle = ANGLE_AT[prev]
        if role == 'CA':
            torsion = 180.0  # omega
        elif role == 'C':
            torsion = phi_deg  # C(r-1)-N(r)-CA(r)-C(r)
        else:  # N of residue res: psi of residue res-1
            torsion = psi_deg
        pos[k] = place(pos[k - 3], pos[k - 2], pos[k - 1], bond, angle, torsion)
    index = {(chain[k][0], chain[k][1]): k for k in range(len(chain))}
    for k, (res, role, name) in enumerate(chain):
        rname = names[res - 1]
        atoms.append((rname, res, name, name[0], pos[k]))
        if role == 'C':  # carbonyl O: trans to N(r+1) about CA-C
            o = place(pos[index[(res + 1, 'N')]], pos[k - 1], pos[k], BOND[('C', 'O')],
                      ANGLE_CA_C_O, 180.0)
            atoms.append((rname, res, 'O', 'O', o))
        if role == 'CA' and rname not in ('ACE', 'NME', 'GLY'):
            cb = place(pos[index[(res, 'C')]], pos[k - 1], pos[k], BOND[('CA', 'CB')],
                       ANGLE_N_CA_CB, TORSION_C_N_CA_CB)
            atoms.append((rname, res, 'CB', 'C', cb))
            for name, el, xyz in side_chain_from_template(
                    rname, {'N': pos[k - 1], 'CA': pos[k], 'C': pos[index[(res, 'C')]], 'CB': cb}):
                atoms.append((rname, res, name, el, xyz))
    lines = []
    for i, (rname, res, name, el, xyz) in enumerate(atoms, start=1):
        aname = (' ' + name) if len(name) < 4 else name
        lines.append('ATOM  %5d %-4s %3s A%4d    %8.3f%8.3f%8.3f  1.00  0.00          %2s'
                     % (i, aname, rname, res, xyz[0], xyz[1], xyz[2], el))
    lines.append('TER')
    lines.append('END')
    return '\n'.join(lines) + '\n'


# ---- preparing the molecule ---------------------------------------------------------------------

def fix_heavy_atoms(pdb_path, label):
    """(topology, positions) with missing heavy atoms added by PDBFixer; None if none are missing."""
    from pdbfixer import PDBFixer
    try:
        fixer = PDBFixer(filename=pdb_path)
    except Exception as e:  # noqa: BLE001
        fail('%s: PDBFixer cannot read it: %s' % (label, e))
    fixer.findMissingResidues()
    if fixer.missingResidues:
        note('%s: PDBFixer reports missing residues %s; they are NOT built (give a complete chain)'
             % (label, sorted(fixer.missingResidues)))
        fixer.missingResidues = {}
    fixer.findNonstandardResidues()
    if fixer.nonstandardResidues:
        fail('%s: nonstandard residues %s; replace them (e.g. pdbfixer) before using this script'
             % (label, [(r.name, r.id) for r, _ in fixer.nonstandardResidues]))
    fixer.findMissingAtoms()
    missing = {r: [a.name for a in atoms] for r, atoms in fixer.missingAtoms.items()}
    terminals = {r: names for r, names in fixer.missingTerminals.items()}
    if not missing and not terminals:
        return None
    for r, names in missing.items():
        note('%s: PDBFixer adds %s to %s %s' % (label, ' '.join(names), r.name, r.id))
    for r, names in terminals.items():
        note('%s: PDBFixer adds terminal %s to %s %s' % (label, ' '.join(names), r.name, r.id))
    import logging
    logging.disable(logging.WARNING)  # PDBFixer's soft.xml imports simtk.openmm, which logs a warning
    try:
        fixer.addMissingAtoms(seed=0)
    finally:
        logging.disable(logging.NOTSET)
    return fixer.topology, fixer.positions


def chirality_problems(topology, x):
    """[(residue label, centre, signed volume)] of CA (and ILE/THR CB) centres that are not natural."""
    bad = []
    for res in topology.residues():
        atoms = {a.name: a.index for a in res.atoms()}
        if all(n in atoms for n in ('N', 'CA', 'C', 'CB')):
            v = signed_volume(x, atoms['CA'], atoms['N'], atoms['C'], atoms['CB'])
            if v <= 0:
                bad.append(('%s %s' % (res.name, res.id), 'CA', v))
        if res.name in CB_CENTRES and 'CB' in atoms:
            names = CB_CENTRES[res.name]
            if all(n in atoms for n in names):
                v = signed_volume(x, atoms['CB'], *(atoms[n] for n in names))
                if v * CB_SIGN[res.name] <= 0:
                    bad.append(('%s %s' % (res.name, res.id), 'CB', v))
    return bad


def cb_signs_from_templates():
    """Sign of the CB signed volume of ILE and THR in PDBFixer's (natural, L) residue templates."""
    import pdbfixer
    from openmm import app, unit
    tdir = os.path.join(os.path.dirname(pdbfixer.__file__), 'templates')
    for name, names in CB_CENTRES.items():
        pdb = app.PDBFile(os.path.join(tdir, name + '.pdb'))
        x = np.asarray(pdb.getPositions(asNumpy=True).value_in_unit(unit.angstrom))
        idx = {a.name: a.index for a in pdb.topology.atoms()}
        CB_SIGN[name] = math.copysign(1.0, signed_volume(x, idx['CB'], *(idx[n] for n in names)))
        ca = signed_volume(x, idx['CA'], idx['N'], idx['C'], idx['CB'])
        if ca <= 0:
            fail('PDBFixer template %s.pdb is not L by this script\'s rule; chirality check unusable'
                 % name)


def mirror_side_chains(topology, x, residues):
    """Reflect each listed residue's side chain and HA through its N-CA-C plane (D <-> L)."""
    x = x.copy()
    for res in topology.residues():
        if '%s %s' % (res.name, res.id) not in residues:
            continue
        atoms = {a.name: a.index for a in res.atoms()}
        n, ca, c = x[atoms['N']], x[atoms['CA']], x[atoms['C']]
        normal = np.cross(n - ca, c - ca)
        normal /= np.linalg.norm(normal)
        for a in res.atoms():
            if a.name in BACKBONE:
                continue
            d = np.dot(x[a.index] - ca, normal)
            x[a.index] = x[a.index] - 2.0 * d * normal
    return x


def mirror_beyond_cb(topology, x, residues):
    """Invert the CB centre of each listed ILE/THR: reflect the atoms beyond CB through the plane
    that holds CA-CB and bisects its two heavy substituents (which then trade places)."""
    x = x.copy()
    for res in topology.residues():
        if '%s %s' % (res.name, res.id) not in residues:
            continue
        atoms = {a.name: a.index for a in res.atoms()}
        _, g1, g2 = CB_CENTRES[res.name]
        ca, cb = x[atoms['CA']], x[atoms['CB']]
        axis = (cb - ca) / np.linalg.norm(cb - ca)
        normal = x[atoms[g1]] - x[atoms[g2]]
        normal -= np.dot(normal, axis) * axis
        normal /= np.linalg.norm(normal)
        for a in res.atoms():
            if a.name in BACKBONE or a.name in ('CB', 'HA'):
                continue
            d = np.dot(x[a.index] - cb, normal)
            x[a.index] = x[a.index] - 2.0 * d * normal
    return x


def check_chirality(topology, x, mode, label):
    bad = chirality_problems(topology, x)
    n_centres = sum(1 for r in topology.residues() if {'N', 'CA', 'C', 'CB'} <= {a.name for a in r.atoms()})
    if not bad:
        note('%s: chirality check: all %d CA centres with a CB are L%s' % (
            label, n_centres,
            ' (and CB of ILE/THR natural)' if any(r.name in CB_CENTRES for r in topology.residues())
            else ''))
        return x
    desc = ', '.join('%s %s (signed volume %.3f A^3)' % (r, c, v) for r, c, v in bad)
    if mode == 'ignore':
        note('%s: chirality check: NOT natural (kept, --chirality ignore): %s' % (label, desc))
        return x
    if mode == 'check':
        fail('%s: chirality check: %s not L/natural: %s. Rebuild the residue, or rerun with '
             '--chirality fix (mirrors the side chain through the N-CA-C plane; a CB centre: the atoms '
             'beyond CB)' % (
                 label, 'centre is' if len(bad) == 1 else 'centres are', desc))
    x = mirror_side_chains(topology, x, {r for r, c, _ in bad if c == 'CA'})
    x = mirror_beyond_cb(topology, x, {r for r, c, _ in bad if c == 'CB'})
    still = chirality_problems(topology, x)
    if still:
        fail('%s: chirality fix failed for %s' % (label, still))
    note('%s: chirality check: fixed (CA: side chain mirrored through N-CA-C; CB: atoms beyond CB '
         'mirrored): %s' % (label, desc))
    return x


def add_hydrogens(topology, positions, forcefield, ph):
    from openmm import app, Platform
    modeller = app.Modeller(topology, positions)
    modeller.deleteWater()
    modeller.addHydrogens(forcefield, pH=ph, platform=Platform.getPlatformByName('Reference'))
    return modeller.topology, modeller.positions


# ---- System, checks, minimisation ---------------------------------------------------------------

def create_system(forcefield, topology, ff_names):
    from openmm import app
    try:
        return forcefield.createSystem(topology, nonbondedMethod=app.NoCutoff, constraints=None,
                                       rigidWater=False)
    except Exception as e:  # noqa: BLE001
        fail('--forcefield %s: cannot parametrise the molecule: %s' % (' '.join(ff_names), e))


def atom_signature(topology):
    return [(r.name, a.name, a.element.symbol if a.element is not None else None)
            for r in topology.residues() for a in r.atoms()]


def check_pdb_matches(path, topology, system):
    """The PDB at path, read back, matches topology and system atom for atom."""
    from openmm import app, unit
    pdb = app.PDBFile(path)
    got, want = atom_signature(pdb.topology), atom_signature(topology)
    if len(got) != system.getNumParticles():
        fail('%s: %d atoms, the System has %d' % (path, len(got), system.getNumParticles()))
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            fail('%s: atom %d is %s, the System\'s atom %d is %s' % (path, i, g, i, w))
    for i, atom in enumerate(pdb.topology.atoms()):
        m = system.getParticleMass(i).value_in_unit(unit.dalton)
        if atom.element is None or abs(m - atom.element.mass.value_in_unit(unit.dalton)) > 0.1:
            fail('%s: atom %d (%s) has mass %.4f amu in the System, not its element\'s (within 0.1 amu): atom order differs?' % (
                path, i, atom.name, m))
    return np.asarray(pdb.getPositions(asNumpy=True).value_in_unit(unit.nanometer))


def write_pdb(path, topology, x_nm, label):
    from openmm import app, unit
    buf = io.StringIO()
    app.PDBFile.writeFile(topology, x_nm * unit.nanometer, buf, keepIds=True)
    lines = [line for line in buf.getvalue().splitlines() if not line.startswith('REMARK')]
    text = 'REMARK   1 %s: written by scripts/make_system.py\n' % label + '\n'.join(lines) + '\n'
    with open(path + '.tmp', 'w') as fh:
        fh.write(text)
    os.replace(path + '.tmp', path)


def reference_context(system):
    import openmm
    return openmm.Context(system, openmm.VerletIntegrator(0.001),
                          openmm.Platform.getPlatformByName('Reference'))


def minimise(system, x_nm, restraints, k, tolerance, release):
    """Minimise under torsion restraints [(quad, target rad)], then without them if release.

    Returns (restrained positions, final positions, final energy without restraints)."""
    import openmm
    from openmm import unit
    system = openmm.XmlSerializer.deserialize(openmm.XmlSerializer.serialize(system))
    for f in system.getForces():
        f.setForceGroup(0)
    force = openmm.CustomTorsionForce(
        '0.5*k_restraint*d^2; d = theta - t0 - 6.283185307179586*floor((theta - t0 + '
        '3.141592653589793)/6.283185307179586)')
    force.addGlobalParameter('k_restraint', k)
    force.addPerTorsionParameter('t0')
    for quad, t0 in restraints:
        force.addTorsion(*quad, [t0])
    force.setForceGroup(1)
    system.addForce(force)
    context = reference_context(system)
    context.setPositions(x_nm * unit.nanometer)
    if restraints:
        openmm.LocalEnergyMinimizer.minimize(context, tolerance, 0)
    restrained = np.asarray(context.getState(getPositions=True).getPositions(asNumpy=True)
                            .value_in_unit(unit.nanometer))
    if release or not restraints:
        context.setParameter('k_restraint', 0.0)
        openmm.LocalEnergyMinimizer.minimize(context, tolerance, 0)
    state = context.getState(getPositions=True, getEnergy=True, groups={0})
    final = np.asarray(state.getPositions(asNumpy=True).value_in_unit(unit.nanometer))
    return restrained, final, state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)


def energy_and_max_force(system, x_nm):
    from openmm import unit
    context = reference_context(system)
    context.setPositions(x_nm * unit.nanometer)
    st = context.getState(getEnergy=True, getForces=True)
    f = np.asarray(st.getForces(asNumpy=True).value_in_unit(unit.kilojoule_per_mole / unit.nanometer))
    return st.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole), float(np.abs(f).max())


# ---- torsion setting ------------------------------------------------------------------------------

def set_torsion(x, topology, quad, target):
    """Rotate the atoms beyond the bond b-c (the side holding c) so that torsion quad = target."""
    a, b, c, d = quad
    adj = {i: set() for i in range(len(x))}
    for a1, a2 in topology.bonds():
        adj[a1.index].add(a2.index)
        adj[a2.index].add(a1.index)
    side, stack = {c}, [c]
    while stack:
        i = stack.pop()
        for j in adj[i]:
            if j not in side and not (i == c and j == b):
                side.add(j)
                stack.append(j)
    if b in side:  # the bond is in a ring: cannot rotate
        return x, False
    # Move the smaller part (fewer atoms to disturb); rotating the other side by -delta is equivalent.
    delta = target - cv_indices.dihedral(x, quad)
    axis_from, axis_to, moving = b, c, side
    if len(side) > len(x) / 2:
        moving = set(range(len(x))) - side
        delta = -delta
    u = x[axis_to] - x[axis_from]
    u /= np.linalg.norm(u)

    def rotated(angle):  # Rodrigues rotation of the moving atoms about the axis b -> c
        cos, sin = math.cos(angle), math.sin(angle)
        y = x.copy()
        for i in moving:
            v = x[i] - x[axis_from]
            y[i] = x[axis_from] + v * cos + np.cross(u, v) * sin + u * np.dot(u, v) * (1 - cos)
        return y

    def error(y):
        e = cv_indices.dihedral(y, quad) - target
        return abs(e - 2 * math.pi * math.floor((e + math.pi) / (2 * math.pi)))

    y = rotated(delta)
    if error(y) > 1e-6:  # the other sense of rotation
        y = rotated(-delta)
    if error(y) > 1e-6:
        fail('internal error: could not set torsion %s' % (quad,))
    return y, True


# ---- command line ---------------------------------------------------------------------------------

TORSION_NAME = re.compile(r'^\s*(phi|psi|chi1)\s*[:_ ]?\s*(-?\d+)\s*$', re.IGNORECASE)


def parse_state(spec, n, unit_name):
    if '=' not in spec:
        fail('--state %r: expected NAME=v1,v2,... (NAME becomes NAME.pdb)' % spec)
    name, values = spec.split('=', 1)
    name = name.strip()
    if not re.match(r'^[A-Za-z0-9_.+-]+$', name) or name in ('system', 'prepared'):
        fail('--state %r: NAME %r must be letters, digits, _.+- and not system/prepared'
             % (spec, name))
    items = [v.strip() for v in values.split(',')]
    if len(items) != n:
        fail('--state %r: %d values for %d torsions (the torsion list is printed above; use `*` '
             'to leave one free)' % (spec, len(items), n))
    out = []
    for v in items:
        if v == '*':
            out.append(None)
            continue
        try:
            t = float(v)
        except ValueError:
            fail('--state %r: %r is not a number or `*`' % (spec, v))
        out.append(math.radians(t) if unit_name == 'deg' else t)
    return name, out


def main():
    p = argparse.ArgumentParser(
        description=__doc__.split('\n')[0], epilog='Details: docs/bring_your_own_molecule.md',
        formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--pdb', metavar='FILE', help='PDB of the molecule')
    src.add_argument('--sequence', metavar='"ACE X ... NME"', help='capped peptide to build')
    p.add_argument('--out', metavar='DIR', required=True, help='output folder')
    p.add_argument('--forcefield', metavar='XML', nargs='+', default=DEFAULT_FORCEFIELD,
                   help='OpenMM force-field files (default: %(default)s); add e.g. implicit/obc2.xml '
                        'or implicit/gbn2.xml for implicit solvent')
    p.add_argument('--state', metavar='NAME=v1,v2,...', action='append', default=[],
                   help='an end state: torsion targets (see --state-torsions); repeatable')
    p.add_argument('--state-torsions', metavar='LIST', default='backbone',
                   help='the torsions --state values refer to: `backbone` (default: all mdtraj phi '
                        'and psi, by residue, phi first) or a comma list like "phi_2,psi_2,chi1_2" '
                        '(residue = PDB residue number of the CA)')
    p.add_argument('--angle-unit', choices=('deg', 'rad'), default='deg',
                   help='unit of --state and --build-phi-psi values (default: deg)')
    p.add_argument('--build-phi-psi', metavar='PHI,PSI', default='-150,150',
                   help='--sequence only: phi,psi of every residue as built (default: %(default)s '
                        'degrees, extended)')
    p.add_argument('--restraint-k', type=float, default=5000.0, metavar='K',
                   help='torsion restraint constant, kJ/mol/rad^2 (default: %(default)s)')
    p.add_argument('--keep-restrained', action='store_true',
                   help='write the restrained minimum (do not release the restraints)')
    p.add_argument('--max-drift', type=float, default=30.0, metavar='DEG',
                   help='largest change of a restrained torsion on release (default: %(default)s)')
    p.add_argument('--allow-drift', action='store_true', help='only warn when --max-drift is exceeded')
    p.add_argument('--tolerance', type=float, default=0.1, metavar='KJ_MOL_NM',
                   help='LocalEnergyMinimizer tolerance, kJ/mol/nm (default: %(default)s)')
    p.add_argument('--chirality', choices=('check', 'fix', 'ignore'), default='check',
                   help='what to do with a D (or unnatural) centre (default: %(default)s = error)')
    p.add_argument('--ph', type=float, default=7.0, help='pH for the hydrogens (default: %(default)s)')
    a = p.parse_args()

    random.seed(0)
    import openmm
    import mdtraj
    import pdbfixer  # noqa: F401
    from openmm import app, unit

    unit_name = a.angle_unit
    try:
        ff = app.ForceField(*a.forcefield)
    except Exception as e:  # noqa: BLE001
        fail('--forcefield %s: %s (files are looked up in OpenMM\'s data folder %s, or give a path)'
             % (' '.join(a.forcefield), e, os.path.join(os.path.dirname(app.__file__), 'data')))
    cb_signs_from_templates()
    os.makedirs(a.out, exist_ok=True)

    # 1. The molecule: heavy atoms.
    with tempfile.TemporaryDirectory() as tmp:
        if a.sequence:
            names = parse_sequence(a.sequence)
            try:
                phi0, psi0 = (float(v) for v in a.build_phi_psi.split(','))
            except ValueError:
                fail('--build-phi-psi %r: expected two numbers PHI,PSI' % a.build_phi_psi)
            if unit_name == 'rad':
                phi0, psi0 = math.degrees(phi0), math.degrees(psi0)
            label = '--sequence %r' % ' '.join(names)
            src_path = os.path.join(tmp, 'backbone.pdb')
            with open(src_path, 'w') as fh:
                fh.write(build_backbone_pdb(names, phi0, psi0))
        else:
            if not os.path.isfile(a.pdb):
                fail('--pdb %s: no such file' % a.pdb)
            with open(a.pdb, errors='replace') as fh:
                if not any(line.startswith(('ATOM', 'HETATM')) for line in fh):
                    fail('--pdb %s: no ATOM or HETATM records' % a.pdb)
            label = a.pdb
            src_path = a.pdb
        fixed = fix_heavy_atoms(src_path, label)
        if fixed is None:
            try:
                pdb = app.PDBFile(src_path)
            except Exception as e:  # noqa: BLE001
                fail('%s: OpenMM cannot read it: %s' % (label, e))
            topology, positions = pdb.topology, pdb.positions
        else:
            topology, positions = fixed
    n_heavy_in = sum(1 for at in topology.atoms() if at.element is not None and at.element.symbol != 'H')

    # 2. Chirality of the heavy atoms (HA comes later from Modeller, placed from N, C and CB).
    x = np.array([[v.x, v.y, v.z] for v in positions.value_in_unit(unit.angstrom)], dtype=np.float64)
    x = check_chirality(topology, x, a.chirality, label + ' (heavy atoms)')
    positions = [openmm.Vec3(*v) for v in (x / 10.0)] * unit.nanometer

    # 3. Hydrogens, System.
    n_before = topology.getNumAtoms()
    topology, positions = add_hydrogens(topology, positions, ff, a.ph)
    note('%s: %d heavy atoms; Modeller added %d hydrogens; %d atoms in %d residues: %s' % (
        label, n_heavy_in, topology.getNumAtoms() - n_before, topology.getNumAtoms(),
        topology.getNumResidues(), ' '.join('%s%s' % (r.name, r.id) for r in topology.residues())))
    system = create_system(ff, topology, a.forcefield)
    forces = [f.__class__.__name__ for f in system.getForces()]
    note('System: %d particles; forces %s; force field %s; NoCutoff, no constraints' % (
        system.getNumParticles(), ', '.join(forces), ' '.join(a.forcefield)))
    x_nm = np.array([[v.x, v.y, v.z] for v in positions.value_in_unit(unit.nanometer)],
                    dtype=np.float64)
    x_nm = check_chirality(topology, x_nm * 10.0, a.chirality, label + ' (with hydrogens)') / 10.0

    sys_path = os.path.join(a.out, 'system.xml')
    with open(sys_path + '.tmp', 'w') as fh:
        fh.write(openmm.XmlSerializer.serialize(system))
    os.replace(sys_path + '.tmp', sys_path)
    note('wrote %s' % sys_path)

    # 4. Torsions (mdtraj) and the state torsion list.
    md_top = mdtraj.Topology.from_openmm(topology)
    torsions = cv_indices.torsions_of_topology(md_top)
    by_name = {(k, r): (k, r, rn, q) for k, r, rn, q in torsions}
    if a.state_torsions == 'backbone':
        chosen = sorted((t for t in torsions if t[0] in ('phi', 'psi')),
                        key=lambda t: (t[1], 0 if t[0] == 'phi' else 1))
    else:
        chosen = []
        for item in a.state_torsions.split(','):
            m = TORSION_NAME.match(item)
            if not m or (m.group(1).lower(), int(m.group(2))) not in by_name:
                fail('--state-torsions: %r is not one of the molecule\'s torsions (%s)' % (
                    item, ', '.join('%s_%d' % key for key in sorted(by_name, key=lambda t: t[::-1]))))
            chosen.append(by_name[(m.group(1).lower(), int(m.group(2)))])
    tor_path = os.path.join(a.out, 'mdtraj_torsions.txt')
    with open(tor_path, 'w') as fh:
        fh.write(cv_indices.torsion_file_text(
            torsions, os.path.join(a.out, 'prepared.pdb'),
            '/usr/bin/python3 scripts/make_system.py (the same as scripts/cv_indices.py on any PDB '
            'it writes)'))

    # 5. Unrestrained minimum of the prepared molecule: prepared.pdb.
    _, x_start, e_start = minimise(system, x_nm, [], a.restraint_k, a.tolerance, True)
    start_path = os.path.join(a.out, 'prepared.pdb')
    write_pdb(start_path, topology, x_start, 'prepared molecule, minimised without restraints')
    check_pdb_matches(start_path, topology, system)

    def describe(x):
        return ' '.join('%s_%d=%.4f(%.1f)' % (k, r, cv_indices.dihedral(x, q),
                                             math.degrees(cv_indices.dihedral(x, q)))
                        for k, r, _, q in chosen)

    note('torsions for --state (rad (deg), mdtraj 0-based atoms):')
    for k, r, rn, q in chosen:
        note('  %-5s %-8s atoms %s' % (k, '%s %d' % (rn, r), ' '.join(str(i) for i in q)))
    note('prepared.pdb: E = %.4f kJ/mol; %s' % (e_start, describe(x_start)))

    # 6. States.
    states = [parse_state(s, len(chosen), unit_name) for s in a.state]
    seen = set()
    drifted = []
    for name, targets in states:
        if name in seen:
            fail('--state %s given twice' % name)
        seen.add(name)
        x = x_start.copy()
        restraints = []
        for (k, r, _, q), t in zip(chosen, targets):
            if t is None:
                continue
            x, ok = set_torsion(x, topology, q, t)
            if not ok:
                note('state %s: %s_%d is about a ring bond; only the restraint drives it' % (name, k, r))
            restraints.append((q, t))
        x_r, x_f, e_f = minimise(system, x, restraints, a.restraint_k, a.tolerance,
                                 not a.keep_restrained)
        path = os.path.join(a.out, name + '.pdb')
        write_pdb(path, topology, x_f, 'state %s' % name)
        x_back = check_pdb_matches(path, topology, system)
        x_back = x_back.astype(np.float64)
        check_chirality(topology, x_back * 10.0, 'check' if a.chirality != 'ignore' else 'ignore',
                        path)
        e_pdb, fmax = energy_and_max_force(system, x_back)
        note('state %s: targets %s' % (name, ' '.join(
            '*' if t is None else '%.1f' % math.degrees(t) for t in targets)))
        note('  restrained:  %s' % describe(x_r))
        note('  %s %s' % ('written:    ' if a.keep_restrained else 'released:   ', describe(x_f)))
        note('  E = %.4f kJ/mol (minimiser), %.4f kJ/mol as written to %s (max |F| %.2f kJ/mol/nm)'
             % (e_f, e_pdb, path, fmax))
        for (k, r, _, q), t in zip(chosen, targets):
            if t is None:
                continue
            diff = cv_indices.dihedral(x_f, q) - t
            diff = math.degrees(diff - 2 * math.pi * math.floor((diff + math.pi) / (2 * math.pi)))
            if abs(diff) > a.max_drift:
                drifted.append('%s: %s_%d %.1f deg from its target' % (name, k, r, diff))
    if drifted:
        msg = ('restrained torsions moved more than --max-drift %.0f deg on release (the target is '
               'not a minimum of its own; the PDBs are written, but pick targets in a basin, or '
               'use --keep-restrained or --allow-drift): %s'
               % (a.max_drift, '; '.join(drifted)))
        if a.allow_drift:
            note('warning: ' + msg)
        else:
            fail(msg)
    note('done: %s' % a.out)


if __name__ == '__main__':
    main()
