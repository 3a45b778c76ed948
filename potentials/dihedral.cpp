// Dihedral angle and its Blondel-Karplus gradient; see dihedral.h.
#include "potentials/dihedral.h"

#include <cmath>
#include <numbers>

namespace geotps {

namespace {

struct Vec3 {
  double x, y, z;
};

Vec3 sub(const double* p, const double* q) { return {p[0] - q[0], p[1] - q[1], p[2] - q[2]}; }
double dot(const Vec3& a, const Vec3& b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}

}  // namespace

double dihedralAngle(const double* r, const std::array<int, 4>& atoms, double* gradient) {
  const double* ra = r + 3 * atoms[0];
  const double* rb = r + 3 * atoms[1];
  const double* rc = r + 3 * atoms[2];
  const double* rd = r + 3 * atoms[3];
  // Blondel-Karplus notation: F = a - b, G = b - c, H = d - c, A = F x G, B = H x G.
  const Vec3 f = sub(ra, rb);
  const Vec3 g = sub(rb, rc);
  const Vec3 h = sub(rd, rc);
  const Vec3 a = cross(f, g);
  const Vec3 b = cross(h, g);
  const double a2 = dot(a, a);
  const double b2 = dot(b, b);
  const double gNorm = std::sqrt(dot(g, g));
  if (a2 == 0.0 || b2 == 0.0 || gNorm == 0.0) return 0.0;

  // With b1 = -F, b2 = -G, b3 = H (mdtraj's vectors): (b1 x b2) . (b2 x b3) = A . B and
  // |b2| b1 . (b2 x b3) = -|G| F . B, which is also Blondel and Karplus' (B x A) . G, as
  // A x G = G (F . G) - F |G|^2 and B is orthogonal to G. So their phi is the IUPAC angle.
  const double cosTerm = dot(a, b);
  const double sinTerm = -gNorm * dot(f, b);
  double angle = std::atan2(sinTerm, cosTerm);
  if (angle <= -std::numbers::pi) angle = std::numbers::pi;  // atan2(-0, x<0) = -pi

  if (gradient) {
    const double fg = dot(f, g);
    const double hg = dot(h, g);
    // Blondel-Karplus: no division by the sine or cosine of the angle, so no singularity.
    const double ca = gNorm / a2;
    const double cb = gNorm / b2;
    const double fa = fg / (a2 * gNorm);
    const double hb = hg / (b2 * gNorm);
    double* ga = gradient + 3 * atoms[0];
    double* gb = gradient + 3 * atoms[1];
    double* gc = gradient + 3 * atoms[2];
    double* gd = gradient + 3 * atoms[3];
    const double av[3] = {a.x, a.y, a.z};
    const double bv[3] = {b.x, b.y, b.z};
    for (int k = 0; k < 3; ++k) {
      const double dA = -ca * av[k];
      const double dD = cb * bv[k];
      const double dB = ca * av[k] + fa * av[k] - hb * bv[k];
      const double dC = -cb * bv[k] - fa * av[k] + hb * bv[k];
      ga[k] += dA;
      gb[k] += dB;
      gc[k] += dC;
      gd[k] += dD;
    }
  }
  return angle;
}

double wrapAngle(double a) {
  if (!std::isfinite(a)) return std::nan("");
  constexpr double kTwoPi = 2.0 * std::numbers::pi;
  // remainder() is exact and lands in [-pi, pi]; move the closed end to +pi.
  double w = std::remainder(a, kTwoPi);
  if (w <= -std::numbers::pi) w += kTwoPi;
  return w;
}

}  // namespace geotps
