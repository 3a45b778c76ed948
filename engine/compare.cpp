// `geotps compare` (see compare.h; file layout in docs/output.md).
#include "engine/compare.h"

#include <OpenMM.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <optional>

#include "engine/doob_lagrangian.h"
#include "engine/full_atom.h"
#include "engine/h5_file.h"
#include "engine/minimax.h"
#include "engine/output_util.h"
#include "engine/parallel.h"
#include "engine/potential_registry.h"
#include "engine/progress.h"
#include "engine/shooting.h"
#include "geotps/version.h"
#include "potentials/atomic_file.h"
#include "potentials/openmm_potential.h"
#include "potentials/tabulated_surface.h"

namespace geotps {

namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string labelOf(const std::string& method) {
  if (method == "geodesic") return "Spacetime geodesic (GeoTPS)";
  if (method == "mcmc_fixed") return "MCMC two-way shooting, fixed length";
  if (method == "mcmc_variable") return "MCMC two-way shooting, variable length";
  return "Doob's Lagrangian";
}

std::string withSuffix(const std::string& path, const std::string& suffix) {
  std::string stem = path;
  if (stem.size() > 3 && stem.substr(stem.size() - 3) == ".h5") stem.resize(stem.size() - 3);
  return stem + suffix;
}

/// Everything the baselines share: the potential (2D) or the molecule (full atom), the states.
struct Problem {
  bool fullAtom = false;
  PotentialPtr potential;  ///< 2D: the job's potential; full atom: the CV surface (in kT)
  const TabulatedSurface* surface = nullptr;
  std::optional<FullAtomSetup> atoms;
  double kT = 1.0;               ///< 2D: the job's kT; full atom: kJ/mol
  double referenceEnergy = 0.0;  ///< full atom: the lower minimised end state, kJ/mol
  Eigen::Vector2d a, b;          ///< states in x or (phi, psi)
  Eigen::Vector2d period = Eigen::Vector2d::Zero();
  double successRadius = 0.5;
  int threads = 1;

