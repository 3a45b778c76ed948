// The adiabatic (phi, psi) map of a molecule by restrained minimisation.
#include "engine/molecule/adiabatic_map.h"

#include <OpenMM.h>

#include <algorithm>
#include <atomic>

#include "engine/core/parallel.h"
#include "engine/samplers/restrained_dynamics.h"

namespace geotps {

Grid2D adiabaticMap(const FullAtomSetup& setup, int n, double stiffness, double tolerance,
                    int threads, const ProgressCallback& progress) {
  Grid2D g = periodicAngleGrid(n);
  g.values.assign(static_cast<std::size_t>(n) * n, 0.0);
  std::atomic<long long> done{0};
  const long long total = static_cast<long long>(n) * n;
  parallelFor(
      static_cast<std::size_t>(n), resolveThreads(threads),
      [&](std::size_t rowBegin, std::size_t rowEnd, int worker) {
        RestrainedDynamics md(*setup.system, setup.cvAtoms, setup.temperatureK,
                              1.0, 0.001, *setup.platform, setup.platformProperties, 1);
        std::vector<double> x = setup.positionsA;
        for (std::size_t j = rowBegin; j < rowEnd; ++j) {
          const bool forward = (j - rowBegin) % 2 == 0;
          for (int step = 0; step < n; ++step) {
            const int i = forward ? step : n - 1 - step;
            md.setPositions(x);
            md.setRestraint(stiffness, g.x0 + i * g.hx, g.y0 + static_cast<double>(j) * g.hy);
            g.values[j * n + i] = md.minimize(tolerance, 20000);  // capped: see molecule.cpp
            md.getState(&x, nullptr);
            const long long d = done.fetch_add(1) + 1;
            if (worker == 0 && progress) progress(d, total);
          }
        }
      });
  const double lowest = *std::min_element(g.values.begin(), g.values.end());
  for (double& v : g.values) v -= lowest;
  if (progress) progress(total, total);
  return g;
}

}  // namespace geotps
