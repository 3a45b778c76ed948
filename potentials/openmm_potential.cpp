// OpenMM System loading, PDB/System atom checks, and the pooled-Context OpenMM potential.
#include "potentials/openmm_potential.h"

#include <OpenMM.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "potentials/input_file.h"
#include "potentials/openmm_platform.h"

namespace geotps {
namespace {

const char* const kExpectedSystem =
    "expected an OpenMM System serialized with XmlSerializer (root element <System "
    "type=\"System\">; in Python: open(path, 'w').write(openmm.XmlSerializer.serialize(system)))";

// The root start tag of an XML document (e.g. `<System openmmVersion="7.7" type="System">`),
// skipping a byte-order mark, the declaration, comments and a DOCTYPE; empty if there is none.
std::string rootStartTag(const std::string& text) {
  std::size_t i = 0;
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;
  while (true) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size() || text[i] != '<') return "";
    std::string end;
    if (text.compare(i, 2, "<?") == 0)
      end = "?>";
    else if (text.compare(i, 4, "<!--") == 0)
      end = "-->";
    else if (text.compare(i, 2, "<!") == 0)
      end = ">";
    if (end.empty()) break;
    const std::size_t stop = text.find(end, i);
    if (stop == std::string::npos) return "";
    i = stop + end.size();
  }
  if (i + 1 >= text.size() ||
      !(std::isalpha(static_cast<unsigned char>(text[i + 1])) || text[i + 1] == '_'))
    return "";
  const std::size_t stop = text.find('>', i);
  if (stop == std::string::npos) return "";
  return text.substr(i, stop - i + 1);
}

std::string elementName(const std::string& tag) {
  std::size_t j = 1;
  while (j < tag.size() && !std::isspace(static_cast<unsigned char>(tag[j])) && tag[j] != '>' &&
         tag[j] != '/')
    ++j;
  return tag.substr(1, j - 1);
}

std::string typeAttribute(const std::string& tag) {
  static const std::regex typeRe(R"re(\stype\s*=\s*["']([^"']*)["'])re");
  std::smatch m;
  return std::regex_search(tag, m, typeRe) ? m[1].str() : "";
}

std::string formatAmu(double m) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", m);
  return buffer;
}

}  // namespace

std::unique_ptr<OpenMM::System> loadSystemXml(const std::string& path) {
  std::string text;
  try {
    // kExpectedSystem without its leading "expected ".
    text = readInputFile(path, std::string(kExpectedSystem).substr(9));
  } catch (const std::exception& e) {
    throw std::runtime_error("OpenMM system file " + std::string(e.what()));
  }
  const std::string tag = rootStartTag(text);
  if (tag.empty()) {
    throw std::runtime_error("OpenMM system file '" + path + "' is not XML: " + kExpectedSystem);
  }
  const std::string root = elementName(tag);
  const std::string type = typeAttribute(tag);
  if (root != "System" || type != "System") {
    throw std::runtime_error("OpenMM system file '" + path + "' holds <" + root +
                             (type.empty() ? "" : " type=\"" + type + "\"") +
                             ">, not an OpenMM System: " + kExpectedSystem);
  }
  std::unique_ptr<OpenMM::System> system;
  try {
    std::istringstream stream(text);
    system.reset(OpenMM::XmlSerializer::deserialize<OpenMM::System>(stream));
  } catch (const std::exception& e) {
    throw std::runtime_error("OpenMM system file '" + path + "' could not be deserialized (" +
                             e.what() + "): " + kExpectedSystem);
  }
  if (!system || system->getNumParticles() == 0) {
    throw std::runtime_error("OpenMM system file '" + path +
                             "' holds a System without particles: " + kExpectedSystem);
  }
  return system;
}

