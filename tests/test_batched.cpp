// Batched walkers (engine/samplers/batched_full_atom.h): the replicated System against OpenMM's own
// single-molecule energies and forces on every platform at hand (Reference, CPU, OpenCL through
// POCL on a machine without a GPU), copies that do not feel each other, refusals by name, the
// batched restraint against the per-walker one across the +-pi wrap, equipartition of a batch,
// and a batched run against the per-walker sampler (statistics, stored-frame energies, repeats).
#include <OpenMM.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>

#include "engine/config/config.h"
#include "engine/core/random.h"
#include "engine/core/schedule.h"
#include "engine/io/h5_file.h"
#include "engine/io/pdb_file.h"
#include "engine/pipelines/job_settings.h"
#include "engine/samplers/batched_full_atom.h"
#include "engine/samplers/full_atom_sampler.h"
#include "engine/samplers/restrained_dynamics.h"
#include "potentials/dihedral.h"
#include "potentials/openmm_platform.h"
#include "potentials/openmm_potential.h"

namespace fs = std::filesystem;
using namespace geotps;

namespace {

const fs::path kSource = GEOTPS_SOURCE_DIR;
const fs::path kData = kSource / "data/alanine_dipeptide";
constexpr DihedralAtoms kPhi{4, 6, 8, 14}, kPsi{6, 8, 14, 16};
constexpr int kAtoms = 22;

std::shared_ptr<OpenMM::System> shippedSystem() {
  return std::shared_ptr<OpenMM::System>(loadSystemXml((kData / "system.xml").string()));
}

std::vector<double> pdbPositions(const std::string& name) {
  return readPdb((kData / name).string()).positionsNm();
}

bool hasPlatform(const std::string& name) {
  loadOpenMMPlugins();
  for (int i = 0; i < OpenMM::Platform::getNumPlatforms(); ++i)
    if (OpenMM::Platform::getPlatform(i).getName() == name) return true;
  return false;
}

std::vector<OpenMM::Vec3> toVec3(const std::vector<double>& x) {
  std::vector<OpenMM::Vec3> v(x.size() / 3);
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = OpenMM::Vec3(x[3 * i], x[3 * i + 1], x[3 * i + 2]);
  return v;
}

struct EnergyForces {
  double energy = 0.0;
  std::vector<OpenMM::Vec3> forces;
};

EnergyForces evaluate(const OpenMM::System& system, const std::string& platform,
                      const std::vector<double>& x) {
  OpenMM::VerletIntegrator integrator(0.001);
  OpenMM::Context context(system, integrator, OpenMM::Platform::getPlatformByName(platform));
  context.setPositions(toVec3(x));
  const OpenMM::State s = context.getState(OpenMM::State::Energy | OpenMM::State::Forces);
  return {s.getPotentialEnergy(), s.getForces()};
}

/// Three configurations: state A, state B, and A with every atom moved by up to 0.01 nm.
std::vector<std::vector<double>> threeConfigurations() {
  std::vector<double> jiggled = pdbPositions("extended.pdb");
  Rng rng(11);
  for (double& v : jiggled) v += 0.01 * (2.0 * rng.uniform() - 1.0);
  return {pdbPositions("extended.pdb"), pdbPositions("c7ax.pdb"), jiggled};
}

}  // namespace