  double cvEnergy(double phi, double psi) const {  // full atom, kJ/mol
    const double x[2] = {phi, psi};
    return surface->nearestGridEnergy(x) * kT;
  }
  double metric2D(const double* x) const {
    return surface ? surface->nearestGridEnergy(x) : potential->energy(x);
  }
  bool succeeded(const Eigen::Vector2d& cv) const {
    StateBalls s;
    s.period = period;
    return s.distance(cv, b) <= successRadius;
  }
};

Problem makeProblem(const Config& config) {
  Problem p;
  p.fullAtom = config.getString("potential.type") == "openmm";
  p.threads = resolveThreads(static_cast<int>(config.getInt("sampler.threads")));
  p.successRadius = config.getReal("metrics.success_radius");
  const auto a = config.getRealList("states.a"), b = config.getRealList("states.b");
  p.a = Eigen::Vector2d(a[0], a[1]);
  p.b = Eigen::Vector2d(b[0], b[1]);
  if (p.fullAtom) {
    p.atoms = prepareFullAtom(config);
    p.kT = p.atoms->kT();
    try {
      p.potential = TabulatedSurface::fromFile(config.getString("cv.surface"), 1.0 / p.kT);
    } catch (const std::exception& e) {
      throw ConfigError(fmt::format("{}: key 'cv.surface': {}", config.sourceName(), e.what()));
    }
    p.referenceEnergy = std::min(p.atoms->energyA, p.atoms->energyB);
    p.a = p.atoms->cvA;  // the minimised end states
    p.b = p.atoms->cvB;
    p.period = Eigen::Vector2d::Constant(2.0 * std::numbers::pi);
  } else {
    p.potential = makePotential(config);
    p.kT = config.getReal("kT");
    if (p.potential->isPeriodic()) {
      p.period = Eigen::Vector2d(p.potential->period(0), p.potential->period(1));
    }
  }
  p.surface = dynamic_cast<const TabulatedSurface*>(p.potential.get());
  return p;
}

/// The geodesic method: `geotps run` on the same config, its own result file kept.
MethodResult runGeodesic(Config config, const JobOptions& options, const std::string& file,
                         std::FILE* log) {
  MethodResult r;
  JobOptions o = options;
  o.output = file;
  const JobSummary js = runJob(std::move(config), o, log);
  H5File f(file, H5File::Mode::Read);
  const bool fullAtom = js.kind == "full_atom";
  r.maxEnergy = toVector(
      f.readDoubles(fullAtom ? "/paths/max_energy_full_atom" : "/paths/max_energy_nearest"));
  if (fullAtom) r.maxEnergyCV = toVector(f.readDoubles("/paths/max_energy_cv"));
  r.success = toVector(f.readDoubles("/paths/success"));
  r.energyEvaluations = js.energyEvaluations;
  r.wallSeconds = js.wallSeconds;
  const long long table = js.energyEvaluations - js.samplerEnergyEvaluations;
  const long long K = f.readAttributeInt("/paths", "steps_per_point");
  r.settings = fmt::format(
      "geodesic energy {:.3f} ({}, {} iterations, lowest l {:.2f}); {} paths, N = {} curve points "
      "x K = {} steps; evaluations: {} by the sampler{}",
      js.geodesicEnergy, f.readAttributeString("/curve", "optimizer"), js.geodesicIterations,
      js.minL, js.nPaths, f.readAttributeInt("/paths", "frames_per_path") / K, K,
      js.samplerEnergyEvaluations,
      table > 0 ? fmt::format(" + {} to tabulate the density for the quadrature denoiser", table)
                : std::string(" (the quadrature denoiser reads the tabulated surface: no further "
                              "evaluations)"));
  r.ok = true;
  return r;
}

/// The initial path of the MCMC chains: the first stored path of the geodesic run that goes from
/// A to B, cut from its last frame in A to its first frame in B.
ShootingPath initialPathFromGeodesic(const std::string& file, ShootingDynamics& observer,
                                     const StateBalls& states, bool fullAtom) {
  H5File f(file, H5File::Mode::Read);
  const std::string dataset = fullAtom ? "/full_atom/frames" : "/paths/frames";
  if (!f.exists(dataset)) {
    throw ConfigError(fmt::format(
        "{}: the geodesic run stored no path frames, which the MCMC methods start from; set "
        "output.frame_stride > 0",
        file));
  }
  const auto shape = f.shape(dataset);
  const std::size_t paths = shape[0], stored = shape[1];
  const std::size_t S = static_cast<std::size_t>(observer.configurationSize());
  const std::vector<double> all = f.readDoubles(dataset);
  for (std::size_t p = 0; p < paths; ++p) {
    const std::vector<double> conf(all.begin() + p * stored * S,
                                   all.begin() + (p + 1) * stored * S);
    ShootingPath out;
    if (extractTransition(observePath(observer, conf), states, out) && out.length() >= 3) {
      return out;
    }
  }
  throw std::runtime_error(fmt::format(
      "{}: none of the {} stored paths of the geodesic run goes from state A to state B (balls of "
      "radius mcmc.state_radius); the MCMC methods need one as their initial path",
      file, paths));
}

MethodResult runMcmc(const Config& config, const Problem& pb, bool variable,
                     const std::string& geodesicFile, std::uint64_t seed, bool showProgress) {
  MethodResult r;
  const auto t0 = Clock::now();
  StateBalls states;
  states.a = pb.a;
  states.b = pb.b;
  const auto radii = config.getRealList("mcmc.state_radius");
  states.radiusA = radii[0];
  states.radiusB = radii[1];
  states.period = pb.period;
  ShootingSettings ss;
  ss.variableLength = variable;
  ss.pathLength = static_cast<int>(config.getInt("mcmc.path_length"));
  ss.maxLength = static_cast<int>(config.getInt("mcmc.max_length"));
  ss.maxEvaluations =
      config.getInt(variable ? "mcmc.variable_max_evaluations" : "mcmc.fixed_max_evaluations");
  ss.chains = static_cast<int>(config.getInt("mcmc.chains"));
  ss.threads = pb.threads;
  // Distinct streams for the two variants.
  ss.seed = seed * 4 + (variable ? 2 : 1);
  ss.frameStride = static_cast<int>(config.getInt("mcmc.frame_stride"));
  ss.storeEvery = static_cast<int>(config.getInt("mcmc.store_every"));
  ss.storeConfigurations = pb.fullAtom;  // 2D: the configuration is the CV

  double ds = config.getReal("mcmc.step_size");
  if (ds == 0.0) ds = config.getReal("sampler.step_size");
  const double friction = config.getReal("dynamics.friction");
  const double dt = config.getReal("dynamics.time_step");
  const auto make = [&](int chain) -> std::unique_ptr<ShootingDynamics> {
    if (pb.fullAtom) {
      return makeFullAtomDynamics(*pb.atoms, friction, dt, ss.seed,
                                  static_cast<std::uint64_t>(chain), pb.referenceEnergy,
                                  [&pb](double phi, double psi) { return pb.cvEnergy(phi, psi); });
    }
    return makeOverdampedDynamics(*pb.potential, ds, pb.kT,
                                  [&pb](const double* x) { return pb.metric2D(x); });
  };
  auto observer = make(-1);
  const long long e0 = observer->evaluations();
  ShootingPath initial = initialPathFromGeodesic(geodesicFile, *observer, states, pb.fullAtom);
  const int cut = static_cast<int>(initial.length());
  if (!variable) {
    initial = fitPathLength(initial, ss.pathLength);
  } else if (cut > ss.maxLength) {
    initial = resamplePath(initial, ss.maxLength);
  }
  const long long initialEvaluations = observer->evaluations() - e0;

  Progress progress(variable ? "mcmc variable" : "mcmc fixed", ss.maxEvaluations, showProgress);
  const ShootingResult sr = runShooting(make, initial, states, ss, [&](long long d, long long n) {
    progress.update(std::min(d, n));
  });
  const std::size_t n = sr.accepted.size();
  progress.finish(fmt::format("{} accepted of {} trials", n, sr.trials));
  if (n == 0) {
    throw std::runtime_error(fmt::format(
        "no shooting move was accepted in {} trials ({} evaluations); raise the budget or, for "
        "fixed length, mcmc.path_length",
        sr.trials, sr.evaluations));
  }
  r.maxEnergy.resize(static_cast<Eigen::Index>(n));
  r.success.resize(static_cast<Eigen::Index>(n));
  if (pb.fullAtom) r.maxEnergyCV.resize(static_cast<Eigen::Index>(n));
  for (std::size_t i = 0; i < n; ++i) {
    const auto& a = sr.accepted[i];
    r.maxEnergy[i] = a.maxEnergy;
    if (pb.fullAtom) r.maxEnergyCV[i] = a.maxEnergy2;
    r.success[i] = pb.succeeded(a.lastCV) ? 1.0 : 0.0;
  }
  r.trials = sr.trials;
  r.acceptance = static_cast<double>(n) / static_cast<double>(sr.trials);
  r.energyEvaluations = sr.evaluations + initialEvaluations;
  double meanLength = 0.0;
  for (const auto& a : sr.accepted) meanLength += a.length;
  meanLength /= static_cast<double>(n);
  const std::string dyn = pb.fullAtom
                              ? fmt::format("Langevin {} fs, friction {}/ps", 1000 * dt, friction)
                              : fmt::format("overdamped Langevin ds = {}", ds);
  r.settings = fmt::format(
      "{}; budget {} evaluations in {} chains; {}; states: balls of radius {} around A and {} "
      "around B; initial path cut from the geodesic run ({} frames{}, MaxEnergy {:.2f}); {} "
      "trials, mean accepted length {:.0f} frames; statistics over the {} accepted paths",
      dyn, ss.maxEvaluations, ss.chains,
      variable ? fmt::format("max length {} frames", ss.maxLength)
               : fmt::format("length {} frames", ss.pathLength),
      states.radiusA, states.radiusB, cut,
      variable ? ""
               : fmt::format(fmt::runtime(cut < ss.pathLength
                                              ? ", padded with copies of its end frames to {}"
                                              : ", resampled to {}"),
                             ss.pathLength),
      sr.initialMaxEnergy, sr.trials, meanLength, n);
  // The accepted paths for the file: per path its chain, trial, length and MaxEnergy, and the
  // stored CV frames of all of them concatenated (path_offsets[i] = first row of path i).
  std::vector<double> chain(n), trial(n), length(n), offsets(n + 1, 0.0), frames;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& a = sr.accepted[i];
    chain[i] = a.chain;
    trial[i] = static_cast<double>(a.trial);
    length[i] = a.length;
    frames.insert(frames.end(), a.cvFrames.begin(), a.cvFrames.end());
    offsets[i + 1] = static_cast<double>(frames.size() / 2);
  }
  const std::string xu = pb.fullAtom ? "rad" : pb.potential->coordinateUnit();
  r.datasets.push_back({"chain", {n}, chain, "1"});
  r.datasets.push_back({"trial", {n}, trial, "1"});
  r.datasets.push_back({"path_length", {n}, length, "frames"});
  r.datasets.push_back({"path_offsets", {n + 1}, offsets, "row of path_frames"});
  r.datasets.push_back({"path_frames", {frames.size() / 2, 2}, frames, xu, true});
  if (pb.fullAtom) {
    std::vector<double> positions;
    for (const auto& a : sr.accepted) {
      positions.insert(positions.end(), a.configurationFrames.begin(), a.configurationFrames.end());
    }
    const std::size_t atoms = static_cast<std::size_t>(pb.atoms->system->getNumParticles());
    r.datasets.push_back(
        {"path_positions", {positions.size() / (3 * atoms), atoms, 3}, positions, "nm", true});
  }
  {
    std::vector<double> init;
    for (const auto& o : initial.frames) {
      init.push_back(o.cv[0]);
      init.push_back(o.cv[1]);
    }
    r.datasets.push_back({"initial_path", {initial.length(), 2}, init, xu});
  }
  r.wallSeconds = secondsSince(t0);
  r.ok = true;
  return r;
}

