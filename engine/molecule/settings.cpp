// Configuration keys read by engine/molecule/ (sections of the job schema, assembled in
// engine/config/schema.cpp).
#include "engine/molecule/settings.h"

#include <fmt/format.h>

// Keys are written with designated initializers; members left out keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace geotps {

/// cv.* and dynamics.*: the collective variables of a molecule and its Langevin dynamics
const std::vector<KeySpec>& moleculeKeys() {
  static const std::vector<KeySpec> keys = {
      {.key = "cv.variables",
       .type = KeyType::StringList,
       .defaultValue = "[]",
       .unit = "",
       .description =
           "the collective variables of an openmm job, D = their number: each a torsion named "
           "'<kind> <residue number>' (kind phi, psi, omega, chi1 or chi2 with mdtraj's atom "
           "definitions, residue numbers as in potential.pdb_a, e.g. 'phi 2') or given by four "
           "0-based atom indices ('4 6 8 14' or [4, 6, 8, 14]), bonded in sequence. Empty: the "
           "two torsions cv.phi_atoms and cv.psi_atoms (docs/method.md, \"Collective variables "
           "of a molecule\")"},
      {.key = "cv.phi_atoms",
       .type = KeyType::RealList,
       .defaultValue = "[4, 6, 8, 14]",
       .unit = "atom index (0-based)",
       .description = "the four atoms of the first dihedral CV, phi (openmm only): distinct and "
                      "bonded in sequence. The default is alanine dipeptide's; when neither "
                      "cv.phi_atoms nor cv.psi_atoms is set, the defaults must select atoms named "
                      "C-N-CA-C (phi) and N-CA-C-N (psi) in potential.pdb_a, so that another "
                      "molecule does not silently get some other torsion",
       .listLength = 4},
      {.key = "cv.psi_atoms",
       .type = KeyType::RealList,
       .defaultValue = "[6, 8, 14, 16]",
       .unit = "atom index (0-based)",
       .description = "the four atoms of the second dihedral CV, psi (openmm only); see "
                      "cv.phi_atoms",
       .listLength = 4},
      {.key = "cv.surface",
       .type = KeyType::Path,
       .defaultValue = "../data/alanine_dipeptide/adiabatic_phi_psi_72.dat",
       .unit = "",
       .description = "(phi, psi) free-energy surface in kJ/mol for the geodesic's denoiser, e.g. "
                      "written by `geotps surface` (openmm jobs with two CVs; with any other "
                      "number of CVs the job has no CV surface and needs denoiser.type torch)"},
      {.key = "dynamics.temperature",
       .type = KeyType::Real,
       .defaultValue = "300.0",
       .unit = "K",
       .description =
           "temperature of the full-atom Langevin dynamics; kT = R T replaces the kT key "
           "for openmm jobs",
       .min = 0.0,
       .minExclusive = true},
      {.key = "dynamics.friction",
       .type = KeyType::Real,
       .defaultValue = "1.0",
       .unit = "1/ps",
       .description = "Langevin friction coefficient (openmm only)",
       .min = 0.0,
       .minExclusive = true},
      {.key = "dynamics.time_step",
       .type = KeyType::Real,
       .defaultValue = "0.001",
       .unit = "ps",
       .description = "Langevin (LangevinMiddle) time step; the System has no constraints, so keep "
                      "it at 1 fs or below (openmm only)",
       .min = 0.0,
       .max = 0.01,
       .minExclusive = true},
  };
  return keys;
}