// Energy and forces of three copies (state A, state B, a jiggled A, all at the same place, so that
// any cross-copy term would show) equal the sum of the single molecule's and its forces per copy,
// as OpenMM's own NonbondedForce computes them, on every platform at hand.
TEST(BatchedSystem, EnergyAndForcesEqualTheSingleMoleculesOnEveryPlatform) {
  const auto single = shippedSystem();
  const auto configs = threeConfigurations();
  const auto replicated = replicateSystem(*single, 3);
  ASSERT_EQ(replicated->getNumParticles(), 3 * kAtoms);
  std::vector<double> all;
  for (const auto& c : configs) all.insert(all.end(), c.begin(), c.end());
  int platforms = 0;
  for (const std::string platform : {"Reference", "CPU", "OpenCL"}) {
    if (!hasPlatform(platform)) {
      std::printf("[ INFO ] platform %s not available here: skipped\n", platform.c_str());
      continue;
    }
    SCOPED_TRACE(platform);
    ++platforms;
    // Reference is double precision throughout; CPU and OpenCL compute in single precision.
    const double rel = platform == "Reference" ? 1e-9 : 2e-5;
    const EnergyForces batch = evaluate(*replicated, platform, all);
    double sum = 0.0;
    for (int c = 0; c < 3; ++c) {
      const EnergyForces one = evaluate(*single, platform, configs[c]);
      sum += one.energy;
      for (int i = 0; i < kAtoms; ++i) {
        for (int d = 0; d < 3; ++d) {
          const double f = one.forces[i][d], g = batch.forces[c * kAtoms + i][d];
          EXPECT_NEAR(g, f, rel * 50.0 * std::max(1.0, std::abs(f)) + (rel > 1e-9 ? 0.05 : 0.0))
              << "copy " << c << " atom " << i << " dim " << d;
        }
      }
    }
    EXPECT_NEAR(batch.energy, sum, rel * std::max(1.0, std::abs(sum)) + (rel > 1e-9 ? 0.01 : 0.0));
  }
  EXPECT_GE(platforms, 2) << "Reference and CPU are always there";
}

// Copies do not feel each other: moving copy 1 (by 0.05 nm, and onto copy 0 exactly) leaves the
// forces on copies 0 and 2 bit for bit as they were (Reference).
TEST(BatchedSystem, CopiesDoNotInteract) {
  const auto replicated = replicateSystem(*shippedSystem(), 3);
  const auto configs = threeConfigurations();
  std::vector<double> all;
  for (const auto& c : configs) all.insert(all.end(), c.begin(), c.end());
  const EnergyForces before = evaluate(*replicated, "Reference", all);
  for (const double shift : {0.05, -0.3}) {
    std::vector<double> moved = all;
    for (int q = 0; q < 3 * kAtoms; ++q) moved[3 * kAtoms + q] += shift * (q % 3 == 0 ? 1 : 0.5);
    const EnergyForces after = evaluate(*replicated, "Reference", moved);
    for (int c : {0, 2})
      for (int i = 0; i < kAtoms; ++i)
        for (int d = 0; d < 3; ++d)
          EXPECT_EQ(after.forces[c * kAtoms + i][d], before.forces[c * kAtoms + i][d]);
  }
  std::vector<double> stacked = all;  // copy 1 exactly on copy 0
  std::copy(all.begin(), all.begin() + 3 * kAtoms, stacked.begin() + 3 * kAtoms);
  const EnergyForces onTop = evaluate(*replicated, "Reference", stacked);
  EXPECT_TRUE(std::isfinite(onTop.energy));
  for (int i = 0; i < kAtoms; ++i)
    for (int d = 0; d < 3; ++d)
      EXPECT_EQ(onTop.forces[2 * kAtoms + i][d], before.forces[2 * kAtoms + i][d]);
}

