#include "engine/samplers/sampler.h"

#include <OpenMM.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <stdexcept>

#include "engine/io/output_util.h"
#include "engine/io/pdb_file.h"
#include "engine/samplers/batched_full_atom.h"
#include "engine/samplers/full_atom_sampler.h"

namespace geotps {

namespace {

/// 2D: overdamped annealed Langevin on the potential (engine/samplers/annealed_langevin.h).
class AnnealedLangevinSampler final : public Sampler {
 public:
  AnnealedLangevinSampler(const Problem& problem, const SamplerSettings& settings)
      : problem_(problem), settings_(settings) {
    settings_.kT = problem.kT;
  }
  std::string kind() const override { return "2d"; }

  SamplerResult sample(const Eigen::MatrixXd& curve, int first, int count,
                       const SamplerProgress& progress) override {
    EnergyLookup nearest;
    if (const auto* surface = problem_.surface) {
      nearest = [surface](const double* x) { return surface->nearestGridEnergy(x); };
    }
    SamplerSettings part = settings_;
    part.nPaths = count;
    part.firstWalker = static_cast<std::uint64_t>(first);
    if (!reversed()) {
      return sampleAnnealedLangevin(*problem_.potential, curve, problem_.a, part, nearest,
                                    progress);
    }
    SamplerResult r = sampleAnnealedLangevin(*problem_.potential, walkedCurve(curve), problem_.b,
                                             part, nearest, progress);
    reverseInTime(r, problem_.b);
    return r;
  }

  void write(H5File& f, const SamplerResult& r) const override {
    const std::string xu = problem_.potential->coordinateUnit(), eu = problem_.energyUnit;
    if (r.storedPerPath > 0) {
      f.writeFloats("/paths/frames",
                    {static_cast<std::size_t>(r.finalPositions.rows()), r.storedPerPath,
                     static_cast<std::size_t>(problem_.dimension())},
                    r.frames.data(), xu);
    }
    writeVector(f, "/paths/max_energy_nearest", r.maxEnergyNearest, eu);
    writeVector(f, "/paths/max_energy_interpolated", r.maxEnergy, eu);
  }

 private:
  const Problem& problem_;
  SamplerSettings settings_;
};

/// Full atom: OpenMM dynamics of the molecule under a CV restraint moving along the curve
/// (engine/samplers/full_atom_sampler.h).
class FullAtomSampler final : public Sampler {
 public:
  FullAtomSampler(const Problem& problem, const SamplerSettings& s, const MoleculeSettings& m,
                  const SamplingSettings& sampling)
      : problem_(problem),
        batched_(batchesWalkers(sampling.walkers, problem.molecule->platform->getName())),
        batchSize_(sampling.batchSize) {
    settings_.unwrappedRestraint = sampling.unwrappedRestraint;
    settings_.nPaths = s.nPaths;
    settings_.stepsPerPoint = s.stepsPerPoint;
    settings_.frictionPerPs = m.frictionPerPs;
    settings_.timeStepPs = m.timeStepPs;
    settings_.seed = s.seed;
    settings_.threads = s.threads;
    settings_.frameStride = s.frameStride;
  }
  std::string kind() const override { return "full_atom"; }