/// `x` (3n values) rigidly moved onto `ref` (Kabsch: translation and proper rotation minimising the
/// RMSD), so that a straight line between them does not shrink the molecule. Energies and dihedral
/// angles are unchanged (vacuum, no external field).
Eigen::VectorXd alignedTo(const Eigen::VectorXd& x, const Eigen::VectorXd& ref) {
  const Eigen::Index n = x.size() / 3;
  const Eigen::Map<const Eigen::Matrix<double, 3, Eigen::Dynamic>> P(x.data(), 3, n);
  const Eigen::Map<const Eigen::Matrix<double, 3, Eigen::Dynamic>> Q(ref.data(), 3, n);
  const Eigen::Vector3d cp = P.rowwise().mean(), cq = Q.rowwise().mean();
  const Eigen::Matrix3d H = (P.colwise() - cp) * (Q.colwise() - cq).transpose();
  const Eigen::JacobiSVD<Eigen::Matrix3d> svd(H, Eigen::ComputeFullU | Eigen::ComputeFullV);
  Eigen::Matrix3d d = Eigen::Matrix3d::Identity();
  d(2, 2) = (svd.matrixV() * svd.matrixU().transpose()).determinant() < 0 ? -1.0 : 1.0;
  const Eigen::Matrix3d R = svd.matrixV() * d * svd.matrixU().transpose();
  Eigen::VectorXd out(x.size());
  Eigen::Map<Eigen::Matrix<double, 3, Eigen::Dynamic>> O(out.data(), 3, n);
  O = (R * (P.colwise() - cp)).colwise() + cq;
  return out;
}

