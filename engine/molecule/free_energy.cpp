// Umbrella sampling and binned WHAM for the (phi, psi) free-energy surface.
#include "engine/molecule/free_energy.h"

#include <LBFGS.h>
#include <fmt/format.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <numbers>
#include <stdexcept>
#include <unordered_set>

#include "engine/core/parallel.h"
#include "engine/samplers/restrained_dynamics.h"
#include "potentials/dihedral.h"

namespace geotps {

namespace {

constexpr double kPi = std::numbers::pi;

// The WHAM objective over the sampled bins, in compressed rows: bin r has the pairs
// offsets[r] .. offsets[r+1] of (window, ln N_k - beta u_kb).
struct WhamObjective {
  std::vector<double> binCounts;  // M_b of the sampled bins
  std::vector<double> windowCounts;
  std::vector<std::size_t> offsets;
  std::vector<int> window;
  std::vector<double> logWeight;
  double total = 0;
  int threads = 1;
  long long evaluations = 0;
  static constexpr int kChunks = 64;  // fixed, so that sums do not depend on the thread count
  std::vector<Eigen::VectorXd> chunkGradient;

  // L_r = ln sum over the pairs of N_k exp(f_k - beta u_kb)
  double logSum(std::size_t r, const Eigen::VectorXd& f) const {
    double top = -std::numeric_limits<double>::infinity();
    for (std::size_t p = offsets[r]; p < offsets[r + 1]; ++p) {
      top = std::max(top, logWeight[p] + f[window[p]]);
    }
    double s = 0;
    for (std::size_t p = offsets[r]; p < offsets[r + 1]; ++p) {
      s += std::exp(logWeight[p] + f[window[p]] - top);
    }
    return top + std::log(s);
  }

