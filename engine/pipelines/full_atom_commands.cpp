// `geotps surface` and `geotps export`.
#include "engine/pipelines/full_atom_commands.h"

#include <OpenMM.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "engine/core/progress.h"
#include "engine/io/atomic_file.h"
#include "engine/io/dcd_file.h"
#include "engine/io/h5_file.h"
#include "engine/io/pdb_file.h"
#include "engine/io/result_file.h"
#include "engine/io/surface_file.h"
#include "engine/metrics/minimax.h"
#include "engine/molecule/adiabatic_map.h"
#include "engine/molecule/free_energy.h"
#include "engine/pipelines/job_settings.h"

namespace geotps {

SurfaceSummary runSurface(Config config, const std::optional<std::string>& output, bool progress,
                          std::FILE* log) {
  const auto t0 = std::chrono::steady_clock::now();
  const JobSettings job = readJobSettings(config);
  if (job.potential.type != "openmm") {
    throw ConfigError(
        fmt::format("{}: key 'potential.type': `geotps surface` needs an openmm job (got '{}')",
                    job.source, job.potential.type));
  }
  const SurfaceSettings& ss = job.surface;
  const bool freeEnergy = ss.kind == "free_energy";
  if (freeEnergy && ss.sampleStride > ss.samplingSteps) {
    throw ConfigError(fmt::format(
        "{}: key 'surface.sample_stride': {} is more than surface.sampling_steps ({}); expected "
        "at most that, so that each window records at least one sample",
        job.source, ss.sampleStride, ss.samplingSteps));
  }
  SurfaceSummary s;
  s.kind = ss.kind;
  s.path = output ? *output : ss.output;
  if (s.path.empty()) {
    s.path = "results/" + job.name + (freeEnergy ? "_free_energy.dat" : "_surface.dat");
  }
  checkOutputTarget(s.path);
  const FullAtomSetup atoms = prepareFullAtom(job.potential, job.molecule, job.source);
  s.platform = atoms.platform->getName();
  s.gridSize = ss.gridSize;
  Grid2D grid;
  std::vector<std::string> header;
  if (!freeEnergy) {
    fmt::print(log, "# geotps surface: {} x {} restrained minimisations on {} ({})\n", s.gridSize,
               s.gridSize, s.platform, atoms.platformReport);
    std::fflush(log);
    Progress bar("surface", static_cast<long long>(s.gridSize) * s.gridSize, progress);
    grid = adiabaticMap(atoms, s.gridSize, ss.restraintStiffness, ss.tolerance,
                        job.sampling.threads, [&](long long d, long long) { bar.update(d); });
    bar.finish();
    header = {
        "adiabatic (phi, psi) map written by geotps surface",
        fmt::format("source config: {}", job.source),
        fmt::format("system: {}", job.potential.system),
        "U: energy minimised under a (phi, psi) restraint, without the restraint, minus its minimum",
        "units: phi, psi in rad; U in kJ/mol",
        fmt::format("temperature: not used by the map; load with potential.energy_scale = 1/kT, "
                    "kT = {:.6f} kJ/mol at {} K",
                    atoms.kT(), atoms.temperatureK),
        fmt::format("grid: {0} x {0}, from -pi in steps of 2pi/{0}; restraint {1} kJ/mol/rad^2, "
                    "tolerance {2} kJ/mol/nm; platform {3}",
                    s.gridSize, ss.restraintStiffness, ss.tolerance, s.platform)};
  } else {
    const long long windows = static_cast<long long>(ss.windows) * ss.windows;
    fmt::print(log,
               "# geotps surface: free energy at {} K from {} umbrella windows x {} steps on {} "
               "({})\n",
               atoms.temperatureK, windows, ss.equilibrationSteps + ss.samplingSteps, s.platform,
               atoms.platformReport);
    std::fflush(log);
    Progress bar("umbrella windows", windows, progress);
    const UmbrellaResult u =
        umbrellaFreeEnergy(atoms, ss, job.molecule, job.seed, job.sampling.threads,
                           [&](long long d, long long) { bar.update(d); });
    bar.finish();
    grid = u.grid;
    s.windows = ss.windows;
    s.samples = u.samples;
    s.emptyBins = u.emptyBins;
    s.fillValue = u.fillValue;
    s.whamEvaluations = u.wham.evaluations;
    s.whamStop = u.wham.stopReason;
    header = {
        "free-energy (phi, psi) surface written by geotps surface (surface.kind free_energy)",
        fmt::format("source config: {}", job.source),
        fmt::format("system: {}", job.potential.system),
        fmt::format("F: -kT ln p(phi, psi) at {} K (kT = {:.6f} kJ/mol) per bin, minus its minimum",
                    atoms.temperatureK, atoms.kT()),
        "units: phi, psi in rad (bin centres); F in kJ/mol",
        fmt::format("method: umbrella sampling, {0} x {0} windows (centres from -pi in steps of "
                    "2pi/{0}), bias 1/2 {1} kJ/mol/rad^2 (wrapped differences); per window {2} "
                    "equilibration + {3} recorded steps, (phi, psi) every {4}; Langevin {5} ps, "
                    "friction {6}/ps, seed {7}; binned 2D WHAM (L-BFGS, {8} evaluations, {9}, "
                    "|grad| {10:.2e})",
                    ss.windows, ss.umbrellaStiffness, ss.equilibrationSteps, ss.samplingSteps,
                    ss.sampleStride, job.molecule.timeStepPs, job.molecule.frictionPerPs,
                    job.seed, u.wham.evaluations,
                    u.wham.stopReason, u.wham.gradientNorm),
        fmt::format("grid: {0} x {0} bins centred from -pi in steps of 2pi/{0}; {1} samples; {2} "
                    "bins without samples hold the highest sampled F, {3:.4f} kJ/mol; platform {4}",
                    s.gridSize, u.samples, u.emptyBins, u.fillValue, s.platform)};
  }
  const auto& a = job.states.a;
  const auto& b = job.states.b;
  s.barrierKjMol = minimaxBarrier(grid, a.data(), b.data(), 8).barrier;
  header.push_back(fmt::format("minimax barrier between A ({}, {}) and B ({}, {}): {:.4f} kJ/mol",
                               a[0], a[1], b[0], b[1], s.barrierKjMol));
  writeSurfaceFile(s.path, grid, header);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

std::vector<std::string> exportPath(const std::string& resultFile, long long index,
                                    const std::string& format, const std::string& prefix) {
  if (format != "dcd" && format != "pdb") {
    throw std::invalid_argument("--format: expected dcd or pdb, got '" + format + "'");
  }
  H5File f(resultFile, H5File::Mode::Read);
  requireRunResult(f);
  if (!f.exists("/full_atom/frames")) {
    throw H5Error(resultFile +
                  ": no /full_atom/frames (not a full-atom result, or output.frame_stride was 0)");
  }
  const auto shape = f.shape("/full_atom/frames");  // M x F x n x 3
  if (shape.size() != 4 || shape[3] != 3 || shape[1] == 0 || shape[2] == 0) {
    throw H5Error(fmt::format(
        "{}: /full_atom/frames has shape [{}]; expected paths x frames x atoms x 3 (a result "
        "written by geotps run)",
        resultFile, fmt::join(shape, ", ")));
  }
  const long long M = static_cast<long long>(shape[0]);
  if (index < 0 || index >= M) {
    throw std::invalid_argument(
        fmt::format("--path: {} is out of range; {} has paths 0..{}", index, resultFile, M - 1));
  }
  const std::size_t F = shape[1], n = shape[2];
  // The topology from the stored PDB text, checked against the frames before anything is written.
  const PdbStructure top = parsePdbStructure(f.readString("/full_atom/topology_pdb"),
                                             resultFile + ": /full_atom/topology_pdb");
  if (top.atoms.size() != n) {
    throw H5Error(fmt::format(
        "{}: /full_atom/topology_pdb has {} atoms but /full_atom/frames has {}; expected the same "
        "molecule",
        resultFile, top.atoms.size(), n));
  }
  // Only the path asked for is read.
  const std::vector<double> all =
      f.readDoubleRows("/full_atom/frames", static_cast<std::size_t>(index), 1);
  std::vector<std::vector<double>> frames(F);
  for (std::size_t k = 0; k < F; ++k) {
    frames[k].assign(all.begin() + static_cast<std::ptrdiff_t>(k * n * 3),
                     all.begin() + static_cast<std::ptrdiff_t>((k + 1) * n * 3));
  }
  // Both files or neither: a failure removes what this call wrote and the folders it created.
  CreatedParents parents(prefix);
  std::vector<std::string> written;
  try {
    if (format == "dcd") {
      writeDcd(prefix + ".dcd", frames);
      written.push_back(prefix + ".dcd");
      writePdb(prefix + ".pdb", top, {frames.front()}, true);
      written.push_back(prefix + ".pdb");
    } else {
      writePdb(prefix + ".pdb", top, frames, true);
      written.push_back(prefix + ".pdb");
    }
  } catch (...) {
    for (const auto& w : written) {
      std::error_code ignored;
      std::filesystem::remove(w, ignored);
    }
    throw;
  }
  parents.keep();
  return written;
}

}  // namespace geotps