/// Relabels the hydrogens of `x` (3n values) so that each group of hydrogens sharing its nearest
/// heavy atom (a methyl group, say) is ordered as in `ref`: such hydrogens are equivalent, and two
/// structures minimised independently may hold them rotated by 120 degrees, which a straight line
/// between the structures would push through each other. Each group's permutation minimises the
/// squared distance to `ref`; the permuted structure is used only when `energy` gives it the same
/// energy (equivalent atoms), within 1e-6 kJ/mol.
Eigen::VectorXd matchEquivalentHydrogens(
    const Eigen::VectorXd& x, const Eigen::VectorXd& ref, const std::vector<PdbAtom>& atoms,
    const std::function<double(const Eigen::VectorXd&)>& energy) {
  const int n = static_cast<int>(atoms.size());
  auto pos = [](const Eigen::VectorXd& v, int i) { return Eigen::Vector3d(v.segment<3>(3 * i)); };
  std::map<int, std::vector<int>> groups;  // heavy atom -> its hydrogens
  for (int i = 0; i < n; ++i) {
    if (atoms[i].element != "H") continue;
    int best = -1;
    double bestD = 1e300;
    for (int j = 0; j < n; ++j) {
      if (atoms[j].element == "H") continue;
      const double d = (pos(x, i) - pos(x, j)).norm();
      if (d < bestD) bestD = d, best = j;
    }
    if (best >= 0) groups[best].push_back(i);
  }
  Eigen::VectorXd out = x;
  for (auto& [heavy, h] : groups) {
    if (h.size() < 2 || h.size() > 4) continue;
    std::vector<int> perm = h, bestPerm = h;
    double bestCost = 1e300;
    do {
      double cost = 0.0;
      for (std::size_t k = 0; k < h.size(); ++k)
        cost += (pos(x, perm[k]) - pos(ref, h[k])).squaredNorm();
      if (cost < bestCost) bestCost = cost, bestPerm = perm;
    } while (std::next_permutation(perm.begin(), perm.end()));
    for (std::size_t k = 0; k < h.size(); ++k)
      out.segment<3>(3 * h[k]) = x.segment<3>(3 * bestPerm[k]);
  }
  if (std::abs(energy(out) - energy(x)) > 1e-6) return x;
  return out;
}

