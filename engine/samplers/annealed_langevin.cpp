// Annealed Langevin sampler: walkers in lockstep batches on worker threads.
#include "engine/samplers/annealed_langevin.h"

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <limits>

#include "engine/core/parallel.h"
#include "engine/core/random.h"
#include "engine/core/schedule.h"

namespace geotps {

namespace {
constexpr int kBatch = 32;  // walkers advanced together per potential call
}

SamplerResult sampleAnnealedLangevin(const Potential& potential, const Eigen::MatrixXd& curve,
                                     const Eigen::VectorXd& start, const SamplerSettings& s,
                                     const EnergyLookup& nearestEnergy,
                                     const SamplerProgress& progress) {
  const int D = potential.dimension();
  const int N = static_cast<int>(curve.rows());
  const int K = s.stepsPerPoint;
  const int M = s.nPaths;
  if (curve.cols() != D + 1) {
    throw std::invalid_argument(fmt::format("sampler: curve needs {} columns (l, x)", D + 1));
  }
  if (start.size() != D)
    throw std::invalid_argument("sampler: start state has the wrong dimension");
  if (N < 1 || K < 1 || M < 1 || !(s.stepSize > 0) || !(s.kT > 0)) {
    throw std::invalid_argument("sampler: need N, K, M >= 1, ds > 0 and kT > 0");
  }

  SamplerResult r;
  r.dimension = D;
  r.framesPerPath = static_cast<std::size_t>(N) * K;
  r.storedPerPath = s.frameStride > 0 ? r.framesPerPath / s.frameStride : 0;
  r.frames.assign(static_cast<std::size_t>(M) * r.storedPerPath * D, 0.0f);
  r.maxEnergy = Eigen::VectorXd::Constant(M, -std::numeric_limits<double>::infinity());
  r.maxEnergyNearest = r.maxEnergy;
  r.finalPositions.resize(M, D);

  // Per curve point: alpha_n, the tether stiffness alpha_n^2/sigma_n^2 = SNR_n and the centre
  // x_n / alpha_n. grad U_n = grad U / kT + SNR_n (x - x_n / alpha_n).
  std::vector<double> stiff(N);
  Eigen::MatrixXd centre(N, D);
  for (int n = 0; n < N; ++n) {
    const double l = curve(n, 0);
    stiff[n] = snr(l);
    centre.row(n) = curve.row(n).tail(D) / alphaOf(l);
  }

  const long long total = static_cast<long long>(M) * N * K;
  std::atomic<long long> done{0};
  const double halfDs = 0.5 * s.stepSize, sqrtDs = std::sqrt(s.stepSize), invKT = 1.0 / s.kT;
  const bool haveNearest = static_cast<bool>(nearestEnergy);

  parallelFor(
      static_cast<std::size_t>(M), resolveThreads(s.threads),
      [&](std::size_t begin, std::size_t end, int worker) {
        std::vector<double> x(kBatch * D), u(kBatch), g(kBatch * D), z(D);
        std::vector<Rng> rngs;
        for (std::size_t b0 = begin; b0 < end; b0 += kBatch) {
          const int B = static_cast<int>(std::min<std::size_t>(kBatch, end - b0));
          rngs.clear();
          for (int b = 0; b < B; ++b) {
            rngs.emplace_back(s.seed, s.firstWalker + b0 + b);
            for (int d = 0; d < D; ++d) x[b * D + d] = start[d];
          }
          std::vector<double> maxU(B, -std::numeric_limits<double>::infinity()), maxNear = maxU;
          std::size_t frame = 0;
          for (int n = 0; n < N; ++n) {
            const double k = stiff[n];
            for (int step = 0; step < K; ++step, ++frame) {
              potential.evaluate(x.data(), B, u.data(), g.data());
              for (int b = 0; b < B; ++b) {
                // u[b] is U at the position after the previous step, i.e. at frame - 1.
                if (frame > 0 && u[b] > maxU[b]) maxU[b] = u[b];
                double* xb = &x[b * D];
                for (int d = 0; d + 1 < D; d += 2) rngs[b].normalPair(z[d], z[d + 1]);
                if (D % 2) z[D - 1] = rngs[b].normal();
                for (int d = 0; d < D; ++d) {
                  const double grad = g[b * D + d] * invKT + k * (xb[d] - centre(n, d));
                  xb[d] += -halfDs * grad + sqrtDs * z[d];
                }
                if (haveNearest) maxNear[b] = std::max(maxNear[b], nearestEnergy(xb));
                if (s.frameStride > 0 && (frame + 1) % s.frameStride == 0) {
                  float* dst = &r.frames[((b0 + b) * r.storedPerPath + frame / s.frameStride) * D];
                  for (int d = 0; d < D; ++d) dst[d] = static_cast<float>(xb[d]);
                }
              }
            }
            for (int b = 0; b < B; ++b) {
              for (int d = 0; d < D; ++d) {
                if (!std::isfinite(x[b * D + d])) {
                  bool centreFinite = true;
                  for (int e = 0; e < D; ++e)
                    centreFinite = centreFinite && std::isfinite(centre(n, e));
                  if (!centreFinite) {
                    throw SamplerError(fmt::format(
                        "sampling stage: curve point {} (l = {}) is not finite, so walker {} "
                        "cannot "
                        "follow it; the geodesic (or the curve of geodesic.initial) is broken",
                        n, curve(n, 0), s.firstWalker + b0 + b));
                  }
                  throw SamplerError(fmt::format(
                      "sampling stage: walker {} left the finite range (coordinate {}) during the "
                      "{} "
                      "steps "
                      "at curve point {} (l = {:.3f}); reduce sampler.step_size (now {}) or check "
                      "the potential near the curve for extreme values",
                      s.firstWalker + b0 + b, d, K, n, curve(n, 0), s.stepSize));
                }
              }
            }
            const long long now = done.fetch_add(static_cast<long long>(B) * K) + B * K;
            if (worker == 0 && progress) progress(now, total);
          }
          // U at the final frame.
          potential.evaluate(x.data(), B, u.data(), nullptr);
          for (int b = 0; b < B; ++b) {
            r.maxEnergy[b0 + b] = std::max(maxU[b], u[b]);
            r.maxEnergyNearest[b0 + b] = haveNearest ? maxNear[b] : r.maxEnergy[b0 + b];
            for (int d = 0; d < D; ++d) r.finalPositions(b0 + b, d) = x[b * D + d];
          }
        }
      });
  if (progress) progress(total, total);
  r.energyEvaluations = total + M;
  r.nearestLookups = haveNearest ? total : 0;
  return r;
}

}  // namespace geotps