double elementMass(const std::string& element) {
  static const std::map<std::string, double> masses = {
      {"H", 1.008},  {"He", 4.0026}, {"Li", 6.94},   {"C", 12.01},  {"N", 14.01},  {"O", 16.00},
      {"F", 19.00},  {"Na", 22.99},  {"Mg", 24.305}, {"P", 30.97},  {"S", 32.06},  {"Cl", 35.45},
      {"K", 39.10},  {"Ca", 40.08},  {"Mn", 54.94},  {"Fe", 55.85}, {"Cu", 63.55}, {"Zn", 65.38},
      {"Se", 78.97}, {"Br", 79.90},  {"I", 126.90}};
  std::string key;
  for (char c : element) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    key += static_cast<char>(key.empty() ? std::toupper(static_cast<unsigned char>(c))
                                         : std::tolower(static_cast<unsigned char>(c)));
  }
  const auto it = masses.find(key);
  if (it == masses.end()) {
    std::string known;
    for (const auto& [symbol, mass] : masses) known += (known.empty() ? "" : " ") + symbol;
    throw std::invalid_argument("unknown chemical element '" + element +
                                "': no mass for it (known: " + known +
                                "); check the PDB's element columns 77-78");
  }
  return it->second;
}

void checkAtomsMatchSystem(const OpenMM::System& system,
                           const std::vector<double>& massesFromElementsAmu,
                           const std::string& pdbPath) {
  const int nParticles = system.getNumParticles();
  if (static_cast<int>(massesFromElementsAmu.size()) != nParticles) {
    throw std::runtime_error("PDB '" + pdbPath + "' has " +
                             std::to_string(massesFromElementsAmu.size()) +
                             " atoms but the OpenMM System has " + std::to_string(nParticles) +
                             " particles: use a PDB with the System's atoms in the System's order "
                             "(the one the System was built from)");
  }
  constexpr double kToleranceAmu = 0.5;
  for (int i = 0; i < nParticles; ++i) {
    const double systemMass = system.getParticleMass(i);
    const double pdbMass = massesFromElementsAmu[i];
    if (!(std::abs(systemMass - pdbMass) <= kToleranceAmu)) {
      throw std::runtime_error(
          "PDB '" + pdbPath + "' atom " + std::to_string(i) + " (0-based) has element mass " +
          formatAmu(pdbMass) + " amu but particle " + std::to_string(i) +
          " of the OpenMM System has mass " + formatAmu(systemMass) +
          " amu (more than 0.5 amu apart): the PDB's atoms are not the System's atoms in the same "
          "order; use the PDB the System was built from (a System with hydrogen mass "
          "repartitioning or virtual sites cannot be checked this way)");
    }
  }
}

// One Context with its own copy of the System (Contexts keep a reference to their System).
struct OpenMMPotential::Slot {
  std::unique_ptr<OpenMM::System> system;
  std::unique_ptr<OpenMM::Integrator> integrator;
  std::unique_ptr<OpenMM::Context> context;
  std::vector<OpenMM::Vec3> positions;
};