  double operator()(const Eigen::VectorXd& f, Eigen::VectorXd& grad) {
    ++evaluations;
    const std::size_t rows = binCounts.size();
    const auto K = static_cast<Eigen::Index>(windowCounts.size());
    chunkGradient.resize(kChunks);
    std::vector<double> chunkValue(kChunks, 0.0);
    parallelFor(kChunks, threads, [&](std::size_t c0, std::size_t c1, int) {
      for (std::size_t c = c0; c < c1; ++c) {
        Eigen::VectorXd& g = chunkGradient[c];
        g.setZero(K);
        double v = 0;
        for (std::size_t r = rows * c / kChunks; r < rows * (c + 1) / kChunks; ++r) {
          const double L = logSum(r, f);
          v += binCounts[r] * L;
          for (std::size_t p = offsets[r]; p < offsets[r + 1]; ++p) {
            g[window[p]] += binCounts[r] * std::exp(logWeight[p] + f[window[p]] - L);
          }
        }
        chunkValue[c] = v;
      }
    });
    double value = 0;
    grad.setZero(K);
    for (int c = 0; c < kChunks; ++c) {
      value += chunkValue[c];
      grad += chunkGradient[c];
    }
    for (Eigen::Index k = 0; k < K; ++k) {
      value -= windowCounts[k] * f[k];
      grad[k] -= windowCounts[k];
    }
    grad /= total;
    return value / total;
  }
};

}  // namespace

WhamResult solveWham(const WhamInput& in, int threads) {
  const int n = in.bins;
  const std::size_t K = in.centres.size();
  if (n < 2 || K == 0 || in.histograms.size() != K || !(in.reducedStiffness > 0)) {
    throw std::invalid_argument("solveWham: needs bins >= 2, one histogram per window and beta kappa > 0");
  }
  const std::size_t B = static_cast<std::size_t>(n) * n;
  const double h = 2.0 * kPi / n;
  std::vector<double> M(B, 0.0), N(K, 0.0);
  std::unordered_set<long long> counted;
  for (std::size_t k = 0; k < K; ++k) {
    for (const auto& [b, c] : in.histograms[k]) {
      if (b < 0 || static_cast<std::size_t>(b) >= B || !(c >= 0) || !std::isfinite(c)) {
        throw std::invalid_argument(fmt::format("solveWham: window {} has an invalid entry", k));
      }
      if (c == 0) continue;
      M[b] += c;
      N[k] += c;
      counted.insert(static_cast<long long>(k) * static_cast<long long>(B) + b);
    }
  }
  WhamObjective obj;
  obj.threads = std::max(1, threads);
  for (double c : N) obj.total += c;
  if (!(obj.total > 0)) throw std::invalid_argument("solveWham: no samples");
  obj.windowCounts = N;
  std::vector<std::size_t> sampledBins;
  obj.offsets.push_back(0);
  for (std::size_t b = 0; b < B; ++b) {
    if (M[b] <= 0) continue;
    sampledBins.push_back(b);
    obj.binCounts.push_back(M[b]);
    const double phi = -kPi + static_cast<double>(b % n) * h;
    const double psi = -kPi + static_cast<double>(b / n) * h;
    for (std::size_t k = 0; k < K; ++k) {
      if (N[k] <= 0) continue;
      const double dp = wrapAngle(phi - in.centres[k][0]), dq = wrapAngle(psi - in.centres[k][1]);
      const double bu = 0.5 * in.reducedStiffness * (dp * dp + dq * dq);
      if (bu > in.cutoff && !counted.contains(static_cast<long long>(k) * B + b)) continue;
      obj.window.push_back(static_cast<int>(k));
      obj.logWeight.push_back(std::log(N[k]) - bu);
    }
    obj.offsets.push_back(obj.window.size());
  }
  WhamResult result;

  LBFGSpp::LBFGSParam<double> param;
  param.m = 10;
  // Converged when every |dA/df_k| / N_k is below about 1e-6 (the objective is divided by N).
  double fewest = obj.total;
  for (double c : N) {
    if (c > 0) fewest = std::min(fewest, c);
  }
  param.epsilon = 1e-6 * fewest / obj.total;
  param.epsilon_rel = 0;
  param.past = 0;
  param.max_iterations = 20000;
  param.max_linesearch = 60;
  param.linesearch = LBFGSpp::LBFGS_LINESEARCH_BACKTRACKING_STRONG_WOLFE;
  LBFGSpp::LBFGSSolver<double, LBFGSpp::LineSearchNocedalWright> solver(param);
  Eigen::VectorXd f = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(K));
  double fx = 0;
  try {
    result.iterations = solver.minimize(obj, f, fx);
    result.stopReason =
        result.iterations >= param.max_iterations ? "max_iterations reached" : "converged";
  } catch (const std::exception& e) {
    // The line search cannot improve at machine precision: converged in practice (the gradient
    // norm is reported).
    result.stopReason = std::string("line search stopped (") + e.what() + ")";
  }
  result.evaluations = obj.evaluations;
  Eigen::VectorXd g(f.size());
  obj(f, g);
  result.gradientNorm = g.norm();
  std::size_t ref = 0;
  while (ref < K && N[ref] <= 0) ++ref;
  f.array() -= f[static_cast<Eigen::Index>(ref)];
  result.windowFreeEnergy.assign(f.data(), f.data() + f.size());
  result.reducedFreeEnergy.assign(B, std::numeric_limits<double>::quiet_NaN());
  double lowest = std::numeric_limits<double>::infinity();
  for (std::size_t r = 0; r < sampledBins.size(); ++r) {
    const double v = obj.logSum(r, f) - std::log(obj.binCounts[r]);
    result.reducedFreeEnergy[sampledBins[r]] = v;
    lowest = std::min(lowest, v);
  }
  for (double& v : result.reducedFreeEnergy) v -= lowest;  // NaN stays NaN
  return result;
}

