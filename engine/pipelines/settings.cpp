// Configuration keys read by engine/pipelines/ (sections of the job schema, assembled in
// engine/config/schema.cpp).
#include "engine/pipelines/settings.h"

// Keys are written with designated initializers; members left out keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace geotps {

/// compare.*: `geotps compare`
const std::vector<KeySpec>& compareKeys() {
  static const std::vector<KeySpec> keys = {
      {.key = "compare.methods",
       .type = KeyType::StringList,
       .defaultValue = "[geodesic, mcmc_fixed, mcmc_variable, doob]",
       .unit = "",
       .description =
           "methods `geotps compare` runs, in this order: the spacetime geodesic (this "
           "job), two-way-shooting MCMC with fixed or variable path length, and Doob's "
           "Lagrangian; `geodesic_shooting` refines every geodesic path by "
           "compare.shooting_moves variable-length shooting moves (docs/method.md, "
           "\"Geodesic paths refined by shooting\"). The MCMC chains start from a path of "
           "the geodesic method, which is therefore run first whenever an MCMC method "
           "is listed",
       .choices = {"geodesic", "mcmc_fixed", "mcmc_variable", "doob", "geodesic_shooting"}},
      {.key = "compare.output",
       .type = KeyType::String,
       .defaultValue = "\"\"",
       .unit = "",
       .description = "HDF5 file written by `geotps compare` (the Markdown table goes next to it "
                      "with the extension .md; the geodesic run's own result file gets the "
                      "suffix _geodesic.h5); empty = `results/<name>_compare.h5`"},
      {.key = "compare.crossing_line",
       .type = KeyType::Real,
       .defaultValue = "0.0",
       .unit = "rad (or the potential's length unit)",
       .description = "the dividing line x[0] = value (phi = 0 for alanine dipeptide) at which "
                      "each path's crossing point x[1] (psi) is recorded, for the crossing-point "
                      "distributions of the comparison (last crossing from A's side to B's)"},
      {.key = "compare.shooting_moves",
       .type = KeyType::Int,
       .defaultValue = "20",
       .unit = "trials per path",
       .description = "geodesic_shooting: two-way shooting trials (variable length, the "
                      "mcmc_variable dynamics, states and mcmc.max_length) run from each geodesic "
                      "path's A -> B segment; the path its chain holds after them is the method's "
                      "path for that walker",
       .min = 1.0,
       .max = 1e6},
  };
  return keys;
}

CompareSettings readCompareSettings(const Config& c) {
  CompareSettings s;
  s.methods = c.getStringList("compare.methods");
  s.output = c.getString("compare.output");
  s.crossingLine = c.getReal("compare.crossing_line");
  s.shootingMoves = static_cast<int>(c.getInt("compare.shooting_moves"));
  return s;
}

/// distance.*: `geotps distance`
const std::vector<KeySpec>& distanceKeys() {
  static const std::vector<KeySpec> keys = {
      {.key = "distance.points",
       .type = KeyType::Path,
       .defaultValue = "\"\"",
       .unit = "",
       .description =
           "the points `geotps distance` measures, every pair of them: a text file of points "
           "(one per line, D numbers in the unit of x separated by blanks or commas; `#` starts "
           "a comment) or a result file of `geotps run` (.h5: the frames /paths/frames of walker "
           "distance.path); empty = the two states states.a and states.b"},
      {.key = "distance.path",
       .type = KeyType::Int,
       .defaultValue = "0",
       .unit = "walker index",
       .description = "when distance.points is a result file: the walker (0-based) whose stored "
                      "frames are the points",
       .min = 0.0,
       .max = 1e9},
      {.key = "distance.stride",
       .type = KeyType::Int,
       .defaultValue = "1",
       .unit = "points",
       .description = "use every stride-th point of distance.points (the first, the (1+stride)-th, "
                      "...); N points cost N(N-1)/2 geodesics",
       .min = 1.0,
       .max = 1e9},
      {.key = "distance.output",
       .type = KeyType::String,
       .defaultValue = "\"\"",
       .unit = "",
       .description = "HDF5 file written by `geotps distance`, relative to the working directory; "
                      "empty = `results/<name>_distance.h5`"},
  };
  return keys;
}

DistanceSettings readDistanceSettings(const Config& c) {
  DistanceSettings s;
  s.points = c.getString("distance.points");
  s.path = static_cast<int>(c.getInt("distance.path"));
  s.stride = static_cast<int>(c.getInt("distance.stride"));
  s.output = c.getString("distance.output");
  return s;
}

}  // namespace geotps
