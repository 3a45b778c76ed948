// Restrained annealed Langevin of a molecule along a CV curve (docs/method.md).
#include "engine/samplers/full_atom_sampler.h"

#include <OpenMM.h>
#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <limits>

#include "engine/core/parallel.h"
#include "engine/core/schedule.h"
#include "engine/samplers/restrained_dynamics.h"

namespace geotps {

FullAtomPaths sampleFullAtomPaths(const FullAtomSetup& setup, const Eigen::MatrixXd& curve,
                                  const FullAtomSamplerSettings& s,
                                  const CvEnergyFunction& cvEnergy,
                                  const ProgressCallback& progress) {
  const int N = static_cast<int>(curve.rows()), K = s.stepsPerPoint, M = s.nPaths;
  const int nAtoms = setup.system->getNumParticles();
  const int D = setup.cvDimension();
  if (curve.cols() != 1 + D)
    throw std::invalid_argument(
        fmt::format("full-atom sampler: curve has {} columns, expected (l, x_1 .. x_{})",
                    curve.cols(), D));
  FullAtomPaths r;
  r.nAtoms = nAtoms;
  r.framesPerPath = static_cast<std::size_t>(N) * K;
  r.storedPerPath = s.frameStride > 0 ? r.framesPerPath / s.frameStride : 0;
  r.observedPerPath = r.framesPerPath;
  r.frames.assign(static_cast<std::size_t>(M) * r.storedPerPath * 3 * nAtoms, 0.0f);
  r.energy.assign(static_cast<std::size_t>(M) * r.framesPerPath, 0.0f);
  r.cvDimension = D;
  r.cv.assign(static_cast<std::size_t>(M) * r.framesPerPath * D, 0.0f);
  r.maxEnergy = Eigen::VectorXd::Constant(M, -std::numeric_limits<double>::infinity());
  r.maxEnergyCV = r.maxEnergy;
  r.finalCV.resize(M, D);

  // Restraint per curve point: kT * SNR_n / 2 * |xi - x_n / alpha_n|^2, i.e. stiffness kT * SNR_n.
  std::vector<double> k(N);
  std::vector<Eigen::VectorXd> centre(N, Eigen::VectorXd(D));
  for (int n = 0; n < N; ++n) {
    const double l = curve(n, 0), a = alphaOf(l);
    k[n] = setup.kT() * snr(l);
    for (int d = 0; d < D; ++d) centre[n][d] = curve(n, 1 + d) / a;
  }
  const long long total = static_cast<long long>(M) * N * K;
  std::atomic<long long> done{0};
  parallelFor(static_cast<std::size_t>(M), resolveThreads(s.threads),
              [&](std::size_t begin, std::size_t end, int worker) {
                std::vector<double> x;
                for (std::size_t w = begin; w < end; ++w) {
                  RestrainedDynamics md(*setup.system, setup.cvAtoms, setup.temperatureK, s.frictionPerPs, s.timeStepPs,
                                        *setup.platform, setup.platformProperties, s.seed,
                                        s.firstWalker + w);
                  md.setUnwrappedRestraint(s.unwrappedRestraint);
                  md.setPositions(s.startAtB ? setup.positionsB : setup.positionsA);
                  md.setVelocitiesToTemperature();
                  std::size_t frame = 0;
                  double e = 0.0;
                  for (int n = 0; n < N; ++n) {
                    md.setRestraint(k[n], centre[n]);
                    for (int step = 0; step < K; ++step, ++frame) {
                      md.step(1);
                      md.getState(&x, &e);
                      if (!std::isfinite(e)) {
                        throw std::runtime_error(fmt::format(
                            "sampling stage: full-atom walker {} has a non-finite energy ({}) "
                            "after step {} of {} at curve point {} (frame {}); reduce "
                            "dynamics.time_step (now {} ps)",
                            s.firstWalker + w, e, step + 1, K, n, frame, s.timeStepPs));
                      }
                      const Eigen::VectorXd cv = computeCVs(x, setup.cvAtoms);
                      const std::size_t fi = w * r.framesPerPath + frame;
                      r.energy[fi] = static_cast<float>(e);
                      for (int d = 0; d < D; ++d)
                        r.cv[D * fi + d] = static_cast<float>(cv[d]);
                      r.maxEnergy[w] = std::max(r.maxEnergy[w], e);
                      if (cvEnergy) r.maxEnergyCV[w] = std::max(r.maxEnergyCV[w], cvEnergy(cv));
                      if (s.frameStride > 0 && (frame + 1) % s.frameStride == 0) {
                        float* dst =
                            &r.frames[(w * r.storedPerPath + frame / s.frameStride) * 3 * nAtoms];
                        for (int q = 0; q < 3 * nAtoms; ++q) dst[q] = static_cast<float>(x[q]);
                      }
                      if (n == N - 1 && step == K - 1) r.finalCV.row(w) = cv.transpose();
                    }
                    const long long d = done.fetch_add(K) + K;
                    if (worker == 0 && progress) progress(d, total);
                  }
                }
              });
  if (progress) progress(total, total);
  // One energy-and-forces evaluation per step (it also gives the recorded energy).
  r.energyEvaluations = total;
  return r;
}

}  // namespace geotps
