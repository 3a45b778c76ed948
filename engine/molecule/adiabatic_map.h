// The adiabatic (phi, psi) map of a molecule by restrained minimisation (`geotps surface`).
#pragma once

#include "engine/core/progress.h"
#include "engine/molecule/molecule.h"
#include "potentials/tabulated_surface.h"

namespace geotps {

/// The adiabatic map: for each point of an n x n grid over [-pi, pi)^2 (points at -pi + i*2pi/n),
/// the energy minimised under a stiff (phi, psi) restraint, reported without the restraint, minus
/// the lowest value (kJ/mol). Rows are swept in a serpentine order from the nearest minimised state
/// so that each minimisation starts from its neighbour's structure; rows run on `threads` threads.
Grid2D adiabaticMap(const FullAtomSetup& setup, int n, double stiffnessKjMolRad2,
                    double toleranceKjMolNm, int threads, const ProgressCallback& progress = {});

}  // namespace geotps
