#include "engine/samplers/sampler.h"

#include <OpenMM.h>

#include <algorithm>

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

  SamplerResult sample(const Eigen::MatrixXd& curve, const SamplerProgress& progress) override {
    EnergyLookup nearest;
    if (const auto* surface = problem_.surface) {
      nearest = [surface](const double* x) { return surface->nearestGridEnergy(x); };
    }
    return sampleAnnealedLangevin(*problem_.potential, curve, problem_.a, settings_, nearest,
                                  progress);
  }

  void write(H5File& f, const SamplerResult& r) const override {
    const std::string xu = problem_.potential->coordinateUnit(), eu = problem_.energyUnit;
    if (r.storedPerPath > 0) {
      f.writeFloats("/paths/frames",
                    {static_cast<std::size_t>(settings_.nPaths), r.storedPerPath,
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

  SamplerResult sample(const Eigen::MatrixXd& curve, const SamplerProgress& progress) override {
    const FullAtomSetup& atoms = *problem_.molecule;
    const auto cvEnergy = [this](double phi, double psi) {
      return problem_.cvEnergyKjMol(phi, psi);
    };
    paths_ = batched_ ? sampleFullAtomPathsBatched(atoms, curve, settings_, batchSize_, cvEnergy,
                                                   progress)
                      : sampleFullAtomPaths(atoms, curve, settings_, cvEnergy, progress);
    // The CV-space view of the full-atom paths, for the shared metrics.
    SamplerResult r;
    r.dimension = 2;
    r.framesPerPath = paths_.framesPerPath;
    r.finalPositions = paths_.finalCV;
    r.maxEnergy = paths_.maxEnergy.array() - std::min(atoms.energyA, atoms.energyB);
    r.maxEnergyNearest = r.maxEnergy;
    r.maxEnergyCV = paths_.maxEnergyCV;
    r.energyEvaluations = paths_.energyEvaluations;
    return r;
  }

  void write(H5File& f, const SamplerResult& r) const override {
    const FullAtomSetup& atoms = *problem_.molecule;
    const FullAtomPaths& fa = paths_;
    writeVector(f, "/paths/max_energy_full_atom", r.maxEnergy, "kJ/mol");
    writeVector(f, "/paths/max_energy_cv", fa.maxEnergyCV, "kJ/mol");
    const std::size_t n = static_cast<std::size_t>(fa.nAtoms);
    const std::size_t m = static_cast<std::size_t>(settings_.nPaths);
    if (fa.storedPerPath > 0) {
      f.writeFloats("/full_atom/frames", {m, fa.storedPerPath, n, 3}, fa.frames.data(), "nm");
    }
    f.writeFloats("/full_atom/energy", {m, fa.observedPerPath}, fa.energy.data(), "kJ/mol");
    f.writeFloats("/full_atom/cv", {m, fa.observedPerPath, 2}, fa.cv.data(), "rad");
    f.writeDoubles("/full_atom/state_a_positions", {n, 3}, atoms.positionsA.data(), "nm");
    f.writeDoubles("/full_atom/state_b_positions", {n, 3}, atoms.positionsB.data(), "nm");
    // The topology as PDB text (state A, minimised), for `geotps export`.
    f.writeString("/full_atom/topology_pdb",
                  pdbText(atoms.topology, {atoms.positionsA}, true, "topology"));
    f.setAttribute("/full_atom", "temperature", atoms.temperatureK);
    f.setAttribute("/full_atom", "platform", atoms.platform->getName());
    f.setAttribute("/full_atom", "platform_report", atoms.platformReport);
    f.setAttribute("/full_atom", "energy_a", atoms.energyA);
    f.setAttribute("/full_atom", "energy_b", atoms.energyB);
    f.setAttribute("/full_atom", "reference_energy", std::min(atoms.energyA, atoms.energyB));
    f.setAttribute("/full_atom", "n_atoms", static_cast<std::int64_t>(n));
    f.setAttribute(
        "/full_atom", "frame_stride",
        static_cast<std::int64_t>(fa.storedPerPath > 0 ? fa.framesPerPath / fa.storedPerPath : 0));
    // Rows of /full_atom/energy and /full_atom/cv: every frame (per-Context walkers) or every
    // observe_stride-th (batched walkers; MaxEnergy is over those frames).
    f.setAttribute("/full_atom", "observe_stride", static_cast<std::int64_t>(fa.observeStride));
    f.setAttribute("/full_atom", "walkers", std::string(batched_ ? "batched" : "per_context"));
    if (batched_) f.setAttribute("/full_atom", "batch_size", static_cast<std::int64_t>(batchSize_));
  }

 private:
  const Problem& problem_;
  bool batched_ = false;
  int batchSize_ = 10000;
  FullAtomSamplerSettings settings_;
  FullAtomPaths paths_;
};

}  // namespace

bool batchesWalkers(const std::string& walkers, const std::string& platformName) {
  if (walkers == "batched") return true;
  if (walkers == "per_context") return false;
  return platformName == "OpenCL" || platformName == "CUDA";
}

std::unique_ptr<Sampler> makeSampler(const Problem& problem, const SamplerSettings& settings,
                                     const MoleculeSettings& molecule,
                                     const SamplingSettings& sampling) {
  if (problem.fullAtom()) {
    return std::make_unique<FullAtomSampler>(problem, settings, molecule, sampling);
  }
  return std::make_unique<AnnealedLangevinSampler>(problem, settings);
}

}  // namespace geotps
