#include "engine/problem/problem.h"

#include <fmt/format.h>

#include <string>
#include <tuple>
#include <utility>

#include "engine/metrics/distance.h"
#include "engine/problem/potential_registry.h"

namespace geotps {

Eigen::VectorXd Problem::periods() const { return coordinatePeriods(*potential); }

double Problem::cvEnergyKjMol(const Eigen::VectorXd& cv) const {
  return surface->nearestGridEnergy(cv.data()) * molecule->kT();
}

namespace {

/// Steepest descent over the grid's points (8 neighbours, wrapping along periodic axes only) from
/// the point nearest to x: the local minimum it ends at, as (i, j).
std::pair<int, int> gridDescent(const Grid2D& g, const double* x) {
  int i = 0, j = 0;
  g.nearest(x[0], x[1], i, j);
  for (;;) {
    int bi = i, bj = j;
    for (int di = -1; di <= 1; ++di) {
      for (int dj = -1; dj <= 1; ++dj) {
        int ni = i + di, nj = j + dj;
        if (g.periodicX) {
          ni = (ni + g.nx) % g.nx;
        } else if (ni < 0 || ni >= g.nx) {
          continue;
        }
        if (g.periodicY) {
          nj = (nj + g.ny) % g.ny;
        } else if (nj < 0 || nj >= g.ny) {
          continue;
        }
        if (g.value(ni, nj) < g.value(bi, bj)) {
          bi = ni;
          bj = nj;
        }
      }
    }
    if (bi == i && bj == j) return {i, j};
    i = bi;
    j = bj;
  }
}

}  // namespace

void checkDimensions(const JobSettings& settings, const Potential& potential, bool fullAtom) {
  const std::size_t D = static_cast<std::size_t>(potential.dimension());
  const std::string what = fullAtom ? "the CVs' dimension, (phi, psi)" : "the potential's dimension";
  auto require = [&](const char* key, std::size_t n, std::size_t expected, const std::string& why) {
    if (n != expected) {
      throw ConfigError(fmt::format("{}: key '{}' has {} value{}, expected {} ({})",
                                    settings.source, key, n, n == 1 ? "" : "s", expected, why));
    }
  };
  require("states.a", settings.states.a.size(), D, what);
  require("states.b", settings.states.b.size(), D, what);
  if (!potential.hasDataBox()) {
    // An analytic potential is tabulated on the quadrature box (and its states checked against it).
    require("denoiser.grid_size", settings.denoiser.gridSize.size(), D, what);
    require("denoiser.box_low", settings.denoiser.boxLow.size(), D, what);
    require("denoiser.box_high", settings.denoiser.boxHigh.size(), D, what);
  }
  if (settings.geodesic.penalty.type == PenaltySettings::Type::RegionAvoidance) {
    require("penalty.z_star", static_cast<std::size_t>(settings.geodesic.penalty.zStar.size()),
            D + 1, "z* = (l, x): 1 + " + what);
  }
}

Problem makeProblem(const JobSettings& settings) {
  Problem p;
  p.source = settings.source;
  const PotentialSetup setup =
      makePotential(settings.potential, settings.molecule, settings.source);
  p.potential = setup.potential;
  p.molecule = setup.molecule;
  p.surface = dynamic_cast<const TabulatedSurface*>(p.potential.get());
  p.kT = p.molecule ? 1.0 : settings.kT;
  p.energyUnit = p.molecule ? "kJ/mol" : p.potential->energyUnit();
  checkDimensions(settings, *p.potential, p.molecule != nullptr);
  p.a = Eigen::Map<const Eigen::VectorXd>(settings.states.a.data(),
                                          static_cast<Eigen::Index>(settings.states.a.size()));
  p.b = Eigen::Map<const Eigen::VectorXd>(settings.states.b.data(),
                                          static_cast<Eigen::Index>(settings.states.b.size()));
  // A state off the surface gives a geodesic and paths that mean nothing (0 % success, exit 0):
  // along a periodic axis each coordinate lies within one period of its box, along a non-periodic
  // axis of a potential with a data box (a tabulated surface) inside that box, otherwise inside the
  // quadrature box.
  const Potential& u = *p.potential;
  for (const auto& [key, x] : {std::pair<const char*, const Eigen::VectorXd&>{"states.a", p.a},
                               std::pair<const char*, const Eigen::VectorXd&>{"states.b", p.b}}) {
    for (Eigen::Index d = 0; d < x.size() && d < u.dimension(); ++d) {
      const int i = static_cast<int>(d);
      double lo = 0.0, hi = 0.0;
      std::string what;
      if (u.isPeriodic() && u.period(i) > 0.0) {
        lo = u.boxLow(i) - u.period(i);
        hi = u.boxLow(i) + 2.0 * u.period(i);
        what =
            fmt::format("the periodic box [{:.6g}, {:.6g}) of the surface, give or take one period",
                        u.boxLow(i), u.boxLow(i) + u.period(i));
      } else if (u.hasDataBox()) {
        lo = u.boxLow(i);
        hi = u.boxHigh(i);
        what = fmt::format(
            "the box [{:.6g}, {:.6g}] of the surface's grid (a non-periodic axis: "
            "potential.periodic)",
            lo, hi);
      } else if (static_cast<std::size_t>(i) < settings.denoiser.boxLow.size() &&
                 static_cast<std::size_t>(i) < settings.denoiser.boxHigh.size()) {
        lo = settings.denoiser.boxLow[i];
        hi = settings.denoiser.boxHigh[i];
        what = "the quadrature box denoiser.box_low .. denoiser.box_high";
      } else {
        continue;
      }
      if (!(x[d] >= lo && x[d] <= hi)) {
        throw ConfigError(fmt::format(
            "{}: key '{}': coordinate {} is {}, outside [{:.6g}, {:.6g}]; expected a state within "
            "{}",
            settings.source, key, d, x[d], lo, hi, what));
      }
    }
  }
  // An end state well above the minimum its basin drains to (e.g. alphaR at 18.6 kT on the shipped
  // map) is allowed but said: the paths then start or end on a slope. 5 kT: the paper's own B,
  // (0.95, -0.4), lies 2.8 kT above its grid minimum and is not flagged.
  if (p.surface) {
    const Grid2D& g = p.surface->grid();
    const double kT = p.molecule ? 1.0 : p.kT;  // the full-atom CV surface is in kT
    for (const auto& [key, x] : {std::pair<const char*, const Eigen::VectorXd&>{"states.a", p.a},
                                 std::pair<const char*, const Eigen::VectorXd&>{"states.b", p.b}}) {
      const auto [i, j] = gridDescent(g, x.data());
      const double m[2] = {g.x0 + i * g.hx, g.y0 + j * g.hy};
      const double here = p.potential->energy(x.data()), there = p.potential->energy(m);
      if ((here - there) / kT > 5.0) {
        p.warnings.push_back(fmt::format(
            "{}: key '{}': ({:.4f}, {:.4f}) is not at a minimum of the surface: U there is {:.2f} "
            "kT, and steepest descent on the grid reaches ({:.4f}, {:.4f}) at {:.2f} kT; paths "
            "will start or end on a slope",
            settings.source, key, x[0], x[1], here / kT, m[0], m[1], there / kT));
      }
    }
  }
  // Full atom: states.a / states.b must be the states the PDBs hold. With pdb_a the extended state
  // and states.a at C7eq, walkers were pulled 1.9 rad in the first 200 fs without a word.
  if (p.molecule) {
    const Eigen::VectorXd period = p.periods();
    for (const auto& [key, pdbKey, x, cv] :
         {std::tuple<const char*, const char*, const Eigen::VectorXd&, const Eigen::VectorXd&>{
              "states.a", "potential.pdb_a", p.a, p.molecule->cvA},
          std::tuple<const char*, const char*, const Eigen::VectorXd&, const Eigen::VectorXd&>{
              "states.b", "potential.pdb_b", p.b, p.molecule->cvB}}) {
      const double d = periodicDistance(x, Eigen::VectorXd(cv), period);
      if (d > settings.metrics.successRadius) {
        throw ConfigError(fmt::format(
            "{}: key '{}' is ({:.4f}, {:.4f}) but the minimised {} has (phi, psi) = ({:.4f}, "
            "{:.4f}), {:.3f} rad away; expected them within metrics.success_radius = {} (set {} "
            "to the PDB's state, or give the PDB of the state you mean)",
            settings.source, key, x[0], x[1], pdbKey, cv[0], cv[1], d,
            settings.metrics.successRadius, key));
      }
    }
  }
  return p;
}

}  // namespace geotps
