// The CV space of a full-atom job with a number of CVs other than two (docs/method.md,
// "Collective variables of a molecule"): D periodic torsion angles in [-pi, pi), and no energy.
// It stands where a two-CV job has its tabulated CV surface: the geodesic then takes mu from a
// neural denoiser trained on the molecule's dynamics (training.source: md), and MaxEnergy is the
// molecule's own.
#pragma once

#include <fmt/format.h>

#include <numbers>
#include <stdexcept>
#include <string>

#include "potentials/potential.h"

namespace geotps {

class CvSpace final : public Potential {
 public:
  explicit CvSpace(int dimension) : dimension_(dimension) {}
  int dimension() const override { return dimension_; }
  /// There is no CV energy to evaluate: a caller that needs one must check for this potential
  /// first, so reaching here is a bug, reported with what was asked.
  void evaluate(const double*, std::size_t, double*, double*) const override {
    throw std::logic_error(fmt::format(
        "the {}-dimensional CV space of this full-atom job has no CV energy (no cv.surface)",
        dimension_));
  }
  std::string name() const override { return fmt::format("cv_space_{}d", dimension_); }
  std::string energyUnit() const override { return "kT"; }
  std::string coordinateUnit() const override { return "rad"; }
  bool isPeriodic() const override { return true; }
  double boxLow(int) const override { return -std::numbers::pi; }
  double period(int) const override { return 2.0 * std::numbers::pi; }

 private:
  int dimension_;
};

}  // namespace geotps
