// Uses the installed engine: reads a job config from text into its typed settings, builds the
// potential through the registry, and checks the energy against the double well's closed form h
// (x^2 - 1)^2 + k y^2 / 2.
#include <cmath>
#include <cstdio>

#include "engine/config/config.h"
#include "engine/pipelines/job_settings.h"
#include "engine/problem/potential_registry.h"
#include "geotps/version.h"

int main() {
  const geotps::Config config = geotps::Config::parse(
      "potential:\n  type: double_well\n  barrier: 3.0\n  stiffness: 2.0\n"
      "states:\n  a: [-1, 0]\n  b: [1, 0]\n",
      "consumer.yaml", ".");
  const geotps::JobSettings job = geotps::readJobSettings(config);
  const geotps::PotentialPtr potential =
      geotps::makePotential(job.potential, job.molecule, job.source).potential;
  const double x[2] = {0.5, 0.25};
  const double expected = 3.0 * std::pow(0.5 * 0.5 - 1.0, 2) + 2.0 * 0.25 * 0.25 / 2.0;
  const double u = potential->energy(x);
  std::printf("geotps %s: %s U(0.5, 0.25) = %.12f (closed form %.12f)\n", geotps::kVersion,
              potential->name().c_str(), u, expected);
  return std::abs(u - expected) <= 1e-12 * std::abs(expected) ? 0 : 1;
}
