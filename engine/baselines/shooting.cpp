// Two-way shooting transition path sampling (see shooting.h).
#include "engine/baselines/shooting.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "engine/core/parallel.h"
#include "engine/metrics/distance.h"
#include "engine/molecule/molecule.h"
#include "engine/samplers/restrained_dynamics.h"

namespace geotps {

// ------------------------------------------------------------------------------------------------
// Dynamics

namespace {

class OverdampedDynamics final : public ShootingDynamics {
 public:
  OverdampedDynamics(const Potential& potential, double stepSize, double kT,
                     std::function<double(const double*)> metric)
      : potential_(potential),
        halfDsOverKT_(0.5 * stepSize / kT),
        sqrtDs_(std::sqrt(stepSize)),
        metric_(std::move(metric)),
        x_(potential.dimension()),
        g_(potential.dimension()),
        z_(potential.dimension()) {
    if (potential.dimension() < 1) {
      throw std::invalid_argument("shooting: overdamped dynamics needs a potential of dimension >= 1");
    }
  }
  int configurationSize() const override { return static_cast<int>(x_.size()); }
  std::vector<double> drawMomenta(Rng&) override { return {}; }
  void setState(const double* x, const std::vector<double>&, double) override {
    std::copy(x, x + x_.size(), x_.begin());
  }
  void step(Rng& rng) override {
    double u = 0.0;
    potential_.evaluate(x_.data(), 1, &u, g_.data());
    ++evaluations_;
    // The same draws as the annealed sampler: normals in pairs, one more for an odd D.
    const std::size_t D = x_.size();
    for (std::size_t d = 0; d + 1 < D; d += 2) rng.normalPair(z_[d], z_[d + 1]);
    if (D % 2) z_[D - 1] = rng.normal();
    for (std::size_t d = 0; d < x_.size(); ++d) {
      x_[d] += -halfDsOverKT_ * g_[d] + sqrtDs_ * z_[d];
    }
  }
  const double* configuration() const override { return x_.data(); }
  FrameObservation observe() const override {
    FrameObservation o;
    o.cv = Eigen::Map<const Eigen::VectorXd>(x_.data(), static_cast<Eigen::Index>(x_.size()));
    o.energy = metric_ ? metric_(x_.data()) : potential_.energy(x_.data());
    o.energy2 = std::numeric_limits<double>::quiet_NaN();
    return o;
  }
  long long evaluations() const override { return evaluations_; }

 private:
  const Potential& potential_;
  double halfDsOverKT_, sqrtDs_;
  std::function<double(const double*)> metric_;
  std::vector<double> x_, g_, z_;
  long long evaluations_ = 0;
};

class FullAtomDynamics final : public ShootingDynamics {
 public:
  FullAtomDynamics(const FullAtomSetup& setup, double friction, double dt, std::uint64_t seed,
                   std::uint64_t stream, double referenceEnergy,
                   std::function<double(const Eigen::VectorXd&)> cvEnergy)
      : setup_(setup),
        md_(*setup.system, setup.cvAtoms, setup.temperatureK, friction, dt,
            *setup.platform, setup.platformProperties, seed, stream),
        reference_(referenceEnergy),
        cvEnergy_(std::move(cvEnergy)) {
    md_.setPositions(setup.positionsA);
    md_.getState(&x_, &energy_);
  }
  int configurationSize() const override { return 3 * md_.atomCount(); }
  std::vector<double> drawMomenta(Rng&) override {
    // The Maxwell-Boltzmann draw uses the dynamics' own per-chain stream.
    md_.setVelocitiesToTemperature();
    return md_.velocities();
  }
  void setState(const double* x, const std::vector<double>& p, double sign) override {
    x_.assign(x, x + configurationSize());
    md_.setPositions(x_);
    md_.getState(nullptr, &energy_);
    if (!p.empty()) {
      std::vector<double> v(p);
      for (double& c : v) c *= sign;
      md_.setVelocities(v);
    }
  }
  void step(Rng&) override {
    md_.step(1);
    md_.getState(&x_, &energy_);
  }
  const double* configuration() const override { return x_.data(); }
  FrameObservation observe() const override {
    FrameObservation o;
    o.cv = computeCVs(x_, setup_.cvAtoms);
    o.energy = energy_ - reference_;
    o.energy2 = cvEnergy_ ? cvEnergy_(o.cv) : std::numeric_limits<double>::quiet_NaN();
    return o;
  }
  long long evaluations() const override { return md_.forceEvaluations(); }

