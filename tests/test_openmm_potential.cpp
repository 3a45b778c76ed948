// Tests of the OpenMM back end: energies and forces of the shipped alanine dipeptide System
// against the values make_system.py stored (OpenMM's Python layer, Reference platform) and against
// finite differences, platform choice and its errors, System/PDB loading errors, the Context pool
// under concurrent use, and minimisation.
#include <OpenMM.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "potentials/openmm_platform.h"
#include "potentials/openmm_potential.h"

namespace geotps {
namespace {

const std::string kDataDir = std::string(GEOTPS_SOURCE_DIR) + "/data/alanine_dipeptide/";

// `key value` lines; lines starting with '#' and keys with other than one numeric value skipped.
std::map<std::string, double> readReferenceValues(const std::string& path) {
  std::map<std::string, double> values;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string key, value, extra;
    if (!(fields >> key >> value) || (fields >> extra)) continue;
    try {
      std::size_t used = 0;
      const double v = std::stod(value, &used);
      if (used == value.size()) values[key] = v;
    } catch (const std::exception&) {
    }
  }
  return values;
}

// Deliberately tiny PDB reader (first model's ATOM/HETATM records only), independent of the
// project's PDB reader: positions from columns 31-54 in Angstrom, returned in nm.
struct TinyPdb {
  std::vector<double> positionsNm;
  std::vector<std::string> elements;  // columns 77-78
};

TinyPdb readTinyPdb(const std::string& path) {
  TinyPdb pdb;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("ENDMDL", 0) == 0) break;
    if (line.rfind("ATOM", 0) != 0 && line.rfind("HETATM", 0) != 0) continue;
    for (int k = 0; k < 3; ++k)
      pdb.positionsNm.push_back(std::stod(line.substr(30 + 8 * k, 8)) / 10.0);
    std::string element = line.size() >= 78 ? line.substr(76, 2) : "";
    element.erase(std::remove(element.begin(), element.end(), ' '), element.end());
    pdb.elements.push_back(element);
  }
  return pdb;
}

std::vector<OpenMM::Vec3> toVec3(const std::vector<double>& x) {
  std::vector<OpenMM::Vec3> v;
  for (std::size_t i = 0; i + 2 < x.size(); i += 3) v.emplace_back(x[i], x[i + 1], x[i + 2]);
  return v;
}

std::string writeTempFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "geotps_openmm_" + name;
  std::ofstream(path) << text;
  return path;
}

// Two particles joined by a harmonic bond: for tests that need some System, not alanine.
std::shared_ptr<OpenMM::System> tinySystem() {
  auto system = std::make_shared<OpenMM::System>();
  system->addParticle(12.0);
  system->addParticle(1.0);
  auto* bond = new OpenMM::HarmonicBondForce();
  bond->addBond(0, 1, 0.1, 1000.0);
  system->addForce(bond);
  return system;
}

template <class F>
std::string thrownMessage(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Loads system.xml, reference_values.txt and the two PDBs; tests skip when they are missing.
class AlanineData {
 public:
  static const AlanineData* get() {
    static const AlanineData data;
    return data.ok ? &data : nullptr;
  }
  std::shared_ptr<const OpenMM::System> system;
  std::map<std::string, double> ref;
  std::map<std::string, TinyPdb> pdb;  // "extended", "c7ax"

 private:
  AlanineData() {
    namespace fs = std::filesystem;
    if (!fs::exists(kDataDir + "system.xml") || !fs::exists(kDataDir + "reference_values.txt"))
      return;
    system = loadSystemXml(kDataDir + "system.xml");
    ref = readReferenceValues(kDataDir + "reference_values.txt");
    for (const char* s : {"extended", "c7ax"}) pdb[s] = readTinyPdb(kDataDir + s + ".pdb");
    ok = true;
  }
  bool ok = false;
};

#define REQUIRE_ALANINE_DATA(var)                                                          \
  const AlanineData* var = AlanineData::get();                                             \
  if (!var)                                                                                \
  GTEST_SKIP() << "data/alanine_dipeptide/system.xml or reference_values.txt is missing: " \
                  "create them with /usr/bin/python3 data/alanine_dipeptide/make_system.py"

double refValue(const AlanineData& data, const std::string& key) {
  const auto it = data.ref.find(key);
  if (it == data.ref.end()) {
    ADD_FAILURE() << "reference_values.txt has no key " << key;
    return std::nan("");
  }
  return it->second;
}

// ---- One test body per back end ------------------------------------------------------------

struct Backend {
  std::string platform;
  double energyRelTol;  // relative to |U|
  double forceTol;      // kJ/mol/nm, relative to max(1, |F|)
};

void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.platform; }