// Forces the batched sampler cannot replicate are refused with their name; CMMotionRemover is
// dropped; a NonbondedForce with a cutoff is refused.
TEST(BatchedSystem, RefusesWhatItCannotReplicateByName) {
  {
    const auto owned = shippedSystem();  // (OpenMM::System copies share their forces)
    OpenMM::System& s = *owned;
    auto* gb = new OpenMM::GBSAOBCForce();
    for (int i = 0; i < kAtoms; ++i) gb->addParticle(0.0, 0.15, 1.0);
    s.addForce(gb);
    try {
      replicateSystem(s, 2);
      ADD_FAILURE() << "GBSAOBCForce accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("GBSAOBCForce"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("sampler.walkers: per_context"), std::string::npos);
    }
  }
  {
    const auto owned = shippedSystem();  // (OpenMM::System copies share their forces)
    OpenMM::System& s = *owned;
    for (int f = 0; f < s.getNumForces(); ++f)
      if (auto* nb = dynamic_cast<OpenMM::NonbondedForce*>(&s.getForce(f)))
        nb->setNonbondedMethod(OpenMM::NonbondedForce::CutoffNonPeriodic);
    EXPECT_THROW(replicateSystem(s, 2), std::invalid_argument);
  }
  {
    const auto owned = shippedSystem();  // (OpenMM::System copies share their forces)
    OpenMM::System& s = *owned;
    s.addForce(new OpenMM::CustomExternalForce("x^2"));
    try {
      replicateSystem(s, 2);
      ADD_FAILURE() << "CustomExternalForce accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("CustomExternalForce"), std::string::npos) << e.what();
    }
  }
  const auto single = shippedSystem();
  int removers = 0;
  for (int f = 0; f < single->getNumForces(); ++f)
    removers += dynamic_cast<const OpenMM::CMMotionRemover*>(&single->getForce(f)) != nullptr;
  ASSERT_EQ(removers, 1) << "the shipped System has a CMMotionRemover";
  const auto replicated = replicateSystem(*single, 4);
  for (int f = 0; f < replicated->getNumForces(); ++f)
    EXPECT_EQ(dynamic_cast<const OpenMM::CMMotionRemover*>(&replicated->getForce(f)), nullptr);
}

// The batched restraint of one copy equals the per-walker restraint (RestrainedDynamics, analytic)
// in both forms, with centres more than pi away from the walker (where the two forms differ), and
// its energy equals 1/2 k d^2 with d written out here.
TEST(BatchedRestraint, EqualsThePerWalkerRestraintAcrossTheWrap) {
  const auto single = shippedSystem();
  const std::vector<double> x = pdbPositions("extended.pdb");
  const double phi = dihedralAngle(x.data(), kPhi), psi = dihedralAngle(x.data(), kPsi);
  const double k = 120.0;
  const double pi = std::numbers::pi;
  struct Case {
    double phi0, psi0;
  };
  // Centres 4 rad away (the wrapped form goes the other way round), one 0.3 rad across +-pi, and
  // one that has gone once round the torus (unwrapped: 2 pi + 0.2 away).
  for (const Case c : {Case{phi - 4.0, psi + 4.0}, Case{phi - 0.3 + 2 * pi, psi + 0.3 - 2 * pi},
                       Case{phi + 2 * pi + 0.2, psi - 0.1}}) {
    for (const bool unwrapped : {true, false}) {
      SCOPED_TRACE(::testing::Message() << "centre " << c.phi0 << ", " << c.psi0
                                        << (unwrapped ? " unwrapped" : " wrapped"));
      RestrainedDynamics md(*single, kPhi, kPsi, 300.0, 1.0, 0.001,
                            OpenMM::Platform::getPlatformByName("Reference"), {}, 1);
      md.setUnwrappedRestraint(unwrapped);
      md.setPositions(x);
      md.setRestraint(k, c.phi0, c.psi0);
      const std::vector<double> perWalker = md.dynamicsForces();  // System + restraint

      const auto owned = replicateSystem(*single, 1);
      OpenMM::System& s = *owned;
      auto* fphi = makeBatchedRestraint(kPhi, 1, kAtoms, "phi0", unwrapped).release();
      auto* fpsi = makeBatchedRestraint(kPsi, 1, kAtoms, "psi0", unwrapped).release();
      if (unwrapped) {  // the walker's followed angles: as set, in (-pi, pi]
        fphi->setTorsionParameters(0, kPhi[0], kPhi[1], kPhi[2], kPhi[3], {phi, phi});
        fpsi->setTorsionParameters(0, kPsi[0], kPsi[1], kPsi[2], kPsi[3], {psi, psi});
      }
      fphi->setForceGroup(1);
      fpsi->setForceGroup(1);
      s.addForce(fphi);
      s.addForce(fpsi);
      OpenMM::VerletIntegrator integrator(0.001);
      OpenMM::Context context(s, integrator, OpenMM::Platform::getPlatformByName("Reference"));
      context.setPositions(toVec3(x));
      context.setParameter("k_cv", k);
      context.setParameter("phi0", c.phi0);
      context.setParameter("psi0", c.psi0);
      const OpenMM::State all = context.getState(OpenMM::State::Forces);
      for (int i = 0; i < kAtoms; ++i)
        for (int d = 0; d < 3; ++d)
          EXPECT_NEAR(all.getForces()[i][d], perWalker[3 * i + d],
                      1e-7 * std::max(1.0, std::abs(perWalker[3 * i + d])))
              << "atom " << i << " dim " << d;
      const double e = context.getState(OpenMM::State::Energy, false, 1 << 1).getPotentialEnergy();
      const double dphi = unwrapped ? phi - c.phi0 : wrapAngle(phi - c.phi0);
      const double dpsi = unwrapped ? psi - c.psi0 : wrapAngle(psi - c.psi0);
      EXPECT_NEAR(e, 0.5 * k * (dphi * dphi + dpsi * dpsi), 1e-8 * std::max(1.0, e));
    }
  }
}

