// `geotps compare` (see compare.h; file layout in docs/output.md).
#include "engine/pipelines/compare.h"

#include <OpenMM.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <numbers>
#include <optional>
#include <type_traits>

#include "engine/baselines/shooting.h"
#include "engine/core/clock.h"
#include "engine/core/fault_injection.h"
#include "engine/core/torch_module.h"
#include "engine/core/parallel.h"
#include "engine/core/progress.h"
#include "engine/core/ranks.h"
#include "engine/core/warning.h"
#include "engine/io/atomic_file.h"
#include "engine/io/h5_file.h"
#include "engine/io/output_util.h"
#include "engine/io/pdb_file.h"
#include "engine/io/provenance.h"
#include "engine/metrics/crossing.h"
#include "engine/metrics/distance.h"
#include "engine/metrics/minimax.h"
#include "engine/pipelines/compare_checkpoint.h"
#include "engine/pipelines/memory_estimate.h"
#include "engine/problem/problem.h"
#include "geotps/version.h"
#include "potentials/tabulated_surface.h"

namespace geotps {

namespace {

// --- MPI (docs/mpi.md): an MCMC method's chains shared over the ranks.

/// Appends the bytes of `n` values at `data`.
template <class T>
void putBytes(std::string& out, const T* data, std::size_t n) {
  if (n > 0) out.append(reinterpret_cast<const char*>(data), n * sizeof(T));
}
template <class T>
void putValue(std::string& out, const T& value) {
  putBytes(out, &value, 1);
}

/// Reads what putBytes wrote, in order; throws when the bytes end too soon.
class ByteReader {
 public:
  explicit ByteReader(const std::string& bytes) : bytes_(bytes) {}
  template <class T>
  void get(T* data, std::size_t n) {
    const std::size_t size = n * sizeof(T);
    if (at_ + size > bytes_.size())
      throw std::runtime_error("MPI: a chain's result arrived cut short");
    if (size == 0) return;  // data may be null (an empty vector): memcpy must not see it
    std::memcpy(data, bytes_.data() + at_, size);
    at_ += size;
  }
  template <class T>
  T value() {
    T v;
    get(&v, 1);
    return v;
  }
  bool done() const { return at_ == bytes_.size(); }