MethodResult runDoob(const Config& config, const Problem& pb, std::uint64_t seed,
                     bool showProgress) {
  MethodResult r;
  const auto t0 = Clock::now();
  DoobSettings ds;
  ds.hidden = static_cast<int>(config.getInt("doob.hidden"));
  ds.layers = static_cast<int>(config.getInt("doob.layers"));
  ds.sigmaMin = config.getReal("doob.sigma_min");
  ds.lengthScale = config.getReal("doob.length_scale");
  ds.timeHorizon = config.getReal("doob.time_horizon");
  ds.iterations = static_cast<int>(config.getInt("doob.iterations"));
  ds.batchSize = static_cast<int>(config.getInt("doob.batch_size"));
  ds.learningRate = config.getReal("doob.learning_rate");
  ds.hvpStep = config.getReal("doob.hvp_step");
  ds.warmupIterations = static_cast<int>(config.getInt("doob.warmup_iterations"));
  ds.energyCap = config.getReal("doob.energy_cap");
  ds.nPaths = static_cast<int>(config.getInt("doob.n_paths"));
  ds.nSteps = static_cast<int>(config.getInt("doob.n_steps"));
  ds.frameStride = static_cast<int>(config.getInt("doob.frame_stride"));
  ds.seed = seed * 4 + 3;
  ds.threads = pb.threads;

  DoobDynamics dyn;
  PotentialPtr potential;
  Eigen::VectorXd a, b;
  std::function<double(const double*)> lookup;
  std::shared_ptr<OpenMMPotential> molecule;
  if (pb.fullAtom) {
    const auto& at = *pb.atoms;
    molecule = std::make_shared<OpenMMPotential>(
        at.system, at.platform->getName(), config.getString("potential.precision"), pb.threads);
    potential = molecule;
    const int n = at.system->getNumParticles();
    dyn.diffusion.resize(3 * n);
    const double friction = config.getReal("dynamics.friction");
    for (int i = 0; i < n; ++i) {
      const double m = at.system->getParticleMass(i);
      dyn.diffusion.segment(3 * i, 3).setConstant(pb.kT / (m * friction));
    }
    dyn.kT = pb.kT;
    a = toVector(at.positionsA);
    const auto energyOf = [&](const Eigen::VectorXd& v) { return molecule->energy(v.data()); };
    b = alignedTo(matchEquivalentHydrogens(alignedTo(toVector(at.positionsB), a), a,
                                           at.topology.atoms, energyOf),
                  a);
    lookup = [&pb, &at](const double* x) {
      const std::vector<double> pos(x, x + 3 * at.system->getNumParticles());
      const Eigen::Vector2d cv = computeCVs(pos, at.phiAtoms, at.psiAtoms);
      return pb.cvEnergy(cv[0], cv[1]);
    };
  } else {
    potential = pb.potential;
    dyn.diffusion = Eigen::VectorXd::Constant(2, 0.5);
    dyn.kT = pb.kT;
    a = pb.a;
    b = pb.b;
    if (pb.surface) lookup = [&pb](const double* x) { return pb.metric2D(x); };
  }
  Progress train("doob training", ds.iterations, showProgress);
  bool sampling = false;
  std::unique_ptr<Progress> sampleBar;
  const DoobResult dr = runDoobLagrangian(
      *potential, a, b, dyn, ds, lookup, [&](const char* phase, long long d, long long n) {
        if (std::string(phase) == "training") {
          train.update(d);
        } else {
          if (!sampling) {
            train.finish();
            sampleBar = std::make_unique<Progress>("doob sampling", n, showProgress);
            sampling = true;
          }
          sampleBar->update(d);
        }
      });
  if (!sampling) train.finish();
  if (sampleBar) sampleBar->finish();
  const int M = ds.nPaths;
  const int D = dr.dimension;
  r.success.resize(M);
  for (int i = 0; i < M; ++i) {
    Eigen::Vector2d cv;
    if (pb.fullAtom) {
      const Eigen::VectorXd row = dr.finalPositions.row(i).transpose();
      const std::vector<double> p(row.data(), row.data() + D);
      cv = computeCVs(p, pb.atoms->phiAtoms, pb.atoms->psiAtoms);
    } else {
      cv = dr.finalPositions.row(i).transpose();
    }
    r.success[i] = pb.succeeded(cv) ? 1.0 : 0.0;
  }
  if (pb.fullAtom) {
    r.maxEnergy = dr.maxEnergy.array() - pb.referenceEnergy;
    r.maxEnergyCV = dr.maxEnergyLookup;
  } else {
    r.maxEnergy = pb.surface ? dr.maxEnergyLookup : dr.maxEnergy;
  }
  r.energyEvaluations = dr.trainingEnergyEvaluations;
  r.settings = fmt::format(
      "Gaussian path, MLP {} x {}, T = {} {}, sigma_min = {}; {} Adam steps x {} samples (3 "
      "gradient evaluations each: drift and finite-difference Hessian-vector product); final "
      "loss {:.4g}; {} paths of {} integration steps (their {} energy evaluations for MaxEnergy "
      "not counted)",
      ds.layers, ds.hidden, ds.timeHorizon, pb.fullAtom ? "ps" : "(units of ds)", ds.sigmaMin,
      ds.iterations, ds.batchSize, dr.lossHistory.empty() ? kNaN : dr.lossHistory.back(), M,
      ds.nSteps, dr.samplingEnergyEvaluations);
  const std::string xu = pb.fullAtom ? "nm" : pb.potential->coordinateUnit();
  r.datasets.push_back({"loss_history", {dr.lossHistory.size()}, dr.lossHistory, "1"});
  r.datasets.push_back(
      {"mean_path",
       {static_cast<std::size_t>(dr.meanPath.rows()), static_cast<std::size_t>(dr.meanPath.cols())},
       rowMajor(dr.meanPath),
       xu});
  r.datasets.push_back({"sigma_path",
                        {static_cast<std::size_t>(dr.sigmaPath.rows()),
                         static_cast<std::size_t>(dr.sigmaPath.cols())},
                        rowMajor(dr.sigmaPath),
                        xu});
  if (dr.storedPerPath > 0) {
    r.datasets.push_back(
        {"frames",
         {static_cast<std::size_t>(M), dr.storedPerPath, static_cast<std::size_t>(D)},
         std::vector<double>(dr.frames.begin(), dr.frames.end()),
         xu,
         true});
  }
  r.wallSeconds = secondsSince(t0);
  r.ok = true;
  return r;
}

