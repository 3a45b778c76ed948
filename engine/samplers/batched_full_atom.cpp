// All walkers in one OpenMM Context (docs/method.md, "Batched walkers").
#include "engine/samplers/batched_full_atom.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

#include "engine/core/parallel.h"
#include "engine/core/random.h"
#include "engine/core/schedule.h"
#include "potentials/dihedral.h"
#include "potentials/openmm_potential.h"

namespace geotps {

namespace {

/// OpenMM's Coulomb constant 1/(4 pi eps0) in kJ mol^-1 nm e^-2, as its NonbondedForce uses it
/// (openmm/reference/SimTKOpenMMRealType.h: eps0 = 8.8541878128e-12 F/m in e^2 mol kJ^-1 nm^-1,
/// with the 2019 SI values of e and N_A), about 138.935457.
const double kCoulomb = 1.0 / (4.0 * std::numbers::pi * 1e-6 * 8.8541878128e-12 /
                               (1.602176634e-19 * 1.602176634e-19 * 6.02214076e23));

[[noreturn]] void refuse(const OpenMM::Force& force, int index, const std::string& why) {
  throw std::invalid_argument(fmt::format(
      "batched walkers: force {} of the System ({}) {}; run the walkers one Context each "
      "(sampler.walkers: per_context)",
      index, force.getName(), why));
}

/// The NonbondedForce (NoCutoff) of one molecule as a CustomBondForce over `copies` copies.
OpenMM::CustomBondForce* nonbondedAsBonds(const OpenMM::NonbondedForce& nb, int index, int copies,
                                          int n) {
  if (nb.getNonbondedMethod() != OpenMM::NonbondedForce::NoCutoff)
    refuse(nb, index, "uses a cutoff or periodic boundaries: only vacuum NoCutoff is replicated");
  if (nb.getNumParticleParameterOffsets() > 0 || nb.getNumExceptionParameterOffsets() > 0)
    refuse(nb, index, "has parameter offsets, which are not replicated");
  auto* bonds = new OpenMM::CustomBondForce(
      fmt::format("{:.17g}*qq/r + 4*eps*((sig/r)^12 - (sig/r)^6)", kCoulomb));
  bonds->addPerBondParameter("qq");
  bonds->addPerBondParameter("sig");
  bonds->addPerBondParameter("eps");
  bonds->setForceGroup(nb.getForceGroup());
  bonds->setName("NonbondedForce (batched pairs)");
  // Exceptions replace the combined pair parameters; (qq, eps) = (0, 0) excludes the pair.
  std::vector<int> exception(static_cast<std::size_t>(n) * n, -1);
  for (int e = 0; e < nb.getNumExceptions(); ++e) {
    int i, j;
    double qq, sig, eps;
    nb.getExceptionParameters(e, i, j, qq, sig, eps);
    exception[static_cast<std::size_t>(i) * n + j] = e;
    exception[static_cast<std::size_t>(j) * n + i] = e;
  }
  std::vector<double> q(n), s(n), eps(n);
  for (int i = 0; i < n; ++i) nb.getParticleParameters(i, q[i], s[i], eps[i]);
  std::vector<std::array<double, 3>> params;
  std::vector<std::pair<int, int>> pairs;
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      const int e = exception[static_cast<std::size_t>(i) * n + j];
      double pq, ps, pe;
      if (e >= 0) {
        int a, b;
        nb.getExceptionParameters(e, a, b, pq, ps, pe);
      } else {
        pq = q[i] * q[j];
        ps = 0.5 * (s[i] + s[j]);
        pe = std::sqrt(eps[i] * eps[j]);
      }
      if (pq == 0.0 && pe == 0.0) continue;
      pairs.emplace_back(i, j);
      params.push_back({pq, ps, pe});
    }
  }
  for (int c = 0; c < copies; ++c) {
    const int o = c * n;
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      bonds->addBond(pairs[p].first + o, pairs[p].second + o,
                     {params[p][0], params[p][1], params[p][2]});
    }
  }
  return bonds;
}

}  // namespace