 private:
  const std::string& bytes_;
  std::size_t at_ = 0;
};

/// Finished chains as bytes: per chain its index, trials, evaluations and accepted paths (every
/// field exactly, doubles and floats as stored in memory).
std::string chainsToBytes(const std::map<int, ChainResult>& chains) {
  std::string out;
  putValue<std::int64_t>(out, static_cast<std::int64_t>(chains.size()));
  for (const auto& [c, r] : chains) {
    putValue<std::int64_t>(out, c);
    putValue<long long>(out, r.trials);
    putValue<long long>(out, r.evaluations);
    putValue<std::int64_t>(out, static_cast<std::int64_t>(r.accepted.size()));
    for (const AcceptedPath& a : r.accepted) {
      putValue(out, a.chain);
      putValue(out, a.trial);
      putValue(out, a.length);
      putValue(out, a.maxEnergy);
      putValue(out, a.maxEnergy2);
      for (const Eigen::VectorXd* v : {&a.firstCV, &a.lastCV}) {
        putValue<std::int64_t>(out, v->size());
        putBytes(out, v->data(), static_cast<std::size_t>(v->size()));
      }
      for (const std::vector<float>* v : {&a.cvFrames, &a.configurationFrames}) {
        putValue<std::int64_t>(out, static_cast<std::int64_t>(v->size()));
        putBytes(out, v->data(), v->size());
      }
    }
  }
  return out;
}

std::map<int, ChainResult> chainsFromBytes(const std::string& bytes) {
  std::map<int, ChainResult> chains;
  ByteReader in(bytes);
  const auto n = in.value<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    const int c = static_cast<int>(in.value<std::int64_t>());
    ChainResult& r = chains[c];
    r.trials = in.value<long long>();
    r.evaluations = in.value<long long>();
    r.accepted.resize(static_cast<std::size_t>(in.value<std::int64_t>()));
    for (AcceptedPath& a : r.accepted) {
      a.chain = in.value<int>();
      a.trial = in.value<long long>();
      a.length = in.value<int>();
      a.maxEnergy = in.value<double>();
      a.maxEnergy2 = in.value<double>();
      for (Eigen::VectorXd* v : {&a.firstCV, &a.lastCV}) {
        v->resize(static_cast<Eigen::Index>(in.value<std::int64_t>()));
        in.get(v->data(), static_cast<std::size_t>(v->size()));
      }
      for (std::vector<float>* v : {&a.cvFrames, &a.configurationFrames}) {
        v->resize(static_cast<std::size_t>(in.value<std::int64_t>()));
        in.get(v->data(), v->size());
      }
    }
  }
  if (!in.done()) throw std::runtime_error("MPI: a chain's result arrived with extra bytes");
  return chains;
}

/// runShooting with its chains shared over the MPI ranks: chain c runs on rank c mod N (chains a
/// resumed checkpoint holds are not run again), the finished chains are gathered on rank 0, which
/// saves them in `store` and then builds the result from all chains through the checkpoint's own
/// path (ChainStore::load), so that it equals one process's. Other ranks get an empty result.
ShootingResult runShootingShared(
    const std::function<std::unique_ptr<ShootingDynamics>(int)>& makeDynamics,
    const ShootingPath& initial, const StateBalls& states, const ShootingSettings& settings,
    const ShootingProgress& progress, const ChainStore& store) {
  const Ranks& ranks = Ranks::world();
  const int N = ranks.size(), me = ranks.rank();
  // Which chains rank 0's checkpoint holds (a resumed compare).
  std::vector<std::int64_t> saved(static_cast<std::size_t>(settings.chains), 0);
  std::map<int, ChainResult> loaded;
  ranks.collectively([&] {
    if (!ranks.root() || !store.load) return;
    for (int c = 0; c < settings.chains; ++c) {
      if (std::optional<ChainResult> r = store.load(c)) {
        saved[static_cast<std::size_t>(c)] = 1;
        loaded[c] = std::move(*r);
      }
    }
  });
  ranks.broadcast(saved);
  std::map<int, ChainResult> mine;
  std::mutex mutex;
  ranks.collectively([&] {
    bool any = false;
    for (int c = me; c < settings.chains; c += N) any = any || !saved[static_cast<std::size_t>(c)];
    if (!any) return;
    faultThrowPoint(0);
    ChainStore local;
    local.load = [&](int c) -> std::optional<ChainResult> {
      // Another rank's chain, or one saved before: a placeholder here.
      if (c % N != me || saved[static_cast<std::size_t>(c)]) return ChainResult{};
      return std::nullopt;
    };
    local.save = [&](int c, const ChainResult& r) {
      if (ranks.root() && store.save) store.save(c, r);
      const std::lock_guard<std::mutex> lock(mutex);
      mine[c] = r;
    };
    runShooting(makeDynamics, initial, states, settings,
                ranks.root() ? progress : ShootingProgress{}, &local);
  });
  const std::vector<std::string> all =
      ranks.gather(ranks.root() ? std::string() : chainsToBytes(mine));
  ShootingResult result;
  ranks.collectively([&] {
    if (!ranks.root()) return;
    std::map<int, ChainResult> chains = std::move(loaded);
    for (auto& [c, r] : mine) chains[c] = std::move(r);
    for (int r = 1; r < N; ++r) {
      for (auto& [c, chain] : chainsFromBytes(all[static_cast<std::size_t>(r)])) {
        if (store.save) store.save(c, chain);
        chains[c] = std::move(chain);
      }
    }
    ChainStore merged;
    merged.load = [&](int c) -> std::optional<ChainResult> {
      const auto it = chains.find(c);
      if (it == chains.end())
        throw std::runtime_error(fmt::format("MPI: chain {} was not run by any rank", c));
      return it->second;
    };
    result = runShooting(makeDynamics, initial, states, settings, progress, &merged);
  });
  return result;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string withSuffix(const std::string& path, const std::string& suffix) {
  std::string stem = path;
  if (stem.size() > 3 && stem.substr(stem.size() - 3) == ".h5") stem.resize(stem.size() - 3);
  return stem + suffix;
}

/// The state balls of the MCMC methods (mcmc.state_radius around the context's states).
StateBalls stateBalls(const CompareContext& c) {
  StateBalls states;
  states.a = c.a;
  states.b = c.b;
  states.radiusA = c.settings.mcmc.radiusA;
  states.radiusB = c.settings.mcmc.radiusB;
  states.boxA = c.settings.mcmc.boxA;
  states.boxB = c.settings.mcmc.boxB;
  states.period = c.period;
  return states;
}

/// The A -> B transition segment of one path of F frames of D CVs (`cv`, frame after frame), as
/// the MCMC methods define a path: {its last frame in state A before its first frame in state B,
/// that first frame in B}; the second is F when the path never enters B.
std::pair<std::size_t, std::size_t> transitionSegment(const double* cv, std::size_t F,
                                                      std::size_t D, const StateBalls& states) {
  auto at = [&](std::size_t k) {
    return Eigen::VectorXd(
        Eigen::Map<const Eigen::VectorXd>(cv + D * k, static_cast<Eigen::Index>(D)));
  };
  std::size_t firstB = F, lastA = 0;
  for (std::size_t k = 0; k < F && firstB == F; ++k) {
    if (states.inB(at(k))) {
      firstB = k;
    } else if (states.inA(at(k))) {
      lastA = k;
    }
  }
  return {lastA, firstB};
}

/// Full atom: each geodesic path's A -> B transition segment, as the MCMC methods define a path:
/// from its last frame in state A before its first frame in state B to that frame (every frame's
/// energy and CVs are in the result file). Paths that never enter B get NaN.
void transitionSegments(H5File& f, const std::vector<double>& cv, const CompareContext& c,
                        MethodResult& r) {
  const auto shape = f.shape("/full_atom/energy");  // M x F; `cv` is /full_atom/cv, M x F x 2
  const std::vector<double> energy = f.readDoubles("/full_atom/energy");
  const StateBalls states = stateBalls(c);
  const std::size_t M = shape[0], F = shape[1];
  const Eigen::Index D = c.dimension;
  r.maxEnergySegment = Eigen::VectorXd::Constant(static_cast<Eigen::Index>(M), kNaN);
  double frames = 0.0;
  std::size_t counted = 0;
  for (std::size_t p = 0; p < M; ++p) {
    const auto [lastA, firstB] =
        transitionSegment(&cv[p * F * static_cast<std::size_t>(D)], F, static_cast<std::size_t>(D),
                          states);
    if (firstB == F) continue;
    double top = -std::numeric_limits<double>::infinity();
    for (std::size_t k = lastA; k <= firstB; ++k) top = std::max(top, energy[p * F + k]);
    r.maxEnergySegment[static_cast<Eigen::Index>(p)] = top - c.referenceEnergy;
    frames += static_cast<double>(firstB - lastA + 1);
    ++counted;
  }
  r.meanSegmentFrames = counted ? frames / static_cast<double>(counted) : kNaN;
}

/// The geodesic method: `geotps run` on the same config, its own result file kept.
MethodResult runGeodesic(const CompareContext& c) {
  MethodResult r;
  JobOptions o = c.options;
  o.output = c.geodesicFile;
  o.stageAs = c.geodesicStaged;  // renamed to geodesicFile when the compare file is written
  // One platform for every method: under `potential.platform: auto` the one the compare chose.
  if (c.fullAtom) o.autoPlatform = c.molecule->platform->getName();
  const JobSummary js = runJob(c.record, o, c.log);
  if (!Ranks::world().root()) return r;  // under MPI rank 0 wrote the file
  H5File f(c.geodesicStaged, H5File::Mode::Read);
  const bool fullAtom = js.kind == "full_atom";
  r.maxEnergy = toVector(
      f.readDoubles(fullAtom ? "/paths/max_energy_full_atom" : "/paths/max_energy_nearest"));
  // Crossing points: full atom from every frame's (phi, psi); 2D from the stored frames.
  const std::string frames = fullAtom ? "/full_atom/cv" : "/paths/frames";
  const std::vector<double> all = f.exists(frames) ? f.readDoubles(frames) : std::vector<double>();
  if (fullAtom) {
    r.maxEnergyCV = toVector(f.readDoubles("/paths/max_energy_cv"));
    transitionSegments(f, all, c, r);
  }
  if (!all.empty()) {
    const auto shape = f.shape(frames);  // M x F x D
    const std::size_t per = shape[1] * shape[2];
    r.crossing.resize(static_cast<Eigen::Index>(shape[0]));
    for (std::size_t p = 0; p < shape[0]; ++p) {
      r.crossing[static_cast<Eigen::Index>(p)] =
          c.crossing(std::vector<double>(all.begin() + p * per, all.begin() + (p + 1) * per));
    }
  }
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
      : f.readAttributeString("/", "denoiser") == "quadrature"
          ? std::string(" (the quadrature denoiser reads the tabulated surface: no further "
                        "evaluations)")
          : std::string(" (a trained denoiser: no further evaluations)"));
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
  const std::size_t paths = shape.empty() ? 0 : shape[0];
  const std::size_t S = static_cast<std::size_t>(observer.configurationSize());
  std::size_t perFrame = 1;
  for (std::size_t d = 2; d < shape.size(); ++d) perFrame *= shape[d];
  if (shape.size() < 2 || perFrame != S) {
    throw H5Error(fmt::format("{}: {} has shape [{}]; expected paths x frames x {} values", file,
                              dataset, fmt::join(shape, ", "), S));
  }
  for (std::size_t p = 0; p < paths; ++p) {
    const std::vector<double> conf = f.readDoubleRows(dataset, p, 1);  // one path at a time
    ShootingPath out;
    if (extractTransition(observePath(observer, conf), states, out) && out.length() >= 3) {
      return out;
    }
  }
  throw std::runtime_error(fmt::format(
      "{}: none of the {} stored paths of the geodesic run goes from state A ({}) to state B ({}; "
      "mcmc.state_radius, mcmc.state_a_box, mcmc.state_b_box); the MCMC methods need one as "
      "their initial path",
      file, paths, states.describeA(), states.describeB()));
}

MethodResult runMcmc(const CompareContext& pb, bool variable) {
  MethodResult r;
  const auto t0 = Clock::now();
  const McmcSettings& mc = pb.settings.mcmc;
  const bool showProgress = pb.options.progress;
  const StateBalls states = stateBalls(pb);
  ShootingSettings ss;
  ss.variableLength = variable;
  ss.pathLength = mc.pathLength;
  ss.maxLength = mc.maxLength;
  ss.maxEvaluations = variable ? mc.variableMaxEvaluations : mc.fixedMaxEvaluations;
  ss.chains = mc.chains;
  ss.threads = pb.threads;
  // Distinct streams for the two variants.
  ss.seed = pb.seed * 4 + (variable ? 2 : 1);
  ss.frameStride = mc.frameStride;
  ss.storeEvery = mc.storeEvery;
  ss.storeConfigurations = pb.fullAtom;  // 2D: the configuration is the CV

  double ds = mc.stepSize;
  if (ds == 0.0) ds = pb.settings.sampling.stepSize;
  const double friction = pb.settings.molecule.frictionPerPs;
  const double dt = pb.settings.molecule.timeStepPs;
  const auto make = [&](int chain) -> std::unique_ptr<ShootingDynamics> {
    if (pb.fullAtom) {
      return makeFullAtomDynamics(*pb.molecule, friction, dt, ss.seed,
                                  static_cast<std::uint64_t>(chain), pb.referenceEnergy,
                                  pb.cvEnergyFunction());
    }
    return makeOverdampedDynamics(*pb.potential, ds, pb.kT,
                                  [&pb](const double* x) { return pb.metric2D(x); });
  };
  auto observer = make(-1);
  const long long e0 = observer->evaluations();
  ShootingPath initial = initialPathFromGeodesic(pb.geodesicStaged, *observer, states, pb.fullAtom);
  const int cut = static_cast<int>(initial.length());
  if (!variable) {
    initial = fitPathLength(initial, ss.pathLength);
  } else if (cut > ss.maxLength) {
    initial = resamplePath(initial, ss.maxLength);
  }
  const long long initialEvaluations = observer->evaluations() - e0;

  Progress progress(variable ? "mcmc variable" : "mcmc fixed", ss.maxEvaluations, showProgress);
  // Each finished chain is saved in the compare's checkpoint, and a resumed compare's saved
  // chains are used instead of being run again (chain c depends only on the seed and c).
  const std::string method = variable ? "mcmc_variable" : "mcmc_fixed";
  const ChainStore store =
      pb.checkpoint ? pb.checkpoint->chainStore(method, ss.chains) : ChainStore{};
  const ShootingProgress onProgress = [&](long long d, long long n) {
    progress.update(std::min(d, n));
  };
  const ShootingResult sr = Ranks::world().parallel()
                                ? runShootingShared(make, initial, states, ss, onProgress, store)
                                : runShooting(make, initial, states, ss, onProgress, &store);
  if (!Ranks::world().root()) return r;  // rank 0 holds the result
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
  r.crossing.resize(static_cast<Eigen::Index>(n));
  for (std::size_t i = 0; i < n; ++i) {
    const auto& cvf = sr.accepted[i].cvFrames;
    r.crossing[static_cast<Eigen::Index>(i)] =
        cvf.empty() ? kNaN : pb.crossing(std::vector<double>(cvf.begin(), cvf.end()));
  }
  if (pb.fullAtom && variable) {
    // Variable-length paths are transition segments already (first frame in A, last in B).
    r.maxEnergySegment = r.maxEnergy;
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
      "{}; budget {} evaluations in {} chains; {}; states: A {}, B {}; initial path cut from the "
      "geodesic run ({} frames{}, MaxEnergy {:.2f}); {} "
      "trials, mean accepted length {:.0f} frames; statistics over the {} accepted paths",
      dyn, ss.maxEvaluations, ss.chains,
      variable ? fmt::format("max length {} frames", ss.maxLength)
               : fmt::format("length {} frames", ss.pathLength),
      states.describeA(), states.describeB(), cut,
      variable ? ""
               : fmt::format(fmt::runtime(cut < ss.pathLength
                                              ? ", padded with copies of its end frames to {}"
                                              : ", resampled to {}"),
                             ss.pathLength),
      sr.initialMaxEnergy, sr.trials, meanLength, n);
  // The accepted paths for the file: per path its chain, trial, length and MaxEnergy, and the
  // stored CV frames of all of them concatenated (path_offsets[i] = first row of path i).
  std::vector<double> chain(n), trial(n), length(n), offsets(n + 1, 0.0), frames;
  const auto dim = static_cast<std::size_t>(pb.dimension);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& a = sr.accepted[i];
    chain[i] = a.chain;
    trial[i] = static_cast<double>(a.trial);
    length[i] = a.length;
    frames.insert(frames.end(), a.cvFrames.begin(), a.cvFrames.end());
    offsets[i + 1] = static_cast<double>(frames.size() / dim);
  }
  const std::string xu = pb.fullAtom ? "rad" : pb.potential->coordinateUnit();
  r.datasets.push_back({"chain", {n}, chain, "1", false, true});
  r.datasets.push_back({"trial", {n}, trial, "1", false, true});
  r.datasets.push_back({"path_length", {n}, length, "frames", false, true});
  r.datasets.push_back({"path_offsets", {n + 1}, offsets, "row of path_frames", false, true});
  r.datasets.push_back({"path_frames", {frames.size() / dim, dim}, frames, xu, true});
  if (pb.fullAtom) {
    std::vector<double> positions;
    for (const auto& a : sr.accepted) {
      positions.insert(positions.end(), a.configurationFrames.begin(), a.configurationFrames.end());
    }
    const std::size_t atoms = static_cast<std::size_t>(pb.molecule->system->getNumParticles());
    r.datasets.push_back(
        {"path_positions", {positions.size() / (3 * atoms), atoms, 3}, positions, "nm", true});
  }
  {
    std::vector<double> init;
    for (const auto& o : initial.frames) init.insert(init.end(), o.cv.begin(), o.cv.end());
    r.datasets.push_back({"initial_path", {initial.length(), dim}, init, xu});
  }
  r.wallSeconds = secondsSince(t0);
  r.ok = true;
  return r;
}