  SamplerResult sample(const Eigen::MatrixXd& curve, int first, int count,
                       const SamplerProgress& progress) override {
    const FullAtomSetup& atoms = *problem_.molecule;
    CvEnergyFunction cvEnergy;
    if (problem_.surface)
      cvEnergy = [this](const Eigen::VectorXd& cv) { return problem_.cvEnergyKjMol(cv); };
    FullAtomSamplerSettings part = settings_;
    part.nPaths = count;
    part.firstWalker = static_cast<std::uint64_t>(first);
    part.startAtB = reversed();
    const Eigen::MatrixXd walked = walkedCurve(curve);
    auto paths = std::make_shared<FullAtomPaths>(
        batched_ ? sampleFullAtomPathsBatched(atoms, walked, part, batchSize_, cvEnergy, progress)
                 : sampleFullAtomPaths(atoms, walked, part, cvEnergy, progress));
    // Without a CV surface (other than two CVs) there is no CV MaxEnergy.
    if (!cvEnergy) paths->maxEnergyCV.setConstant(std::numeric_limits<double>::quiet_NaN());
    // The CV-space view of the full-atom paths, for the shared metrics.
    SamplerResult r;
    r.dimension = atoms.cvDimension();
    r.framesPerPath = paths->framesPerPath;
    r.finalPositions = paths->finalCV;
    r.maxEnergy = paths->maxEnergy.array() - std::min(atoms.energyA, atoms.energyB);
    r.maxEnergyNearest = r.maxEnergy;
    r.maxEnergyCV = paths->maxEnergyCV;
    r.energyEvaluations = paths->energyEvaluations;
    r.fullAtom = std::move(paths);
    if (reversed()) reverseInTime(r, computeCVs(atoms.positionsB, atoms.cvAtoms));
    return r;
  }

  int walkerAlignment() const override { return batched_ ? batchSize_ : 1; }

  void write(H5File& f, const SamplerResult& r) const override {
    const FullAtomSetup& atoms = *problem_.molecule;
    if (!r.fullAtom) throw std::logic_error("full-atom sampler: result without full-atom paths");
    const FullAtomPaths& fa = *r.fullAtom;
    writeVector(f, "/paths/max_energy_full_atom", r.maxEnergy, "kJ/mol");
    writeVector(f, "/paths/max_energy_cv", fa.maxEnergyCV, "kJ/mol");
    const std::size_t n = static_cast<std::size_t>(fa.nAtoms);
    const std::size_t m = static_cast<std::size_t>(fa.maxEnergy.size());
    if (fa.storedPerPath > 0) {
      f.writeFloats("/full_atom/frames", {m, fa.storedPerPath, n, 3}, fa.frames.data(), "nm");
    }
    f.writeFloats("/full_atom/energy", {m, fa.observedPerPath}, fa.energy.data(), "kJ/mol");
    f.writeFloats("/full_atom/cv",
                  {m, fa.observedPerPath, static_cast<std::size_t>(fa.cvDimension)}, fa.cv.data(),
                  "rad");
    f.writeDoubles("/full_atom/state_a_positions", {n, 3}, atoms.positionsA.data(), "nm");
    f.writeDoubles("/full_atom/state_b_positions", {n, 3}, atoms.positionsB.data(), "nm");
    // The topology as PDB text (state A, minimised), for `geotps export`.
    f.writeString("/full_atom/topology_pdb",
                  pdbText(atoms.topology, {atoms.positionsA}, true, "topology"));
    f.setAttribute("/full_atom", "temperature", atoms.temperatureK, "K");
    f.setAttribute("/full_atom", "time_step", settings_.timeStepPs, "ps");
    f.setAttribute("/full_atom", "friction", settings_.frictionPerPs, "1/ps");
    f.setAttribute("/full_atom", "platform", atoms.platform->getName());
    f.setAttribute("/full_atom", "platform_report", atoms.platformReport);
    f.setAttribute("/full_atom", "energy_a", atoms.energyA, "kJ/mol");
    f.setAttribute("/full_atom", "energy_b", atoms.energyB, "kJ/mol");
    f.setAttribute("/full_atom", "reference_energy", std::min(atoms.energyA, atoms.energyB),
                   "kJ/mol");
    f.setAttribute("/full_atom", "n_atoms", static_cast<std::int64_t>(n), "1");
    std::string labels;
    for (const std::string& l : atoms.cvLabels) labels += (labels.empty() ? "" : ", ") + l;
    f.setAttribute("/full_atom", "cv_labels", labels);
    const std::size_t stride = fa.storedPerPath > 0 ? fa.framesPerPath / fa.storedPerPath : 0;
    f.setAttribute("/full_atom", "frame_stride", static_cast<std::int64_t>(stride), "frames");
    if (fa.storedPerPath > 0) {
      // Stored frame k of every path is the state after step (k + 1) * frame_stride.
      std::vector<double> time(fa.storedPerPath);
      for (std::size_t k = 0; k < time.size(); ++k) {
        time[k] = static_cast<double>((k + 1) * stride) * settings_.timeStepPs;
      }
      f.writeDoubles("/full_atom/time", {time.size()}, time.data(), "ps");
    }
    // Rows of /full_atom/energy and /full_atom/cv: every frame (per-Context walkers) or every
    // observe_stride-th (batched walkers; MaxEnergy is over those frames).
    f.setAttribute("/full_atom", "observe_stride", static_cast<std::int64_t>(fa.observeStride),
                   "frames");
    f.setAttribute("/full_atom", "walkers", std::string(batched_ ? "batched" : "per_context"));
    if (batched_) {
      f.setAttribute("/full_atom", "batch_size", static_cast<std::int64_t>(batchSize_), "1");
    }
  }