std::unique_ptr<OpenMM::System> replicateSystem(const OpenMM::System& single, int copies) {
  if (copies < 1) throw std::invalid_argument("replicateSystem: copies must be >= 1");
  const int n = single.getNumParticles();
  auto out = std::make_unique<OpenMM::System>();
  for (int c = 0; c < copies; ++c)
    for (int i = 0; i < n; ++i) out->addParticle(single.getParticleMass(i));
  for (int i = 0; i < n; ++i) {
    if (single.isVirtualSite(i))
      throw std::invalid_argument(fmt::format(
          "batched walkers: particle {} of the System is a virtual site, which is not replicated; "
          "run the walkers one Context each (sampler.walkers: per_context)",
          i));
  }
  for (int c = 0; c < copies; ++c) {
    for (int k = 0; k < single.getNumConstraints(); ++k) {
      int i, j;
      double d;
      single.getConstraintParameters(k, i, j, d);
      out->addConstraint(i + c * n, j + c * n, d);
    }
  }
  for (int f = 0; f < single.getNumForces(); ++f) {
    const OpenMM::Force& force = single.getForce(f);
    OpenMM::Force* made = nullptr;
    if (const auto* b = dynamic_cast<const OpenMM::HarmonicBondForce*>(&force)) {
      auto* g = new OpenMM::HarmonicBondForce();
      for (int c = 0; c < copies; ++c) {
        for (int k = 0; k < b->getNumBonds(); ++k) {
          int i, j;
          double length, kb;
          b->getBondParameters(k, i, j, length, kb);
          g->addBond(i + c * n, j + c * n, length, kb);
        }
      }
      made = g;
    } else if (const auto* a = dynamic_cast<const OpenMM::HarmonicAngleForce*>(&force)) {
      auto* g = new OpenMM::HarmonicAngleForce();
      for (int c = 0; c < copies; ++c) {
        for (int k = 0; k < a->getNumAngles(); ++k) {
          int i, j, l;
          double angle, ka;
          a->getAngleParameters(k, i, j, l, angle, ka);
          g->addAngle(i + c * n, j + c * n, l + c * n, angle, ka);
        }
      }
      made = g;
    } else if (const auto* t = dynamic_cast<const OpenMM::PeriodicTorsionForce*>(&force)) {
      auto* g = new OpenMM::PeriodicTorsionForce();
      for (int c = 0; c < copies; ++c) {
        for (int k = 0; k < t->getNumTorsions(); ++k) {
          int i, j, l, m, periodicity;
          double phase, kt;
          t->getTorsionParameters(k, i, j, l, m, periodicity, phase, kt);
          g->addTorsion(i + c * n, j + c * n, l + c * n, m + c * n, periodicity, phase, kt);
        }
      }
      made = g;
    } else if (const auto* rb = dynamic_cast<const OpenMM::RBTorsionForce*>(&force)) {
      auto* g = new OpenMM::RBTorsionForce();
      for (int c = 0; c < copies; ++c) {
        for (int k = 0; k < rb->getNumTorsions(); ++k) {
          int i, j, l, m;
          double c0, c1, c2, c3, c4, c5;
          rb->getTorsionParameters(k, i, j, l, m, c0, c1, c2, c3, c4, c5);
          g->addTorsion(i + c * n, j + c * n, l + c * n, m + c * n, c0, c1, c2, c3, c4, c5);
        }
      }
      made = g;
    } else if (const auto* nb = dynamic_cast<const OpenMM::NonbondedForce*>(&force)) {
      made = nonbondedAsBonds(*nb, f, copies, n);
    } else if (dynamic_cast<const OpenMM::CMMotionRemover*>(&force)) {
      continue;  // see the header
    } else if (dynamic_cast<const OpenMM::GBSAOBCForce*>(&force) ||
               dynamic_cast<const OpenMM::CustomGBForce*>(&force)) {
      refuse(force, f, "is an implicit-solvent force, which couples all atoms of a System");
    } else {
      refuse(force, f,
             "is of a kind the batched sampler does not replicate (it replicates "
             "HarmonicBondForce, HarmonicAngleForce, PeriodicTorsionForce, "
             "RBTorsionForce, NonbondedForce without cutoff, and drops CMMotionRemover)");
    }
    if (force.usesPeriodicBoundaryConditions())
      refuse(force, f, "uses periodic boundary conditions");
    made->setForceGroup(force.getForceGroup());
    out->addForce(made);
  }
  return out;
}

