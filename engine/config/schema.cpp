// The schema of `geotps run` jobs: every key a job config may contain is declared once, in the
// settings of the stage that reads it (engine/<stage>/settings.cpp); this file declares the
// job-wide keys and assembles the sections in the order of docs/configuration.md, which is
// generated from the assembled table (see schemaMarkdown and tests/test_config.cpp).
#include "engine/baselines/doob/settings.h"
#include "engine/baselines/settings.h"
#include "engine/config/config.h"
#include "engine/denoisers/settings.h"
#include "engine/geodesic/settings.h"
#include "engine/io/settings.h"
#include "engine/metrics/settings.h"
#include "engine/molecule/settings.h"
#include "engine/neural/settings.h"
#include "engine/pipelines/settings.h"
#include "engine/problem/settings.h"
#include "engine/samplers/settings.h"

// Keys are written with designated initializers; members left out keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace geotps {

namespace {

/// name, seed, kT: the job as a whole.
const std::vector<KeySpec>& jobKeys() {
  static const std::vector<KeySpec> keys = {
      {.key = "name",
       .type = KeyType::String,
       .defaultValue = "geotps_job",
       .unit = "",
       .description = "job name, used in logs and the default output file name"},
      {.key = "seed",
       .type = KeyType::Int,
       .defaultValue = "0",
       .unit = "1",
       .description =
           "random seed; a job is reproducible for a given seed regardless of the thread "
           "count",
       .min = 0.0},
      {.key = "kT",
       .type = KeyType::Real,
       .defaultValue = "1.0",
       .unit = "energy unit of the potential",
       .description = "thermal energy; the sampled density is exp(-U/kT)",
       .min = 0.0,
       .minExclusive = true},
  };
  return keys;
}

}  // namespace

const std::vector<KeySpec>& jobSchema() {
  static const std::vector<KeySpec> schema = [] {
    std::vector<KeySpec> all;
    for (const auto* section :
         {&jobKeys(), &potentialKeys(), &moleculeKeys(), &surfaceKeys(), &stateKeys(),
          &denoiserKeys(), &trainingKeys(), &geodesicKeys(), &samplerKeys(), &metricsKeys(),
          &compareKeys(), &mcmcKeys(), &doobKeys(), &distanceKeys(), &outputKeys()}) {
      all.insert(all.end(), section->begin(), section->end());
    }
    return all;
  }();
  return schema;
}

}  // namespace geotps