void writeMethod(H5File& f, const MethodResult& r, const std::string& energyUnit) {
  const std::string g = "/methods/" + r.method;
  if (r.ok) {
    writeVector(f, g + "/max_energy", r.maxEnergy, energyUnit);
    if (r.maxEnergyCV.size()) writeVector(f, g + "/max_energy_cv", r.maxEnergyCV, "kJ/mol");
    writeVector(f, g + "/success", r.success, "1");
    for (const auto& d : r.datasets) {
      if (d.single) {
        const std::vector<float> v(d.values.begin(), d.values.end());
        f.writeFloats(g + "/" + d.name, d.shape, v.data(), d.units);
      } else {
        f.writeDoubles(g + "/" + d.name, d.shape, d.values.data(), d.units);
      }
    }
  } else {
    f.writeString(g + "/error", r.error);
  }
  double mean = kNaN, sd = kNaN, mn = kNaN, meanCV = kNaN, sdCV = kNaN, success = kNaN;
  if (r.ok && r.maxEnergy.size()) {
    meanStd(r.maxEnergy, mean, sd);
    mn = r.maxEnergy.minCoeff();
    success = r.success.mean();
  }
  if (r.ok && r.maxEnergyCV.size()) meanStd(r.maxEnergyCV, meanCV, sdCV);
  f.setAttribute(g, "label", r.label);
  f.setAttribute(g, "ok", static_cast<std::int64_t>(r.ok ? 1 : 0));
  f.setAttribute(g, "n_paths", static_cast<std::int64_t>(r.maxEnergy.size()));
  f.setAttribute(g, "max_energy_mean", mean);
  f.setAttribute(g, "max_energy_std", sd);
  f.setAttribute(g, "max_energy_min", mn);
  f.setAttribute(g, "max_energy_cv_mean", meanCV);
  f.setAttribute(g, "max_energy_cv_std", sdCV);
  f.setAttribute(g, "success_fraction", success);
  f.setAttribute(g, "acceptance", r.acceptance >= 0 ? r.acceptance : kNaN);
  f.setAttribute(g, "trials", static_cast<std::int64_t>(r.trials));
  f.setAttribute(g, "energy_evaluations", static_cast<std::int64_t>(r.energyEvaluations));
  f.setAttribute(g, "wall_seconds", r.wallSeconds);
  f.setAttribute(g, "settings", r.settings);
}

std::string human(long long n) {
  if (n >= 1000000000LL) return fmt::format("{:.2f}B", n / 1e9);
  if (n >= 1000000LL) return fmt::format("{:.2f}M", n / 1e6);
  if (n >= 1000LL) return fmt::format("{:.1f}k", n / 1e3);
  return std::to_string(n);
}

}  // namespace

std::string compareMarkdown(const CompareSummary& s) {
  const bool fa = s.kind == "full_atom";
  std::string out = fmt::format("Comparison `{}` ({}; MaxEnergy in {}{}).\n\n", s.name,
                                fa ? "full-atom alanine dipeptide" : "2D surface", s.energyUnit,
                                fa ? ", full-atom energy relative to the lower minimised end state"
                                   : ", surface at the nearest grid point");
  out += fa ? "| method | paths | MaxEnergy | min | CV MaxEnergy | success | acceptance | energy "
              "evaluations | wall s |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
              "---: |\n"
            : "| method | paths | MaxEnergy | min | success | acceptance | energy evaluations | "
              "wall s |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const auto& m : s.methods) {
    if (!m.ok) {
      out += fmt::format("| {} | failed: {} |{}\n", m.label, m.error,
                         fa ? " | | | | | | |" : " | | | | | |");
      continue;
    }
    double mean, sd, meanCV = kNaN, sdCV = kNaN;
    meanStd(m.maxEnergy, mean, sd);
    if (m.maxEnergyCV.size()) meanStd(m.maxEnergyCV, meanCV, sdCV);
    const std::string acc = m.acceptance >= 0 ? fmt::format("{:.3f}", m.acceptance) : "-";
    if (fa) {
      out += fmt::format(
          "| {} | {} | {:.2f} ± {:.2f} | {:.2f} | {:.2f} ± {:.2f} | {:.3f} | {} | {} | {:.1f} |\n",
          m.label, m.maxEnergy.size(), mean, sd, m.maxEnergy.minCoeff(), meanCV, sdCV,
          m.success.mean(), acc, human(m.energyEvaluations), m.wallSeconds);
    } else {
      out += fmt::format("| {} | {} | {:.2f} ± {:.2f} | {:.2f} | {:.3f} | {} | {} | {:.1f} |\n",
                         m.label, m.maxEnergy.size(), mean, sd, m.maxEnergy.minCoeff(),
                         m.success.mean(), acc, human(m.energyEvaluations), m.wallSeconds);
    }
  }
  if (std::isfinite(s.minimaxBound)) {
    out += fmt::format("| Lower bound (minimax barrier{}) | | {:.2f} | | {}\n",
                       fa ? " on the CV surface" : " on the grid", s.minimaxBound,
                       fa ? "| | | | |" : "| | | |");
  }
  out += "\nSettings and budgets:\n\n";
  for (const auto& m : s.methods) {
    out += fmt::format("- **{}**: {}\n", m.label, m.ok ? m.settings : "failed: " + m.error);
  }
  out += fmt::format(
      "\nMaxEnergy: mean ± standard deviation over paths (MCMC: over the accepted paths of all "
      "chains); success: fraction of paths ending within metrics.success_radius of B; "
      "acceptance: accepted / trials. Produced by `{}` in {:.1f} s (geotps {}); data in `{}`.\n",
      s.command, s.wallSeconds, kVersion, s.outputFile);
  return out;
}