/// surface.*: the (phi, psi) surface of `geotps surface`
const std::vector<KeySpec>& surfaceKeys() {
  static const std::vector<KeySpec> keys = {
      {.key = "surface.kind",
       .type = KeyType::String,
       .defaultValue = "adiabatic",
       .unit = "",
       .description =
           "what `geotps surface` computes: adiabatic = the energy minimised under a (phi, psi) "
           "restraint (zero temperature); free_energy = F(phi, psi) at dynamics.temperature by "
           "umbrella sampling on a surface.windows x surface.windows grid and binned WHAM "
           "(docs/method.md, \"Free-energy surface\")",
       .choices = {"adiabatic", "free_energy"}},
      {.key = "surface.grid_size",
       .type = KeyType::Int,
       .defaultValue = "72",
       .unit = "1",
       .description = "points per angle of the surface written by `geotps surface` (for "
                      "free_energy: the WHAM bins, centred at the points)",
       .min = 8.0,
       .max = 720.0},
      {.key = "surface.restraint_stiffness",
       .type = KeyType::Real,
       .defaultValue = "5000.0",
       .unit = "kJ/mol/rad^2",
       .description = "stiffness of the (phi, psi) restraint during the map's minimisations (and "
                      "the free-energy run's placing of each row of windows)",
       .min = 0.0,
       .minExclusive = true},
      {.key = "surface.tolerance",
       .type = KeyType::Real,
       .defaultValue = "1.0",
       .unit = "kJ/mol/nm",
       .description = "force tolerance of each restrained minimisation",
       .min = 0.0,
       .minExclusive = true},
      {.key = "surface.windows",
       .type = KeyType::Int,
       .defaultValue = "36",
       .unit = "1",
       .description = "umbrella windows per angle (free_energy): centres at -pi + i 2pi/windows; "
                      "keep the spacing within about two widths sqrt(kT/umbrella_stiffness)",
       .min = 4.0,
       .max = 360.0},
      {.key = "surface.umbrella_stiffness",
       .type = KeyType::Real,
       .defaultValue = "200.0",
       .unit = "kJ/mol/rad^2",
       .description = "stiffness kappa of each window's harmonic (phi, psi) bias (free_energy)",
       .min = 0.0,
       .max = 1e5,
       .minExclusive = true},
      {.key = "surface.equilibration_steps",
       .type = KeyType::Int,
       .defaultValue = "1000",
       .unit = "steps",
       .description = "Langevin steps per window before recording (free_energy)",
       .min = 0.0,
       .max = 1e8},
      {.key = "surface.sampling_steps",
       .type = KeyType::Int,
       .defaultValue = "10000",
       .unit = "steps",
       .description = "Langevin steps per window while recording (free_energy)",
       .min = 1.0,
       .max = 1e8},
      {.key = "surface.sample_stride",
       .type = KeyType::Int,
       .defaultValue = "10",
       .unit = "steps",
       .description = "steps between recorded (phi, psi) of a window (free_energy); at most "
                      "surface.sampling_steps",
       .min = 1.0,
       .max = 1e8},
      {.key = "surface.output",
       .type = KeyType::String,
       .defaultValue = "\"\"",
       .unit = "",
       .description = "file written by `geotps surface` (empty: results/<name>_surface.dat, or "
                      "results/<name>_free_energy.dat for surface.kind free_energy)"},
  };
  return keys;
}

MoleculeSettings readMoleculeSettings(const Config& c) {
  MoleculeSettings s;
  s.phiAtoms = c.getRealList("cv.phi_atoms");
  s.psiAtoms = c.getRealList("cv.psi_atoms");
  s.defaultCvAtoms = !c.isSet("cv.phi_atoms") && !c.isSet("cv.psi_atoms");
  s.cvVariables = c.getStringList("cv.variables");
  if (!s.cvVariables.empty() && !s.defaultCvAtoms) {
    throw ConfigError(fmt::format(
        "{}: keys 'cv.variables' and '{}' are both set; expected one way of giving the CVs: "
        "cv.variables (any number of torsions) or cv.phi_atoms and cv.psi_atoms (two)",
        c.sourceName(), c.isSet("cv.phi_atoms") ? "cv.phi_atoms" : "cv.psi_atoms"));
  }
  s.cvSurface = c.getString("cv.surface");
  s.cvSurfaceSet = c.isSet("cv.surface");
  s.temperatureK = c.getReal("dynamics.temperature");
  s.frictionPerPs = c.getReal("dynamics.friction");
  s.timeStepPs = c.getReal("dynamics.time_step");
  return s;
}

SurfaceSettings readSurfaceSettings(const Config& c) {
  SurfaceSettings s;
  s.kind = c.getString("surface.kind");
  s.gridSize = static_cast<int>(c.getInt("surface.grid_size"));
  s.windows = static_cast<int>(c.getInt("surface.windows"));
  s.umbrellaStiffness = c.getReal("surface.umbrella_stiffness");
  s.equilibrationSteps = c.getInt("surface.equilibration_steps");
  s.samplingSteps = c.getInt("surface.sampling_steps");
  s.sampleStride = static_cast<int>(c.getInt("surface.sample_stride"));
  s.restraintStiffness = c.getReal("surface.restraint_stiffness");
  s.tolerance = c.getReal("surface.tolerance");
  s.output = c.getString("surface.output");
  return s;
}

}  // namespace geotps