class OpenMMBackendTest : public ::testing::TestWithParam<Backend> {};

TEST_P(OpenMMBackendTest, EnergiesOfShippedPdbsMatchReferenceValues) {
  REQUIRE_ALANINE_DATA(data);
  OpenMMPotential potential(data->system, GetParam().platform);
  EXPECT_EQ(potential.platformName(), GetParam().platform);
  for (const char* state : {"extended", "c7ax"}) {
    const double expected = refValue(*data, std::string("energy_") + state + "_kjmol");
    const double u = potential.energy(data->pdb.at(state).positionsNm.data());
    EXPECT_NEAR(u, expected, GetParam().energyRelTol * std::abs(expected)) << state;
  }
}

TEST_P(OpenMMBackendTest, ForcesMatchStoredForces) {
  REQUIRE_ALANINE_DATA(data);
  OpenMMPotential potential(data->system, GetParam().platform);
  int compared = 0;
  for (const char* state : {"extended", "c7ax"}) {
    const auto& x = data->pdb.at(state).positionsNm;
    std::vector<double> gradient(x.size());
    double u = 0.0;
    potential.evaluate(x.data(), 1, &u, gradient.data());
    const std::string prefix = std::string("force_") + state + "_atom";
    for (const auto& [key, force] : data->ref) {
      if (key.rfind(prefix, 0) != 0) continue;  // force_<state>_atom<i>_<x|y|z>
      const std::string rest = key.substr(prefix.size());
      const int atom = std::stoi(rest.substr(0, rest.find('_')));
      const int k = rest.back() - 'x';
      EXPECT_NEAR(-gradient[3 * atom + k], force,
                  GetParam().forceTol * std::max(1.0, std::abs(force)))
          << key;
      ++compared;
    }
  }
  EXPECT_GE(compared, 9) << "reference_values.txt should hold force_<state>_atom<i>_<c> keys";
}

TEST_P(OpenMMBackendTest, ConcurrentEvaluationMatchesSerial) {
  REQUIRE_ALANINE_DATA(data);
  const auto& base = data->pdb.at("extended").positionsNm;
  const std::size_t dim = base.size();
  constexpr int kPoints = 8;
  std::vector<double> points;
  for (int p = 0; p < kPoints; ++p)
    for (std::size_t d = 0; d < dim; ++d) points.push_back(base[d] + 0.004 * std::sin(1.7 * d + p));

  std::vector<double> serialU(kPoints), serialG(kPoints * dim);
  {
    OpenMMPotential serial(data->system, GetParam().platform);
    serial.evaluate(points.data(), kPoints, serialU.data(), serialG.data());
  }
  for (int poolSize : {1, 2}) {
    OpenMMPotential shared(data->system, GetParam().platform, "", poolSize);
    std::vector<double> u(kPoints), g(kPoints * dim);
    // Thread t evaluates points t, t+2, ... one at a time, many rounds, so the calls interleave.
    auto work = [&](int t) {
      for (int round = 0; round < 20; ++round)
        for (int p = t; p < kPoints; p += 2)
          shared.evaluate(points.data() + p * dim, 1, &u[p], g.data() + p * dim);
    };
    std::thread a(work, 0), b(work, 1);
    a.join();
    b.join();
    const double tol = GetParam().platform == "Reference" ? 0.0 : 1e-9;
    for (int p = 0; p < kPoints; ++p) {
      EXPECT_NEAR(u[p], serialU[p], tol * std::abs(serialU[p]))
          << "pool " << poolSize << " point " << p;
      for (std::size_t d = 0; d < dim; ++d)
        ASSERT_NEAR(g[p * dim + d], serialG[p * dim + d],
                    tol * std::max(1.0, std::abs(serialG[p * dim + d])))
            << "pool " << poolSize << " point " << p << " coordinate " << d;
    }
    EXPECT_EQ(shared.energyEvaluations(), 20LL * kPoints);
    EXPECT_GE(shared.contextsCreated(), 1);
    EXPECT_LE(shared.contextsCreated(), poolSize);
  }
}

