// The `geotps run` pipeline and the result-file layout (documented in docs/output.md).
#include "engine/pipelines/run.h"

#include <OpenMM.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <numbers>
#include <optional>

#include "engine/core/clock.h"
#include "engine/core/fault_injection.h"
#include "engine/core/parallel.h"
#include "engine/core/progress.h"
#include "engine/core/ranks.h"
#include "engine/core/schedule.h"
#include "engine/core/warning.h"
#include "engine/denoisers/quadrature_denoiser.h"
#include "engine/denoisers/registry.h"
#include "engine/geodesic/geodesic_solver.h"
#include "engine/io/atomic_file.h"
#include "engine/io/h5_file.h"
#include "engine/io/output_util.h"
#include "engine/io/provenance.h"
#include "engine/metrics/distance.h"
#include "engine/metrics/minimax.h"
#include "engine/molecule/cv_space.h"
#include "engine/pipelines/checkpoint.h"
#include "engine/pipelines/memory_estimate.h"
#include "engine/problem/problem.h"
#include "engine/samplers/sampler.h"
#include "geotps/version.h"
#include "potentials/tabulated_surface.h"

namespace geotps {

namespace {

const char* kStages[] = {"setup", "geodesic", "sampling", "metrics", "output"};

/// The spline parameters of the curve stored in the result file `path` (key geodesic.initial),
/// checked against this job's end points and node count. Errors name the key and the file.
Eigen::VectorXd readInitialCurve(const std::string& source, const std::string& path,
                                 const Eigen::VectorXd& zA, const Eigen::VectorXd& zB, int nNodes) {
  auto fail = [&](const std::string& what) {
    return ConfigError(fmt::format("{}: key 'geodesic.initial': {}: {}", source, path, what));
  };
  std::vector<double> theta, z;
  std::vector<std::size_t> zShape;
  try {
    H5File f(path, H5File::Mode::Read);
    requireRunResult(f);
    for (const char* name : {"/curve/spline_parameters", "/curve/z"}) {
      if (!f.exists(name)) {
        throw fail(fmt::format("no dataset {} (expected a result file of `geotps run`)", name));
      }
    }
    theta = f.readDoubles("/curve/spline_parameters");
    z = f.readDoubles("/curve/z");
    zShape = f.shape("/curve/z");
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    // H5File's messages start with the file's name, which fail() already gives.
    std::string what = e.what();
    if (what.rfind(path + ": ", 0) == 0) what.erase(0, path.size() + 2);
    throw fail(what);
  }
  const auto P = static_cast<std::size_t>(zA.size());
  if (zShape.size() != 2 || zShape[1] != P || zShape[0] < 2) {
    throw fail(fmt::format("/curve/z is not a curve of points (l, x) with {} coordinates", P));
  }
  if (theta.size() != static_cast<std::size_t>(nNodes) * P) {
    throw fail(fmt::format(
        "its spline has {} parameters ({} nodes x {} coordinates); this job has geodesic.n_nodes "
        "= {} ({} parameters)",
        theta.size(), static_cast<double>(theta.size()) / static_cast<double>(P), P, nNodes,
        static_cast<std::size_t>(nNodes) * P));
  }
  auto point = [&](std::size_t row) {
    return Eigen::Map<const Eigen::VectorXd>(z.data() + row * P, static_cast<Eigen::Index>(P));
  };
  auto text = [](const Eigen::VectorXd& v) {
    std::string out = "(";
    for (Eigen::Index i = 0; i < v.size(); ++i) out += fmt::format("{}{:.6g}", i ? ", " : "", v[i]);
    return out + ")";
  };
  for (std::size_t i = 0; i < theta.size(); ++i) {
    if (!std::isfinite(theta[i]))
      throw fail(
          fmt::format("/curve/spline_parameters[{}] is {}; expected finite numbers", i, theta[i]));
  }
  for (std::size_t i = 0; i < z.size(); ++i) {
    if (!std::isfinite(z[i]))
      throw fail(
          fmt::format("/curve/z[{}][{}] is {}; expected finite numbers", i / P, i % P, z[i]));
  }
  const Eigen::VectorXd fA = point(0), fB = point(zShape[0] - 1);
  const double tol = 1e-9;
  if ((fA - zA).cwiseAbs().maxCoeff() > tol || (fB - zB).cwiseAbs().maxCoeff() > tol) {
    throw fail(fmt::format(
        "its curve runs from z = {} to {}, this job's end points are z = {} and {} (z = (l, "
        "alpha(l) x) from states.a, states.b and states.l_end)",
        text(fA), text(fB), text(zA), text(zB)));
  }
  return Eigen::Map<const Eigen::VectorXd>(theta.data(), static_cast<Eigen::Index>(theta.size()));
}

/// A chunk of walkers as bytes for another rank: the checkpoint's own layout (saveWalkers), as the
/// image of an HDF5 file held in memory.
std::string walkersToBytes(const SamplerResult& part, int chunk) {
  const auto file = H5File::inMemory(fmt::format("walker chunk {} (in memory)", chunk));
  saveWalkers(*file, "/walkers", part);
  return file->image();
}

/// The walkers walkersToBytes() sent (`count` of them).
SamplerResult walkersFromBytes(const std::string& bytes, int chunk, int count) {
  const auto file = H5File::fromImage(bytes, fmt::format("walker chunk {} (received)", chunk));
  return loadWalkers(*file, "/walkers", count);
}

}  // namespace

JobSummary runJob(Config config, const JobOptions& options, std::FILE* log) {
  // Under MPI every rank reads the configuration (each builds its own potential from the same
  // files); a bad one is reported once, by rank 0.
  std::optional<JobSettings> read;
  Ranks::world().collectively([&] {
    applyOptions(config, options, "output.file");
    read.emplace(readJobSettings(config));
  });
  const JobSettings& settings = *read;
  fmt::print(log, "# geotps {} effective configuration ({})\n{}\n", kVersion, config.sourceName(),
             config.effectiveYaml());
  std::fflush(log);
  return runJob(settings, config, options, log);
}

JobSummary runJob(const JobSettings& settings, const Config& record, const JobOptions& options,
                  std::FILE* log) {
  const auto tStart = Clock::now();
  // Under MPI (docs/mpi.md) every rank builds the potential and a sampler; rank 0 alone computes
  // the geodesic, keeps the checkpoint and writes the result file; the walkers' chunks are shared
  // round-robin over the ranks and gathered on rank 0. With one rank this is the path of a single
  // process, unchanged.
  const Ranks& ranks = Ranks::world();
  const bool root = ranks.root();
  const bool shared = ranks.parallel();
  JobSummary s;
  s.name = settings.name;
  s.version = kVersion;
  s.seed = settings.seed;
  s.outputFile = settings.output.file;
  if (s.outputFile.empty()) s.outputFile = "results/" + s.name + ".h5";

  // --- setup: potential, denoiser, end points. The output file is opened first, so that an
  // unwritable path fails before any work is done; it only appears under its name on success.
  auto t = Clock::now();
  std::optional<AtomicH5Writer> writer;
  const bool checkpointed = !options.stageAs || options.checkpointFolder;
  const std::string checkpointFolder =
      options.checkpointFolder.value_or(s.outputFile + ".checkpoint");
  std::optional<Problem> made;
  // Rank 0 first: its output file, and the platform of `potential.platform: auto` (chosen by
  // timing, which may differ between ranks), which the other ranks then use.
  JobSettings pinned = settings;
  ranks.collectively([&] {
    if (!root) return;
    if (options.stageAs) checkOutputTarget(s.outputFile);
    writer.emplace(options.stageAs ? *options.stageAs : s.outputFile);
    pinned = resumedPlatform(settings, options.resume && checkpointed, checkpointFolder, log);
    if (options.autoPlatform && pinned.potential.platform == "auto") {
      pinned.potential.platform = *options.autoPlatform;
      pinned.potential.platformOrigin = "as chosen for the other methods of the compare";
      fmt::print(log, "# potential.platform auto: {}, {}\n", *options.autoPlatform,
                 pinned.potential.platformOrigin);
    }
    if (!shared || pinned.potential.platform != "auto") return;
    made.emplace(makeProblem(pinned));
    if (made->fullAtom()) pinned.potential.platform = made->molecule->platform->getName();
  });
  std::string platform = pinned.potential.platform;
  ranks.broadcast(platform);
  pinned.potential.platform = platform;
  ranks.collectively([&] {
    if (!made) made.emplace(makeProblem(pinned));
  });
  const Problem& problem = *made;
  if (root) {
    for (const auto& w : problem.warnings) printWarning(w);
  }
  const bool fullAtom = problem.fullAtom();
  const Potential& potential = *problem.potential;
  s.energyUnit = problem.energyUnit;
  const int D = problem.dimension();
  const int threads = resolveThreads(settings.sampling.threads);
  const auto* surface = problem.surface;
  std::shared_ptr<QuadratureDenoiser> exact;
  std::shared_ptr<Denoiser> denoiser;
  ranks.collectively([&] {
    // The large arrays, from the settings, before any of them is allocated.
    enforceMemoryLimit(
        estimateRunMemory(settings, fullAtom ? problem.molecule->system->getNumParticles() : 0),
        memoryLimit(options.maxMemory), settings.source, "run");
    if (!root) return;  // the denoiser serves the geodesic, which rank 0 computes
    if (fullAtom) {
      const FullAtomSetup& atoms = *problem.molecule;
      std::string labels;
      for (const std::string& l : atoms.cvLabels) labels += (labels.empty() ? "" : ", ") + l;
      auto values = [](const Eigen::VectorXd& v) {
        std::string out;
        for (Eigen::Index d = 0; d < v.size(); ++d)
          out += fmt::format("{}{:.4f}", d ? ", " : "", v[d]);
        return out;
      };
      fmt::print(log,
                 "# full atom: platform {} ({}); minimised state A: E = {:.3f} kJ/mol, ({}) = "
                 "({}); state B: E = {:.3f} kJ/mol, ({}) = ({})\n",
                 atoms.platform->getName(), atoms.platformReport, atoms.energyA, labels,
                 values(atoms.cvA), atoms.energyB, labels, values(atoms.cvB));
    }
    if (shared) {
      fmt::print(log, "# MPI: {} ranks share the walkers (docs/mpi.md)\n", ranks.size());
    } else if (ranks.mpi()) {
      fmt::print(log, "# MPI: 1 rank (docs/mpi.md)\n");
    }
    std::fflush(log);
    // The exact quadrature denoiser is built wherever it is practical (D <= 3, docs/method.md,
    // "Dimensions") and the job has an energy (a full-atom job with other than two CVs has none):
    // it is the reference, and with another denoiser the geodesic found is re-evaluated with it
    // (the exact energy reported in the summary). Otherwise only a learned denoiser runs, and the
    // exact energy is NaN.
    if (surface) {
      exact = QuadratureDenoiser::fromSurface(*surface, problem.kT, threads);
    } else if (!dynamic_cast<const CvSpace*>(&potential)) {
      const DenoiserSettings& ds = settings.denoiser;
      Eigen::VectorXi size(D);
      for (int d = 0; d < D; ++d) size[d] = ds.gridSize[d];
      const std::string limit = quadratureLimitExceeded(size);
      if (limit.empty()) {
        exact = QuadratureDenoiser::fromPotentialOnBox(potential, problem.kT, toVector(ds.boxLow),
                                                       toVector(ds.boxHigh), size, threads);
      } else if (ds.type == "quadrature") {
        throw ConfigError(fmt::format(
            "{}: key 'denoiser.type': the quadrature denoiser is not practical here: {}; use the "
            "neural denoiser (denoiser.type: torch, trained by `geotps train-denoiser`)",
            settings.source, limit));
      }
    }
    denoiser = makeDenoiser(settings.denoiser, DenoiserContext{exact, D, settings.source});
  });
  const bool exactDenoiser = exact && denoiser == exact;
  const Eigen::VectorXd& a = problem.a;
  const Eigen::VectorXd& b = problem.b;
  const double lEnd = settings.states.lEnd;
  const Eigen::VectorXd zA = spacetimePoint(lEnd, a), zB = spacetimePoint(lEnd, b);
  s.stageSeconds["setup"] = secondsSince(t);

  // --- geodesic (rank 0; the other ranks receive the sampling curve)
  t = Clock::now();
  GeodesicSettings gs = settings.geodesic;
  const std::string initialCurve = gs.initialFile;
  const SamplingSettings& sampling = settings.sampling;
  const int nSample = sampling.nPoints > 0 ? sampling.nPoints : gs.nPoints;
  GeodesicResult geo;
  Eigen::MatrixXd sampleCurve;
  ranks.collectively([&] {
    if (!root) return;
    if (!initialCurve.empty())
      gs.initialTheta = readInitialCurve(settings.source, initialCurve, zA, zB, gs.nNodes);
    Progress geoProgress("geodesic",
                         gs.optimizer == "none" ? 1 : gs.maxIterations * geodesicStages(gs),
                         options.progress);
    geo = solveGeodesic(*denoiser, zA, zB, gs, [&](long long it, double f, double e) {
      geoProgress.update(it, fmt::format("objective {:.4f} energy {:.4f}", f, e));
    });
    geoProgress.finish(fmt::format("energy {:.4f} ({} iterations, {})", geo.evaluation.energy,
                                   geo.iterations, geo.stopReason));
    s.geodesicEnergy = geo.evaluation.energy;
    s.geodesicEnergyExact = exactDenoiser ? geo.evaluation.energy
                            : exact       ? evaluateCurve(*exact, geo.z, false).energy
                                          : std::numeric_limits<double>::quiet_NaN();
    s.geodesicLength = geo.evaluation.length;
    s.straightLineEnergy = geo.initialEnergy;
    s.minL = geo.z.col(0).minCoeff();
    s.geodesicIterations = geo.iterations;
    s.geodesicStopReason = geo.stopReason;
    if (!initialCurve.empty()) s.geodesicStopReason += "; started from " + initialCurve;
    s.minKLToZStar = geo.klFromStar.size() ? geo.klFromStar.minCoeff()
                                           : std::numeric_limits<double>::quiet_NaN();
    sampleCurve =
        nSample == gs.nPoints && sampling.spacing == CurveSpacing::Parameter
            ? geo.z
            : resampleCurve(*denoiser, zA, zB, gs.nNodes, geo.theta, nSample, sampling.spacing);
  });
  if (shared) {
    // The curve, exactly: its doubles as they are (row-major, with its shape in front).
    std::int64_t cols = sampleCurve.cols();
    std::vector<double> values;
    if (root) values = rowMajor(sampleCurve);
    ranks.broadcast(cols);
    ranks.broadcast(values);
    if (!root) {
      sampleCurve = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic,
                                                   Eigen::RowMajor>>(
          values.data(), static_cast<Eigen::Index>(values.size()) / cols, cols);
    }
  }
  s.stageSeconds["geodesic"] = secondsSince(t);

  // --- sampling
  t = Clock::now();
  SamplerSettings ss;
  ss.nPaths = sampling.nPaths;
  ss.stepsPerPoint = sampling.stepsPerPoint;
  ss.stepSize = sampling.stepSize;
  ss.kT = problem.kT;
  ss.threads = threads;
  ss.seed = s.seed;
  ss.frameStride = settings.output.frameStride;
  std::unique_ptr<Sampler> sampler;
  // The walkers in chunks, each saved in the checkpoint folder as soon as it is done (a compare's
  // geodesic run in the folder the compare gives, which the compare removes).
  std::optional<RunCheckpoint> checkpoint;
  ChunkPlan chunks = ChunkPlan::single(ss.nPaths);
  ranks.collectively([&] {
    sampler = makeSampler(problem, ss, settings.molecule, sampling);
    if (!root) return;
    if (checkpointed) {
      checkpoint.emplace(checkpointFolder, options.resume, log);
      if (fullAtom) checkpoint->setPlatform(problem.molecule->platform->getName());
      checkpoint->begin(settings.source, record.effectiveYaml(), sampleCurve,
                        ChunkPlan::choose(ss.nPaths, settings.output.checkpointWalkers, threads,
                                          sampler->walkerAlignment()));
      chunks = checkpoint->plan();
      faultInjectionPoint("sampling", 0);
    } else if (shared) {
      chunks = ChunkPlan::choose(ss.nPaths, settings.output.checkpointWalkers, threads,
                                 sampler->walkerAlignment());
    }
  });
  s.kind = sampler->kind();
  const long long stepsPerWalker = static_cast<long long>(sampleCurve.rows()) * ss.stepsPerPoint;
  const long long totalSteps = stepsPerWalker * ss.nPaths;
  Progress sampleProgress("sampling", 1000, options.progress);
  SamplerResult paths;
  if (!shared) {
    int started = 0;
    for (int c = 0; c < chunks.count(); ++c) {
      const int first = chunks.first(c), count = chunks.size(c);
      const long long before = stepsPerWalker * first;
      SamplerResult part;
      if (checkpoint && checkpoint->hasChunk(c)) {
        part = checkpoint->loadChunk(c);
      } else {
        faultThrowPoint(started++);
        part = sampler->sample(sampleCurve, first, count, [&](long long d, long long) {
          sampleProgress.update(static_cast<long long>(1000.0 * (before + d) / totalSteps));
        });
        if (checkpoint) checkpoint->saveChunk(c, part);
        faultInjectionPoint("chunk", c);
      }
      sampleProgress.update(
          static_cast<long long>(1000.0 * (before + stepsPerWalker * count) / totalSteps));
      appendWalkers(paths, part, ss.nPaths);
    }
  } else {
    // The chunks still to sample (all of them, or those a resumed checkpoint lacks), in order;
    // round k gives chunk todo[k N + r] to rank r. Rank 0 saves each round's chunks in the
    // checkpoint and appends the chunks to the paths in chunk order as soon as they are there.
    std::vector<std::int64_t> todo;
    std::int64_t walkersPerChunk = chunks.walkers;
    if (root) {
      for (int c = 0; c < chunks.count(); ++c) {
        if (!(checkpoint && checkpoint->hasChunk(c))) todo.push_back(c);
      }
    }
    ranks.broadcast(walkersPerChunk);
    ranks.broadcast(todo);
    chunks.walkers = static_cast<int>(walkersPerChunk);
    const int N = ranks.size();
    std::vector<std::optional<SamplerResult>> received(static_cast<std::size_t>(chunks.count()));
    int appended = 0;
    long long walkersDone = 0;
    const auto appendReady = [&] {
      while (appended < chunks.count()) {
        auto& slot = received[static_cast<std::size_t>(appended)];
        if (!slot && checkpoint && checkpoint->hasChunk(appended))
          slot = checkpoint->loadChunk(appended);
        if (!slot) break;
        appendWalkers(paths, *slot, ss.nPaths);
        slot.reset();
        ++appended;
      }
    };
    const std::size_t rounds = (todo.size() + static_cast<std::size_t>(N) - 1) / N;
    for (std::size_t k = 0; k < rounds; ++k) {
      const std::size_t mine =
          k * static_cast<std::size_t>(N) + static_cast<std::size_t>(ranks.rank());
      std::string bytes;
      ranks.collectively([&] {
        if (mine >= todo.size()) return;
        const int c = static_cast<int>(todo[mine]);
        faultThrowPoint(static_cast<int>(k));
        const long long before = stepsPerWalker * walkersDone;
        SamplerResult part = sampler->sample(
            sampleCurve, chunks.first(c), chunks.size(c), [&](long long d, long long) {
              // Rank 0 shows the whole job's progress: the other ranks move at about its pace.
              sampleProgress.update(
                  static_cast<long long>(std::min(1000.0, 1000.0 * (before + d * N) / totalSteps)));
            });
        if (root) {
          received[static_cast<std::size_t>(c)] = std::move(part);
        } else {
          bytes = walkersToBytes(part, c);
        }
      });
      const std::vector<std::string> all = ranks.gather(bytes);
      ranks.collectively([&] {
        if (!root) return;
        for (int r = 0; r < N; ++r) {
          const std::size_t at = k * static_cast<std::size_t>(N) + static_cast<std::size_t>(r);
          if (at >= todo.size()) break;
          const int c = static_cast<int>(todo[at]);
          auto& slot = received[static_cast<std::size_t>(c)];
          if (r > 0) slot = walkersFromBytes(all[static_cast<std::size_t>(r)], c, chunks.size(c));
          if (checkpoint) checkpoint->saveChunk(c, *slot);
          faultInjectionPoint("chunk", c);
          walkersDone += chunks.size(c);
        }
        sampleProgress.update(static_cast<long long>(1000.0 * stepsPerWalker * walkersDone /
                                                     std::max(totalSteps, 1LL)));
        appendReady();
      });
    }
    if (root) appendReady();
  }
  sampleProgress.finish(fmt::format("{} paths x {} frames", ss.nPaths, paths.framesPerPath));
  s.stageSeconds["sampling"] = secondsSince(t);
  // The other ranks are done: rank 0 alone writes the result.
  if (!root) return s;

  // --- metrics
  t = Clock::now();
  const double radius = settings.metrics.successRadius;
  const Eigen::VectorXd period = problem.periods();
  Eigen::VectorXd success(ss.nPaths);
  // A path succeeds when it ends within the radius of B; a path sampled in reverse
  // (sampler.direction) ends at B by construction and must start within the radius of A.
  for (int i = 0; i < ss.nPaths; ++i) {
    const bool ends =
        periodicDistance(paths.finalPositions.row(i).transpose(), b, period) <= radius;
    const bool starts =
        paths.startPositions.rows() == 0 ||
        periodicDistance(paths.startPositions.row(i).transpose(), a, period) <= radius;
    success[i] = ends && starts ? 1 : 0;
  }
  s.nPaths = ss.nPaths;
  s.successFraction = success.mean();
  meanStd(paths.maxEnergyNearest, s.maxEnergyMean, s.maxEnergyStd);
  meanStd(paths.maxEnergy, s.maxEnergyInterpolatedMean, s.maxEnergyInterpolatedStd);
  s.maxEnergyCVMean = s.maxEnergyCVStd = std::numeric_limits<double>::quiet_NaN();
  if (paths.maxEnergyCV.size()) {
    // Full atom: MaxEnergy is the molecule's; there is no interpolant.
    s.maxEnergyInterpolatedMean = s.maxEnergyInterpolatedStd =
        std::numeric_limits<double>::quiet_NaN();
    meanStd(paths.maxEnergyCV, s.maxEnergyCVMean, s.maxEnergyCVStd);
  }
  s.samplerEnergyEvaluations = paths.energyEvaluations;
  s.nearestGridLookups = paths.nearestLookups;
  s.denoiserEvaluations = denoiser->evaluationCount();
  s.energyEvaluations = paths.energyEvaluations + (exact ? exact->potentialEvaluations() : 0);
  MinimaxResult bound;
  s.minimaxBound = std::numeric_limits<double>::quiet_NaN();
  if (surface) {
    bound = minimaxBarrier(surface->grid(), a.data(), b.data(), 8);
    // For full-atom jobs the bound is on the CV surface, reported in kJ/mol.
    s.minimaxBound = fullAtom ? bound.barrier * problem.molecule->kT() : bound.barrier;
  }
  s.stageSeconds["metrics"] = secondsSince(t);

  // --- output
  t = Clock::now();
  H5File& f = writer->file();
  const std::string eu = s.energyUnit, xu = potential.coordinateUnit();
  const std::string zu = fmt::format("l: 1; x: {}", xu);
  writeConfigGroup(f, record);

  writeMatrix(f, "/curve/z", geo.z, zu);
  writeVector(f, "/curve/l", geo.z.col(0), "1");
  writeMatrix(f, "/curve/x", geo.z.rightCols(D), xu);
  writeMatrix(f, "/curve/eta", geo.evaluation.eta, fmt::format("x part: 1/{0}; last: 1/{0}^2", xu));
  writeMatrix(f, "/curve/mu", geo.evaluation.mu, fmt::format("x part: {0}; last: {0}^2", xu));
  writeVector(f, "/curve/psi", geo.evaluation.psi, "nats");
  writeVector(f, "/curve/spline_parameters", geo.theta, "see docs/output.md");
  writeVector(f, "/curve/energy_history", toVector(geo.energyHistory), "1");
  writeVector(f, "/curve/objective_history", toVector(geo.objectiveHistory), "1");
  if (geo.klFromStar.size()) writeVector(f, "/curve/kl_from_z_star", geo.klFromStar, "nats");
  f.setAttribute("/curve", "energy", geo.evaluation.energy, "1");
  f.setAttribute("/curve", "length", geo.evaluation.length, "1");
  f.setAttribute("/curve", "straight_line_energy", geo.initialEnergy, "1");
  f.setAttribute("/curve", "objective", geo.objective, "1");
  f.setAttribute("/curve", "low_variance_penalty", geo.penalty.lowVariance, "1");
  f.setAttribute("/curve", "region_penalty", geo.penalty.region, "1");
  f.setAttribute("/curve", "min_l", s.minL, "1");
  f.setAttribute("/curve", "iterations", static_cast<std::int64_t>(geo.iterations), "1");
  f.setAttribute("/curve", "objective_evaluations",
                 static_cast<std::int64_t>(geo.objectiveEvaluations), "1");
  f.setAttribute("/curve", "stop_reason", geo.stopReason);
  f.setAttribute("/curve", "optimizer", gs.optimizer);
  f.setAttribute("/curve", "initial_curve", initialCurve.empty() ? "straight line" : initialCurve);
  f.setAttribute("/curve", "n_nodes", static_cast<std::int64_t>(gs.nNodes), "1");

  writeMatrix(f, "/sampling/curve_z", sampleCurve, zu);
  f.setAttribute("/paths", "frame_stride", static_cast<std::int64_t>(ss.frameStride), "frames");
  f.setAttribute("/paths", "frames_per_path", static_cast<std::int64_t>(paths.framesPerPath), "frames");
  f.setAttribute("/paths", "steps_per_point", static_cast<std::int64_t>(ss.stepsPerPoint), "steps");
  if (!fullAtom) {
    // Overdamped Langevin step ds (U in units of kT); full-atom dynamics record their time step
    // and friction in /full_atom instead.
    f.setAttribute("/paths", "step_size", ss.stepSize, fmt::format("{}^2", xu));
  }
  sampler->write(f, paths);
  {
    std::vector<std::int64_t> ok(success.size());
    for (Eigen::Index i = 0; i < success.size(); ++i) ok[i] = static_cast<std::int64_t>(success[i]);
    f.writeInts("/paths/success", {ok.size()}, ok.data(), "1");
  }
  writeMatrix(f, "/paths/final_position", paths.finalPositions, xu);
  f.setAttribute("/paths", "direction", std::string(sampler->reversed() ? "reverse" : "forward"));
  if (paths.startPositions.rows() > 0)
    writeMatrix(f, "/paths/start_position", paths.startPositions, xu);
  if (surface) {
    std::vector<std::int64_t> idx;
    for (const auto& [i, j] : bound.path) {
      idx.push_back(i);
      idx.push_back(j);
    }
    f.writeInts("/metrics/minimax_path", {bound.path.size(), 2}, idx.data(), "grid index");
  }

  s.stageSeconds["output"] = secondsSince(t);
  s.wallSeconds = secondsSince(tStart);
  const std::string sum = "/summary";
  f.setAttribute("/", "geotps_version", std::string(kVersion));
  f.setAttribute("/", "schema_version", kResultSchemaVersion, "1");
  f.setAttribute("/", "file_type", std::string("run"));
  f.setAttribute("/", "name", s.name);
  f.setAttribute("/", "created", isoTimeNow());
  f.setAttribute("/", "seed", static_cast<std::int64_t>(s.seed), "1");
  // Full atom: the Boltzmann potential is the OpenMM System; `potential` (the CV-space object the
  // geodesic saw) is then the CV surface, recorded as cv_surface.
  f.setAttribute("/", "potential", fullAtom ? std::string("openmm") : potential.name());
  if (fullAtom) f.setAttribute("/", "cv_surface", potential.name());
  f.setAttribute("/", "platform",
                 fullAtom ? problem.molecule->platform->getName() : std::string("none (CV space)"));
  writeProvenance(f, record);
  f.setAttribute("/", "denoiser", denoiser->name());
  f.setAttribute("/", "energy_unit", eu);
  f.setAttribute("/", "threads", static_cast<std::int64_t>(threads), "1");
  // The MPI ranks that shared the walkers (1 without MPI); the datasets do not depend on it.
  f.setAttribute("/", "ranks", static_cast<std::int64_t>(ranks.size()), "1");
  f.setAttribute(sum, "n_paths", static_cast<std::int64_t>(s.nPaths), "1");
  f.setAttribute(sum, "max_energy_nearest_mean", s.maxEnergyMean, eu);
  f.setAttribute(sum, "max_energy_nearest_std", s.maxEnergyStd, eu);
  f.setAttribute(sum, "max_energy_interpolated_mean", s.maxEnergyInterpolatedMean, eu);
  f.setAttribute(sum, "max_energy_interpolated_std", s.maxEnergyInterpolatedStd, eu);
  f.setAttribute(sum, "max_energy_cv_mean", s.maxEnergyCVMean, "kJ/mol");
  f.setAttribute(sum, "max_energy_cv_std", s.maxEnergyCVStd, "kJ/mol");
  f.setAttribute(sum, "kind", s.kind);
  f.setAttribute(sum, "success_fraction", s.successFraction, "1");
  f.setAttribute(sum, "success_radius", radius, xu);
  f.setAttribute(sum, "energy_evaluations", static_cast<std::int64_t>(s.energyEvaluations), "1");
  f.setAttribute(sum, "sampler_energy_evaluations",
                 static_cast<std::int64_t>(s.samplerEnergyEvaluations), "1");
  f.setAttribute(sum, "nearest_grid_lookups", static_cast<std::int64_t>(s.nearestGridLookups), "1");
  f.setAttribute(sum, "denoiser_evaluations", static_cast<std::int64_t>(s.denoiserEvaluations), "1");
  f.setAttribute(sum, "geodesic_energy", s.geodesicEnergy, "1");
  f.setAttribute(sum, "geodesic_energy_exact", s.geodesicEnergyExact, "1");
  f.setAttribute(sum, "geodesic_length", s.geodesicLength, "1");
  f.setAttribute(sum, "straight_line_energy", s.straightLineEnergy, "1");
  f.setAttribute(sum, "min_l", s.minL, "1");
  f.setAttribute(sum, "geodesic_iterations", static_cast<std::int64_t>(s.geodesicIterations), "1");
  f.setAttribute(sum, "geodesic_stop_reason", s.geodesicStopReason);
  f.setAttribute(sum, "minimax_bound", s.minimaxBound, eu);
  f.setAttribute(sum, "min_kl_to_z_star", s.minKLToZStar, "nats");
  f.setAttribute(sum, "wall_seconds", s.wallSeconds, "s");
  for (const char* stage : kStages) {
    f.setAttribute(sum, std::string("wall_seconds_") + stage, s.stageSeconds[stage], "s");
  }
  faultInjectionPoint("output", 0);
  writer->commit();
  if (checkpoint && !options.checkpointFolder) checkpoint->remove();
  return s;
}

JobSummary readSummary(const std::string& path) {
  H5File f(path, H5File::Mode::Read);
  requireRunResult(f);
  JobSummary s;
  const std::string sum = "/summary";
  s.outputFile = path;
  s.name = f.readAttributeString("/", "name");
  s.version = f.readAttributeString("/", "geotps_version");
  s.seed = static_cast<std::uint64_t>(f.readAttributeInt("/", "seed"));
  s.energyUnit = f.readAttributeString("/", "energy_unit");
  s.nPaths = f.readAttributeInt(sum, "n_paths");
  s.maxEnergyMean = f.readAttributeDouble(sum, "max_energy_nearest_mean");
  s.maxEnergyStd = f.readAttributeDouble(sum, "max_energy_nearest_std");
  s.maxEnergyInterpolatedMean = f.readAttributeDouble(sum, "max_energy_interpolated_mean");
  s.maxEnergyInterpolatedStd = f.readAttributeDouble(sum, "max_energy_interpolated_std");
  s.maxEnergyCVMean = f.readAttributeDouble(sum, "max_energy_cv_mean");
  s.maxEnergyCVStd = f.readAttributeDouble(sum, "max_energy_cv_std");
  s.kind = f.readAttributeString(sum, "kind");
  s.successFraction = f.readAttributeDouble(sum, "success_fraction");
  s.energyEvaluations = f.readAttributeInt(sum, "energy_evaluations");
  s.samplerEnergyEvaluations = f.readAttributeInt(sum, "sampler_energy_evaluations");
  s.nearestGridLookups = f.readAttributeInt(sum, "nearest_grid_lookups");
  s.denoiserEvaluations = f.readAttributeInt(sum, "denoiser_evaluations");
  s.geodesicEnergy = f.readAttributeDouble(sum, "geodesic_energy");
  s.geodesicEnergyExact = f.readAttributeDouble(sum, "geodesic_energy_exact");
  s.geodesicLength = f.readAttributeDouble(sum, "geodesic_length");
  s.straightLineEnergy = f.readAttributeDouble(sum, "straight_line_energy");
  s.minL = f.readAttributeDouble(sum, "min_l");
  s.geodesicIterations = f.readAttributeInt(sum, "geodesic_iterations");
  s.geodesicStopReason = f.readAttributeString(sum, "geodesic_stop_reason");
  s.minimaxBound = f.readAttributeDouble(sum, "minimax_bound");
  s.minKLToZStar = f.readAttributeDouble(sum, "min_kl_to_z_star");
  s.wallSeconds = f.readAttributeDouble(sum, "wall_seconds");
  for (const char* stage : kStages) {
    s.stageSeconds[stage] = f.readAttributeDouble(sum, std::string("wall_seconds_") + stage);
  }
  return s;
}

std::string formatSummary(const JobSummary& s) {
  std::string out;
  out += fmt::format("job            {} (geotps {}, seed {})\n", s.name, s.version, s.seed);
  out += fmt::format(
      "geodesic       energy {:.4f} (straight line {:.4f}), length {:.4f}, "
      "lowest l {:.3f}, {} iterations ({})\n",
      s.geodesicEnergy, s.straightLineEnergy, s.geodesicLength, s.minL, s.geodesicIterations,
      s.geodesicStopReason);
  if (std::abs(s.geodesicEnergyExact - s.geodesicEnergy) > 1e-12 * std::abs(s.geodesicEnergy)) {
    out += fmt::format(
        "               energy of this curve with the exact quadrature denoiser {:.4f}\n",
        s.geodesicEnergyExact);
  }
  if (std::isfinite(s.minKLToZStar)) {
    out += fmt::format("region         smallest KL(p_z* || p_z) along the curve {:.4f} nats\n",
                       s.minKLToZStar);
  }
  if (s.kind == "full_atom") {
    out += fmt::format(
        "MaxEnergy      {:.3f} +- {:.3f} kJ/mol (full atom, relative to the lower "
        "minimised end state), {} paths\n",
        s.maxEnergyMean, s.maxEnergyStd, s.nPaths);
    if (std::isnan(s.maxEnergyCVMean)) {
      out += "CV MaxEnergy   none (no CV surface: a molecule with other than two CVs)\n";
    } else {
      out += fmt::format(
          "CV MaxEnergy   {:.3f} +- {:.3f} kJ/mol (on the CV surface, nearest grid point)\n",
          s.maxEnergyCVMean, s.maxEnergyCVStd);
    }
  } else if (s.nearestGridLookups > 0) {
    out += fmt::format(
        "MaxEnergy      {:.3f} +- {:.3f} {} (nearest grid point), {:.3f} +- {:.3f} "
        "(interpolant), {} paths\n",
        s.maxEnergyMean, s.maxEnergyStd, s.energyUnit, s.maxEnergyInterpolatedMean,
        s.maxEnergyInterpolatedStd, s.nPaths);
  } else {
    out += fmt::format("MaxEnergy      {:.3f} +- {:.3f} {}, {} paths\n", s.maxEnergyMean,
                       s.maxEnergyStd, s.energyUnit, s.nPaths);
  }
  if (std::isfinite(s.minimaxBound)) {
    out += fmt::format("lower bound    {:.3f} {} (minimax barrier on the grid)\n", s.minimaxBound,
                       s.energyUnit);
  }
  out += fmt::format(
      "success        {:.1f} % of paths connect A and B (both ends within the success radius)\n",
      100.0 * s.successFraction);
  out += fmt::format(
      "evaluations    {} energy ({} by the sampler), {} nearest-grid lookups, {} "
      "denoiser\n",
      s.energyEvaluations, s.samplerEnergyEvaluations, s.nearestGridLookups, s.denoiserEvaluations);
  std::string stages;
  for (const char* stage : kStages) {
    const auto it = s.stageSeconds.find(stage);
    if (it != s.stageSeconds.end()) stages += fmt::format(", {} {:.2f}", stage, it->second);
  }
  out += fmt::format("wall time      {:.2f} s total{}\n", s.wallSeconds, stages);
  out += fmt::format("output         {}\n", s.outputFile);
  return out;
}

std::string summaryJson(const JobSummary& s) {
  std::string st;
  for (const char* stage : kStages) {
    const auto it = s.stageSeconds.find(stage);
    if (it == s.stageSeconds.end()) continue;
    if (!st.empty()) st += ", ";
    st += fmt::format("{}: {}", jsonString(stage), jsonNumber(it->second));
  }
  return fmt::format(
      "{{\"file\": {}, \"name\": {}, \"version\": {}, \"seed\": {}, \"n_paths\": {}, "
      "\"max_energy_mean\": {}, \"max_energy_std\": {}, \"max_energy_interpolated_mean\": {}, "
      "\"max_energy_interpolated_std\": {}, \"max_energy_cv_mean\": {}, \"max_energy_cv_std\": {}, "
      "\"kind\": {}, \"success_fraction\": {}, \"energy_evaluations\": {}, "
      "\"sampler_energy_evaluations\": {}, \"nearest_grid_lookups\": {}, "
      "\"denoiser_evaluations\": {}, \"geodesic_energy\": {}, \"geodesic_energy_exact\": {}, "
      "\"geodesic_length\": {}, "
      "\"straight_line_energy\": {}, \"min_l\": {}, \"geodesic_iterations\": {}, "
      "\"minimax_bound\": {}, \"min_kl_to_z_star\": {}, \"energy_unit\": {}, \"wall_seconds\": {}, "
      "\"stage_seconds\": {{{}}}}}",
      jsonString(s.outputFile), jsonString(s.name), jsonString(s.version), s.seed, s.nPaths,
      jsonNumber(s.maxEnergyMean), jsonNumber(s.maxEnergyStd),
      jsonNumber(s.maxEnergyInterpolatedMean), jsonNumber(s.maxEnergyInterpolatedStd),
      jsonNumber(s.maxEnergyCVMean), jsonNumber(s.maxEnergyCVStd), jsonString(s.kind),
      jsonNumber(s.successFraction), s.energyEvaluations, s.samplerEnergyEvaluations,
      s.nearestGridLookups, s.denoiserEvaluations, jsonNumber(s.geodesicEnergy),
      jsonNumber(s.geodesicEnergyExact), jsonNumber(s.geodesicLength),
      jsonNumber(s.straightLineEnergy), jsonNumber(s.minL), s.geodesicIterations,
      jsonNumber(s.minimaxBound), jsonNumber(s.minKLToZStar), jsonString(s.energyUnit),
      jsonNumber(s.wallSeconds), st);
}

}  // namespace geotps