// A batch of 32 copies under OpenMM's LangevinMiddleIntegrator at 300 K without restraint:
// after 2 ps the mean kinetic energy is 3N/2 kT (N = 32 x 22 atoms, no constraints) within 3 %.
TEST(BatchedSystem, EquipartitionOfABatch) {
  const int R = 32;
  const auto single = shippedSystem();
  const auto owned = replicateSystem(*single, R);
  OpenMM::System& s = *owned;
  OpenMM::LangevinMiddleIntegrator integrator(300.0, 5.0, 0.001);
  integrator.setRandomNumberSeed(7);
  OpenMM::Context context(s, integrator, OpenMM::Platform::getPlatformByName("Reference"));
  std::vector<double> x;
  const std::vector<double> a = pdbPositions("extended.pdb");
  for (int c = 0; c < R; ++c) x.insert(x.end(), a.begin(), a.end());
  context.setPositions(toVec3(x));
  context.setVelocitiesToTemperature(300.0, 3);
  integrator.step(2000);
  double sum = 0.0;
  const int samples = 200;
  for (int i = 0; i < samples; ++i) {
    integrator.step(10);
    sum += context.getState(OpenMM::State::Energy).getKineticEnergy();
  }
  const double expected = 1.5 * R * kAtoms * kBoltzmannKjMolK * 300.0;
  EXPECT_NEAR(sum / samples / expected, 1.0, 0.03);
}

namespace {

/// A short curve (l, x) near state A: the restraint's centre x / alpha moves from A by (0.3, -0.3)
/// at l from 1 to 3 (stiffness kT SNR from 2.7 kT to 20 kT per rad^2).
Eigen::MatrixXd shortCurve(const FullAtomSetup& setup, int points) {
  Eigen::MatrixXd curve(points, 3);
  for (int p = 0; p < points; ++p) {
    const double t = static_cast<double>(p) / (points - 1), l = 1.0 + 2.0 * t, a = alphaOf(l);
    curve(p, 0) = l;
    curve(p, 1) = a * (setup.cvA[0] + 0.3 * t);
    curve(p, 2) = a * (setup.cvA[1] - 0.3 * t);
  }
  return curve;
}

double mean(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double standardError(const std::vector<double>& v) {
  const double m = mean(v);
  double s = 0.0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1) / static_cast<double>(v.size()));
}

}  // namespace