INSTANTIATE_TEST_SUITE_P(OpenMMBackends, OpenMMBackendTest,
                         ::testing::Values(Backend{"Reference", 1e-6, 1e-6},
                                           // CPU: single-precision forces, double accumulation.
                                           Backend{"CPU", 1e-3, 1e-3}),
                         [](const auto& info) { return info.param.platform; });

// ---- Reference-only numerics ---------------------------------------------------------------

TEST(OpenMMReference, GradientMatchesCentralFiniteDifferences) {
  REQUIRE_ALANINE_DATA(data);
  OpenMMPotential potential(data->system, "Reference");
  EXPECT_EQ(potential.dimension(), 66);
  EXPECT_EQ(potential.nAtoms(), 22);
  EXPECT_EQ(potential.energyUnit(), "kJ/mol");
  EXPECT_EQ(potential.coordinateUnit(), "nm");
  for (const char* state : {"extended", "c7ax"}) {
    std::vector<double> x = data->pdb.at(state).positionsNm;
    std::vector<double> gradient(x.size());
    double u = 0.0;
    potential.evaluate(x.data(), 1, &u, gradient.data());
    constexpr double h = 1e-5;  // nm
    for (int atom : {0, 5, 8, 14, 16, 21}) {
      for (int k = 0; k < 3; ++k) {
        const int d = 3 * atom + k;
        const double x0 = x[d];
        x[d] = x0 + h;
        const double up = potential.energy(x.data());
        x[d] = x0 - h;
        const double down = potential.energy(x.data());
        x[d] = x0;
        const double fd = (up - down) / (2 * h);
        EXPECT_NEAR(gradient[d], fd, 1e-5 * std::max(1.0, std::abs(fd)) + 1e-4)
            << state << " atom " << atom << " coordinate " << k;
      }
    }
  }
}

TEST(OpenMMReference, MinimizeLowersExtendedToStoredMinimum) {
  REQUIRE_ALANINE_DATA(data);
  OpenMMPotential potential(data->system, "Reference");
  std::vector<double> x = data->pdb.at("extended").positionsNm;
  const double before = potential.energy(x.data());
  const double after = potential.minimize(x, 0.1);
  EXPECT_LT(after, before - 1.0);
  EXPECT_NEAR(after, refValue(*data, "energy_extended_minimized_kjmol"), 1.0);
  EXPECT_NEAR(potential.energy(x.data()), after, 1e-6 * std::abs(after));
  EXPECT_EQ(potential.minimizations(), 1);
}

// ---- Platforms -----------------------------------------------------------------------------

TEST(OpenMMPlatform, ReferenceAndCpuAreAvailable) {
  const auto names = availablePlatforms();
  EXPECT_NE(std::find(names.begin(), names.end(), "Reference"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "CPU"), names.end())
      << "plugin load failures: " << ::testing::PrintToString(pluginLoadFailures());
}

TEST(OpenMMPlatform, UnavailableOrUnknownPlatformThrowsListingAvailable) {
  const auto names = availablePlatforms();
  if (std::find(names.begin(), names.end(), "CUDA") != names.end())
    GTEST_SKIP() << "CUDA is available here, so it cannot serve as the unavailable platform";
  const auto system = tinySystem();
  const std::vector<OpenMM::Vec3> positions = {{0, 0, 0}, {0.1, 0, 0}};
  for (const std::string name : {"CUDA", "NoSuchPlatform"}) {
    try {
      choosePlatform(name, *system, positions, nullptr);
      ADD_FAILURE() << name << ": no PlatformError";
    } catch (const PlatformError& e) {
      const std::string message = e.what();
      EXPECT_TRUE(contains(message, name)) << message;
      EXPECT_TRUE(contains(message, "Reference")) << message;
      EXPECT_TRUE(contains(message, "CPU")) << message;
      EXPECT_TRUE(contains(message, "Plugin load failures")) << message;
    }
  }
  EXPECT_THROW(OpenMMPotential(system, "CUDA"), PlatformError);
  // Case is ignored for known names.
  EXPECT_EQ(choosePlatform("reference", *system, positions, nullptr).getName(), "Reference");
}

