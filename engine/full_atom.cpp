// Full-atom setup, adiabatic map and restrained annealed Langevin along a CV curve.
#include "engine/full_atom.h"

#include <OpenMM.h>
#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>

#include "engine/parallel.h"
#include "engine/random.h"
#include "engine/schedule.h"
#include "potentials/atomic_file.h"
#include "potentials/dihedral.h"
#include "potentials/openmm_platform.h"
#include "potentials/openmm_potential.h"

namespace geotps {

namespace {

std::vector<double> pdbPositions(const PdbStructure& s) {
  std::vector<double> x;
  x.reserve(3 * s.atoms.size());
  for (const auto& a : s.atoms) {
    x.push_back(a.x);
    x.push_back(a.y);
    x.push_back(a.z);
  }
  return x;
}

DihedralAtoms dihedralFromConfig(const Config& c, const std::string& key, int nAtoms) {
  const auto v = c.getRealList(key);
  DihedralAtoms atoms{};
  for (int k = 0; k < 4; ++k) {
    const double a = v[k];
    if (a != std::floor(a) || a < 0 || a >= nAtoms) {
      throw ConfigError(
          fmt::format("{}: key '{}': atom index {} is not an integer in [0, {}) (0-based indices "
                      "of the system's "
                      "atoms)",
                      c.sourceName(), key, a, nAtoms));
    }
    atoms[k] = static_cast<int>(a);
  }
  return atoms;
}

}  // namespace

Eigen::Vector2d computeCVs(const std::vector<double>& x, const DihedralAtoms& phi,
                           const DihedralAtoms& psi) {
  return {dihedralAngle(x.data(), phi, nullptr), dihedralAngle(x.data(), psi, nullptr)};
}

FullAtomSetup prepareFullAtom(const Config& config) {
  FullAtomSetup s;
  const std::string systemPath = config.getString("potential.system");
  try {
    s.system = loadSystemXml(systemPath);
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("{}: key 'potential.system': {}", config.sourceName(), e.what()));
  }
  const int n = s.system->getNumParticles();
  PdbStructure pdbB;
  for (const char* key : {"potential.pdb_a", "potential.pdb_b"}) {
    const std::string path = config.getString(key);
    PdbStructure pdb;
    try {
      pdb = readPdb(path);
      std::vector<double> masses;
      for (const auto& a : pdb.atoms) masses.push_back(elementMass(a.element));
      checkAtomsMatchSystem(*s.system, masses, path);
    } catch (const std::exception& e) {
      throw ConfigError(fmt::format("{}: key '{}': {}", config.sourceName(), key, e.what()));
    }
    if (std::string(key) == "potential.pdb_a") {
      s.topology = pdb;
    } else {
      pdbB = pdb;
    }
  }
  s.phiAtoms = dihedralFromConfig(config, "cv.phi_atoms", n);
  s.psiAtoms = dihedralFromConfig(config, "cv.psi_atoms", n);
  s.temperatureK = config.getReal("dynamics.temperature");

  loadOpenMMPlugins();
  const std::vector<double> xA = pdbPositions(s.topology);
  std::vector<OpenMM::Vec3> posA(n);
  for (int i = 0; i < n; ++i) posA[i] = OpenMM::Vec3(xA[3 * i], xA[3 * i + 1], xA[3 * i + 2]);
  const std::string platformName = config.getString("potential.platform");
  try {
    s.platform = &choosePlatform(platformName, *s.system, posA, &s.platformReport);
  } catch (const std::exception& e) {
    throw ConfigError(
        fmt::format("{}: key 'potential.platform': {}", config.sourceName(), e.what()));
  }
  s.platformProperties =
      platformProperties(s.platform->getName(), config.getString("potential.precision"));

  // Minimise both states (no restraint).
  auto minimise = [&](const std::vector<double>& x0, std::vector<double>& out, double& energy) {
    RestrainedDynamics md(*s.system, s.phiAtoms, s.psiAtoms, s.temperatureK, 1.0, 0.001,
                          *s.platform, s.platformProperties, 1);
    md.setPositions(x0);
    energy = md.minimize(0.1, 0);
    md.getState(&out, nullptr);
  };
  minimise(xA, s.positionsA, s.energyA);
  minimise(pdbPositions(pdbB), s.positionsB, s.energyB);
  s.cvA = computeCVs(s.positionsA, s.phiAtoms, s.psiAtoms);
  s.cvB = computeCVs(s.positionsB, s.phiAtoms, s.psiAtoms);
  return s;
}

Grid2D adiabaticMap(const FullAtomSetup& setup, int n, double stiffness, double tolerance,
                    int threads, const ProgressCallback& progress) {
  Grid2D g;
  g.nx = g.ny = n;
  g.hx = g.hy = 2.0 * std::numbers::pi / n;
  g.x0 = g.y0 = -std::numbers::pi;
  g.values.assign(static_cast<std::size_t>(n) * n, 0.0);
  std::atomic<long long> done{0};
  const long long total = static_cast<long long>(n) * n;
  parallelFor(
      static_cast<std::size_t>(n), resolveThreads(threads),
      [&](std::size_t rowBegin, std::size_t rowEnd, int worker) {
        RestrainedDynamics md(*setup.system, setup.phiAtoms, setup.psiAtoms, setup.temperatureK,
                              1.0, 0.001, *setup.platform, setup.platformProperties, 1);
        std::vector<double> x = setup.positionsA;
        for (std::size_t j = rowBegin; j < rowEnd; ++j) {
          const bool forward = (j - rowBegin) % 2 == 0;
          for (int step = 0; step < n; ++step) {
            const int i = forward ? step : n - 1 - step;
            md.setPositions(x);
            md.setRestraint(stiffness, g.x0 + i * g.hx, g.y0 + static_cast<double>(j) * g.hy);
            g.values[j * n + i] = md.minimize(tolerance, 0);
            md.getState(&x, nullptr);
            const long long d = done.fetch_add(1) + 1;
            if (worker == 0 && progress) progress(d, total);
          }
        }
      });
  const double lowest = *std::min_element(g.values.begin(), g.values.end());
  for (double& v : g.values) v -= lowest;
  if (progress) progress(total, total);
  return g;
}