CompareSummary runCompare(Config config, const JobOptions& options, const std::string& command,
                          std::FILE* log) {
  const auto t0 = Clock::now();
  if (options.seed) config.set("seed", std::to_string(*options.seed));
  CompareSummary s;
  s.name = config.getString("name");
  s.command = command;
  s.outputFile = options.output ? *options.output : config.getString("compare.output");
  if (s.outputFile.empty()) s.outputFile = "results/" + s.name + "_compare.h5";
  s.tableFile = withSuffix(s.outputFile, ".md");
  s.geodesicFile = withSuffix(s.outputFile, "_geodesic.h5");
  const auto methods = config.getStringList("compare.methods");
  const bool needGeodesic =
      std::find(methods.begin(), methods.end(), "geodesic") != methods.end() ||
      std::find(methods.begin(), methods.end(), "mcmc_fixed") != methods.end() ||
      std::find(methods.begin(), methods.end(), "mcmc_variable") != methods.end();
  const bool hasMcmc = std::find(methods.begin(), methods.end(), "mcmc_fixed") != methods.end() ||
                       std::find(methods.begin(), methods.end(), "mcmc_variable") != methods.end();
  if (hasMcmc && config.getInt("output.frame_stride") == 0) {
    throw ConfigError(fmt::format(
        "{}: key 'output.frame_stride': the MCMC methods start from a stored path of the geodesic "
        "run; expected a stride > 0, got 0",
        config.sourceName()));
  }
  const auto seed = static_cast<std::uint64_t>(config.getInt("seed"));
  AtomicH5Writer writer(s.outputFile);  // an unwritable path fails before any work

  const Problem pb = makeProblem(config);
  s.kind = pb.fullAtom ? "full_atom" : "2d";
  s.energyUnit = pb.fullAtom ? "kJ/mol" : pb.potential->energyUnit();
  s.minimaxBound = kNaN;
  if (pb.surface) {
    const MinimaxResult bound = minimaxBarrier(pb.surface->grid(), pb.a.data(), pb.b.data(), 8);
    s.minimaxBound = pb.fullAtom ? bound.barrier * pb.kT : bound.barrier;
  }

  std::vector<std::string> order = methods;
  if (needGeodesic && std::find(order.begin(), order.end(), "geodesic") == order.end()) {
    order.insert(order.begin(), "geodesic");  // the MCMC chains start from its paths
  }
  // The geodesic first: the MCMC methods need its paths.
  std::stable_partition(order.begin(), order.end(),
                        [](const std::string& m) { return m == "geodesic"; });
  bool geodesicOk = false;
  for (const auto& m : order) {
    MethodResult r;
    fmt::print(log, "# compare: {}\n", labelOf(m));
    std::fflush(log);
    try {
      if (m == "geodesic") {
        r = runGeodesic(config, options, s.geodesicFile, log);
        geodesicOk = true;
      } else if (m == "mcmc_fixed" || m == "mcmc_variable") {
        if (!geodesicOk)
          throw std::runtime_error("the geodesic run, which gives the initial path, failed");
        r = runMcmc(config, pb, m == "mcmc_variable", s.geodesicFile, seed, options.progress);
      } else {
        r = runDoob(config, pb, seed, options.progress);
      }
    } catch (const ConfigError&) {
      throw;
    } catch (const std::exception& e) {
      r = MethodResult{};
      r.ok = false;
      r.error = e.what();
      fmt::print(stderr, "geotps: {} failed: {}\n", labelOf(m), e.what());
    }
    r.method = m;
    r.label = labelOf(m);
    s.methods.push_back(std::move(r));
  }
  s.wallSeconds = secondsSince(t0);

  H5File& f = writer.file();
  writeConfigGroup(f, config);
  for (const auto& r : s.methods) writeMethod(f, r, s.energyUnit);
  const std::string table = compareMarkdown(s);
  f.writeString("/summary/table_markdown", table);
  f.setAttribute("/", "geotps_version", std::string(kVersion));
  f.setAttribute("/", "schema_version", kResultSchemaVersion);
  f.setAttribute("/", "file_type", std::string("compare"));
  f.setAttribute("/", "name", s.name);
  f.setAttribute("/", "created", isoTimeNow());
  f.setAttribute("/", "seed", static_cast<std::int64_t>(seed));
  f.setAttribute("/", "energy_unit", s.energyUnit);
  f.setAttribute("/summary", "kind", s.kind);
  f.setAttribute("/summary", "minimax_bound", s.minimaxBound);
  f.setAttribute("/summary", "geodesic_result_file", s.geodesicFile);
  f.setAttribute("/summary", "methods", [&] {
    std::string list;
    for (const auto& r : s.methods) list += (list.empty() ? "" : ",") + r.method;
    return list;
  }());
  f.setAttribute("/summary", "wall_seconds", s.wallSeconds);
  writer.commit();
  writeFileAtomically(s.tableFile, table);
  for (const auto& r : s.methods) {
    if (!r.ok) {
      throw std::runtime_error(
          fmt::format("{} failed ({}); the other methods' results are in {} and {}", r.label,
                      r.error, s.outputFile, s.tableFile));
    }
  }
  return s;
}