 private:
  const Problem& problem_;
  bool batched_ = false;
  int batchSize_ = 10000;
  FullAtomSamplerSettings settings_;
};

}  // namespace

namespace {

Eigen::VectorXd joined(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  Eigen::VectorXd c(a.size() + b.size());
  c.head(a.size()) = a;
  c.tail(b.size()) = b;
  return c;
}

Eigen::MatrixXd stacked(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  if (a.rows() == 0) return b;
  if (b.rows() == 0) return a;
  if (a.cols() != b.cols()) throw std::logic_error("appendWalkers: column counts differ");
  Eigen::MatrixXd c(a.rows() + b.rows(), a.cols());
  c.topRows(a.rows()) = a;
  c.bottomRows(b.rows()) = b;
  return c;
}

template <class T>
void appendTo(std::vector<T>& a, const std::vector<T>& b) {
  a.insert(a.end(), b.begin(), b.end());
}

/// Room in `v` (which holds `walkers` walkers' values) for `total` walkers, allocated once.
template <class T>
void reserveFor(std::vector<T>& v, Eigen::Index walkers, int total) {
  if (walkers > 0 && total > walkers) {
    v.reserve(v.size() / static_cast<std::size_t>(walkers) * static_cast<std::size_t>(total));
  }
}

}  // namespace

Eigen::MatrixXd Sampler::walkedCurve(const Eigen::MatrixXd& curve) const {
  if (!reversed_) return curve;
  return curve.colwise().reverse();
}

bool samplesReversed(const Problem& problem, const std::string& direction) {
  if (direction == "forward") return false;
  if (direction == "reverse") return true;
  if (direction != "auto") throw std::invalid_argument("sampler.direction: " + direction);
  // Without a CV energy (a molecule with other than two CVs) the minimised end states' energies
  // stand in for the basins' depths.
  if (problem.fullAtom() && !problem.surface)
    return problem.molecule->energyB < problem.molecule->energyA;
  return problem.potential->energy(problem.b.data()) < problem.potential->energy(problem.a.data());
}

namespace {

/// Reverses the order of the `rows` rows (of `width` values) of each of the `paths` blocks of `v`.
template <class T>
void reverseRowsPerPath(std::vector<T>& v, std::size_t paths, std::size_t rows, std::size_t width) {
  if (v.size() != paths * rows * width) throw std::logic_error("reverseInTime: shape mismatch");
  for (std::size_t p = 0; p < paths; ++p) {
    T* block = v.data() + p * rows * width;
    for (std::size_t j = 0; j < rows / 2; ++j) {
      std::swap_ranges(block + j * width, block + (j + 1) * width, block + (rows - 1 - j) * width);
    }
  }
}

}  // namespace

void reverseInTime(SamplerResult& r, const Eigen::VectorXd& startedFrom) {
  const std::size_t M = static_cast<std::size_t>(r.finalPositions.rows());
  reverseRowsPerPath(r.frames, M, r.storedPerPath, static_cast<std::size_t>(r.dimension));
  r.startPositions = r.finalPositions;
  r.finalPositions = startedFrom.transpose().replicate(static_cast<Eigen::Index>(M), 1);
  if (FullAtomPaths* fa = r.fullAtom.get()) {
    reverseRowsPerPath(fa->frames, M, fa->storedPerPath, 3 * static_cast<std::size_t>(fa->nAtoms));
    reverseRowsPerPath(fa->energy, M, fa->observedPerPath, 1);
    reverseRowsPerPath(fa->cv, M, fa->observedPerPath, static_cast<std::size_t>(fa->cvDimension));
    fa->finalCV = r.finalPositions;
  }
}

void appendWalkers(SamplerResult& all, const SamplerResult& part, int totalWalkers) {
  if (all.finalPositions.rows() == 0) {
    all = part;
    if (part.fullAtom) all.fullAtom = std::make_shared<FullAtomPaths>(*part.fullAtom);
    // The frame arrays grow chunk by chunk: their final size is allocated now, once.
    const Eigen::Index walkers = part.finalPositions.rows();
    reserveFor(all.frames, walkers, totalWalkers);
    if (all.fullAtom) {
      reserveFor(all.fullAtom->frames, walkers, totalWalkers);
      reserveFor(all.fullAtom->energy, walkers, totalWalkers);
      reserveFor(all.fullAtom->cv, walkers, totalWalkers);
    }
    return;
  }
  if (all.dimension != part.dimension || all.framesPerPath != part.framesPerPath ||
      all.storedPerPath != part.storedPerPath || !all.fullAtom != !part.fullAtom) {
    throw std::logic_error("appendWalkers: the parts come from different samplers");
  }
  appendTo(all.frames, part.frames);
  all.maxEnergy = joined(all.maxEnergy, part.maxEnergy);
  all.maxEnergyNearest = joined(all.maxEnergyNearest, part.maxEnergyNearest);
  all.maxEnergyCV = joined(all.maxEnergyCV, part.maxEnergyCV);
  all.finalPositions = stacked(all.finalPositions, part.finalPositions);
  if ((all.startPositions.rows() == 0) != (part.startPositions.rows() == 0))
    throw std::logic_error("appendWalkers: the parts differ in direction");
  all.startPositions = stacked(all.startPositions, part.startPositions);
  all.energyEvaluations += part.energyEvaluations;
  all.nearestLookups += part.nearestLookups;
  if (part.fullAtom) {
    FullAtomPaths& a = *all.fullAtom;
    const FullAtomPaths& b = *part.fullAtom;
    if (a.nAtoms != b.nAtoms || a.storedPerPath != b.storedPerPath ||
        a.observeStride != b.observeStride || a.observedPerPath != b.observedPerPath) {
      throw std::logic_error("appendWalkers: the full-atom parts differ in shape");
    }
    appendTo(a.frames, b.frames);
    appendTo(a.energy, b.energy);
    appendTo(a.cv, b.cv);
    a.maxEnergy = joined(a.maxEnergy, b.maxEnergy);
    a.maxEnergyCV = joined(a.maxEnergyCV, b.maxEnergyCV);
    a.finalCV = stacked(a.finalCV, b.finalCV);
    a.energyEvaluations += b.energyEvaluations;
  }
}

namespace {

void saveFloats(H5File& f, const std::string& path, const std::vector<float>& v) {
  if (!v.empty()) f.writeFloats(path, {v.size()}, v.data(), "as in the result file");
}

void saveVector(H5File& f, const std::string& path, const Eigen::VectorXd& v) {
  if (v.size() > 0) f.writeDoubles(path, {static_cast<std::size_t>(v.size())}, v.data(), "1");
}

void saveMatrix(H5File& f, const std::string& path, const Eigen::MatrixXd& m) {
  if (m.size() > 0) writeMatrix(f, path, m, "as in the result file");
}

std::vector<float> loadFloats(const H5File& f, const std::string& path, std::size_t expected) {
  std::vector<float> out;
  if (expected == 0) return out;
  const std::vector<double> v = f.readDoubles(path);
  if (v.size() != expected) {
    throw H5Error(fmt::format("{}: {} has {} values; expected {}", f.path(), path, v.size(),
                              expected));
  }
  out.reserve(v.size());
  for (double x : v) out.push_back(static_cast<float>(x));  // float -> double -> float is exact
  return out;
}

Eigen::VectorXd loadVector(const H5File& f, const std::string& path, Eigen::Index expected) {
  if (expected == 0) return Eigen::VectorXd();
  const std::vector<double> v = f.readDoubles(path);
  if (static_cast<Eigen::Index>(v.size()) != expected) {
    throw H5Error(fmt::format("{}: {} has {} values; expected {}", f.path(), path, v.size(),
                              expected));
  }
  return Eigen::Map<const Eigen::VectorXd>(v.data(), expected);
}

Eigen::MatrixXd loadMatrix(const H5File& f, const std::string& path, Eigen::Index rows,
                           Eigen::Index cols) {
  const Eigen::VectorXd v = loadVector(f, path, rows * cols);
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (Eigen::Index j = 0; j < cols; ++j) m(i, j) = v[i * cols + j];
  return m;
}

}  // namespace

void saveWalkers(H5File& f, const std::string& group, const SamplerResult& r) {
  const std::string g = group + "/";
  f.setAttribute(group, "walkers", static_cast<std::int64_t>(r.finalPositions.rows()), "1");
  f.setAttribute(group, "dimension", static_cast<std::int64_t>(r.dimension), "1");
  f.setAttribute(group, "frames_per_path", static_cast<std::int64_t>(r.framesPerPath), "frames");
  f.setAttribute(group, "stored_per_path", static_cast<std::int64_t>(r.storedPerPath), "frames");
  f.setAttribute(group, "energy_evaluations", static_cast<std::int64_t>(r.energyEvaluations), "1");
  f.setAttribute(group, "nearest_lookups", static_cast<std::int64_t>(r.nearestLookups), "1");
  f.setAttribute(group, "max_energy_cv_size", static_cast<std::int64_t>(r.maxEnergyCV.size()),
                 "1");
  saveFloats(f, g + "frames", r.frames);
  saveVector(f, g + "max_energy", r.maxEnergy);
  saveVector(f, g + "max_energy_nearest", r.maxEnergyNearest);
  saveVector(f, g + "max_energy_cv", r.maxEnergyCV);
  saveMatrix(f, g + "final_positions", r.finalPositions);
  saveMatrix(f, g + "start_positions", r.startPositions);
  if (const FullAtomPaths* fa = r.fullAtom.get()) {
    const std::string h = g + "full_atom";
    f.setAttribute(h, "n_atoms", static_cast<std::int64_t>(fa->nAtoms), "1");
    f.setAttribute(h, "frames_per_path", static_cast<std::int64_t>(fa->framesPerPath), "frames");
    f.setAttribute(h, "stored_per_path", static_cast<std::int64_t>(fa->storedPerPath), "frames");
    f.setAttribute(h, "observe_stride", static_cast<std::int64_t>(fa->observeStride), "frames");
    f.setAttribute(h, "observed_per_path", static_cast<std::int64_t>(fa->observedPerPath),
                   "frames");
    f.setAttribute(h, "energy_evaluations", static_cast<std::int64_t>(fa->energyEvaluations),
                   "1");
    saveFloats(f, h + "/frames", fa->frames);
    saveFloats(f, h + "/energy", fa->energy);
    saveFloats(f, h + "/cv", fa->cv);
    saveVector(f, h + "/max_energy", fa->maxEnergy);
    saveVector(f, h + "/max_energy_cv", fa->maxEnergyCV);
    saveMatrix(f, h + "/final_cv", fa->finalCV);
  }
}

SamplerResult loadWalkers(const H5File& f, const std::string& group, int expectedWalkers) {
  const std::string g = group + "/";
  auto count = [&](const std::string& object, const char* name) {
    const std::int64_t v = f.readAttributeInt(object, name);
    if (v < 0) {
      throw H5Error(fmt::format("{}: {} attribute {} is {}; expected a count", f.path(), object,
                                name, v));
    }
    return static_cast<std::size_t>(v);
  };
  const Eigen::Index M = static_cast<Eigen::Index>(count(group, "walkers"));
  if (M != expectedWalkers) {
    throw H5Error(fmt::format("{}: {} holds {} walkers; expected {}", f.path(), group, M,
                              expectedWalkers));
  }
  SamplerResult r;
  r.dimension = static_cast<int>(count(group, "dimension"));
  r.framesPerPath = count(group, "frames_per_path");
  r.storedPerPath = count(group, "stored_per_path");
  r.energyEvaluations = static_cast<long long>(count(group, "energy_evaluations"));
  r.nearestLookups = static_cast<long long>(count(group, "nearest_lookups"));
  r.frames = loadFloats(f, g + "frames", static_cast<std::size_t>(M) * r.storedPerPath *
                                             static_cast<std::size_t>(r.dimension));
  r.maxEnergy = loadVector(f, g + "max_energy", M);
  r.maxEnergyNearest = loadVector(f, g + "max_energy_nearest", M);
  r.maxEnergyCV = loadVector(f, g + "max_energy_cv",
                             static_cast<Eigen::Index>(count(group, "max_energy_cv_size")));
  r.finalPositions = loadMatrix(f, g + "final_positions", M, r.dimension);
  if (f.exists(g + "start_positions"))
    r.startPositions = loadMatrix(f, g + "start_positions", M, r.dimension);
  const std::string h = g + "full_atom";
  if (f.exists(h)) {
    auto fa = std::make_shared<FullAtomPaths>();
    fa->nAtoms = static_cast<int>(count(h, "n_atoms"));
    fa->framesPerPath = count(h, "frames_per_path");
    fa->storedPerPath = count(h, "stored_per_path");
    fa->observeStride = static_cast<int>(count(h, "observe_stride"));
    fa->observedPerPath = count(h, "observed_per_path");
    fa->energyEvaluations = static_cast<long long>(count(h, "energy_evaluations"));
    const std::size_t m = static_cast<std::size_t>(M);
    fa->frames = loadFloats(f, h + "/frames",
                            m * fa->storedPerPath * 3 * static_cast<std::size_t>(fa->nAtoms));
    fa->energy = loadFloats(f, h + "/energy", m * fa->observedPerPath);
    fa->cvDimension = r.dimension;
    fa->cv = loadFloats(f, h + "/cv", m * fa->observedPerPath * static_cast<std::size_t>(r.dimension));
    fa->maxEnergy = loadVector(f, h + "/max_energy", M);
    fa->maxEnergyCV = loadVector(f, h + "/max_energy_cv", M);
    fa->finalCV = loadMatrix(f, h + "/final_cv", M, r.dimension);
    r.fullAtom = std::move(fa);
  }
  return r;
}

bool batchesWalkers(const std::string& walkers, const std::string& platformName) {
  if (walkers == "batched") return true;
  if (walkers == "per_context") return false;
  return platformName == "OpenCL" || platformName == "CUDA";
}

std::unique_ptr<Sampler> makeSampler(const Problem& problem, const SamplerSettings& settings,
                                     const MoleculeSettings& molecule,
                                     const SamplingSettings& sampling) {
  std::unique_ptr<Sampler> sampler;
  if (problem.fullAtom()) {
    sampler = std::make_unique<FullAtomSampler>(problem, settings, molecule, sampling);
  } else {
    sampler = std::make_unique<AnnealedLangevinSampler>(problem, settings);
  }
  sampler->setReversed(samplesReversed(problem, sampling.direction));
  return sampler;
}

}  // namespace geotps