// The batched sampler against the per-walker sampler on the same small job (64 walkers, 16 curve
// points x 20 steps, Reference): per path, the mean energy over the observed frames and the final
// (phi, psi) agree within 4 combined standard errors (two independent samples of the same
// dynamics; a wrong restraint, temperature or force field would be many errors away). The energies
// the batched run stores equal a single-molecule Reference Context's at its stored positions, and
// a second batched run with the same seed repeats the first exactly.
TEST(BatchedSampler, AgreesWithThePerWalkerSamplerAndRepeats) {
  const Config config = Config::load((kSource / "tests/data/tiny_full_atom.yaml").string());
  const JobSettings job = readJobSettings(config);
  const FullAtomSetup setup = prepareFullAtom(job.potential, job.molecule, job.source);
  const Eigen::MatrixXd curve = shortCurve(setup, 16);
  FullAtomSamplerSettings s;
  s.nPaths = 64;
  s.stepsPerPoint = 20;
  s.seed = 5;
  s.frameStride = 10;
  s.threads = 2;
  const FullAtomPaths one = sampleFullAtomPaths(setup, curve, s, {});
  const FullAtomPaths batch = sampleFullAtomPathsBatched(setup, curve, s, 24, {});  // 3 batches
  ASSERT_EQ(batch.observeStride, 10);
  ASSERT_EQ(batch.observedPerPath, 32u);
  ASSERT_EQ(batch.storedPerPath, 32u);
  ASSERT_EQ(one.observedPerPath, 320u);

  std::vector<double> meanOne, meanBatch, phiOne, phiBatch, psiOne, psiBatch;
  for (int w = 0; w < s.nPaths; ++w) {
    double a = 0.0, b = 0.0;
    for (std::size_t f = 9; f < 320; f += 10) a += one.energy[w * 320 + f];  // the same frames
    for (std::size_t f = 0; f < 32; ++f) b += batch.energy[w * 32 + f];
    meanOne.push_back(a / 32);
    meanBatch.push_back(b / 32);
    phiOne.push_back(one.finalCV(w, 0));
    phiBatch.push_back(batch.finalCV(w, 0));
    psiOne.push_back(one.finalCV(w, 1));
    psiBatch.push_back(batch.finalCV(w, 1));
  }
  auto agree = [](const std::vector<double>& u, const std::vector<double>& v, const char* what) {
    const double se = std::hypot(standardError(u), standardError(v));
    EXPECT_LT(std::abs(mean(u) - mean(v)), 4.0 * se) << what << ": " << mean(u) << " vs " << mean(v)
                                                     << " (combined standard error " << se << ")";
  };
  agree(meanOne, meanBatch, "mean observed energy (kJ/mol)");
  agree(phiOne, phiBatch, "final phi (rad)");
  agree(psiOne, psiBatch, "final psi (rad)");
  // The restraint's end centre is A + (0.3, -0.3): both samplers end near it.
  EXPECT_NEAR(mean(phiBatch), setup.cvA[0] + 0.3, 0.3);
  EXPECT_NEAR(mean(psiBatch), setup.cvA[1] - 0.3, 0.3);

  // Stored-frame energies: a single-molecule Reference Context at the stored (float) positions.
  OpenMMPotential plain(setup.system, "Reference");
  for (int w : {0, 23, 24, 63}) {
    for (std::size_t f : {0u, 15u, 31u}) {
      const float* xf = &batch.frames[(w * batch.storedPerPath + f) * 3 * kAtoms];
      const std::vector<double> xd(xf, xf + 3 * kAtoms);
      EXPECT_NEAR(batch.energy[w * 32 + f], plain.energy(xd.data()), 0.05)
          << "walker " << w << " frame " << f;
      EXPECT_NEAR(batch.cv[2 * (w * 32 + f)], dihedralAngle(xd.data(), kPhi), 1e-4);
    }
    EXPECT_NEAR(batch.maxEnergy[w],
                *std::max_element(&batch.energy[w * 32], &batch.energy[w * 32] + 32), 1e-3);
  }
  const FullAtomPaths again = sampleFullAtomPathsBatched(setup, curve, s, 24, {});
  EXPECT_EQ(again.energy, batch.energy);
  EXPECT_EQ(again.frames, batch.frames);
}