TEST(OpenMMPlatform, PropertiesPerPlatform) {
  EXPECT_EQ(platformProperties("CPU", "double").at("Threads"), "1");
  EXPECT_TRUE(platformProperties("Reference", "double").empty());
  EXPECT_EQ(platformProperties("CUDA", "mixed").at("Precision"), "mixed");
  EXPECT_EQ(platformProperties("OpenCL", "single").at("Precision"), "single");
  EXPECT_TRUE(platformProperties("OpenCL", "").empty());
  EXPECT_THROW(platformProperties("CUDA", "quad"), PlatformError);
}

TEST(OpenMMPlatform, AutoPicksAnAvailablePlatformAndReportsTimings) {
  REQUIRE_ALANINE_DATA(data);
  const auto positions = toVec3(data->pdb.at("extended").positionsNm);
  std::string report;
  OpenMM::Platform& chosen = choosePlatform("auto", *data->system, positions, &report);
  const auto names = availablePlatforms();
  EXPECT_NE(std::find(names.begin(), names.end(), chosen.getName()), names.end());
  EXPECT_TRUE(contains(report, "Reference")) << report;
  EXPECT_TRUE(contains(report, "CPU")) << report;
  EXPECT_TRUE(contains(report, "us/step")) << report;
  EXPECT_TRUE(contains(report, "chose " + chosen.getName())) << report;

  EXPECT_THROW(choosePlatform("auto", *data->system, {}, nullptr), std::invalid_argument);
  OpenMMPotential potential(data->system, "auto", "", 1, data->pdb.at("extended").positionsNm);
  EXPECT_NE(potential.platformName(), "auto");
  EXPECT_TRUE(contains(potential.platformReport(), "us/step")) << potential.platformReport();
}

// POCL runs OpenCL on the host CPU: "auto" notes it and never picks it (its timing depends on the
// machine's load, and OpenCL would switch sampler.walkers auto to the batched scheme). Whether this
// machine's OpenCL is POCL is read off a Context created here, independently of choosePlatform().
TEST(OpenMMPlatform, AutoNeverChoosesOpenCLRunByPocl) {
  REQUIRE_ALANINE_DATA(data);
  const auto names = availablePlatforms();
  if (std::find(names.begin(), names.end(), "OpenCL") == names.end())
    GTEST_SKIP() << "no OpenCL platform here";
  const auto positions = toVec3(data->pdb.at("extended").positionsNm);
  std::string openclPlatform;
  try {
    OpenMM::Platform& opencl = OpenMM::Platform::getPlatformByName("OpenCL");
    OpenMM::VerletIntegrator integrator(0.001);
    OpenMM::Context context(*data->system, integrator, opencl);
    openclPlatform = opencl.getPropertyValue(context, "OpenCLPlatformName");
  } catch (const OpenMM::OpenMMException& e) {
    GTEST_SKIP() << "OpenCL has no usable device here: " << e.what();
  }
  if (openclPlatform != "Portable Computing Language")
    GTEST_SKIP() << "this machine's OpenCL is " << openclPlatform << ", not POCL";
  std::string report;
  OpenMM::Platform& chosen = choosePlatform("auto", *data->system, positions, &report);
  EXPECT_NE(chosen.getName(), "OpenCL") << report;
  EXPECT_TRUE(contains(report, "OpenCL: not considered: POCL")) << report;
  EXPECT_TRUE(contains(report, "us/step")) << report;
  // Named, it is used.
  EXPECT_EQ(choosePlatform("OpenCL", *data->system, positions, nullptr).getName(), "OpenCL");
}

// ---- Loading errors ------------------------------------------------------------------------

void expectSystemFileError(const std::string& path) {
  const std::string message = thrownMessage([&] { loadSystemXml(path); });
  EXPECT_TRUE(contains(message, path)) << message;
  EXPECT_TRUE(contains(message, "OpenMM System serialized with XmlSerializer")) << message;
}

TEST(OpenMMSystemXml, MissingFileNamesTheFile) {
  expectSystemFileError(::testing::TempDir() + "geotps_openmm_no_such_system.xml");
}

TEST(OpenMMSystemXml, TextFileIsRejected) {
  expectSystemFileError(writeTempFile("text.xml", "this is not xml\n1 2 3\n"));
  expectSystemFileError(writeTempFile("empty.xml", ""));
}

