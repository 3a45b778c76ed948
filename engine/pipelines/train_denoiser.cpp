// `geotps train-denoiser` (see train_denoiser.h).
#include "engine/pipelines/train_denoiser.h"

#include <OpenMM.h>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <numbers>
#include <thread>

#include "engine/core/clock.h"
#include "engine/core/progress.h"
#include "engine/core/schedule.h"
#include "engine/denoisers/quadrature_denoiser.h"
#include "engine/geodesic/geodesic_solver.h"
#include "engine/io/atomic_file.h"
#include "engine/io/output_util.h"
#include "engine/molecule/cv_dynamics.h"
#include "engine/neural/denoiser_training.h"
#include "engine/neural/torch_denoiser.h"
#include "engine/problem/potential_registry.h"
#include "engine/problem/problem.h"
#include "engine/samplers/restrained_dynamics.h"
#include "geotps/version.h"
#include "potentials/tabulated_surface.h"

namespace geotps {

namespace {

/// Fails before minutes of training when the model file cannot be written there (the output
/// policy: a regular file or a new path; a probe of the folder's writability). Folders it creates
/// first (CreatedParents in runTrainDenoiser) are removed again unless training succeeds.
void checkWritable(const std::string& path) {
  checkOutputTarget(path);
  const std::string probe = temporaryPathFor(path);
  std::FILE* f = std::fopen(probe.c_str(), "wb");
  if (!f) {
    throw std::runtime_error(fmt::format(
        "{}: cannot write the model file here: {} (choose another training.output or --out)", path,
        std::strerror(errno)));
  }
  std::fclose(f);
  std::error_code ec;
  std::filesystem::remove(probe, ec);
}

}  // namespace

TrainingSummary runTrainDenoiser(Config config, const JobOptions& options, std::FILE* log) {
  applyOptions(config, options, "training.output");
  const JobSettings job = readJobSettings(config);
  const TrainingJobSettings& ts = job.training;
  TrainingSettings settings;
  static_cast<TrainingOptimizerSettings&>(settings) = ts.optimizer;
  TrainingSummary summary;
  summary.outputFile = ts.output;
  if (summary.outputFile.empty()) {
    summary.outputFile = "results/" + job.name + "_denoiser.pt";
  }
  fmt::print(log, "# geotps {} effective configuration ({})\n{}\n", kVersion, config.sourceName(),
             config.effectiveYaml());
  std::fflush(log);
  CreatedParents parents(summary.outputFile);
  checkWritable(summary.outputFile);

  const auto tSample = Clock::now();
  const std::string& sourceKind = ts.source;
  const long long nWanted = ts.nSamples;
  torch::Tensor samples;
  PotentialPtr samplingPotential;  // kept for the exact energies in the refinement log
  double exactKT = 1.0;
  if (sourceKind == "langevin") {
    // The job's 2D density: the potential itself, or for openmm jobs the CV free-energy surface
    // in units of kT at dynamics.temperature (what the quadrature denoiser of the job uses).
    PotentialPtr potential;
    double kT = job.kT;
    std::string what;
    if (job.potential.type == "openmm") {
      // No molecule is needed: the density is the CV surface at dynamics.temperature.
      const double kTkJ = kBoltzmannKjMolK * job.molecule.temperatureK;
      potential = loadCVSurface(job.molecule, kTkJ, job.source);
      kT = 1.0;
      what = fmt::format("cv.surface {}", job.molecule.cvSurface);
    } else {
      potential = makePotential(job.potential, job.molecule, job.source).potential;
      what = potential->name();
      if (job.potential.type == "tabulated_surface") {
        what = fmt::format("{} {}", what, job.potential.file);
      }
    }
    // The same D-length checks as a run of this file (states, and the box of an analytic
    // potential), before any sampling: a box of the wrong length is named, not read past its end.
    checkDimensions(job, *potential, job.potential.type == "openmm");
    std::vector<double> low, high;
    if (!potential->hasDataBox()) {
      low = job.denoiser.boxLow;
      high = job.denoiser.boxHigh;
    }
    const int steps = ts.langevinSteps;
    const double ds = ts.langevinStepSize;
    const std::string& startKind = ts.langevinStart;
    const LangevinStart start =
        startKind == "boltzmann" ? LangevinStart::Boltzmann : LangevinStart::UniformGrid;
    if (options.progress) fmt::print(stderr, "sampling: {} Langevin walkers ...\n", nWanted);
    const double tempering = ts.langevinTemperatureFactor;
    samples = langevinSamples(*potential, tempering * kT, low, high, nWanted, steps, ds,
                              settings.seed, job.sampling.threads, start);
    exactKT = kT;
    std::string weightText;
    if (tempering != 1.0) {
      settings.sampleLogWeights = temperedLogWeights(*potential, samples, kT, tempering);
      weightText = fmt::format(
          "; walkers at {} kT, reweighted to kT (importance weights' effective sample size {:.0f})",
          tempering, effectiveSampleSize(settings.sampleLogWeights));
    }
    for (int d = 0; d < potential->dimension(); ++d) {
      if (potential->hasDataBox()) {
        settings.dataLow.push_back(potential->boxLow(d));
        settings.dataHigh.push_back(potential->boxHigh(d));
      } else {
        settings.dataLow.push_back(low[d]);
        settings.dataHigh.push_back(high[d]);
      }
    }
    settings.source = fmt::format(
        "langevin: {} walkers from a {} grid, {} steps of ds = {} at kT = {} on {}{}, seed {}",
        nWanted, startKind == "boltzmann" ? "Boltzmann-resampled" : "uniform", steps, ds, kT, what,
        potential->isPeriodic() ? " (final positions wrapped into the periodic box)" : "",
        settings.seed);
    settings.source += weightText;
    if (ts.scoreTargets) {
      settings.scorePotential = potential;
      settings.scoreKT = kT;
      settings.source += "; targets mixed with the potential's score (training.score_targets)";
    }
    samplingPotential = std::move(potential);
  } else if (sourceKind == "md") {
    if (job.potential.type != "openmm") {
      throw ConfigError(fmt::format(
          "{}: key 'training.source': md runs the molecule of an openmm job (potential.type is "
          "'{}'); expected potential.type openmm, or training.source langevin",
          job.source, job.potential.type));
    }
    if (ts.scoreTargets) {
      throw ConfigError(fmt::format(
          "{}: key 'training.score_targets' needs training.source: langevin (the md source has "
          "no force of its CV density)",
          job.source));
    }
    const FullAtomSetup atoms = prepareFullAtom(job.potential, job.molecule, job.source);
    CvDynamicsSettings md;
    md.walkers = ts.mdWalkers;
    md.steps = ts.mdSteps;
    md.equilibrationSteps = ts.mdEquilibration;
    md.stride = ts.mdStride;
    md.frictionPerPs = job.molecule.frictionPerPs;
    md.timeStepPs = job.molecule.timeStepPs;
    md.seed = settings.seed;
    md.threads = job.sampling.threads;
    fmt::print(log,
               "# md samples: {} walkers x {} steps of {} ps at {} K on {} ({}), CVs every {} "
               "steps\n",
               md.walkers, md.equilibrationSteps + md.steps, md.timeStepPs, atoms.temperatureK,
               atoms.platform->getName(), atoms.platformReport, md.stride);
    std::fflush(log);
    Progress mdBar("md samples", 1000, options.progress);
    const Eigen::MatrixXd cvs = sampleCvDynamics(atoms, md, [&](long long d, long long total) {
      mdBar.update(static_cast<long long>(1000.0 * static_cast<double>(d) / total));
    });
    mdBar.finish(fmt::format("{} CV points", cvs.rows()));
    const long long stride = std::max<long long>(1, cvs.rows() / nWanted);
    const long long n = (cvs.rows() + stride - 1) / stride;
    const int D = atoms.cvDimension();
    samples = torch::empty({n, D}, torch::TensorOptions().dtype(torch::kFloat64));
    double* dst = samples.data_ptr<double>();
    for (long long k = 0; k < n; ++k)
      for (int d = 0; d < D; ++d) dst[k * D + d] = cvs(k * stride, d);
    settings.dataLow.assign(D, -std::numbers::pi);
    settings.dataHigh.assign(D, std::numbers::pi);
    std::string labels;
    for (const std::string& l : atoms.cvLabels) labels += (labels.empty() ? "" : ", ") + l;
    settings.source = fmt::format(
        "md: CVs ({}) of every {}-th of {} points, {} walkers (half from each end state) x {} "
        "steps of {} ps at {} K after {} steps, every {} steps, seed {}",
        labels, stride, cvs.rows(), md.walkers, md.steps, md.timeStepPs, atoms.temperatureK,
        md.equilibrationSteps, md.stride, settings.seed);
  } else {
    if (ts.scoreTargets) {
      throw ConfigError(fmt::format(
          "{}: key 'training.score_targets' needs training.source: langevin (the frames of a "
          "result file come without the force of their CV density)",
          job.source));
    }
    const std::string& file = ts.resultFile;
    const long long frames = cvFrameCount(file);
    const long long stride = std::max(1LL, frames / nWanted);
    samples = cvSamplesFromResult(file, stride);
    const int D = static_cast<int>(samples.size(1));
    settings.dataLow.assign(D, -std::numbers::pi);
    settings.dataHigh.assign(D, std::numbers::pi);
    settings.source = fmt::format(
        "result_file: the {} CVs of every {}-th of the {} full-atom frames of {}", D, stride,
        frames, file);
  }
  summary.samplingSeconds = secondsSince(tSample);
  summary.samples = samples.size(0);
  summary.source = settings.source;
  fmt::print(log, "# samples: {} ({}), {:.1f} s\n", summary.samples, settings.source,
             summary.samplingSeconds);
  std::fflush(log);

  // Geodesic-guided refinement: the job's geodesic with the network as it stands, and points
  // around it with the samples' posterior means as targets.
  BankRefiner refiner;
  std::shared_ptr<QuadratureDenoiser> exact;  // only to report the curves' exact energies
  if (settings.refineRounds > 0) {
    const GeodesicSettings& gs = job.geodesic;
    const double lEnd = job.states.lEnd;
    const Eigen::VectorXd zA = spacetimePoint(lEnd, toVector(job.states.a));
    const Eigen::VectorXd zB = spacetimePoint(lEnd, toVector(job.states.b));
    if (zA.size() != samples.size(1) + 1 || zB.size() != samples.size(1) + 1) {
      throw ConfigError(fmt::format(
          "{}: keys 'states.a' and 'states.b' need {} coordinates (the samples' dimension) for "
          "training.refine_rounds",
          job.source, samples.size(1)));
    }
    if (const auto* surface = dynamic_cast<const TabulatedSurface*>(samplingPotential.get())) {
      exact = QuadratureDenoiser::fromSurface(*surface, exactKT, 0);
    }
    const int perPoint = ts.refinePoints;
    const double lJitter = ts.refineLJitter;
    const double etaJitter = ts.refineEtaJitter;
    const double minEss = settings.bankMinEss;
    const std::uint64_t seed = settings.seed;
    refiner = [&, gs, zA, zB, perPoint, lJitter, etaJitter, minEss, seed](
                  const DenoiserNetwork& current, int round) {
      const auto t = Clock::now();
      const int threadsBefore = torch::get_num_threads();
      torch::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
      const auto denoiser = TorchDenoiser::fromNetwork(current);
      const GeodesicResult geo = solveGeodesic(*denoiser, zA, zB, gs);
      PosteriorBank points = curveBank(samples, geo.z, perPoint, lJitter, etaJitter, minEss,
                                       seed + 7919ULL * static_cast<std::uint64_t>(round + 1),
                                       settings.sampleLogWeights);
      torch::set_num_threads(threadsBefore);
      std::string exactText;
      if (exact) {
        exactText = fmt::format(" (exact {:.3f})", evaluateCurve(*exact, geo.z, false).energy);
      }
      fmt::print(log,
                 "# refinement round {}: geodesic energy {:.3f}{}, lowest l {:.2f}, {} of {} "
                 "points kept, {:.1f} s\n",
                 round + 1, geo.evaluation.energy, exactText, geo.z.col(0).minCoeff(),
                 points.l.size(0), points.drawn, secondsSince(t));
      std::fflush(log);
      return points;
    };
  }

  constexpr long long kTicks = 1000;
  Progress bar("training", kTicks, options.progress);
  DenoiserNetwork net = trainDenoiser(
      samples, settings,
      [&](long long step, double fraction, double loss) {
        bar.update(static_cast<long long>(std::min(1.0, fraction) * kTicks),
                   fmt::format("step {} loss {:.4g}", step, loss));
      },
      refiner);
  summary.source = net->meta.source;  // with the posterior bank's size
  summary.steps = net->meta.steps;
  summary.maxSteps = settings.maxSteps;
  summary.maxSeconds = settings.maxSeconds;
  summary.budget = settings.budget;
  summary.trainingSeconds = net->meta.seconds;
  summary.finalLoss = net->meta.lossCurve.empty() ? 0.0 : net->meta.lossCurve.back();
  bar.finish(fmt::format("{} steps, loss {:.4g}", summary.steps, summary.finalLoss));
  saveDenoiser(summary.outputFile, net);
  parents.keep();
  return summary;
}

namespace {

std::string stoppedEarlyNote(const TrainingSummary& s) {
  if (s.maxSteps <= 0 || s.steps >= s.maxSteps) return "";
  std::string note = fmt::format(
      "warning        training.max_seconds ({:g} s) stopped the run after {} of {} steps "
      "(training.max_steps)",
      s.maxSeconds, s.steps, s.maxSteps);
  if (s.budget == "steps") {
    note +=
        "; with training.budget steps a seed gives the same network only when every step is "
        "taken: raise training.max_seconds or lower training.max_steps";
  }
  return note + "\n";
}

}  // namespace

std::string formatTrainingSummary(const TrainingSummary& s) {
  return fmt::format(
             "samples        {} ({:.1f} s)\n"
             "source         {}\n"
             "steps          {} ({:.1f} s)\n"
             "final loss     {:.5g} (weighted, importance-sampled; mean of the last logged "
             "interval)\n"
             "output         {}\n",
             s.samples, s.samplingSeconds, s.source, s.steps, s.trainingSeconds, s.finalLoss,
             s.outputFile) +
         stoppedEarlyNote(s);
}

}  // namespace geotps
