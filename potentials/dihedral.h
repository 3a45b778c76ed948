// Dihedral (torsion) angles of four atoms with their analytic gradient, the collective variables
// (e.g. alanine dipeptide's phi and psi) that map full-atom configurations onto 2D surfaces.
#pragma once

#include <array>

namespace geotps {

/// The dihedral angle of atoms (a, b, c, d) = `atoms`, in rad in (-pi, pi].
///
/// `r` holds the positions of all atoms as x0 y0 z0 x1 ... (any length unit; the angle does not
/// depend on it). The sign follows the IUPAC convention, as mdtraj.compute_dihedrals: looking
/// along b -> c, the angle is positive when the bond c-d is rotated clockwise from a-b; with
/// b1 = r_b - r_a, b2 = r_c - r_b, b3 = r_d - r_c it is
/// atan2(|b2| b1 . (b2 x b3), (b1 x b2) . (b2 x b3)).
///
/// When `gradient` is not null, d(angle)/dr (in rad per unit of `r`) is ADDED to the 12 entries
/// of the four atoms (so that gradients of several collective variables can be accumulated; the
/// caller zeroes it). The Blondel-Karplus formula (J. Comput. Chem. 17, 1132 (1996)) is used: it
/// has no singularity at 0 or +-pi. When a, b, c or b, c, d are collinear the angle is undefined
/// (0 is returned) and nothing is added to the gradient.
double dihedralAngle(const double* r, const std::array<int, 4>& atoms, double* gradient = nullptr);

/// `a` (in rad) wrapped to (-pi, pi]; NaN for a non-finite `a`.
double wrapAngle(double a);

}  // namespace geotps