void writeSurfaceFile(const std::string& path, const Grid2D& grid,
                      const std::vector<std::string>& header) {
  const std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::string text;
  for (const auto& h : header) text += "# " + h + "\n";
  text += "# phi psi U\n";
  for (int j = 0; j < grid.ny; ++j) {
    for (int i = 0; i < grid.nx; ++i) {
      text += fmt::format("{:.15e} {:.15e} {:.15e}\n", grid.x0 + i * grid.hx, grid.y0 + j * grid.hy,
                          grid.value(i, j));
    }
  }
  writeFileAtomically(path, text);
}

FullAtomPaths sampleFullAtomPaths(const FullAtomSetup& setup, const Eigen::MatrixXd& curve,
                                  const FullAtomSamplerSettings& s,
                                  const std::function<double(double, double)>& cvEnergy,
                                  const ProgressCallback& progress) {
  const int N = static_cast<int>(curve.rows()), K = s.stepsPerPoint, M = s.nPaths;
  const int nAtoms = setup.system->getNumParticles();
  if (curve.cols() != 3)
    throw std::invalid_argument("full-atom sampler: curve must be (l, phi, psi)");
  FullAtomPaths r;
  r.nAtoms = nAtoms;
  r.framesPerPath = static_cast<std::size_t>(N) * K;
  r.storedPerPath = s.frameStride > 0 ? r.framesPerPath / s.frameStride : 0;
  r.frames.assign(static_cast<std::size_t>(M) * r.storedPerPath * 3 * nAtoms, 0.0f);
  r.energy.assign(static_cast<std::size_t>(M) * r.framesPerPath, 0.0f);
  r.cv.assign(static_cast<std::size_t>(M) * r.framesPerPath * 2, 0.0f);
  r.maxEnergy = Eigen::VectorXd::Constant(M, -std::numeric_limits<double>::infinity());
  r.maxEnergyCV = r.maxEnergy;
  r.finalCV.resize(M, 2);

  // Restraint per curve point: kT * SNR_n / 2 * |xi - x_n / alpha_n|^2, i.e. stiffness kT * SNR_n.
  std::vector<double> k(N), c0(N), c1(N);
  for (int n = 0; n < N; ++n) {
    const double l = curve(n, 0), a = alphaOf(l);
    k[n] = setup.kT() * snr(l);
    c0[n] = curve(n, 1) / a;
    c1[n] = curve(n, 2) / a;
  }
  const long long total = static_cast<long long>(M) * N * K;
  std::atomic<long long> done{0};
  parallelFor(static_cast<std::size_t>(M), resolveThreads(s.threads),
              [&](std::size_t begin, std::size_t end, int worker) {
                std::vector<double> x;
                for (std::size_t w = begin; w < end; ++w) {
                  RestrainedDynamics md(*setup.system, setup.phiAtoms, setup.psiAtoms,
                                        setup.temperatureK, s.frictionPerPs, s.timeStepPs,
                                        *setup.platform, setup.platformProperties, s.seed, w);
                  md.setPositions(setup.positionsA);
                  md.setVelocitiesToTemperature();
                  std::size_t frame = 0;
                  double e = 0.0;
                  for (int n = 0; n < N; ++n) {
                    md.setRestraint(k[n], c0[n], c1[n]);
                    for (int step = 0; step < K; ++step, ++frame) {
                      md.step(1);
                      md.getState(&x, &e);
                      if (!std::isfinite(e)) {
                        throw std::runtime_error(fmt::format(
                            "full-atom sampler: walker {} has a non-finite energy at curve "
                            "point {}; reduce "
                            "dynamics.time_step (now {} ps)",
                            w, n, s.timeStepPs));
                      }
                      const Eigen::Vector2d cv = computeCVs(x, setup.phiAtoms, setup.psiAtoms);
                      const std::size_t fi = w * r.framesPerPath + frame;
                      r.energy[fi] = static_cast<float>(e);
                      r.cv[2 * fi] = static_cast<float>(cv[0]);
                      r.cv[2 * fi + 1] = static_cast<float>(cv[1]);
                      r.maxEnergy[w] = std::max(r.maxEnergy[w], e);
                      if (cvEnergy)
                        r.maxEnergyCV[w] = std::max(r.maxEnergyCV[w], cvEnergy(cv[0], cv[1]));
                      if (s.frameStride > 0 && (frame + 1) % s.frameStride == 0) {
                        float* dst =
                            &r.frames[(w * r.storedPerPath + frame / s.frameStride) * 3 * nAtoms];
                        for (int q = 0; q < 3 * nAtoms; ++q) dst[q] = static_cast<float>(x[q]);
                      }
                      if (n == N - 1 && step == K - 1) r.finalCV.row(w) = cv.transpose();
                    }
                    const long long d = done.fetch_add(K) + K;
                    if (worker == 0 && progress) progress(d, total);
                  }
                }
              });
  if (progress) progress(total, total);
  // One energy-and-forces evaluation per step (it also gives the recorded energy).
  r.energyEvaluations = total;
  return r;
}

}  // namespace geotps