 private:
  const FullAtomSetup& setup_;
  RestrainedDynamics md_;
  double reference_;
  std::function<double(const Eigen::VectorXd&)> cvEnergy_;
  std::vector<double> x_;
  double energy_ = 0.0;
};

}  // namespace

std::unique_ptr<ShootingDynamics> makeOverdampedDynamics(
    const Potential& potential, double stepSize, double kT,
    std::function<double(const double*)> metric) {
  if (!(stepSize > 0) || !(kT > 0)) {
    throw std::invalid_argument("shooting: overdamped dynamics needs step size > 0 and kT > 0");
  }
  return std::make_unique<OverdampedDynamics>(potential, stepSize, kT, std::move(metric));
}

std::unique_ptr<ShootingDynamics> makeFullAtomDynamics(
    const FullAtomSetup& setup, double frictionPerPs, double timeStepPs, std::uint64_t seed,
    std::uint64_t stream, double referenceEnergy, std::function<double(const Eigen::VectorXd&)> cvEnergy) {
  return std::make_unique<FullAtomDynamics>(setup, frictionPerPs, timeStepPs, seed, stream,
                                            referenceEnergy, std::move(cvEnergy));
}

// ------------------------------------------------------------------------------------------------
// Paths

double StateBalls::distance(const Eigen::VectorXd& cv, const Eigen::VectorXd& centre) const {
  return periodicDistance(cv, centre, period);
}

bool StateBalls::inBox(const Eigen::VectorXd& cv, const std::vector<double>& box) const {
  const auto D = static_cast<Eigen::Index>(box.size() / 2);
  if (cv.size() != D) {
    throw std::invalid_argument(fmt::format(
        "shooting: a state box has {} values for {} coordinates; expected {}", box.size(),
        cv.size(), 2 * cv.size()));
  }
  for (Eigen::Index d = 0; d < D; ++d) {
    const double lo = box[2 * d], hi = box[2 * d + 1];
    if (period[d] > 0.0) {
      // Offset from lo along the circle, in [0, period).
      double t = std::fmod(cv[d] - lo, period[d]);
      if (t < 0.0) t += period[d];
      if (t > hi - lo) return false;
    } else if (cv[d] < lo || cv[d] > hi) {
      return false;
    }
  }
  return true;
}

namespace {
std::string describeState(const std::vector<double>& box, double radius,
                          const Eigen::VectorXd& centre) {
  if (box.empty()) {
    std::string c;
    for (Eigen::Index d = 0; d < centre.size(); ++d) c += fmt::format("{}{:.3f}", d ? ", " : "", centre[d]);
    return fmt::format("a ball of radius {} around ({})", radius, c);
  }
  std::string out = "the box";
  for (std::size_t d = 0; d + 1 < box.size(); d += 2) {
    out += fmt::format("{} x[{}] in [{}, {}]", d ? "," : "", d / 2, box[d], box[d + 1]);
  }
  return out;
}
}  // namespace

std::string StateBalls::describeA() const { return describeState(boxA, radiusA, a); }
std::string StateBalls::describeB() const { return describeState(boxB, radiusB, b); }

ShootingPath observePath(ShootingDynamics& dynamics, const std::vector<double>& configurations) {
  const std::size_t S = static_cast<std::size_t>(dynamics.configurationSize());
  if (S == 0 || configurations.size() % S != 0) {
    throw std::invalid_argument(
        fmt::format("shooting: {} values are not a whole number of configurations of size {}",
                    configurations.size(), S));
  }
  ShootingPath path;
  path.configurations = configurations;
  const std::size_t L = configurations.size() / S;
  path.frames.reserve(L);
  for (std::size_t f = 0; f < L; ++f) {
    dynamics.setState(&configurations[f * S], {}, 1.0);
    path.frames.push_back(dynamics.observe());
  }
  return path;
}

bool extractTransition(const ShootingPath& t, const StateBalls& states, ShootingPath& out) {
  const std::size_t L = t.length();
  if (L == 0) return false;
  const std::size_t S = t.configurations.size() / L;
  std::size_t lastA = L;
  for (std::size_t f = 0; f < L; ++f) {
    if (states.inA(t.frames[f].cv)) {
      lastA = f;
    } else if (states.inB(t.frames[f].cv) && lastA < L) {
      out.frames.assign(t.frames.begin() + lastA, t.frames.begin() + f + 1);
      out.configurations.assign(t.configurations.begin() + lastA * S,
                                t.configurations.begin() + (f + 1) * S);
      return true;
    }
  }
  return false;
}

ShootingPath resamplePath(const ShootingPath& path, int length) {
  const std::size_t L = path.length();
  if (L < 2 || length < 2) throw std::invalid_argument("shooting: resample needs >= 2 frames");
  const std::size_t S = path.configurations.size() / L;
  ShootingPath out;
  out.frames.reserve(length);
  out.configurations.reserve(static_cast<std::size_t>(length) * S);
  for (int k = 0; k < length; ++k) {
    const auto f = static_cast<std::size_t>(
        std::llround(static_cast<double>(k) * (L - 1) / static_cast<double>(length - 1)));
    out.frames.push_back(path.frames[f]);
    out.configurations.insert(out.configurations.end(), path.configurations.begin() + f * S,
                              path.configurations.begin() + (f + 1) * S);
  }
  return out;
}

ShootingPath fitPathLength(const ShootingPath& path, int length) {
  const std::size_t L = path.length();
  if (L == 0) throw std::invalid_argument("shooting: empty path");
  if (static_cast<int>(L) >= length) return resamplePath(path, length);
  const std::size_t S = path.configurations.size() / L;
  const std::size_t before = (static_cast<std::size_t>(length) - L) / 2;
  const std::size_t after = static_cast<std::size_t>(length) - L - before;
  ShootingPath out;
  for (std::size_t k = 0; k < before; ++k) {
    out.frames.push_back(path.frames.front());
    out.configurations.insert(out.configurations.end(), path.configurations.begin(),
                              path.configurations.begin() + S);
  }
  out.frames.insert(out.frames.end(), path.frames.begin(), path.frames.end());
  out.configurations.insert(out.configurations.end(), path.configurations.begin(),
                            path.configurations.end());
  for (std::size_t k = 0; k < after; ++k) {
    out.frames.push_back(path.frames.back());
    out.configurations.insert(out.configurations.end(), path.configurations.end() - S,
                              path.configurations.end());
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// The chains

namespace {

struct Segment {
  std::vector<double> configurations;
  std::vector<FrameObservation> frames;
  void clear() {
    configurations.clear();
    frames.clear();
  }
};

/// Integrates up to `maxSteps` steps from the current state, recording every frame; stops after a
/// frame for which `stop` returns true.
template <class Stop>
void integrate(ShootingDynamics& dyn, Rng& rng, long long maxSteps, const Stop& stop,
               Segment& seg) {
  const int S = dyn.configurationSize();
  for (long long s = 0; s < maxSteps; ++s) {
    dyn.step(rng);
    const FrameObservation o = dyn.observe();
    if (!std::isfinite(o.energy)) {
      throw std::runtime_error(
          "shooting: a trajectory reached a non-finite energy; reduce the step size");
    }
    const double* x = dyn.configuration();
    seg.configurations.insert(seg.configurations.end(), x, x + S);
    seg.frames.push_back(o);
    if (stop(o)) return;
  }
}

/// Joins reversed `back`, frame `i` of `path` and `fwd` into `out`.
void join(const Segment& back, const ShootingPath& path, std::size_t i, const Segment& fwd, int S,
          ShootingPath& out) {
  out.frames.clear();
  out.configurations.clear();
  const std::size_t nb = back.frames.size();
  for (std::size_t k = 0; k < nb; ++k) {
    const std::size_t j = nb - 1 - k;
    out.frames.push_back(back.frames[j]);
    out.configurations.insert(out.configurations.end(), back.configurations.begin() + j * S,
                              back.configurations.begin() + (j + 1) * S);
  }
  out.frames.push_back(path.frames[i]);
  out.configurations.insert(out.configurations.end(), path.configurations.begin() + i * S,
                            path.configurations.begin() + (i + 1) * S);
  out.frames.insert(out.frames.end(), fwd.frames.begin(), fwd.frames.end());
  out.configurations.insert(out.configurations.end(), fwd.configurations.begin(),
                            fwd.configurations.end());
}

AcceptedPath summarise(const ShootingPath& p, int chain, long long trial, int stride,
                       bool configurations) {
  AcceptedPath a;
  a.chain = chain;
  a.trial = trial;
  a.length = static_cast<int>(p.length());
  a.maxEnergy = a.maxEnergy2 = -std::numeric_limits<double>::infinity();
  for (const auto& o : p.frames) {
    a.maxEnergy = std::max(a.maxEnergy, o.energy);
    a.maxEnergy2 = std::max(a.maxEnergy2, o.energy2);
  }
  if (std::isnan(p.frames.front().energy2)) a.maxEnergy2 = std::numeric_limits<double>::quiet_NaN();
  a.firstCV = p.frames.front().cv;
  a.lastCV = p.frames.back().cv;
  if (stride > 0) {
    for (std::size_t f = stride - 1; f < p.length(); f += stride) {
      for (Eigen::Index d = 0; d < p.frames[f].cv.size(); ++d)
        a.cvFrames.push_back(static_cast<float>(p.frames[f].cv[d]));
      if (configurations) {
        const std::size_t S = p.configurations.size() / p.length();
        a.configurationFrames.insert(a.configurationFrames.end(), p.configurations.begin() + f * S,
                                     p.configurations.begin() + (f + 1) * S);
      }
    }
  }
  return a;
}

}  // namespace

ShootingResult runShooting(
    const std::function<std::unique_ptr<ShootingDynamics>(int)>& makeDynamics,
    const ShootingPath& initial, const StateBalls& states, const ShootingSettings& s,
    const ShootingProgress& progress, const ChainStore* store) {
  if (s.chains < 1) throw std::invalid_argument("shooting: chains must be >= 1");
  if (s.maxEvaluations < 1) throw std::invalid_argument("shooting: budget must be >= 1");
  if (s.storeEvery < 1) throw std::invalid_argument("shooting: storeEvery must be >= 1");
  const std::size_t L0 = initial.length();
  if (L0 < 3) throw std::invalid_argument("shooting: the initial path needs at least 3 frames");
  if (!states.inA(initial.frames.front().cv) || !states.inB(initial.frames.back().cv)) {
    throw std::invalid_argument("shooting: the initial path does not run from state A to state B");
  }
  if (!s.variableLength && static_cast<int>(L0) != s.pathLength) {
    throw std::invalid_argument(fmt::format(
        "shooting: the initial path has {} frames, the fixed length is {}", L0, s.pathLength));
  }
  if (s.variableLength && static_cast<int>(L0) > s.maxLength) {
    throw std::invalid_argument(
        fmt::format("shooting: the initial path has {} frames, more than the maximum length {}", L0,
                    s.maxLength));
  }

  std::vector<std::vector<AcceptedPath>> perChain(s.chains);
  std::vector<long long> trials(s.chains, 0), evaluations(s.chains, 0);
  std::atomic<long long> done{0};
  const long long chainBudget = std::max<long long>(1, s.maxEvaluations / s.chains);

  parallelFor(
      static_cast<std::size_t>(s.chains), resolveThreads(s.threads),
      [&](std::size_t begin, std::size_t end, int worker) {
        for (std::size_t c = begin; c < end; ++c) {
          const int chain = static_cast<int>(c);
          if (store && store->load) {
            if (std::optional<ChainResult> saved = store->load(chain)) {
              perChain[c] = std::move(saved->accepted);
              trials[c] = saved->trials;
              evaluations[c] = saved->evaluations;
              const long long now = done.fetch_add(evaluations[c]) + evaluations[c];
              if (worker == 0 && progress) progress(now, s.maxEvaluations);
              continue;
            }
          }
          auto dyn = makeDynamics(chain);
          const int S = dyn->configurationSize();
          if (initial.configurations.size() != L0 * static_cast<std::size_t>(S)) {
            throw std::invalid_argument(
                "shooting: initial path configurations have the wrong size");
          }
          Rng rng(s.seed, c);
          ShootingPath path = initial, trialPath;
          Segment back, fwd;
          const long long e0 = dyn->evaluations();
          long long reported = 0, accepted = 0;
          for (long long trial = 0;
               dyn->evaluations() - e0 < chainBudget && (s.maxTrials <= 0 || trial < s.maxTrials);
               ++trial) {
            ++trials[c];
            const std::size_t L = path.length();
            back.clear();
            fwd.clear();
            if (!s.variableLength) {
              const auto i = static_cast<std::size_t>(rng.uniform() * L);
              const std::vector<double> p = dyn->drawMomenta(rng);
              dyn->setState(&path.configurations[i * S], p, -1.0);
              integrate(
                  *dyn, rng, static_cast<long long>(i),
                  [](const FrameObservation&) { return false; }, back);
              const FrameObservation& first = i > 0 ? back.frames.back() : path.frames[i];
              if (states.inA(first.cv)) {
                dyn->setState(&path.configurations[i * S], p, 1.0);
                integrate(
                    *dyn, rng, static_cast<long long>(L - 1 - i),
                    [](const FrameObservation&) { return false; }, fwd);
                const FrameObservation& last = i + 1 < L ? fwd.frames.back() : path.frames[i];
                if (states.inB(last.cv)) {
                  join(back, path, i, fwd, S, trialPath);
                  std::swap(path, trialPath);
                  perChain[c].push_back(summarise(
                      path, chain, trial, accepted++ % s.storeEvery == 0 ? s.frameStride : 0,
                      s.storeConfigurations));
                }
              }
            } else {
              const auto i = 1 + static_cast<std::size_t>(rng.uniform() * (L - 2));
              const auto inState = [&](const FrameObservation& o) {
                return states.inA(o.cv) || states.inB(o.cv);
              };
              const std::vector<double> p = dyn->drawMomenta(rng);
              dyn->setState(&path.configurations[i * S], p, -1.0);
              integrate(*dyn, rng, s.maxLength - 2, inState, back);
              if (states.inA(back.frames.back().cv)) {
                dyn->setState(&path.configurations[i * S], p, 1.0);
                integrate(*dyn, rng, s.maxLength - 1 - static_cast<long long>(back.frames.size()),
                          inState, fwd);
                if (!fwd.frames.empty() && states.inB(fwd.frames.back().cv)) {
                  const double Lnew =
                      static_cast<double>(back.frames.size() + 1 + fwd.frames.size());
                  const double ratio = (static_cast<double>(L) - 2.0) / (Lnew - 2.0);
                  if (ratio >= 1.0 || rng.uniform() < ratio) {
                    join(back, path, i, fwd, S, trialPath);
                    std::swap(path, trialPath);
                    perChain[c].push_back(summarise(
                        path, chain, trial, accepted++ % s.storeEvery == 0 ? s.frameStride : 0,
                        s.storeConfigurations));
                  }
                }
              }
            }
            const long long used = dyn->evaluations() - e0;
            const long long now = done.fetch_add(used - reported) + (used - reported);
            reported = used;
            if (worker == 0 && progress) progress(now, s.maxEvaluations);
          }
          evaluations[c] = dyn->evaluations() - e0;
          if (store && store->save) store->save(chain, {perChain[c], trials[c], evaluations[c]});
        }
      });

  ShootingResult r;
  r.initialLength = static_cast<int>(L0);
  r.initialMaxEnergy = -std::numeric_limits<double>::infinity();
  for (const auto& o : initial.frames) r.initialMaxEnergy = std::max(r.initialMaxEnergy, o.energy);
  for (int c = 0; c < s.chains; ++c) {
    r.trials += trials[c];
    r.evaluations += evaluations[c];
    for (auto& a : perChain[c]) r.accepted.push_back(std::move(a));
  }
  if (progress) progress(r.evaluations, s.maxEvaluations);
  return r;
}

}  // namespace geotps
