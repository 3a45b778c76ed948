#include "engine/geodesic/edit_distance.h"

#include "engine/core/schedule.h"

namespace geotps {

GeodesicSettings editDistanceSettings(GeodesicSettings settings) {
  settings.penalty.type = PenaltySettings::Type::None;
  settings.initialTheta.resize(0);
  settings.initialFile.clear();
  return settings;
}

EditDistance diffusionEditDistance(const Denoiser& denoiser, const Eigen::VectorXd& a,
                                   const Eigen::VectorXd& b, double lEnd,
                                   const GeodesicSettings& settings) {
  const GeodesicResult geo = solveGeodesic(denoiser, spacetimePoint(lEnd, a),
                                           spacetimePoint(lEnd, b), editDistanceSettings(settings));
  EditDistance d;
  d.length = geo.evaluation.length;
  d.energy = geo.evaluation.energy;
  d.minL = geo.z.col(0).minCoeff();
  d.iterations = geo.iterations;
  d.stopReason = geo.stopReason;
  return d;
}

}  // namespace geotps