std::unique_ptr<OpenMM::CustomTorsionForce> makeBatchedRestraint(const DihedralAtoms& atoms,
                                                                 int copies, int atomsPerCopy,
                                                                 const std::string& centre,
                                                                 bool unwrapped) {
  // w(a) = a - 2 pi floor((a + pi) / (2 pi)), in [-pi, pi).
  const std::string wrap = "-6.283185307179586*floor(({}+3.141592653589793)/6.283185307179586)";
  std::string expression;
  if (unwrapped) {
    expression = fmt::format("0.5*k_cv*d^2; d = theta - ref_w {} + ref - {}",
                             fmt::format(fmt::runtime(wrap), "theta - ref_w"), centre);
  } else {
    expression = fmt::format("0.5*k_cv*d^2; d = theta - {} {}", centre,
                             fmt::format(fmt::runtime(wrap), "theta - " + centre));
  }
  auto force = std::make_unique<OpenMM::CustomTorsionForce>(expression);
  force->addGlobalParameter("k_cv", 0.0);
  force->addGlobalParameter(centre, 0.0);
  if (unwrapped) {
    force->addPerTorsionParameter("ref");
    force->addPerTorsionParameter("ref_w");
  }
  for (int c = 0; c < copies; ++c) {
    const int o = c * atomsPerCopy;
    force->addTorsion(atoms[0] + o, atoms[1] + o, atoms[2] + o, atoms[3] + o,
                      unwrapped ? std::vector<double>{0.0, 0.0} : std::vector<double>{});
  }
  force->setName("CV restraint (" + centre + ")");
  return force;
}

namespace {

/// The largest divisor of `stride` not above `limit` (at least 1).
int divisorAtMost(int stride, int limit) {
  for (int d = std::min(stride, limit); d > 1; --d)
    if (stride % d == 0) return d;
  return 1;
}

}  // namespace