UmbrellaResult umbrellaFreeEnergy(const FullAtomSetup& setup, const SurfaceSettings& o,
                                  const MoleculeSettings& dynamics, std::uint64_t seed,
                                  int threads, const ProgressCallback& progress) {
  const int m = o.windows;
  const double hw = 2.0 * kPi / m;
  const long long perWindow = o.samplingSteps / o.sampleStride;
  UmbrellaResult out;
  Grid2D& g = out.grid;
  g = periodicAngleGrid(o.gridSize);
  WhamInput in;
  in.bins = o.gridSize;
  in.reducedStiffness = o.umbrellaStiffness / setup.kT();
  in.centres.resize(static_cast<std::size_t>(m) * m);
  in.histograms.resize(in.centres.size());
  for (int j = 0; j < m; ++j) {
    for (int i = 0; i < m; ++i) in.centres[j * m + i] = {-kPi + i * hw, -kPi + j * hw};
  }
  // Progress from whichever worker finishes a window (a worker whose rows are done stops
  // reporting), never backwards.
  std::mutex progressMutex;
  long long done = 0;
  const long long total = static_cast<long long>(m) * m;
  threads = resolveThreads(threads);
  parallelFor(static_cast<std::size_t>(m), threads, [&](std::size_t r0, std::size_t r1, int) {
    for (std::size_t j = r0; j < r1; ++j) {
      RestrainedDynamics md(*setup.system, setup.cvAtoms, setup.temperatureK,
                            dynamics.frictionPerPs, dynamics.timeStepPs, *setup.platform,
                            setup.platformProperties, seed, j);
      // Place the walker at the row's first window by restrained minimisations from state A.
      std::vector<double> x = setup.positionsA;
      const double phiA = setup.cvA[0], psiA = setup.cvA[1];
      const double dPhi = wrapAngle(in.centres[j * m][0] - phiA);
      const double dPsi = wrapAngle(in.centres[j * m][1] - psiA);
      const int moves =
          std::max(1, static_cast<int>(std::ceil(std::max(std::abs(dPhi), std::abs(dPsi)) / 0.25)));
      md.setPositions(x);
      for (int s = 1; s <= moves; ++s) {
        md.setRestraint(o.restraintStiffness, phiA + dPhi * s / moves, psiA + dPsi * s / moves);
        md.minimize(o.tolerance, 20000);  // capped: see molecule.cpp
      }
      std::vector<int> counts;  // per window, reused along the row
      for (int i = 0; i < m; ++i) {
        const std::size_t k = j * m + i;
        const auto& c = in.centres[k];
        md.setRestraint(o.umbrellaStiffness, c[0], c[1]);
        md.setVelocitiesToTemperature();
        md.step(static_cast<int>(o.equilibrationSteps));
        counts.assign(static_cast<std::size_t>(g.nx) * g.ny, 0);
        for (long long s = 0; s < perWindow; ++s) {
          md.step(o.sampleStride);
          double energy = 0;
          md.getState(&x, &energy);
          const Eigen::Vector2d cv = computeCVs(x, setup.cvAtoms);
          if (!std::isfinite(energy) || !cv.allFinite()) {
            throw std::runtime_error(fmt::format(
                "umbrella window ({:.4f}, {:.4f}) rad: the dynamics gave a non-finite energy or "
                "(phi, psi) at step {}; reduce dynamics.time_step or surface.umbrella_stiffness",
                c[0], c[1], o.equilibrationSteps + (s + 1) * o.sampleStride));
          }
          int bi = 0, bj = 0;
          g.nearest(cv[0], cv[1], bi, bj);
          ++counts[static_cast<std::size_t>(bj) * g.nx + bi];
        }
        auto& hist = in.histograms[k];
        for (std::size_t b = 0; b < counts.size(); ++b) {
          if (counts[b] > 0) hist.emplace_back(static_cast<int>(b), counts[b]);
        }
        if (progress) {
          std::lock_guard<std::mutex> lock(progressMutex);
          progress(++done, total);
        }
      }
    }
  });
  out.samples = perWindow * total;
  out.wham = solveWham(in, threads);
  const double kT = setup.kT();
  double highest = 0;
  g.values.resize(out.wham.reducedFreeEnergy.size());
  for (std::size_t b = 0; b < g.values.size(); ++b) {
    g.values[b] = kT * out.wham.reducedFreeEnergy[b];
    if (std::isfinite(g.values[b])) highest = std::max(highest, g.values[b]);
  }
  out.fillValue = highest;
  for (double& v : g.values) {
    if (!std::isfinite(v)) {
      v = highest;
      ++out.emptyBins;
    }
  }
  return out;
}

}  // namespace geotps