bool isCompareFile(const std::string& path) {
  H5File f(path, H5File::Mode::Read);
  if (f.hasAttribute("/", "file_type")) return f.readAttributeString("/", "file_type") == "compare";
  // Files written before the file_type attribute: a compare file has the table.
  return f.exists("/summary/table_markdown") && f.exists("/methods");
}

std::string compareInfo(const std::string& path, bool json) {
  H5File f(path, H5File::Mode::Read);
  const std::string sum = "/summary";
  if (!json) {
    return fmt::format("{}\noutput         {}\n", f.readString("/summary/table_markdown"), path);
  }
  auto number = [&](const std::string& g, const char* name) {
    return jsonNumber(f.readAttributeDouble(g, name));
  };
  std::string methods;
  std::string list = f.readAttributeString(sum, "methods");
  for (std::size_t start = 0; start <= list.size();) {
    const std::size_t end = std::min(list.find(',', start), list.size());
    const std::string m = list.substr(start, end - start);
    start = end + 1;
    if (m.empty()) continue;
    const std::string g = "/methods/" + m;
    const bool ok = f.readAttributeInt(g, "ok") == 1;
    if (!methods.empty()) methods += ", ";
    methods += fmt::format(
        "{{\"method\": {}, \"label\": {}, \"ok\": {}, \"n_paths\": {}, \"max_energy_mean\": {}, "
        "\"max_energy_std\": {}, \"max_energy_min\": {}, \"max_energy_cv_mean\": {}, "
        "\"max_energy_cv_std\": {}, \"success_fraction\": {}, \"acceptance\": {}, \"trials\": {}, "
        "\"energy_evaluations\": {}, \"wall_seconds\": {}{}}}",
        jsonString(m), jsonString(f.readAttributeString(g, "label")), ok ? "true" : "false",
        f.readAttributeInt(g, "n_paths"), number(g, "max_energy_mean"), number(g, "max_energy_std"),
        number(g, "max_energy_min"), number(g, "max_energy_cv_mean"),
        number(g, "max_energy_cv_std"), number(g, "success_fraction"), number(g, "acceptance"),
        f.readAttributeInt(g, "trials"), f.readAttributeInt(g, "energy_evaluations"),
        number(g, "wall_seconds"),
        ok ? std::string() : ", \"error\": " + jsonString(f.readString(g + "/error")));
  }
  return fmt::format(
      "{{\"file\": {}, \"file_type\": \"compare\", \"name\": {}, \"version\": {}, \"seed\": {}, "
      "\"kind\": {}, \"energy_unit\": {}, \"minimax_bound\": {}, \"wall_seconds\": {}, "
      "\"geodesic_result_file\": {}, \"methods\": [{}]}}\n",
      jsonString(path), jsonString(f.readAttributeString("/", "name")),
      jsonString(f.readAttributeString("/", "geotps_version")), f.readAttributeInt("/", "seed"),
      jsonString(f.readAttributeString(sum, "kind")),
      jsonString(f.readAttributeString("/", "energy_unit")), number(sum, "minimax_bound"),
      number(sum, "wall_seconds"), jsonString(f.readAttributeString(sum, "geodesic_result_file")),
      methods);
}

}  // namespace geotps