TEST(OpenMMSystemXml, SerializedIntegratorOrStateIsRejected) {
  OpenMM::VerletIntegrator integrator(0.002);
  std::ostringstream integratorXml;
  OpenMM::XmlSerializer::serialize<OpenMM::Integrator>(&integrator, "Integrator", integratorXml);
  ASSERT_TRUE(contains(integratorXml.str(), "VerletIntegrator"));
  expectSystemFileError(writeTempFile("integrator.xml", integratorXml.str()));

  const auto system = tinySystem();
  OpenMM::VerletIntegrator stepper(0.001);
  OpenMM::Context context(*system, stepper, OpenMM::Platform::getPlatformByName("Reference"));
  context.setPositions(std::vector<OpenMM::Vec3>{{0, 0, 0}, {0.1, 0, 0}});
  const OpenMM::State state = context.getState(OpenMM::State::Positions);
  std::ostringstream stateXml;
  OpenMM::XmlSerializer::serialize<OpenMM::State>(&state, "State", stateXml);
  expectSystemFileError(writeTempFile("state.xml", stateXml.str()));
}

TEST(OpenMMSystemXml, ArbitraryOrBrokenXmlIsRejected) {
  expectSystemFileError(writeTempFile("other.xml", "<?xml version=\"1.0\"?>\n<Foo><Bar/></Foo>\n"));
  // Right root element, wrong content: OpenMM's deserializer throws, and we name the file.
  expectSystemFileError(
      writeTempFile("broken.xml", "<System type=\"System\" version=\"1\"></System>\n"));
}

TEST(OpenMMSystemXml, RoundTripOfASerializedSystem) {
  const auto system = tinySystem();
  std::ostringstream xml;
  OpenMM::XmlSerializer::serialize<OpenMM::System>(system.get(), "System", xml);
  const auto loaded = loadSystemXml(writeTempFile("tiny_system.xml", xml.str()));
  ASSERT_EQ(loaded->getNumParticles(), 2);
  EXPECT_DOUBLE_EQ(loaded->getParticleMass(0), 12.0);
  EXPECT_EQ(loaded->getNumForces(), 1);
}

// ---- PDB atoms against the System ----------------------------------------------------------

TEST(OpenMMAtoms, ElementMasses) {
  EXPECT_DOUBLE_EQ(elementMass("H"), 1.008);
  EXPECT_DOUBLE_EQ(elementMass("C"), 12.01);
  EXPECT_DOUBLE_EQ(elementMass("N"), 14.01);
  EXPECT_DOUBLE_EQ(elementMass("O"), 16.00);
  EXPECT_DOUBLE_EQ(elementMass("S"), 32.06);
  EXPECT_DOUBLE_EQ(elementMass("P"), 30.97);
  EXPECT_DOUBLE_EQ(elementMass("CL"), elementMass("Cl"));
  EXPECT_THROW(elementMass("Xx"), std::invalid_argument);
}

TEST(OpenMMAtoms, PdbMassesMustMatchTheSystem) {
  REQUIRE_ALANINE_DATA(data);
  const std::string pdbPath = kDataDir + "extended.pdb";
  std::vector<double> masses;
  for (const auto& element : data->pdb.at("extended").elements)
    masses.push_back(elementMass(element));
  ASSERT_EQ(masses.size(), 22u);
  EXPECT_NO_THROW(checkAtomsMatchSystem(*data->system, masses, pdbPath));

  std::vector<double> missing(masses.begin(), masses.end() - 1);
  std::string message =
      thrownMessage([&] { checkAtomsMatchSystem(*data->system, missing, pdbPath); });
  EXPECT_TRUE(contains(message, pdbPath)) << message;
  EXPECT_TRUE(contains(message, "21")) << message;
  EXPECT_TRUE(contains(message, "22")) << message;

  // Atoms 0 (H1 of ACE) and 1 (CH3) swapped.
  std::vector<double> swapped = masses;
  std::swap(swapped[0], swapped[1]);
  message = thrownMessage([&] { checkAtomsMatchSystem(*data->system, swapped, pdbPath); });
  EXPECT_TRUE(contains(message, pdbPath)) << message;
  EXPECT_TRUE(contains(message, "atom 0")) << message;
  EXPECT_TRUE(contains(message, "12.01")) << message;
  EXPECT_TRUE(contains(message, "1.008")) << message;
}

}  // namespace
}  // namespace geotps