// A batched run repeats exactly with the same seed on the platforms that batch in practice (CPU,
// and OpenCL: POCL here, a GPU elsewhere): walker velocities from the job seed, the integrator's
// seed from (seed, batch), and no reduction whose order changes between runs.
TEST(BatchedSampler, RepeatsExactlyOnCpuAndOpenCL) {
  int platforms = 0;
  for (const std::string platform : {"CPU", "OpenCL"}) {
    if (!hasPlatform(platform)) {
      std::printf("[ INFO ] platform %s not available here: skipped\n", platform.c_str());
      continue;
    }
    SCOPED_TRACE(platform);
    Config config = Config::load((kSource / "tests/data/tiny_full_atom.yaml").string());
    config.set("potential.platform", platform);
    const JobSettings job = readJobSettings(config);
    const FullAtomSetup setup = prepareFullAtom(job.potential, job.molecule, job.source);
    const Eigen::MatrixXd curve = shortCurve(setup, 4);
    FullAtomSamplerSettings s;
    s.nPaths = 6;
    s.stepsPerPoint = 20;
    s.seed = 11;
    s.frameStride = 10;
    const FullAtomPaths first = sampleFullAtomPathsBatched(setup, curve, s, 4, {});  // 2 batches
    const FullAtomPaths second = sampleFullAtomPathsBatched(setup, curve, s, 4, {});
    EXPECT_EQ(first.frames, second.frames);
    EXPECT_EQ(first.energy, second.energy);
    EXPECT_EQ(first.cv, second.cv);
    // and the walkers moved: not a repeat of nothing
    EXPECT_NE(first.frames[0], first.frames[first.frames.size() - 1]);
    ++platforms;
  }
  EXPECT_GE(platforms, 1);
}

// `geotps run` with sampler.walkers: batched (tiny job, Reference): the result file says how the
// walkers ran, its energy and CV rows are the observed frames (every output.frame_stride-th), and
// the per-path full-atom MaxEnergy is the maximum of those rows minus the reference energy.
TEST(BatchedSampler, RunWritesTheObservedFrames) {
  const fs::path dir = fs::temp_directory_path() / "geotps_batched_run";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string cmd = "cd '" + dir.string() + "' && '" GEOTPS_BINARY "' run '" +
                          (kSource / "tests/data/tiny_full_atom.yaml").string() +
                          "' -q --out r.h5 --set sampler.walkers=batched > log.txt 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  H5File f((dir / "r.h5").string(), H5File::Mode::Read);
  EXPECT_EQ(f.readAttributeString("/full_atom", "walkers"), "batched");
  EXPECT_EQ(f.readAttributeInt("/full_atom", "observe_stride"), 5);
  EXPECT_EQ(f.shape("/full_atom/energy"), (std::vector<std::size_t>{3, 32}));
  EXPECT_EQ(f.shape("/full_atom/cv"), (std::vector<std::size_t>{3, 32, 2}));
  EXPECT_EQ(f.shape("/full_atom/frames"), (std::vector<std::size_t>{3, 32, 22, 3}));
  const auto energy = f.readDoubles("/full_atom/energy");
  const auto maxE = f.readDoubles("/paths/max_energy_full_atom");
  const double ref = f.readAttributeDouble("/full_atom", "reference_energy");
  for (std::size_t p = 0; p < 3; ++p) {
    const double top = *std::max_element(&energy[p * 32], &energy[p * 32] + 32);
    EXPECT_NEAR(maxE[p], top - ref, 1e-3 * std::max(1.0, std::abs(top)));
  }
}

// potential.device_index names a GPU of the OpenCL / CUDA platform; one that does not exist is a
// configuration error naming the key (here on OpenCL, which POCL provides on a machine without a
// GPU), and nothing is written.
TEST(BatchedSampler, UnknownDeviceIndexIsRefusedByKey) {
  if (!hasPlatform("OpenCL")) GTEST_SKIP() << "no OpenCL platform (install pocl-opencl-icd)";
  const fs::path dir = fs::temp_directory_path() / "geotps_batched_device";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string cmd = "cd '" + dir.string() + "' && '" GEOTPS_BINARY "' run '" +
                          (kSource / "tests/data/tiny_full_atom.yaml").string() +
                          "' -q --out r.h5 --set potential.platform=OpenCL "
                          "--set potential.device_index=57 > log.txt 2>&1";
  const int status = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  std::ifstream in(dir / "log.txt");
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("key 'potential.device_index'"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(dir / "r.h5"));
}
