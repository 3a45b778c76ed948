// CV samples from unrestrained full-atom dynamics (see cv_dynamics.h).
#include "engine/molecule/cv_dynamics.h"

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <stdexcept>

#include "engine/core/parallel.h"
#include "engine/samplers/restrained_dynamics.h"

namespace geotps {

Eigen::MatrixXd sampleCvDynamics(const FullAtomSetup& setup, const CvDynamicsSettings& s,
                                 const ProgressCallback& progress) {
  if (s.walkers < 1 || s.stride < 1 || s.steps < s.stride || s.equilibrationSteps < 0)
    throw std::invalid_argument("sampleCvDynamics: walkers >= 1, 1 <= stride <= steps");
  const int D = setup.cvDimension();
  const long long perWalker = s.steps / s.stride;
  Eigen::MatrixXd out(static_cast<Eigen::Index>(s.walkers * perWalker), D);
  const long long total = static_cast<long long>(s.walkers) * (s.equilibrationSteps + s.steps);
  std::atomic<long long> done{0};
  parallelFor(static_cast<std::size_t>(s.walkers), resolveThreads(s.threads),
              [&](std::size_t begin, std::size_t end, int worker) {
                std::vector<double> x;
                for (std::size_t w = begin; w < end; ++w) {
                  RestrainedDynamics md(*setup.system, setup.cvAtoms, setup.temperatureK,
                                        s.frictionPerPs, s.timeStepPs, *setup.platform,
                                        setup.platformProperties, s.seed, w);
                  md.setPositions(w % 2 == 0 ? setup.positionsA : setup.positionsB);
                  md.setVelocitiesToTemperature();
                  auto advance = [&](long long n, long long stepBefore) {
                    md.step(static_cast<int>(n));
                    double e = 0.0;
                    md.getState(&x, &e);
                    if (!std::isfinite(e)) {
                      throw std::runtime_error(fmt::format(
                          "md samples: walker {} has a non-finite energy ({}) after step {}; "
                          "reduce dynamics.time_step (now {} ps)",
                          w, e, stepBefore + n, s.timeStepPs));
                    }
                    const long long d = done.fetch_add(n) + n;
                    if (worker == 0 && progress) progress(d, total);
                  };
                  for (long long k = 0; k < s.equilibrationSteps; k += 1000)
                    advance(std::min(1000LL, s.equilibrationSteps - k), k);
                  for (long long r = 0; r < perWalker; ++r) {
                    advance(s.stride, s.equilibrationSteps + r * s.stride);
                    out.row(static_cast<Eigen::Index>(w * perWalker + r)) =
                        computeCVs(x, setup.cvAtoms).transpose();
                  }
                }
              });
  if (progress) progress(total, total);
  return out;
}

}  // namespace geotps