FullAtomPaths sampleFullAtomPathsBatched(const FullAtomSetup& setup, const Eigen::MatrixXd& curve,
                                         const FullAtomSamplerSettings& s, int batchSize,
                                         const CvEnergyFunction& cvEnergy,
                                         const ProgressCallback& progress) {
  const int N = static_cast<int>(curve.rows()), K = s.stepsPerPoint, M = s.nPaths;
  const int n = setup.system->getNumParticles();
  const std::size_t dim = 3 * static_cast<std::size_t>(n);
  const int D = setup.cvDimension();
  if (curve.cols() != 1 + D)
    throw std::invalid_argument(
        fmt::format("full-atom sampler: curve has {} columns, expected (l, x_1 .. x_{})",
                    curve.cols(), D));
  if (batchSize < 1) throw std::invalid_argument("batched sampler: batch size must be >= 1");
  // Observations: every frame_stride-th frame (or a divisor of it, so that an angle never turns
  // by pi between two updates of the restraint's reference), every 20th without stored frames.
  const int observe = s.frameStride > 0 ? divisorAtMost(s.frameStride, 50) : std::min(K, 20);
  FullAtomPaths r;
  r.nAtoms = n;
  r.framesPerPath = static_cast<std::size_t>(N) * K;
  r.storedPerPath = s.frameStride > 0 ? r.framesPerPath / s.frameStride : 0;
  r.observeStride = observe;
  r.observedPerPath = r.framesPerPath / observe;
  r.frames.assign(static_cast<std::size_t>(M) * r.storedPerPath * dim, 0.0f);
  r.energy.assign(static_cast<std::size_t>(M) * r.observedPerPath, 0.0f);
  r.cvDimension = D;
  r.cv.assign(static_cast<std::size_t>(M) * r.observedPerPath * D, 0.0f);
  r.maxEnergy = Eigen::VectorXd::Constant(M, -std::numeric_limits<double>::infinity());
  r.maxEnergyCV = r.maxEnergy;
  r.finalCV.resize(M, D);

  std::vector<double> k(N);
  std::vector<std::vector<double>> centre(N, std::vector<double>(D));
  for (int p = 0; p < N; ++p) {
    const double l = curve(p, 0), a = alphaOf(l);
    k[p] = setup.kT() * snr(l);
    for (int d = 0; d < D; ++d) centre[p][d] = curve(p, 1 + d) / a;
  }
  // The restraint's global centre parameters: phi0 and psi0 for two CVs (as before), c0, c1, ...
  std::vector<std::string> centreName(D);
  for (int d = 0; d < D; ++d)
    centreName[d] = D == 2 ? (d == 0 ? "phi0" : "psi0") : fmt::format("c{}", d);
  const int threads = resolveThreads(s.threads);
  // Energies of observed frames: single-molecule Reference Contexts on the host threads.
  const OpenMMPotential single(setup.system, "Reference", "", threads);
  std::vector<double> sqrtKTOverMass(dim);
  for (int i = 0; i < n; ++i) {
    const double m = setup.system->getParticleMass(i);
    for (int q = 0; q < 3; ++q) sqrtKTOverMass[3 * i + q] = m > 0 ? std::sqrt(setup.kT() / m) : 0;
  }
  const std::vector<double>& start = s.startAtB ? setup.positionsB : setup.positionsA;
  const Eigen::VectorXd cvA = computeCVs(start, setup.cvAtoms);
  const long long total = static_cast<long long>(M) * N * K;
  long long done = 0;

  for (int first = 0; first < M; first += batchSize) {
    const int R = std::min(batchSize, M - first);
    std::unique_ptr<OpenMM::System> system = replicateSystem(*setup.system, R);
    std::vector<OpenMM::CustomTorsionForce*> cvForce(D);
    for (int d = 0; d < D; ++d) {
      cvForce[d] = makeBatchedRestraint(setup.cvAtoms[d], R, n, centreName[d],
                                        s.unwrappedRestraint)
                       .release();
      system->addForce(cvForce[d]);  // the System owns it
    }
    OpenMM::LangevinMiddleIntegrator integrator(setup.temperatureK, s.frictionPerPs, s.timeStepPs);
    // OpenMM's seed 0 means "pick one at random": derive a non-zero one from (seed, batch).
    Rng seeder(s.seed, 0x6261746368ULL + (s.firstWalker + static_cast<std::uint64_t>(first)) /
                                             static_cast<std::uint64_t>(batchSize));
    integrator.setRandomNumberSeed(static_cast<int>(seeder.next() & 0x3fffffffULL) + 1);
    OpenMM::Context context(*system, integrator, *setup.platform, setup.platformProperties);

    std::vector<OpenMM::Vec3> pos(static_cast<std::size_t>(R) * n), vel(pos.size());
    for (int w = 0; w < R; ++w) {
      Rng rng(s.seed, s.firstWalker + static_cast<std::uint64_t>(first + w));  // walker i: stream i
      for (int i = 0; i < n; ++i) {
        const double* x = &start[3 * i];
        pos[static_cast<std::size_t>(w) * n + i] = OpenMM::Vec3(x[0], x[1], x[2]);
      }
      for (int i = 0; i < n; ++i) {
        double v[3];
        for (int q = 0; q < 3; ++q) v[q] = sqrtKTOverMass[3 * i + q] * rng.normal();
        vel[static_cast<std::size_t>(w) * n + i] = OpenMM::Vec3(v[0], v[1], v[2]);
      }
    }
    context.setPositions(pos);
    context.setVelocities(vel);

    // Each walker's angles followed continuously (unwrapped, first D) and their last wrapped
    // values (last D).
    std::vector<std::vector<double>> follow(R, std::vector<double>(2 * D));
    for (int w = 0; w < R; ++w)
      for (int d = 0; d < D; ++d) follow[w][d] = follow[w][D + d] = cvA[d];
    auto setReferences = [&]() {
      if (!s.unwrappedRestraint) return;
      for (int d = 0; d < D; ++d) {
        const auto& a = setup.cvAtoms[d];
        for (int w = 0; w < R; ++w) {
          const int o = w * n;
          cvForce[d]->setTorsionParameters(w, a[0] + o, a[1] + o, a[2] + o, a[3] + o,
                                           {follow[w][d], follow[w][D + d]});
        }
        cvForce[d]->updateParametersInContext(context);
      }
    };
    setReferences();

    std::vector<double> xs(static_cast<std::size_t>(R) * dim), energies(R);
    std::vector<Eigen::VectorXd> cvs(R, Eigen::VectorXd(D));
    auto fetch = [&]() {
      const OpenMM::State state = context.getState(OpenMM::State::Positions);
      const std::vector<OpenMM::Vec3>& p = state.getPositions();
      for (std::size_t i = 0; i < p.size(); ++i)
        for (int q = 0; q < 3; ++q) xs[3 * i + q] = p[i][q];
      for (int w = 0; w < R; ++w) {
        const double* x = &xs[static_cast<std::size_t>(w) * dim];
        cvs[w] = computeCVs(x, setup.cvAtoms);
        for (int d = 0; d < D; ++d) {
          follow[w][d] += wrapAngle(cvs[w][d] - follow[w][D + d]);
          follow[w][D + d] = cvs[w][d];
        }
      }
    };

    long long frame = 0;  // frames done by every walker of the batch
    for (int p = 0; p < N; ++p) {
      context.setParameter("k_cv", k[p]);
      for (int d = 0; d < D; ++d) context.setParameter(centreName[d], centre[p][d]);
      int stepsDone = 0;
      while (stepsDone < K) {
        const int chunk =
            static_cast<int>(std::min<long long>(observe - frame % observe, K - stepsDone));
        integrator.step(chunk);
        frame += chunk;
        stepsDone += chunk;
        if (frame % observe != 0) continue;
        fetch();
        setReferences();
        parallelFor(static_cast<std::size_t>(R), threads, [&](std::size_t b, std::size_t e, int) {
          single.evaluate(&xs[b * dim], e - b, &energies[b], nullptr);
        });
        const std::size_t row = static_cast<std::size_t>(frame / observe - 1);
        const bool store = s.frameStride > 0 && frame % s.frameStride == 0;
        for (int w = 0; w < R; ++w) {
          const std::size_t path = static_cast<std::size_t>(first + w);
          if (!std::isfinite(energies[w])) {
            throw std::runtime_error(fmt::format(
                "sampling stage: full-atom walker {} (batched) has a non-finite energy ({}) at "
                "frame {} (curve point {}); reduce dynamics.time_step (now {} ps)",
                s.firstWalker + path, energies[w], frame, p, s.timeStepPs));
          }
          const std::size_t fi = path * r.observedPerPath + row;
          r.energy[fi] = static_cast<float>(energies[w]);
          for (int d = 0; d < D; ++d) r.cv[D * fi + d] = static_cast<float>(cvs[w][d]);
          r.maxEnergy[path] = std::max(r.maxEnergy[path], energies[w]);
          if (cvEnergy) r.maxEnergyCV[path] = std::max(r.maxEnergyCV[path], cvEnergy(cvs[w]));
          if (store) {
            float* dst = &r.frames[(path * r.storedPerPath + frame / s.frameStride - 1) * dim];
            const double* x = &xs[static_cast<std::size_t>(w) * dim];
            for (std::size_t q = 0; q < dim; ++q) dst[q] = static_cast<float>(x[q]);
          }
        }
      }
      done += static_cast<long long>(R) * K;
      if (progress) progress(done, total);
    }
    if (frame % observe != 0) fetch();  // the last frame, for the final CVs
    for (int w = 0; w < R; ++w) r.finalCV.row(first + w) = cvs[w].transpose();
  }
  if (progress) progress(total, total);
  r.energyEvaluations = total;  // one force evaluation per walker and step
  return r;
}

}  // namespace geotps