/// A method's crossing-point statistics, the KS test against variable-length MCMC's.
struct CrossingStats {
  double fraction = kNaN, mean = kNaN, sd = kNaN;
  TwoSampleKS ks{kNaN, kNaN, 0, 0};
};

CrossingStats crossingStats(const MethodResult& r, const MethodResult* reference) {
  CrossingStats c;
  if (!r.ok || r.crossing.size() == 0) return c;
  c.fraction = static_cast<double>(r.crossing.array().isFinite().count()) /
               static_cast<double>(r.crossing.size());
  meanStdFinite(r.crossing, c.mean, c.sd);
  if (reference && reference != &r && reference->ok && reference->crossing.size()) {
    c.ks = kolmogorovSmirnov(r.crossing, reference->crossing);
  }
  return c;
}

const MethodResult* findMethod(const std::vector<MethodResult>& methods, const std::string& name) {
  for (const auto& m : methods) {
    if (m.method == name) return &m;
  }
  return nullptr;
}

void writeMethod(H5File& f, const MethodResult& r, const std::string& energyUnit,
                 const std::string& xUnit, const CrossingStats& cs) {
  const std::string g = "/methods/" + r.method;
  if (r.ok) {
    writeVector(f, g + "/max_energy", r.maxEnergy, energyUnit);
    if (r.maxEnergyCV.size()) writeVector(f, g + "/max_energy_cv", r.maxEnergyCV, "kJ/mol");
    if (r.maxEnergySegment.size()) {
      writeVector(f, g + "/max_energy_transition", r.maxEnergySegment, "kJ/mol");
    }
    if (r.crossing.size()) writeVector(f, g + "/crossing", r.crossing, xUnit);
    writeVector(f, g + "/success", r.success, "1");
    for (const auto& d : r.datasets) {
      if (d.integer) {
        std::vector<std::int64_t> v(d.values.size());
        std::transform(d.values.begin(), d.values.end(), v.begin(),
                       [](double x) { return static_cast<std::int64_t>(std::llround(x)); });
        f.writeInts(g + "/" + d.name, d.shape, v.data(), d.units);
      } else if (d.single) {
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
  double meanSeg = kNaN, sdSeg = kNaN;
  if (r.ok && r.maxEnergySegment.size()) meanStdFinite(r.maxEnergySegment, meanSeg, sdSeg);
  f.setAttribute(g, "label", r.label);
  f.setAttribute(g, "ok", static_cast<std::int64_t>(r.ok ? 1 : 0), "1");
  f.setAttribute(g, "n_paths", static_cast<std::int64_t>(r.maxEnergy.size()), "1");
  f.setAttribute(g, "max_energy_mean", mean, energyUnit);
  f.setAttribute(g, "max_energy_std", sd, energyUnit);
  f.setAttribute(g, "max_energy_min", mn, energyUnit);
  f.setAttribute(g, "max_energy_cv_mean", meanCV, "kJ/mol");
  f.setAttribute(g, "max_energy_cv_std", sdCV, "kJ/mol");
  f.setAttribute(g, "max_energy_transition_mean", meanSeg, energyUnit);
  f.setAttribute(g, "max_energy_transition_std", sdSeg, energyUnit);
  f.setAttribute(g, "success_fraction", success, "1");
  f.setAttribute(g, "acceptance", r.acceptance >= 0 ? r.acceptance : kNaN, "1");
  f.setAttribute(g, "trials", static_cast<std::int64_t>(r.trials), "1");
  f.setAttribute(g, "energy_evaluations", static_cast<std::int64_t>(r.energyEvaluations), "1");
  f.setAttribute(g, "wall_seconds", r.wallSeconds, "s");
  f.setAttribute(g, "settings", r.settings);
  f.setAttribute(g, "crossing_fraction", cs.fraction, "1");
  f.setAttribute(g, "crossing_mean", cs.mean, xUnit);
  f.setAttribute(g, "crossing_std", cs.sd, xUnit);
  f.setAttribute(g, "crossing_ks_d", cs.ks.d, "1");
  f.setAttribute(g, "crossing_ks_p", cs.ks.pValue, "1");
  f.setAttribute(g, "energy_evaluations_per_path",
                 r.ok && r.maxEnergy.size() ? static_cast<double>(r.energyEvaluations) /
                                                  static_cast<double>(r.maxEnergy.size())
                                            : kNaN, "1");
  f.setAttribute(g, "converged", static_cast<std::int64_t>(r.converged ? 1 : 0), "1");
  f.setAttribute(g, "convergence", r.convergence);
}

std::string human(long long n) {
  if (n >= 1000000000LL) return fmt::format("{:.2f}B", n / 1e9);
  if (n >= 1000000LL) return fmt::format("{:.2f}M", n / 1e6);
  if (n >= 1000LL) return fmt::format("{:.1f}k", n / 1e3);
  return std::to_string(n);
}

}  // namespace

CompareContext::CompareContext(const JobSettings& s, const Config& config, const JobOptions& o,
                               const std::string& geodesic, std::FILE* logFile)
    : settings(s),
      record(config),
      options(o),
      geodesicFile(geodesic),
      geodesicStaged(temporaryPathFor(geodesic)),
      log(logFile) {
  problem = makeProblem(s);
  fullAtom = problem.fullAtom();
  potential = problem.potential;
  surface = problem.surface;
  molecule = problem.molecule;
  energyUnit = problem.energyUnit;
  seed = s.seed;
  threads = resolveThreads(s.sampling.threads);
  successRadius = s.metrics.successRadius;
  a = problem.a;
  b = problem.b;
  dimension = static_cast<int>(a.size());
  if (fullAtom) {
    kT = molecule->kT();
    referenceEnergy = std::min(molecule->energyA, molecule->energyB);
    a = molecule->cvA;  // the minimised end states
    b = molecule->cvB;
    period = Eigen::VectorXd::Constant(a.size(), 2.0 * std::numbers::pi);
  } else {
    kT = s.kT;
    period = problem.periods();
  }
  // A state box has an interval per coordinate.
  for (const auto& [key, box] : {std::pair<const char*, const std::vector<double>*>{
                                     "mcmc.state_a_box", &s.mcmc.boxA},
                                 {"mcmc.state_b_box", &s.mcmc.boxB}}) {
    if (!box->empty() && box->size() != 2 * static_cast<std::size_t>(a.size())) {
      throw ConfigError(fmt::format(
          "{}: key '{}' has {} values, expected {} ([lo, hi] for each of the {} coordinates)",
          record.sourceName(), key, box->size(), 2 * a.size(), a.size()));
    }
  }
  // The MCMC states must hold their own end state and not the other one.
  const StateBalls states = stateBalls(*this);
  const std::string where = fullAtom ? " (the minimised end state of potential.pdb_a / pdb_b)" : "";
  if (!states.inA(a) || states.inA(b) || !states.inB(b) || states.inB(a)) {
    throw ConfigError(fmt::format(
        "{}: keys 'mcmc.state_radius' / 'mcmc.state_a_box' / 'mcmc.state_b_box': state A is {} "
        "and state B is {}; expected A to contain A's end point ({:.3f}){} and not B's "
        "({:.3f}), and B to contain B's and not A's",
        record.sourceName(), states.describeA(), states.describeB(), fmt::join(a, ", "), where,
        fmt::join(b, ", ")));
  }
}

double CompareContext::cvEnergy(const Eigen::VectorXd& cv) const {
  return surface ? problem.cvEnergyKjMol(cv) : kNaN;
}

std::function<double(const Eigen::VectorXd&)> CompareContext::cvEnergyFunction() const {
  if (!surface) return {};
  return [this](const Eigen::VectorXd& cv) { return cvEnergy(cv); };
}

double CompareContext::crossing(const std::vector<double>& cvFrames) const {
  if (dimension == 2) {
    return crossingPoint(cvFrames, settings.compare.crossingLine, a[0], b[0], period[0],
                         period[1]);
  }
  // D > 2: the crossing is read in the (x0, x1) plane, the frames' first two coordinates.
  const auto D = static_cast<std::size_t>(dimension);
  std::vector<double> plane;
  plane.reserve(cvFrames.size() / D * 2);
  for (std::size_t k = 0; k + D <= cvFrames.size(); k += D) {
    plane.push_back(cvFrames[k]);
    plane.push_back(cvFrames[k + 1]);
  }
  return crossingPoint(plane, settings.compare.crossingLine, a[0], b[0], period[0], period[1]);
}

double CompareContext::metric2D(const double* x) const {
  return surface ? surface->nearestGridEnergy(x) : potential->energy(x);
}

bool CompareContext::succeeded(const Eigen::VectorXd& cv) const {
  // Within the success radius of B, or inside the MCMC's state B (a box may reach further: the
  // shooting paths stop on entering it).
  return periodicDistance(cv, b, period) <= successRadius || stateBalls(*this).inB(cv);
}

namespace {

/// The geodesic method's paths refined by two-way shooting (compare method geodesic_shooting):
/// each stored geodesic path's A -> B segment (cut as the MCMC initial path is) starts its own
/// variable-length chain of compare.shooting_moves trials with the mcmc_variable dynamics and
/// states; the path the chain holds after them is that walker's path. Walker p's chain draws from
/// its own streams (seed 4 * job seed + 3 + 1000003 p), so the result does not depend on threads.
MethodResult runGeodesicShooting(const CompareContext& pb) {
  MethodResult r;
  const auto t0 = Clock::now();
  const McmcSettings& mc = pb.settings.mcmc;
  const int moves = pb.settings.compare.shootingMoves;
  const StateBalls states = stateBalls(pb);
  double ds = mc.stepSize;
  if (ds == 0.0) ds = pb.settings.sampling.stepSize;
  const double friction = pb.settings.molecule.frictionPerPs;
  const double dt = pb.settings.molecule.timeStepPs;
  const auto makeFor = [&](std::uint64_t seed) {
    return [&pb, seed, friction, dt, ds](int chain) -> std::unique_ptr<ShootingDynamics> {
      if (pb.fullAtom) {
        return makeFullAtomDynamics(
            *pb.molecule, friction, dt, seed, static_cast<std::uint64_t>(chain + 1),
            pb.referenceEnergy, pb.cvEnergyFunction());
      }
      return makeOverdampedDynamics(*pb.potential, ds, pb.kT,
                                    [&pb](const double* x) { return pb.metric2D(x); });
    };
  };
  const JobSummary geodesic = readSummary(pb.geodesicStaged);
  std::vector<std::vector<double>> paths, energies, cvs;
  {
    H5File f(pb.geodesicStaged, H5File::Mode::Read);
    const std::string dataset = pb.fullAtom ? "/full_atom/frames" : "/paths/frames";
    if (!f.exists(dataset)) {
      throw ConfigError(fmt::format(
          "{}: the geodesic run stored no path frames, which geodesic_shooting starts from; set "
          "output.frame_stride > 0",
          pb.geodesicStaged));
    }
    const std::size_t M = f.shape(dataset).at(0);
    for (std::size_t p = 0; p < M; ++p) paths.push_back(f.readDoubleRows(dataset, p, 1));
    if (pb.fullAtom) {  // every frame's energy and (phi, psi) (batched walkers: every observed one)
      for (std::size_t p = 0; p < M; ++p) {
        energies.push_back(f.readDoubleRows("/full_atom/energy", p, 1));
        cvs.push_back(f.readDoubleRows("/full_atom/cv", p, 1));
      }
    }
  }
  const std::size_t M = paths.size();
  struct Walker {
    bool transition = false;
    double maxEnergy = kNaN, maxEnergy2 = kNaN, crossing = kNaN, success = 0.0;
    long long trials = 0, accepted = 0, evaluations = 0;
    double length = 0.0;
  };
  std::vector<Walker> walkers(M);
  Progress progress("geodesic + shooting", static_cast<long long>(M), pb.options.progress);
  std::atomic<long long> done{0};
  // Under MPI walker p is rank p mod N's (its streams depend only on p); rank 0 gathers them.
  const Ranks& ranks = Ranks::world();
  const auto N = static_cast<std::size_t>(ranks.size());
  const auto me = static_cast<std::size_t>(ranks.rank());
  ranks.collectively([&] {
    parallelFor(M, pb.threads, [&](std::size_t begin, std::size_t end, int worker) {
      for (std::size_t p = begin; p < end; ++p) {
        if (p % N != me) continue;
        Walker& w = walkers[p];
        const std::uint64_t seed = pb.seed * 4 + 3 + 1000003ULL * p;
        const auto make = makeFor(seed);
        auto observer = make(-1);
        ShootingPath segment;
        if (!extractTransition(observePath(*observer, paths[p]), states, segment) ||
            segment.length() < 3) {
          w.evaluations = observer->evaluations();
          continue;
        }
        if (static_cast<int>(segment.length()) > mc.maxLength)
          segment = resamplePath(segment, mc.maxLength);
        ShootingSettings ss;
        ss.variableLength = true;
        ss.maxLength = mc.maxLength;
        ss.maxEvaluations = std::numeric_limits<long long>::max() / 2;
        ss.maxTrials = moves;
        ss.chains = 1;
        ss.threads = 1;
        ss.seed = seed;
        ss.frameStride = std::max(1, mc.frameStride);
        const ShootingResult sr = runShooting(make, segment, states, ss);
        w.transition = true;
        w.trials = sr.trials;
        w.accepted = static_cast<long long>(sr.accepted.size());
        w.evaluations = observer->evaluations() + sr.evaluations;
        if (!sr.accepted.empty()) {
          const AcceptedPath& a = sr.accepted.back();
          w.maxEnergy = a.maxEnergy;
          w.maxEnergy2 = a.maxEnergy2;
          w.success = pb.succeeded(a.lastCV) ? 1.0 : 0.0;
          w.crossing = pb.crossing(std::vector<double>(a.cvFrames.begin(), a.cvFrames.end()));
          w.length = a.length;
        } else if (pb.fullAtom) {
          // No trial accepted: the walker keeps the geodesic path's own A -> B segment, measured
          // on every frame the run recorded (the stored configurations are every
          // output.frame_stride-th only, and a maximum over fewer frames would be lower).
          const std::vector<double>& e = energies[p];
          const std::vector<double>& c = cvs[p];
          const std::size_t F = e.size();
          const auto D = static_cast<std::size_t>(pb.dimension);
          auto at = [&](std::size_t k) {
            return Eigen::VectorXd(
                Eigen::Map<const Eigen::VectorXd>(&c[D * k], static_cast<Eigen::Index>(D)));
          };
          auto [lastA, firstB] = transitionSegment(c.data(), F, D, states);
          if (firstB == F) firstB = F - 1;
          w.maxEnergy = w.maxEnergy2 = -std::numeric_limits<double>::infinity();
          for (std::size_t k = lastA; k <= firstB; ++k) {
            w.maxEnergy = std::max(w.maxEnergy, e[k] - pb.referenceEnergy);
            w.maxEnergy2 = std::max(w.maxEnergy2, pb.cvEnergy(at(k)));
          }
          if (!pb.surface) w.maxEnergy2 = kNaN;
          w.success = pb.succeeded(at(firstB)) ? 1.0 : 0.0;
          w.crossing = pb.crossing(
              std::vector<double>(c.begin() + static_cast<std::ptrdiff_t>(D * lastA),
                                  c.begin() + static_cast<std::ptrdiff_t>(D * (firstB + 1))));
          w.length = static_cast<double>(firstB - lastA + 1);
        } else {  // 2D, no trial accepted: the segment itself, at the stored frames
          w.maxEnergy = w.maxEnergy2 = -std::numeric_limits<double>::infinity();
          std::vector<double> cv;
          for (const auto& o : segment.frames) {
            w.maxEnergy = std::max(w.maxEnergy, o.energy);
            cv.insert(cv.end(), o.cv.begin(), o.cv.end());
          }
          w.success = pb.succeeded(segment.frames.back().cv) ? 1.0 : 0.0;
          w.crossing = pb.crossing(cv);
          w.length = static_cast<double>(segment.length());
        }
        const long long now = ++done;
        if (worker == 0) progress.update(now * static_cast<long long>(N));
      }
    });
  });
  if (ranks.parallel()) {
    static_assert(std::is_trivially_copyable_v<Walker>);
    std::string bytes(reinterpret_cast<const char*>(walkers.data()), M * sizeof(Walker));
    const std::vector<std::string> all = ranks.gather(bytes);
    if (!ranks.root()) return r;  // rank 0 holds the result
    for (std::size_t p = 0; p < M; ++p) {
      const std::string& from = all[p % N];
      if (from.size() != M * sizeof(Walker))
        throw std::runtime_error("MPI: a rank's geodesic_shooting walkers arrived cut short");
      std::memcpy(&walkers[p], from.data() + p * sizeof(Walker), sizeof(Walker));
    }
  }
  long long trials = 0, accepted = 0, shootingEvaluations = 0, kept = 0, unchanged = 0;
  double meanLength = 0.0;
  for (const auto& w : walkers) {
    shootingEvaluations += w.evaluations;
    if (!w.transition) continue;
    ++kept;
    trials += w.trials;
    accepted += w.accepted;
    unchanged += w.accepted == 0 ? 1 : 0;
    meanLength += w.length;
  }
  progress.finish(
      fmt::format("{} of {} paths refined, {} accepted of {} trials", kept, M, accepted, trials));
  if (kept == 0) {
    throw std::runtime_error(
        fmt::format("none of the {} geodesic paths goes from state A ({}) to state B ({})", M,
                    states.describeA(), states.describeB()));
  }
  meanLength /= static_cast<double>(kept);
  const auto n = static_cast<Eigen::Index>(kept);
  r.maxEnergy.resize(n);
  r.success.resize(n);
  r.crossing.resize(n);
  if (pb.fullAtom) r.maxEnergyCV.resize(n);
  Eigen::Index i = 0;
  for (const auto& w : walkers) {
    if (!w.transition) continue;
    r.maxEnergy[i] = w.maxEnergy;
    if (pb.fullAtom) r.maxEnergyCV[i] = w.maxEnergy2;
    r.success[i] = w.success;
    r.crossing[i] = w.crossing;
    ++i;
  }
  // Variable-length shooting paths are transition segments (first frame in A, last in B).
  if (pb.fullAtom) r.maxEnergySegment = r.maxEnergy;
  r.trials = trials;
  r.acceptance = trials > 0 ? static_cast<double>(accepted) / static_cast<double>(trials) : 0.0;
  r.energyEvaluations = geodesic.energyEvaluations + shootingEvaluations;
  r.wallSeconds = secondsSince(t0) + geodesic.wallSeconds;
  r.settings = fmt::format(
      "the geodesic method's paths ({} evaluations), each refined by {} two-way shooting trials "
      "(variable length, max {} frames; states: A {}, B {}) from its A -> B segment: {} of {} "
      "paths had one, {} accepted of {} trials, {} paths kept their geodesic segment (no trial "
      "accepted; measured on every recorded frame), mean final length {:.0f} frames; {} "
      "evaluations for the shooting (observing the stored frames included)",
      geodesic.energyEvaluations, moves, mc.maxLength, states.describeA(), states.describeB(), kept,
      M, accepted, trials, unchanged, meanLength, shootingEvaluations);
  r.ok = true;
  return r;
}

std::map<std::string, CompareMethod>& methodRegistry() {
  static std::map<std::string, CompareMethod> r = {
      {"geodesic", {"Spacetime geodesic (GeoTPS)", false, runGeodesic}},
      {"mcmc_fixed",
       {"MCMC two-way shooting, fixed length", true,
        [](const CompareContext& c) { return runMcmc(c, false); }}},
      {"mcmc_variable",
       {"MCMC two-way shooting, variable length", true,
        [](const CompareContext& c) { return runMcmc(c, true); }}},
      {"geodesic_shooting", {"Spacetime geodesic + shooting moves", true, runGeodesicShooting}},
  };
  return r;
}

}  // namespace

void registerCompareMethod(const std::string& name, CompareMethod method) {
  methodRegistry()[name] = std::move(method);
}

const CompareMethod& compareMethod(const std::string& name, const std::string& source) {
  const bool torch = name == "doob";
  std::string why;
  const auto it = findLoadingTorchModule(methodRegistry(), name, torch, &why);
  if (it == methodRegistry().end()) {
    if (torch) {
      throw ConfigError(torchUnavailableMessage(source, "compare.methods",
                                                "method 'doob' (Doob's Lagrangian)", why));
    }
    throw ConfigError(fmt::format("{}: key 'compare.methods': unknown method '{}'", source, name));
  }
  return it->second;
}

std::string compareMarkdown(const CompareSummary& s) {
  const bool fa = s.kind == "full_atom";
  std::string out = fmt::format("Comparison `{}` ({}; MaxEnergy in {}{}).\n\n", s.name,
                                fa ? "full-atom molecule" : "potential in x", s.energyUnit,
                                fa ? ", full-atom energy relative to the lower minimised end state"
                                   : ", surface at the nearest grid point");
  out += fa ? "| method | paths | MaxEnergy | min | A -> B segment MaxEnergy | CV MaxEnergy | "
              "success | acceptance | energy evaluations | wall s |\n| --- | ---: | ---: | ---: | "
              "---: | ---: | ---: | ---: | ---: | ---: |\n"
            : "| method | paths | MaxEnergy | min | success | acceptance | energy evaluations | "
              "wall s |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const auto& m : s.methods) {
    if (!m.ok) {
      out += fmt::format("| {} | failed: {} |{}\n", m.label, m.error,
                         fa ? " | | | | | | | |" : " | | | | | |");
      continue;
    }
    if (!m.converged) {
      out += fmt::format("| {} | not converged (see below) |{}\n", m.label,
                         fa ? " | | | | | | | |" : " | | | | | |");
      continue;
    }
    double mean, sd, meanCV = kNaN, sdCV = kNaN;
    meanStd(m.maxEnergy, mean, sd);
    if (m.maxEnergyCV.size()) meanStd(m.maxEnergyCV, meanCV, sdCV);
    const std::string acc = m.acceptance >= 0 ? fmt::format("{:.3f}", m.acceptance) : "-";
    if (fa) {
      std::string segment = "-";
      if (m.maxEnergySegment.size()) {
        double meanSeg, sdSeg;
        meanStdFinite(m.maxEnergySegment, meanSeg, sdSeg);
        segment = fmt::format("{:.2f} ± {:.2f}", meanSeg, sdSeg);
      }
      // No CV surface (a molecule with other than two CVs): no CV MaxEnergy.
      const std::string cvText =
          std::isnan(meanCV) ? std::string("-") : fmt::format("{:.2f} ± {:.2f}", meanCV, sdCV);
      out += fmt::format(
          "| {} | {} | {:.2f} ± {:.2f} | {:.2f} | {} | {} | {:.3f} | {} | {} | {:.1f} |\n",
          m.label, m.maxEnergy.size(), mean, sd, m.maxEnergy.minCoeff(), segment, cvText,
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
                       fa ? "| | | | | |" : "| | | |");
  }
  // Transition-path ensembles: where the paths cross the dividing line, against variable-length
  // MCMC (the unbiased reference) by a two-sample Kolmogorov-Smirnov test.
  const MethodResult* reference = findMethod(s.methods, "mcmc_variable");
  out += fmt::format(
      "\nCrossing points: x[1] where x[0] crosses {} ({}) from A's side to B's (last crossing; "
      "{}); KS: two-sample Kolmogorov-Smirnov statistic D and p-value against variable-length "
      "MCMC.\n\n| method | paths crossing | crossing x[1] | KS D | KS p | success | evaluations "
      "per path |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
      s.crossingLine, s.xUnit,
      fa ? "phi, psi from every frame for the geodesic method, every mcmc.frame_stride-th for "
           "MCMC, "
           "every doob.frame_stride-th for Doob"
         : "from the stored frames (output.frame_stride, mcmc.frame_stride, doob.frame_stride)");
  for (const auto& m : s.methods) {
    if (!m.ok || !m.converged || m.crossing.size() == 0) continue;
    const CrossingStats c = crossingStats(m, reference);
    const bool ks = std::isfinite(c.ks.d);
    out += fmt::format(
        "| {} | {:.3f} | {:.3f} ± {:.3f} | {} | {} | {:.3f} | {:.0f} |\n", m.label, c.fraction,
        c.mean, c.sd, ks ? fmt::format("{:.3f}", c.ks.d) : "-",
        ks ? fmt::format("{:.3g}", c.ks.pValue) : "-", m.success.mean(),
        static_cast<double>(m.energyEvaluations) / static_cast<double>(m.maxEnergy.size()));
  }
  out += "\nSettings and budgets:\n\n";
  for (const auto& m : s.methods) {
    std::string text = m.ok ? m.settings : "failed: " + m.error;
    if (m.ok && m.maxEnergySegment.size() && m.meanSegmentFrames > 0) {
      text += fmt::format(
          "; A -> B segments (last frame in state A to the first in state B, the MCMC states): "
          "mean {:.0f} frames",
          m.meanSegmentFrames);
    }
    if (m.ok && !m.convergence.empty()) {
      text +=
          fmt::format("; {}: {}", m.converged ? "converged" : "**not converged**", m.convergence);
    }
    out += fmt::format("- **{}**: {}\n", m.label, text);
  }
  out += fmt::format(
      "\nMaxEnergy: mean ± standard deviation over paths (MCMC: over the accepted paths of all "
      "chains); success: fraction of paths ending within metrics.success_radius of B or in "
      "MCMC's state B; acceptance: accepted / trials. Produced by `{}` in {:.1f} s (geotps {}); "
      "data in `{}`.\n",
      s.command, s.wallSeconds, kVersion, s.outputFile);
  return out;
}

CompareSummary runCompare(Config config, const JobOptions& options, const std::string& command,
                          std::FILE* log) {
  const auto t0 = Clock::now();
  // Under MPI (docs/mpi.md) every rank reads the configuration and builds the potential; the
  // geodesic run's walkers and the MCMC methods' chains are shared over the ranks; rank 0 alone
  // runs the other methods, keeps the checkpoint and writes the files.
  const Ranks& ranks = Ranks::world();
  const bool root = ranks.root();
  std::optional<JobSettings> read;
  ranks.collectively([&] {
    if (options.seed) config.set("seed", std::to_string(*options.seed));
    read.emplace(readJobSettings(config));
  });
  const JobSettings& settings = *read;
  CompareSummary s;
  s.name = settings.name;
  s.command = command;
  s.outputFile = options.output ? *options.output : settings.compare.output;
  if (s.outputFile.empty()) s.outputFile = "results/" + s.name + "_compare.h5";
  s.tableFile = withSuffix(s.outputFile, ".md");
  s.geodesicFile = withSuffix(s.outputFile, "_geodesic.h5");
  const auto& methods = settings.compare.methods;
  bool needGeodesic = false, needPaths = false;
  for (const auto& m : methods) {
    const CompareMethod& method = compareMethod(m, settings.source);
    needGeodesic = needGeodesic || m == "geodesic" || method.startsFromGeodesicPaths;
    needPaths = needPaths || method.startsFromGeodesicPaths;
  }
  std::optional<AtomicH5Writer> writer;
  std::optional<OwnedTemporary> geodesicStaged;
  std::optional<CompareCheckpoint> checkpoint;
  std::optional<OwnedTemporary> geodesicCopy;  // under MPI, ranks other than 0: the geodesic file
  JobOptions methodOptions = options;
  JobSettings pinned = settings;
  std::optional<CompareContext> made;
  ranks.collectively([&] {
    if (needPaths && settings.output.frameStride == 0) {
      throw ConfigError(fmt::format(
          "{}: key 'output.frame_stride': the MCMC methods start from a stored path of the "
          "geodesic run; expected a stride > 0, got 0",
          settings.source));
    }
    if (!root) return;
    writer.emplace(s.outputFile);  // an unwritable path fails before any work
    // The compare's three files appear together or not at all: the geodesic run writes its
    // result under a temporary name, renamed when the compare file is committed.
    checkOutputTarget(s.geodesicFile);
    checkOutputTarget(s.tableFile);
    geodesicStaged.emplace(temporaryPathFor(s.geodesicFile));
    // Each finished method's result is saved in <output>.checkpoint/ (the geodesic run's walker
    // chunks inside it), for --resume; the folder is removed once the three files are in place.
    checkpoint.emplace(s.outputFile, options.resume, log);
    methodOptions.checkpointFolder = checkpoint->walkerFolder();
    pinned = resumedPlatform(settings, options.resume, checkpoint->folder(), log);
    // `potential.platform: auto` is chosen by timing, which may differ between ranks: rank 0
    // chooses, the others use its choice.
    if (!ranks.parallel() || pinned.potential.platform != "auto") return;
    made.emplace(pinned, config, methodOptions, s.geodesicFile, log);
    if (made->fullAtom) pinned.potential.platform = made->molecule->platform->getName();
  });
  std::string platform = pinned.potential.platform;
  ranks.broadcast(platform);
  pinned.potential.platform = platform;
  ranks.collectively([&] {
    if (!made) made.emplace(pinned, config, methodOptions, s.geodesicFile, log);
    MemoryEstimate m = estimateCompareMemory(
        settings, made->fullAtom ? made->molecule->system->getNumParticles() : 0);
    // The geodesic run checks its own arrays; here what the compare holds besides them.
    m.items.push_back({"libraries and working memory", "", 256.0 * 1024 * 1024});
    enforceMemoryLimit(m, memoryLimit(options.maxMemory), settings.source, "compare");
  });
  CompareContext& context = *made;
  if (checkpoint) {
    context.checkpoint = &*checkpoint;
    if (context.fullAtom) checkpoint->setPlatform(context.molecule->platform->getName());
  }
  if (context.fullAtom && root) {
    // The platform of every method (the geodesic run takes it too: runGeodesic).
    fmt::print(log, "# compare: OpenMM platform {} ({})\n", context.molecule->platform->getName(),
               context.molecule->platformReport);
    std::fflush(log);
  }
  const CompareContext& pb = context;
  s.kind = pb.fullAtom ? "full_atom" : "2d";
  s.energyUnit = pb.energyUnit;
  s.xUnit = pb.fullAtom ? "rad" : pb.potential->coordinateUnit();
  s.crossingLine = settings.compare.crossingLine;
  s.minimaxBound = kNaN;
  if (pb.surface && root) {
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
  // Which methods rank 0's checkpoint holds (a resumed compare), for every rank.
  std::vector<std::int64_t> saved(order.size(), 0);
  ranks.collectively([&] {
    if (!root) return;
    checkpoint->begin(settings.source, config.effectiveYaml(), order);
    for (std::size_t i = 0; i < order.size(); ++i) saved[i] = checkpoint->hasMethod(order[i]);
  });
  ranks.broadcast(saved);
  bool geodesicOk = false;
  // Under MPI, after the geodesic method: whether it succeeded (rank 0's word) and, for the
  // methods that start from its paths, its result file on every rank.
  const auto shareGeodesic = [&] {
    if (!ranks.parallel()) return;
    std::int64_t ok = geodesicOk ? 1 : 0;
    ranks.broadcast(ok);
    geodesicOk = ok == 1;
    if (!geodesicOk || !needPaths) return;
    std::string bytes;
    ranks.collectively([&] {
      if (!root) return;
      bytes = readFileBytes(pb.geodesicStaged);
    });
    ranks.broadcast(bytes);
    ranks.collectively([&] {
      if (root) return;
      geodesicCopy.emplace((std::filesystem::temp_directory_path() /
                            fmt::format("geotps-geodesic-{}.h5", static_cast<long>(::getpid())))
                               .string());
      writeFileAtomically(geodesicCopy->path(), bytes);
      context.geodesicStaged = geodesicCopy->path();
    });
  };
  for (std::size_t index = 0; index < order.size(); ++index) {
    const std::string& m = order[index];
    const CompareMethod& method = compareMethod(m, settings.source);
    // Under MPI the other ranks take part in the methods that share their work (the geodesic
    // run's walkers, the MCMC chains); rank 0 runs the others alone.
    const bool sharedMethod =
        m == "geodesic" || m == "mcmc_fixed" || m == "mcmc_variable" || m == "geodesic_shooting";
    if (!root && (!sharedMethod || saved[index])) {
      if (m == "geodesic") shareGeodesic();
      continue;
    }
    if (saved[index]) {
      auto& checkpoint = *made->checkpoint;
      fmt::print(log, "# compare: {}: the result saved in {}\n", method.label, checkpoint.folder());
      std::fflush(log);
      if (m == "geodesic") {
        checkpoint.restoreGeodesicRun(pb.geodesicStaged);
        geodesicOk = true;
        shareGeodesic();
      }
      s.methods.push_back(checkpoint.loadMethod(m));
      continue;
    }
    MethodResult r;
    fmt::print(log, "# compare: {}\n", method.label);
    std::fflush(log);
    try {
      if (method.startsFromGeodesicPaths && !geodesicOk) {
        throw std::runtime_error("the geodesic run, which gives the initial path, failed");
      }
      r = method.run(pb);
      if (m == "geodesic") geodesicOk = true;
    } catch (const ConfigError&) {
      throw;
    } catch (const RankFailure& e) {
      if (e.configuration()) throw;
      r = MethodResult{};
      r.ok = false;
      r.error = e.what();
      if (root) printDiagnostic(fmt::format("geotps: {} failed: {}", method.label, e.what()));
    } catch (const std::exception& e) {
      r = MethodResult{};
      r.ok = false;
      r.error = e.what();
      printDiagnostic(fmt::format("geotps: {} failed: {}", method.label, e.what()));
    }
    if (m == "geodesic") {
      geodesicOk = r.ok;
      shareGeodesic();
    }
    if (!root) continue;
    r.method = m;
    r.label = method.label;
    if (r.ok) {
      // A failed method is not saved: --resume runs it again.
      checkpoint->saveMethod(r, m == "geodesic" ? pb.geodesicStaged : std::string());
      if (m == "geodesic") checkpoint->removeWalkers();
      checkpoint->removeChains(m);
      faultInjectionPoint("method", static_cast<int>(index));
    }
    s.methods.push_back(std::move(r));
  }
  if (!root) return s;  // rank 0 writes the files
  s.wallSeconds = secondsSince(t0);

  H5File& f = writer->file();
  writeConfigGroup(f, config);
  if (pb.fullAtom) {
    // The molecule, as /full_atom/topology_pdb of a run file: what `geotps export` reads.
    f.writeString("/topology_pdb",
                  pdbText(pb.molecule->topology, {pb.molecule->positionsA}, true, "topology"));
  }
  const MethodResult* reference = findMethod(s.methods, "mcmc_variable");
  for (const auto& r : s.methods) {
    writeMethod(f, r, s.energyUnit, s.xUnit, crossingStats(r, reference));
  }
  const std::string table = compareMarkdown(s);
  f.writeString("/summary/table_markdown", table);
  f.setAttribute("/", "geotps_version", std::string(kVersion));
  f.setAttribute("/", "schema_version", kResultSchemaVersion, "1");
  f.setAttribute("/", "file_type", std::string("compare"));
  f.setAttribute("/", "name", s.name);
  f.setAttribute("/", "created", isoTimeNow());
  f.setAttribute("/", "seed", static_cast<std::int64_t>(settings.seed), "1");
  f.setAttribute("/", "energy_unit", s.energyUnit);
  writeProvenance(f, config);
  f.setAttribute("/summary", "kind", s.kind);
  f.setAttribute("/summary", "minimax_bound", s.minimaxBound, s.energyUnit);
  f.setAttribute("/summary", "geodesic_result_file", s.geodesicFile);
  f.setAttribute("/summary", "methods", [&] {
    std::string list;
    for (const auto& r : s.methods) list += (list.empty() ? "" : ",") + r.method;
    return list;
  }());
  f.setAttribute("/summary", "wall_seconds", s.wallSeconds, "s");
  faultInjectionPoint("compare", 0);
  // Committed in this order; a failure removes what this run already renamed into place.
  writer->commit();
  try {
    if (geodesicOk) geodesicStaged->renameTo(s.geodesicFile);
    writeFileAtomically(s.tableFile, table);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(s.outputFile, ignored);
    if (geodesicOk) std::filesystem::remove(s.geodesicFile, ignored);
    throw;
  }
  checkpoint->remove();
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
  requireCompareResult(f);
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
        (ok ? std::string() : ", \"error\": " + jsonString(f.readString(g + "/error"))) +
            // Files written before the converged attribute: every method counted as converged.
            (f.hasAttribute(g, "converged")
                 ? fmt::format(", \"converged\": {}, \"convergence\": {}",
                               f.readAttributeInt(g, "converged") == 1 ? "true" : "false",
                               jsonString(f.readAttributeString(g, "convergence")))
                 : std::string()));
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
