// Configuration keys read by engine/problem/ (sections of the job schema, assembled in
// engine/config/schema.cpp).
#include "engine/problem/settings.h"

// Keys are written with designated initializers; members left out keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace geotps {

/// potential.*: which Boltzmann potential a job samples
const std::vector<KeySpec>& potentialKeys() {
  static const std::vector<KeySpec> keys = {
      {.key = "potential.type",
       .type = KeyType::String,
       .defaultValue = "tabulated_surface",
       .unit = "",
       .description =
           "energy surface U(x): a tabulated grid file (2-D), an analytic 2-D test potential "
           "(mueller_brown, double_well), the D-dimensional double well double_well_nd "
           "(docs/method.md, \"Analytic potentials in D dimensions\") or a molecule (openmm)",
       .choices = {"tabulated_surface", "mueller_brown", "double_well", "double_well_nd",
                   "openmm"}},
      {.key = "potential.file",
       .type = KeyType::Path,
       .defaultValue = "../data/alanine_dipeptide/phi_psi_surface.dat",
       .unit = "",
       .description = "grid file with columns `x y U` (tabulated_surface only); relative to the "
                      "config file's folder"},
      {.key = "potential.periodic",
       .type = KeyType::BoolList,
       .defaultValue = "[true, true]",
       .unit = "",
       .description =
           "per axis (x, y) of the grid file: whether the surface is periodic along it, with "
           "period n*h (a periodic bicubic spline, positions wrapped), or not (a natural cubic "
           "spline over the grid, continued linearly with its end slope beyond the end points; "
           "period 0 for the metrics) (tabulated_surface only)",
       .listLength = 2},
      {.key = "potential.energy_scale",
       .type = KeyType::Real,
       .defaultValue = "1.0",
       .unit = "1",
       .description = "factor multiplying the potential's energy (and forces)",
       .min = 0.0,
       .minExclusive = true},
      {.key = "potential.barrier",
       .type = KeyType::Real,
       .defaultValue = "5.0",
       .unit = "kT",
       .description = "barrier height between the two wells (double_well, double_well_nd)",
       .min = 0.0},
      {.key = "potential.stiffness",
       .type = KeyType::Real,
       .defaultValue = "10.0",
       .unit = "energy/length^2",
       .description = "harmonic stiffness of the confining direction (double_well) or directions "
                      "(double_well_nd)",
       .min = 0.0},
      {.key = "potential.dimension",
       .type = KeyType::Int,
       .defaultValue = "3",
       .unit = "1",
       .description = "D, the number of coordinates x_0 .. x_{D-1} (double_well_nd only): the "
                      "length of states.a, states.b and, for the quadrature denoiser, of "
                      "denoiser.grid_size, box_low and box_high",
       .min = 1.0,
       .max = 64.0},
      {.key = "potential.coupling",
       .type = KeyType::Real,
       .defaultValue = "0.0",
       .unit = "length unit",
       .description = "c of double_well_nd: the harmonic directions x_1 .. x_{D-1} are centred on "
                      "c (1 - x_0^2), so the saddle lies at (0, c, ..., c) and the minimum-energy "
                      "path bends away from the straight line between the minima (+-1, 0, ..., 0) "
                      "(double_well_nd only)"},
      {.key = "potential.system",
       .type = KeyType::Path,
       .defaultValue = "../data/alanine_dipeptide/system.xml",
       .unit = "",
       .description =
           "OpenMM System serialized with XmlSerializer (openmm only; units nm, kJ/mol)"},
      {.key = "potential.pdb_a",
       .type = KeyType::Path,
       .defaultValue = "../data/alanine_dipeptide/extended.pdb",
       .unit = "",
       .description = "PDB of state A; its atoms must match the System (openmm only)"},
      {.key = "potential.pdb_b",
       .type = KeyType::Path,
       .defaultValue = "../data/alanine_dipeptide/c7ax.pdb",
       .unit = "",
       .description = "PDB of state B (openmm only)"},
      {.key = "potential.platform",
       .type = KeyType::String,
       .defaultValue = "auto",
       .unit = "",
       .description = "OpenMM platform; auto times one molecule's steps on each available one and "
                      "picks the fastest, never OpenCL run by POCL on the CPU; a GPU pays off for "
                      "many walkers batched in one Context, which one molecule's timing does not "
                      "see: name OpenCL or CUDA for it (README, \"GPUs\") (openmm only)",
       .choices = {"auto", "CUDA", "OpenCL", "CPU", "Reference"}},
      {.key = "potential.precision",
       .type = KeyType::String,
       .defaultValue = "mixed",
       .unit = "",
       .description = "floating-point precision on GPU platforms (openmm only)",
       .choices = {"single", "mixed", "double"}},
      {.key = "potential.device_index",
       .type = KeyType::Int,
       .defaultValue = "-1",
       .unit = "1",
       .description = "GPU to run on (OpenMM's DeviceIndex property of the OpenCL and CUDA "
                      "platforms, 0-based); -1 = the platform's choice, or under MPI with "
                      "several ranks the node-local rank (unless CUDA_VISIBLE_DEVICES names one "
                      "device; docs/mpi.md). Ignored on CPU and Reference (openmm only)",
       .min = -1.0,
       .max = 1024.0},
  };
  return keys;
}

