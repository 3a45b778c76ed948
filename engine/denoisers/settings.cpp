// Configuration keys read by engine/denoisers/ (sections of the job schema, assembled in
// engine/config/schema.cpp).
#include "engine/denoisers/settings.h"

// Keys are written with designated initializers; members left out keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace geotps {

/// denoiser.*: which denoiser gives mu(z)
const std::vector<KeySpec>& denoiserKeys() {
  static const std::vector<KeySpec> keys = {
      {.key = "denoiser.type",
       .type = KeyType::String,
       .defaultValue = "quadrature",
       .unit = "",
       .description =
           "posterior-moment estimator: `quadrature` computes exact posterior moments by "
           "quadrature over the density on a grid; `torch` uses a trained network "
           "(denoiser.model) by Tweedie's formula",
       .choices = {"quadrature", "torch"}},
      {.key = "denoiser.model",
       .type = KeyType::Path,
       .defaultValue = "../results/alanine_dipeptide_2d_denoiser.pt",
       .unit = "",
       .description = "trained denoiser network written by `geotps train-denoiser` (torch only); "
                      "the default is what configs/train_denoiser_alanine_2d.yaml writes when run "
                      "from the repository root"},
      {.key = "denoiser.grid_size",
       .type = KeyType::RealList,
       .defaultValue = "[128, 128]",
       .unit = "1",
       .description = "quadrature grid points per dimension for analytic potentials, one per "
                      "dimension D of the potential (tabulated surfaces use their own grid). The "
                      "quadrature runs for D <= 3 and at most 2^21 grid points in all "
                      "(docs/method.md, \"Dimensions\"); above that use denoiser.type: torch",
       .min = 8.0,
       .max = 4096.0},
      {.key = "denoiser.box_low",
       .type = KeyType::RealList,
       .defaultValue = "[-2.0, -1.0]",
       .unit = "length unit of the potential",
       .description = "lower corner of the quadrature box for analytic potentials (D values); "
                      "also the box in which the states of an analytic potential must lie"},
      {.key = "denoiser.box_high",
       .type = KeyType::RealList,
       .defaultValue = "[1.5, 2.5]",
       .unit = "length unit of the potential",
       .description = "upper corner of the quadrature box for analytic potentials (D values)"},
  };
  return keys;
}

DenoiserSettings readDenoiserSettings(const Config& c) {
  DenoiserSettings s;
  s.type = c.getString("denoiser.type");
  s.model = c.getString("denoiser.model");
  for (double v : c.getRealList("denoiser.grid_size")) s.gridSize.push_back(static_cast<int>(v));
  s.boxLow = c.getRealList("denoiser.box_low");
  s.boxHigh = c.getRealList("denoiser.box_high");
  return s;
}

}  // namespace geotps
