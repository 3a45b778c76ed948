// `geotps surface`.
#include "engine/pipelines/full_atom_commands.h"

#include <OpenMM.h>
#include <fmt/format.h>

#include <chrono>

#include "engine/core/progress.h"
#include "engine/io/atomic_file.h"
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
  requireTwoCVs(atoms, job.source, "`geotps surface` (a two-dimensional map)");
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

}  // namespace geotps