/// states.*: the two metastable states and the end points of the geodesic
const std::vector<KeySpec>& stateKeys() {
  static const std::vector<KeySpec> keys = {
      {.key = "states.a",
       .type = KeyType::RealList,
       .defaultValue = "",
       .unit = "rad (or the potential's length unit)",
       .description = "start state A: coordinates of the first end point of every path, one per "
                      "dimension of the potential (2 for surfaces and molecules, "
                      "potential.dimension for double_well_nd); on the surface (along a periodic axis: within a period of its box; along a "
                      "non-periodic axis of a tabulated surface: inside its grid's box; otherwise "
                      "inside denoiser.box_low .. box_high) and, for openmm jobs, within "
                      "metrics.success_radius of the (phi, psi) of the minimised potential.pdb_a. "
                      "A state more than 5 kT above the grid minimum that steepest descent from it "
                      "reaches is run, with a warning"},
      {.key = "states.b",
       .type = KeyType::RealList,
       .defaultValue = "",
       .unit = "rad (or the potential's length unit)",
       .description = "end state B: coordinates of the last end point of every path; checked as "
                      "states.a (openmm jobs: against potential.pdb_b)"},
      {.key = "states.l_end",
       .type = KeyType::Real,
       .defaultValue = "4.0",
       .unit = "1",
       .description = "log-SNR l at which the end points are represented in spacetime, z = (l_end, "
                      "alpha(l_end) * x)",
       .min = -20.0,
       .max = 20.0},
  };
  return keys;
}

PotentialSettings readPotentialSettings(const Config& c) {
  PotentialSettings s;
  s.type = c.getString("potential.type");
  s.file = c.getString("potential.file");
  const std::vector<bool> periodic = c.getBoolList("potential.periodic");
  s.periodic = {periodic.at(0), periodic.at(1)};
  s.energyScale = c.getReal("potential.energy_scale");
  s.barrier = c.getReal("potential.barrier");
  s.stiffness = c.getReal("potential.stiffness");
  s.dimension = static_cast<int>(c.getInt("potential.dimension"));
  s.coupling = c.getReal("potential.coupling");
  s.system = c.getString("potential.system");
  s.pdbA = c.getString("potential.pdb_a");
  s.pdbB = c.getString("potential.pdb_b");
  s.platform = c.getString("potential.platform");
  s.precision = c.getString("potential.precision");
  s.deviceIndex = static_cast<int>(c.getInt("potential.device_index"));
  return s;
}

StateSettings readStateSettings(const Config& c) {
  StateSettings s;
  s.a = c.getRealList("states.a");
  s.b = c.getRealList("states.b");
  s.lEnd = c.getReal("states.l_end");
  return s;
}

}  // namespace geotps
