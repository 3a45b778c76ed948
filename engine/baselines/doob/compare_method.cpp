// Doob's Lagrangian as a `geotps compare` method (docs/method.md, "Baselines (`geotps compare`)"):
// the 2D potential or the molecule in Cartesian coordinates, paths judged like the other methods'.
#include <OpenMM.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <memory>

#include "engine/baselines/doob/doob_lagrangian.h"
#include "engine/baselines/doob/register.h"
#include "engine/core/clock.h"
#include "engine/core/progress.h"
#include "engine/io/output_util.h"
#include "engine/pipelines/compare.h"
#include "potentials/openmm_potential.h"

namespace geotps {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

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

MethodResult runDoob(const CompareContext& pb) {
  MethodResult r;
  const auto t0 = Clock::now();
  const bool showProgress = pb.options.progress;
  DoobSettings ds = pb.settings.doob;
  ds.seed = pb.seed * 4 + 3;
  ds.threads = pb.threads;

  DoobDynamics dyn;
  PotentialPtr potential;
  Eigen::VectorXd a, b;
  std::function<double(const double*)> lookup;
  std::shared_ptr<OpenMMPotential> molecule;
  if (pb.fullAtom) {
    const auto& at = *pb.molecule;
    requireTwoCVs(at, pb.settings.source,
                  "the doob baseline (its CV lookups and crossing points are in (phi, psi))");
    molecule = std::make_shared<OpenMMPotential>(at.system, at.platform->getName(),
                                                 pb.settings.potential.precision, pb.threads);
    potential = molecule;
    const int n = at.system->getNumParticles();
    dyn.diffusion.resize(3 * n);
    const double friction = pb.settings.molecule.frictionPerPs;
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
      return pb.cvEnergy(computeCVs(pos, at.cvAtoms));
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
      cv = computeCVs(p, pb.molecule->cvAtoms);
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
  // Crossing points from the stored frames (CVs of the positions in full atom).
  if (dr.storedPerPath > 0) {
    r.crossing.resize(M);
    std::vector<double> cvFrames(2 * dr.storedPerPath);
    for (int i = 0; i < M; ++i) {
      for (std::size_t k = 0; k < dr.storedPerPath; ++k) {
        const float* x = &dr.frames[(static_cast<std::size_t>(i) * dr.storedPerPath + k) * D];
        Eigen::Vector2d cv;
        if (pb.fullAtom) {
          cv = computeCVs(std::vector<double>(x, x + D), pb.molecule->cvAtoms);
        } else {
          cv = Eigen::Vector2d(x[0], x[1]);
        }
        cvFrames[2 * k] = cv[0];
        cvFrames[2 * k + 1] = cv[1];
      }
      r.crossing[i] = pb.crossing(cvFrames);
    }
  }
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
  const LossTrend trend = lossTrend(dr.lossHistory);
  r.converged = trend.converged;
  r.convergence = trend.text;
  r.ok = true;
  return r;
}

}  // namespace

LossTrend lossTrend(const std::vector<double>& loss) {
  LossTrend t;
  const std::size_t n = loss.size();
  if (n < 20) {
    t.converged = false;
    t.text = fmt::format("{} training steps are too few to judge convergence (at least 20)", n);
    return t;
  }
  auto mean = [&](std::size_t a, std::size_t b) {
    double s = 0.0;
    for (std::size_t i = a; i < b; ++i) s += loss[i];
    return s / static_cast<double>(b - a);
  };
  const std::size_t tenth = n / 10;
  t.previous = mean(n - 2 * tenth, n - tenth);
  t.last = mean(n - tenth, n);
  t.relativeChange = (t.last - t.previous) / std::abs(t.previous);
  t.converged = std::isfinite(t.last) && std::isfinite(t.previous) &&
                std::abs(t.relativeChange) <= kLossTolerance;
  t.text = fmt::format(
      "training loss (mean over a tenth of the steps) {:.4g} -> {:.4g} over the last two tenths "
      "({:+.1f} %; converged means within {:.0f} %)",
      t.previous, t.last, 100.0 * t.relativeChange, 100.0 * kLossTolerance);
  return t;
}

void registerDoobCompareMethod() {
  registerCompareMethod("doob", {"Doob's Lagrangian", false, runDoob});
}

}  // namespace geotps