// A Context borrowed from the pool for the lifetime of the Lease.
class OpenMMPotential::Lease {
 public:
  explicit Lease(const OpenMMPotential& owner) : owner_(owner) {
    std::unique_lock<std::mutex> lock(owner_.mutex_);
    while (owner_.free_.empty()) {
      if (owner_.reserved_ < owner_.poolSize_) {
        ++owner_.reserved_;
        lock.unlock();  // creating a Context can take long (GPU kernels compile): don't block
        std::unique_ptr<Slot> slot;
        try {
          slot = owner_.makeSlot();
        } catch (...) {
          lock.lock();
          --owner_.reserved_;
          owner_.available_.notify_one();
          throw;
        }
        lock.lock();
        slot_ = slot.get();
        owner_.slots_.push_back(std::move(slot));
        return;
      }
      owner_.available_.wait(lock);
    }
    slot_ = owner_.free_.back();
    owner_.free_.pop_back();
  }
  ~Lease() {
    {
      std::lock_guard<std::mutex> lock(owner_.mutex_);
      owner_.free_.push_back(slot_);
    }
    owner_.available_.notify_one();
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Slot& operator*() const { return *slot_; }
  Slot* operator->() const { return slot_; }

 private:
  const OpenMMPotential& owner_;
  Slot* slot_ = nullptr;
};

OpenMMPotential::OpenMMPotential(std::shared_ptr<const OpenMM::System> system,
                                 const std::string& platformName, const std::string& precision,
                                 int poolSize, const std::vector<double>& probePositionsNm)
    : system_(std::move(system)), precision_(precision), poolSize_(poolSize) {
  if (!system_ || system_->getNumParticles() == 0)
    throw std::invalid_argument("OpenMMPotential needs a System with at least one particle");
  if (poolSize_ < 1)
    throw std::invalid_argument(
        "OpenMMPotential: pool size (number of Contexts) must be >= 1, got " +
        std::to_string(poolSize_));
  nAtoms_ = system_->getNumParticles();
  std::vector<OpenMM::Vec3> probe;
  if (!probePositionsNm.empty()) {
    checkSize(probePositionsNm.size(), "probe positions");
    for (int i = 0; i < nAtoms_; ++i)
      probe.emplace_back(probePositionsNm[3 * i], probePositionsNm[3 * i + 1],
                         probePositionsNm[3 * i + 2]);
  }
  platform_ = &choosePlatform(platformName, *system_, probe, &platformReport_, precision_);
  Lease first(*this);  // creates the first Context now so that a failure shows at construction
}

OpenMMPotential::~OpenMMPotential() = default;

std::unique_ptr<OpenMMPotential::Slot> OpenMMPotential::makeSlot() const {
  auto slot = std::make_unique<Slot>();
  slot->system.reset(OpenMM::XmlSerializer::clone<OpenMM::System>(*system_));
  // Never stepped: the Context only evaluates energies and forces.
  slot->integrator = std::make_unique<OpenMM::VerletIntegrator>(0.001);
  try {
    slot->context =
        std::make_unique<OpenMM::Context>(*slot->system, *slot->integrator, *platform_,
                                          platformProperties(platform_->getName(), precision_));
  } catch (const OpenMM::OpenMMException& e) {
    throw PlatformError("OpenMM platform '" + platform_->getName() +
                        "' cannot create a Context for this System (" + e.what() +
                        "): choose another platform or \"auto\"");
  }
  slot->positions.resize(nAtoms_);
  return slot;
}

void OpenMMPotential::checkSize(std::size_t size, const char* what) const {
  if (size != static_cast<std::size_t>(3 * nAtoms_)) {
    throw std::invalid_argument(
        std::string("OpenMMPotential: ") + what + " has " + std::to_string(size) +
        " values; expected 3 * " + std::to_string(nAtoms_) +
        " atoms = " + std::to_string(3 * nAtoms_) + " (x, y, z per atom, in nm)");
  }
}

void OpenMMPotential::evaluate(const double* x, std::size_t n, double* energy,
                               double* gradient) const {
  if (n == 0) return;
  Lease slot(*this);
  const int types = OpenMM::State::Energy | (gradient ? OpenMM::State::Forces : 0);
  const std::size_t dim = static_cast<std::size_t>(3 * nAtoms_);
  for (std::size_t p = 0; p < n; ++p) {
    const double* xp = x + p * dim;
    for (int i = 0; i < nAtoms_; ++i)
      slot->positions[i] = OpenMM::Vec3(xp[3 * i], xp[3 * i + 1], xp[3 * i + 2]);
    slot->context->setPositions(slot->positions);
    const OpenMM::State state = slot->context->getState(types);
    energy[p] = state.getPotentialEnergy();
    if (gradient) {
      const std::vector<OpenMM::Vec3>& forces = state.getForces();
      double* gp = gradient + p * dim;
      for (int i = 0; i < nAtoms_; ++i)
        for (int k = 0; k < 3; ++k) gp[3 * i + k] = -forces[i][k];
    }
  }
  energyEvaluations_ += static_cast<long long>(n);
}

double OpenMMPotential::minimize(std::vector<double>& positions, double toleranceKjMolNm,
                                 int maxIterations) const {
  checkSize(positions.size(), "minimize() positions");
  Lease slot(*this);
  for (int i = 0; i < nAtoms_; ++i)
    slot->positions[i] = OpenMM::Vec3(positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]);
  slot->context->setPositions(slot->positions);
  OpenMM::LocalEnergyMinimizer::minimize(*slot->context, toleranceKjMolNm, maxIterations);
  const OpenMM::State state =
      slot->context->getState(OpenMM::State::Positions | OpenMM::State::Energy);
  const std::vector<OpenMM::Vec3>& result = state.getPositions();
  for (int i = 0; i < nAtoms_; ++i)
    for (int k = 0; k < 3; ++k) positions[3 * i + k] = result[i][k];
  ++minimizations_;
  return state.getPotentialEnergy();
}

std::string OpenMMPotential::platformName() const { return platform_->getName(); }

int OpenMMPotential::contextsCreated() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(slots_.size());
}

}  // namespace geotps
