// Denoiser training: sample sources and the importance-sampled weighted denoising loss (the
// `geotps train-denoiser` command is engine/pipelines/train_denoiser.cpp).
#include "engine/neural/denoiser_training.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <numbers>
#include <stdexcept>
#include <thread>

#include "engine/core/clock.h"
#include "engine/core/parallel.h"
#include "engine/core/progress.h"
#include "engine/core/random.h"
#include "engine/core/schedule.h"
#include "engine/denoisers/quadrature_denoiser.h"
#include "engine/geodesic/geodesic_solver.h"
#include "engine/io/h5_file.h"
#include "engine/io/output_util.h"
#include "engine/io/result_file.h"
#include "engine/samplers/annealed_langevin.h"
#include "geotps/version.h"
#include "potentials/tabulated_surface.h"

namespace geotps {

namespace {

constexpr int kWarmupSteps = 50;
constexpr double kFinalLearningRateFraction = 0.05;
constexpr double kBinLossDecay = 0.05;  // weight of the newest batch in a bin's running loss
constexpr int kLangevinBatch = 32;      // walkers per potential call
constexpr double kEmaMaxDecay = 0.999;
// Smallest effective sample size at which a point's empirical posterior covariance enters the
// covariance term (its self-normalised estimate is biased low by about 1 / ESS).
constexpr double kCovarianceMinEss = 10.0;

// exp(x) in place for float32 x in [kExpFloor, 0] (the caller clamps), relative error below 1e-7:
// exp(x) = 2^k exp(r) with k = round(x / ln 2) and a degree-6 polynomial for exp(r), |r| <= ln2 / 2
// (Cephes' coefficients). The loop has no branches, so the compiler vectorises it with the
// baseline instruction set; Eigen's own float exp is several times slower there (SSE2 only).
// The floor: weights below exp(-40) ~ 4e-18 of the largest are raised to it (at most n 4e-18 of
// the total, nothing that float32 sums resolve), so that w^2 and w x0 stay normal floats; with
// denormal weights the sums ran about 20 times slower.
constexpr float kExpFloor = -40.0f;
void expNonPositiveInPlace(float* v, long long n) {
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  for (long long i = 0; i < n; ++i) {
    const float x = v[i];
    const float k = (x * 1.44269504088896341f + kRound) - kRound;
    const float r = (x - k * 0.693359375f) - k * -2.12194440e-4f;  // ln 2 in two parts
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    v[i] = p * std::bit_cast<float>((static_cast<std::int32_t>(k) + 127) << 23);
  }
}

/// Weight w(l) = sigmoid(l + 2)^0.5 of a point's squared error, for the denoising loss and the
/// posterior bank alike.
torch::Tensor lossWeight(const torch::Tensor& l) { return torch::sqrt(torch::sigmoid(l + 2.0)); }

/// The per-coordinate weights w_d of the score estimate at y = x / alpha and l (see
/// TrainingSettings::scorePotential): sigmoid(2 l) ramp(y) / (1 + s^2 U_dd(y) / kT) where U_dd > 0,
/// else 0. Writes D values to `w`; `probe`, `energy` and `grad` are scratch buffers of 2 D^2, 2 D
/// and 2 D^2 values.
void scoreMixWeights(const Potential& potential, double kT, const std::vector<double>& edgeLow,
                     const std::vector<double>& edgeHigh, const double* y, double l,
                     double curvatureStep, double* w, double* probe, double* energy, double* grad) {
  const int D = potential.dimension();
  const double s2 = std::exp(-l), sd = std::sqrt(s2);
  double a = 1.0 / (1.0 + std::exp(-2.0 * l));
  if (!edgeLow.empty()) {
    for (int d = 0; d < D; ++d) {
      const double dist = std::min(y[d] - edgeLow[d], edgeHigh[d] - y[d]) / sd;
      a *= std::clamp((dist - 3.0) / 2.0, 0.0, 1.0);
    }
  }
  for (int d = 0; d < D; ++d) w[d] = 0.0;
  if (!(a > 0)) return;
  // d^2U/dx_d^2 at y by central differences of the gradient: 2 D probes, one call.
  for (int d = 0; d < D; ++d) {
    for (int sign = 0; sign < 2; ++sign) {
      double* q = &probe[(d * 2 + sign) * D];
      for (int e = 0; e < D; ++e) q[e] = y[e];
      q[d] += sign == 0 ? curvatureStep : -curvatureStep;
    }
  }
  potential.evaluate(probe, 2 * D, energy, grad);
  for (int d = 0; d < D; ++d) {
    const double curvature =
        (grad[(d * 2 + 0) * D + d] - grad[(d * 2 + 1) * D + d]) / (2.0 * curvatureStep) / kT;
    // Where U is concave (between wells) the posterior may have two modes and the score's spread
    // there exceeds x0's: the score is switched off, as where the curvature is not finite.
    w[d] = std::isfinite(curvature) && curvature > 0 ? a / (1.0 + s2 * curvature) : 0.0;
  }
}

/// The potential's score at the samples for score-mixed targets (TrainingSettings::scorePotential).
struct ScoreSource {
  std::shared_ptr<const Potential> potential;  ///< U of the density exp(-U / kT); null = off
  double kT = 1.0;
  std::vector<double> edgeLow, edgeHigh;  ///< the support's box (periodic potentials); empty = R^D
  torch::Tensor gradients;                ///< [n, D] float64: dU/dx / kT at the samples
  double curvatureStep = 1e-3;            ///< central-difference step of U'' (units of x)
};

/// The ScoreSource of `settings` for `samples` (null potential when scorePotential is unset): the
/// gradients at every sample, the data box as the support's edges for periodic potentials, and a
/// curvature step of 1e-3 of the data's spread `xScale`.
ScoreSource scoreSource(const TrainingSettings& settings, const torch::Tensor& samplesIn,
                        double xScale) {
  ScoreSource src;
  if (!settings.scorePotential) return src;
  const auto samples = samplesIn.to(torch::kFloat64).contiguous();
  const long long n = samples.size(0);
  const int D = static_cast<int>(samples.size(1));
  const Potential& pot = *settings.scorePotential;
  if (pot.dimension() != D || !(settings.scoreKT > 0)) {
    throw std::invalid_argument(
        "trainDenoiser: the score potential must have the samples' dimension and kT > 0");
  }
  src.potential = settings.scorePotential;
  src.kT = settings.scoreKT;
  src.gradients = torch::empty({n, D}, torch::kFloat64);
  std::vector<double> energy(static_cast<std::size_t>(n));
  double* g = src.gradients.data_ptr<double>();
  pot.evaluate(samples.data_ptr<double>(), static_cast<std::size_t>(n), energy.data(), g);
  for (long long k = 0; k < n * D; ++k) {
    g[k] /= settings.scoreKT;
    if (!std::isfinite(g[k])) {
      throw std::invalid_argument(
          "trainDenoiser: the potential's gradient at a sample is not finite");
    }
  }
  if (pot.isPeriodic()) {
    if (!settings.dataLow.empty()) {
      src.edgeLow = settings.dataLow;
      src.edgeHigh = settings.dataHigh;
    } else {
      for (int d = 0; d < D; ++d) {
        src.edgeLow.push_back(pot.boxLow(d));
        src.edgeHigh.push_back(pot.boxHigh(d));
      }
    }
  }
  src.curvatureStep = 1e-3 * xScale;
  return src;
}

}  // namespace

PosteriorBank posteriorBank(const torch::Tensor& samplesIn, const std::vector<double>& low,
                            const std::vector<double>& high, long long count, double etaHalfWidth,
                            double lLow, double lHigh, double minEss, std::uint64_t seed,
                            const torch::Tensor& logWeights) {
  if (samplesIn.dim() != 2) throw std::invalid_argument("posteriorBank: samples must be [n, D]");
  const auto samples = samplesIn.to(torch::kFloat64).contiguous();
  const int D = static_cast<int>(samples.size(1));
  if (samples.size(0) < 1 || static_cast<int>(low.size()) != D ||
      static_cast<int>(high.size()) != D || count < 0 || !(etaHalfWidth > 0) || !(lHigh >= lLow) ||
      !(minEss >= 1)) {
    throw std::invalid_argument(
        "posteriorBank: need [n, D] samples, a D-dimensional box, count >= 0, bank_eta > 0, "
        "l_low <= l_high and min_ess >= 1");
  }
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  Rng rng(seed, 0x62616e6bULL);
  std::vector<double> lv(static_cast<std::size_t>(count)), xv(static_cast<std::size_t>(count) * D);
  for (long long i = 0; i < count; ++i) {
    const double l = lLow + (lHigh - lLow) * rng.uniform();
    lv[i] = l;
    const double alpha = alphaOf(l), sigma2 = sigmaSquared(l);
    const bool tilted = rng.uniform() < 0.5;
    for (int d = 0; d < D; ++d) {
      if (tilted) {  // eta_x = alpha x / sigma^2 uniform in [-eta, eta]
        xv[i * D + d] = etaHalfWidth * (2.0 * rng.uniform() - 1.0) * sigma2 / alpha;
      } else {  // tether centre x / alpha uniform over the box enlarged by 10 % per side
        const double w = high[d] - low[d];
        xv[i * D + d] = alpha * (low[d] - 0.1 * w + 1.2 * w * rng.uniform());
      }
    }
  }
  const auto L = torch::from_blob(lv.data(), {count}, f64).clone();
  const auto X = torch::from_blob(xv.data(), {count, D}, f64).clone();
  PosteriorBank bank = posteriorTargets(samples, L, X, minEss, logWeights);
  bank.drawn = count;
  return bank;
}

PosteriorBank posteriorTargets(const torch::Tensor& samplesIn, const torch::Tensor& lIn,
                               const torch::Tensor& xIn, double minEss,
                               const torch::Tensor& logWeights) {
  if (samplesIn.dim() != 2 || xIn.dim() != 2 || lIn.dim() != 1 || xIn.size(0) != lIn.size(0) ||
      xIn.size(1) != samplesIn.size(1) || !(minEss >= 1) ||
      (logWeights.defined() &&
       (logWeights.dim() != 1 || logWeights.size(0) != samplesIn.size(0)))) {
    throw std::invalid_argument(
        "posteriorTargets: need [n, D] samples, [m] l, [m, D] x, min_ess >= 1 and [n] log-weights "
        "(or none)");
  }
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const auto samples = samplesIn.to(torch::kFloat64).contiguous();
  const auto L = lIn.to(torch::kFloat64).contiguous(), X = xIn.to(torch::kFloat64).contiguous();
  const long long count = L.size(0), n = samples.size(0);
  const int D = static_cast<int>(samples.size(1));
  // Float32 arithmetic over the samples, point by point (each point's weights are normalised
  // against its largest one, so float32 costs nothing that matters at 1e-6 relative precision):
  // the samples' coordinates, |x0|^2 and the importance log-weights shifted to a maximum of 0.
  const double* sp = samples.data_ptr<double>();
  std::vector<Eigen::ArrayXf> S(D, Eigen::ArrayXf(n));
  Eigen::ArrayXf r2 = Eigen::ArrayXf::Zero(n), logW = Eigen::ArrayXf::Zero(n);
  for (int d = 0; d < D; ++d) {
    for (long long j = 0; j < n; ++j) S[d][j] = static_cast<float>(sp[j * D + d]);
    r2 += S[d].square();
  }
  if (logWeights.defined()) {
    const auto lw = logWeights.to(torch::kFloat64).contiguous();
    const double* p = lw.data_ptr<double>();
    const double top = lw.max().item<double>();
    for (long long j = 0; j < n; ++j) logW[j] = static_cast<float>(p[j] - top);
  }
  const double* lp = L.data_ptr<double>();
  const double* xp = X.data_ptr<double>();
  std::vector<double> target(static_cast<std::size_t>(count) * D);
  std::vector<double> second(static_cast<std::size_t>(count)), ess(static_cast<std::size_t>(count));
  std::vector<char> keep(static_cast<std::size_t>(count));
  parallelFor(static_cast<std::size_t>(count), resolveThreads(0),
              [&](std::size_t begin, std::size_t end, int) {
                Eigen::ArrayXf w(n);
                for (std::size_t i = begin; i < end; ++i) {
                  // eta = (alpha x / sigma^2, -exp(l)/2); w_j ∝ exp(eta . T(x0_j) + logW_j).
                  const double l = lp[i], a = etaScale(l);
                  w = static_cast<float>(-0.5 * std::exp(l)) * r2 + logW;
                  for (int d = 0; d < D; ++d) w += static_cast<float>(a * xp[i * D + d]) * S[d];
                  w = (w - w.maxCoeff()).max(kExpFloor);
                  expNonPositiveInPlace(w.data(), n);
                  const double sum = w.sum();
                  ess[i] = sum * sum / static_cast<double>(w.square().sum());
                  keep[i] = ess[i] >= minEss;
                  double m2 = (w * r2).sum() / sum;
                  for (int d = 0; d < D; ++d) {
                    target[i * D + d] = (w * S[d]).sum() / sum;
                    m2 -= target[i * D + d] * target[i * D + d];
                  }
                  second[i] = std::max(0.0, m2);
                }
              });
  std::vector<std::int64_t> kept;
  for (long long i = 0; i < count; ++i) {
    if (keep[i]) kept.push_back(i);
  }
  const auto idx =
      torch::from_blob(kept.data(), {static_cast<long long>(kept.size())}, torch::kInt64).clone();
  PosteriorBank bank;
  bank.drawn = count;
  bank.l = L.index_select(0, idx);
  bank.x = X.index_select(0, idx);
  bank.target = torch::from_blob(target.data(), {count, D}, f64).index_select(0, idx);
  bank.covTrace = torch::from_blob(second.data(), {count}, f64).index_select(0, idx);
  bank.ess = torch::from_blob(ess.data(), {count}, f64).index_select(0, idx);
  return bank;
}

PosteriorBank curveBank(const torch::Tensor& samples, const Eigen::MatrixXd& curve, int perPoint,
                        double lJitter, double etaJitter, double minEss, std::uint64_t seed,
                        const torch::Tensor& logWeights) {
  const int D = static_cast<int>(curve.cols()) - 1;
  if (samples.dim() != 2 || D < 1 || samples.size(1) != D || perPoint < 1 || !(lJitter >= 0) ||
      !(etaJitter >= 0)) {
    throw std::invalid_argument(
        "curveBank: need [n, D] samples, an N x (D+1) curve, perPoint >= 1 and jitters >= 0");
  }
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const long long N = curve.rows(), count = N * perPoint;
  std::vector<double> lv(static_cast<std::size_t>(count)), xv(static_cast<std::size_t>(count) * D);
  Rng rng(seed, 0x63757276ULL);
  for (long long i = 0; i < N; ++i) {
    const double l0 = curve(i, 0), a0 = etaScale(l0);
    for (int k = 0; k < perPoint; ++k) {
      const long long j = i * perPoint + k;
      // The curve point itself, then neighbours: l +- lJitter, eta_x perturbed by a Gaussian of
      // standard deviation etaJitter (1 + |eta_x|) per coordinate.
      const double l = k == 0 ? l0 : l0 + lJitter * rng.normal();
      const double a = etaScale(l);
      lv[j] = l;
      for (int d = 0; d < D; ++d) {
        const double eta = a0 * curve(i, 1 + d);
        const double e = k == 0 ? eta : eta + etaJitter * (1.0 + std::abs(eta)) * rng.normal();
        xv[j * D + d] = e / a;
      }
    }
  }
  const auto L = torch::from_blob(lv.data(), {count}, f64).clone();
  const auto X = torch::from_blob(xv.data(), {count, D}, f64).clone();
  return posteriorTargets(samples, L, X, minEss, logWeights);
}

std::vector<double> scoreMixedTargets(const Potential& potential, double kT,
                                      const std::vector<double>& edgeLow,
                                      const std::vector<double>& edgeHigh,
                                      const std::vector<double>& x0, const std::vector<double>& eps,
                                      const std::vector<double>& l,
                                      const std::vector<double>& gradAtX0, double curvatureStep) {
  const int D = potential.dimension();
  const std::size_t B = l.size();
  if (x0.size() != B * D || eps.size() != B * D || gradAtX0.size() != B * D ||
      edgeLow.size() != edgeHigh.size() ||
      (!edgeLow.empty() && edgeLow.size() != static_cast<std::size_t>(D)) || !(kT > 0) ||
      !(curvatureStep > 0)) {
    throw std::invalid_argument("scoreMixedTargets: inconsistent sizes, kT or curvature step");
  }
  std::vector<double> target(x0), y(D), w(D), probe(2 * D * D), energy(2 * D), grad(2 * D * D);
  for (std::size_t i = 0; i < B; ++i) {
    const double s2 = std::exp(-l[i]), sd = std::sqrt(s2);
    for (int d = 0; d < D; ++d) y[d] = x0[i * D + d] + sd * eps[i * D + d];
    scoreMixWeights(potential, kT, edgeLow, edgeHigh, y.data(), l[i], curvatureStep, w.data(),
                    probe.data(), energy.data(), grad.data());
    for (int d = 0; d < D; ++d) {
      target[i * D + d] += w[d] * (sd * eps[i * D + d] - s2 * gradAtX0[i * D + d]);
    }
  }
  return target;
}

DenoiserNetwork trainDenoiser(const torch::Tensor& samplesIn, const TrainingSettings& s,
                              const TrainingProgress& progress, const BankRefiner& refiner) {
  if (samplesIn.dim() != 2 || samplesIn.size(0) < 1 || samplesIn.size(1) < 1) {
    throw std::invalid_argument("trainDenoiser: samples must be a non-empty [n, D] tensor");
  }
  const auto samples = samplesIn.to(torch::kFloat64).contiguous();
  if (!torch::isfinite(samples).all().item<bool>()) {
    throw std::invalid_argument("trainDenoiser: the samples contain NaN or infinite values");
  }
  if (s.budget != "both" && s.budget != "steps" && s.budget != "seconds") {
    throw std::invalid_argument("trainDenoiser: budget must be both, steps or seconds");
  }
  if (!(s.lMax > s.lMin) || s.batchSize < 1 || s.maxSteps < 1 || !(s.maxSeconds > 0) ||
      s.lBins < 1 || !(s.learningRate > 0) || s.uniformFraction < 0 || s.uniformFraction > 1) {
    throw std::invalid_argument(
        "trainDenoiser: need l_max > l_min, batch size, max steps, bins >= 1, max seconds > 0, "
        "learning rate > 0 and a uniform fraction in [0, 1]");
  }
  const auto t0 = Clock::now();
  const long long n = samples.size(0);
  const int D = static_cast<int>(samples.size(1));
  torch::set_num_threads(std::max(1, s.threads));
  torch::manual_seed(s.seed);  // the network's initial weights

  DenoiserMetadata meta;
  meta.dimension = D;
  meta.hidden = s.hidden;
  meta.layers = s.layers;
  meta.xFrequencies = s.xFrequencies;
  meta.lFrequencies = s.lFrequencies;
  meta.features = s.features;
  meta.lMin = s.lMin;
  meta.lMax = s.lMax;
  meta.seed = s.seed;
  meta.source = s.source;
  // x is measured in units of the data's RMS spread, so that the embedding frequencies fit the
  // data.
  const double spread = std::sqrt((samples - samples.mean(0)).pow(2).mean().item<double>());
  meta.xScale = spread > 0 ? spread : 1.0;
  if (!s.dataLow.empty()) {
    meta.dataLow = s.dataLow;
    meta.dataHigh = s.dataHigh;
  } else {
    const auto lo = std::get<0>(samples.min(0)), hi = std::get<0>(samples.max(0));
    meta.dataLow.assign(lo.data_ptr<double>(), lo.data_ptr<double>() + D);
    meta.dataHigh.assign(hi.data_ptr<double>(), hi.data_ptr<double>() + D);
  }

  DenoiserNetwork net(meta);
  // Training precision: float32 is about twice as fast on a CPU; the returned network is float64.
  const auto dtype = s.precision == "float64" ? torch::kFloat64 : torch::kFloat32;
  net->to(dtype);
  net->train();
  const auto trainSamples = samples.to(dtype);
  auto toTrainingType = [dtype](PosteriorBank& p) {
    p.l = p.l.to(dtype);
    p.x = p.x.to(dtype);
    p.target = p.target.to(dtype);
    // A bank without covariance information (e.g. from a custom refiner) gets ESS 0, which keeps
    // its points out of the covariance term.
    if (!p.covTrace.defined() || !p.ess.defined()) {
      p.covTrace = torch::zeros({p.l.size(0)}, torch::kFloat64);
      p.ess = torch::zeros({p.l.size(0)}, torch::kFloat64);
    }
    p.covTrace = p.covTrace.to(dtype);
    p.ess = p.ess.to(dtype);
  };
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(s.learningRate));
  // Exponential moving average of the weights (what is returned): it averages out the minibatch
  // noise that dominates the late steps. Its decay 1 - 9 / (10 + step), capped at kEmaMaxDecay,
  // averages over roughly the last 11 % of the steps taken so far.
  std::vector<torch::Tensor> params = net->parameters(), ema;
  for (const auto& p : params) ema.push_back(p.detach().clone());

  // The sampling density of l: bins of width h on [lMin, lMax], probability prob[b] each, so
  // p(l) (lMax - lMin) = prob[b] * nb inside bin b.
  const int nb = s.lBins;
  const double range = s.lMax - s.lMin, h = range / nb;
  std::vector<double> prob(nb, 1.0 / nb), cdf(nb), binLoss(nb, 0.0);
  std::vector<char> binSeen(nb, 0);
  Rng rng(s.seed, 0x6c6f7373ULL);  // minibatches, l and noise: independent of torch's generator

  // Cumulative sample weights for the minibatch draw (empty = equal weights).
  std::vector<double> sampleCdf;
  if (s.sampleLogWeights.defined()) {
    if (s.sampleLogWeights.dim() != 1 || s.sampleLogWeights.size(0) != n ||
        !torch::isfinite(s.sampleLogWeights).all().item<bool>()) {
      throw std::invalid_argument("trainDenoiser: sampleLogWeights must be [n] finite values");
    }
    const auto lw = s.sampleLogWeights.to(torch::kFloat64).contiguous();
    const auto w = torch::exp(lw - lw.max());
    const double* wp = w.data_ptr<double>();
    sampleCdf.resize(static_cast<std::size_t>(n));
    double acc = 0.0;
    for (long long j = 0; j < n; ++j) sampleCdf[j] = (acc += wp[j]);
  }

  // Target score matching: dU/dx / kT at every sample, once.
  const ScoreSource score = scoreSource(s, samples, meta.xScale);
  const Potential* scorePot = score.potential.get();
  const double* sampleGrad = scorePot ? score.gradients.data_ptr<double>() : nullptr;
  std::vector<double> tsmTarget, tsmX0, tsmGrad;

  // Off-distribution points with empirical posterior-mean targets (part of the time budget).
  PosteriorBank bank;
  long long bankKept = 0;
  if (s.bankPoints > 0) {
    const auto tBank = Clock::now();
    bank = posteriorBank(samples, meta.dataLow, meta.dataHigh, s.bankPoints, s.bankEta, s.bankLLow,
                         s.bankLHigh, s.bankMinEss, s.seed, s.sampleLogWeights);
    bankKept = bank.l.size(0);
    toTrainingType(bank);
    meta.source += fmt::format(
        "; posterior bank: {} of {} points kept (effective sample size >= {}), {:.1f} s", bankKept,
        s.bankPoints, s.bankMinEss, secondsSince(tBank));
  }

  // Points around the geodesics of the network being trained (see BankRefiner).
  PosteriorBank curvePoints;
  long long curveKept = 0;
  int round = 0;
  const int rounds = refiner ? s.refineRounds : 0;

  const int B = s.batchSize;
  std::vector<std::int64_t> index(B);
  std::vector<double> lv(B), importance(B), eps(static_cast<std::size_t>(B) * D);
  std::vector<int> bin(B);
  std::vector<double> binSum(nb), binCount(nb);
  double intervalSum = 0.0;
  int intervalCount = 0;
  long long step = 0;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

  // The fraction of the budget used, which drives the learning rate and the refinement rounds.
  auto budgetFraction = [&s](long long steps, double seconds) {
    const double bySteps = static_cast<double>(steps) / static_cast<double>(s.maxSteps);
    if (s.budget == "steps") return bySteps;
    if (s.budget == "seconds") return seconds / s.maxSeconds;
    return std::max(bySteps, seconds / s.maxSeconds);
  };
  for (; step < s.maxSteps; ++step) {
    const double elapsed = secondsSince(t0);
    if (step > 0 && elapsed >= s.maxSeconds) break;
    const double fraction = budgetFraction(step, elapsed);
    double lr = s.learningRate * (kFinalLearningRateFraction +
                                  (1.0 - kFinalLearningRateFraction) * 0.5 *
                                      (1.0 + std::cos(std::numbers::pi * std::min(1.0, fraction))));
    if (step < kWarmupSteps) lr *= static_cast<double>(step + 1) / kWarmupSteps;

    // Refinement round: the refiner sees the averaged weights (what would be returned now).
    if (round < rounds && fraction >= s.refineStart + (s.refineEnd - s.refineStart) * round /
                                                          std::max(1, rounds - 1)) {
      std::vector<torch::Tensor> current;
      {
        torch::NoGradGuard noGrad;
        for (std::size_t k = 0; k < params.size(); ++k) {
          current.push_back(params[k].detach().clone());
          params[k].copy_(ema[k]);
        }
      }
      net->to(torch::kFloat64);
      net->eval();
      PosteriorBank extra = refiner(net, round);
      net->to(dtype);
      net->train();
      {
        torch::NoGradGuard noGrad;
        for (std::size_t k = 0; k < params.size(); ++k) params[k].copy_(current[k]);
      }
      if (extra.l.defined() && extra.l.size(0) > 0) {
        toTrainingType(extra);
        if (curveKept == 0) {
          curvePoints = std::move(extra);
        } else {
          curvePoints.l = torch::cat({curvePoints.l, extra.l});
          curvePoints.x = torch::cat({curvePoints.x, extra.x});
          curvePoints.target = torch::cat({curvePoints.target, extra.target});
          curvePoints.covTrace = torch::cat({curvePoints.covTrace, extra.covTrace});
          curvePoints.ess = torch::cat({curvePoints.ess, extra.ess});
        }
        curveKept = curvePoints.l.size(0);
      }
      ++round;
    }
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    }

    // Minibatch, l by inverse CDF over the bins, noise.
    double acc = 0.0;
    for (int b = 0; b < nb; ++b) cdf[b] = (acc += prob[b]);
    for (int i = 0; i < B; ++i) {
      if (sampleCdf.empty()) {
        index[i] = static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(n));
      } else {  // importance-weighted samples: draw j with probability ∝ exp(logWeight_j)
        const double u = rng.uniform() * sampleCdf.back();
        index[i] = std::min<std::int64_t>(
            n - 1, std::upper_bound(sampleCdf.begin(), sampleCdf.end(), u) - sampleCdf.begin());
      }
      const double u = rng.uniform() * acc;
      const int k = std::min<int>(
          nb - 1, static_cast<int>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin()));
      bin[i] = k;
      lv[i] = s.lMin + (k + rng.uniform()) * h;
      importance[i] = 1.0 / (prob[k] * nb);
    }
    for (auto& e : eps) e = rng.normal();

    const auto idxT = torch::from_blob(index.data(), {B}, torch::kInt64).clone();
    const auto lT = torch::from_blob(lv.data(), {B}, f64).to(dtype, false, true);
    const auto wT = torch::from_blob(importance.data(), {B}, f64).to(dtype, false, true);
    const auto epsT = torch::from_blob(eps.data(), {B, D}, f64).to(dtype, false, true);
    const auto x0 = trainSamples.index_select(0, idxT);
    const auto lc = lT.unsqueeze(-1);
    const auto x = torch::sqrt(torch::sigmoid(lc)) * x0 + torch::sqrt(torch::sigmoid(-lc)) * epsT;
    const auto pred = net->forward(x, lT);
    torch::Tensor target = x0;
    if (scorePot) {
      // Score-mixed targets (see TrainingSettings::scorePotential), in float64.
      const double* xs = samples.data_ptr<double>();
      tsmX0.resize(static_cast<std::size_t>(B) * D);
      tsmGrad.resize(static_cast<std::size_t>(B) * D);
      for (int i = 0; i < B; ++i) {
        for (int d = 0; d < D; ++d) {
          tsmX0[i * D + d] = xs[index[i] * D + d];
          tsmGrad[i * D + d] = sampleGrad[index[i] * D + d];
        }
      }
      tsmTarget = scoreMixedTargets(*scorePot, score.kT, score.edgeLow, score.edgeHigh, tsmX0, eps,
                                    lv, tsmGrad, score.curvatureStep);
      target = torch::from_blob(tsmTarget.data(), {B, D}, f64).to(dtype, false, true);
    }
    const auto weighted = lossWeight(lT) * (pred - target).pow(2).sum(1);
    auto loss = (weighted * wT).mean();
    // Bank and refinement points: round(fraction * B) drawn uniformly, same weight w(l) as the
    // denoising loss.
    auto pointsLoss = [&](const PosteriorBank& p, long long kept, double share) {
      const int m = std::max(1, static_cast<int>(std::lround(share * B)));
      std::vector<std::int64_t> pick(m);
      for (auto& v : pick)
        v = static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(kept));
      const auto idx = torch::from_blob(pick.data(), {m}, torch::kInt64).clone();
      const auto pl = p.l.index_select(0, idx);
      const auto px = p.x.index_select(0, idx);
      const auto pPred = net->forward(px, pl);
      auto term = (lossWeight(pl) * (pPred - p.target.index_select(0, idx)).pow(2).sum(1)).mean();
      if (s.covarianceWeight > 0 && s.covariancePoints > 0) {
        // Tweedie: Cov[x0 | z] = (sigma^2 / alpha) dD/dx. Its trace against the samples' at the
        // first covariancePoints of the (random) picks; the divergence by one backward pass per
        // coordinate, kept in the graph so that the loss trains it.
        const long long c = std::min<long long>(s.covariancePoints, m);
        const auto cl = pl.narrow(0, 0, c);
        const auto cx = px.narrow(0, 0, c).detach().requires_grad_(true);
        const auto cPred = net->forward(cx, cl);
        torch::Tensor div = torch::zeros_like(cl);
        for (int d = 0; d < D; ++d) {
          div = div + torch::autograd::grad({cPred.select(1, d).sum()}, {cx}, {},
                                            /*retain_graph=*/true, /*create_graph=*/true)[0]
                          .select(1, d);
        }
        const auto scale = torch::sigmoid(-cl) / torch::sqrt(torch::sigmoid(cl));
        const auto ci = idx.narrow(0, 0, c);
        const auto reliable = (p.ess.index_select(0, ci) >= kCovarianceMinEss).to(cl.dtype());
        term = term + s.covarianceWeight * (lossWeight(cl) * reliable *
                                            (scale * div - p.covTrace.index_select(0, ci)).pow(2))
                                               .mean();
      }
      return term;
    };
    if (bankKept > 0) loss = loss + pointsLoss(bank, bankKept, s.bankFraction);
    if (curveKept > 0) loss = loss + pointsLoss(curvePoints, curveKept, s.refineFraction);

    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    {
      torch::NoGradGuard noGrad;
      const double decay = std::min(kEmaMaxDecay, 1.0 - 9.0 / (10.0 + static_cast<double>(step)));
      for (std::size_t k = 0; k < params.size(); ++k) {
        ema[k].mul_(decay).add_(params[k].detach(), 1.0 - decay);
      }
    }

    const double lossValue = loss.item<double>();
    if (!std::isfinite(lossValue)) {
      throw std::runtime_error(fmt::format(
          "trainDenoiser: the loss became {} at step {}; lower training.learning_rate (now {})",
          lossValue, step, s.learningRate));
    }
    intervalSum += lossValue;
    if (++intervalCount == s.logInterval) {
      meta.lossCurve.push_back(intervalSum / intervalCount);
      intervalSum = 0.0;
      intervalCount = 0;
    }

    // Running per-bin weighted loss, and the new bin probabilities from it.
    const auto wl = weighted.detach().to(torch::kFloat64).contiguous();
    const double* wlp = wl.data_ptr<double>();
    std::fill(binSum.begin(), binSum.end(), 0.0);
    std::fill(binCount.begin(), binCount.end(), 0.0);
    for (int i = 0; i < B; ++i) {
      binSum[bin[i]] += wlp[i];
      binCount[bin[i]] += 1.0;
    }
    bool allSeen = true;
    for (int b = 0; b < nb; ++b) {
      if (binCount[b] > 0) {
        const double mean = binSum[b] / binCount[b];
        binLoss[b] = binSeen[b] ? (1.0 - kBinLossDecay) * binLoss[b] + kBinLossDecay * mean : mean;
        binSeen[b] = 1;
      }
      allSeen = allSeen && binSeen[b];
    }
    if (allSeen) {
      double total = 0.0;
      for (double v : binLoss) total += v;
      if (total > 0 && std::isfinite(total)) {
        for (int b = 0; b < nb; ++b) {
          prob[b] = (1.0 - s.uniformFraction) * binLoss[b] / total + s.uniformFraction / nb;
        }
      }
    }

    if (progress) {
      const double shown =
          meta.lossCurve.empty() ? intervalSum / std::max(1, intervalCount) : meta.lossCurve.back();
      progress(step + 1, budgetFraction(step + 1, secondsSince(t0)), shown);
    }
  }
  // A short run still reports its loss: the last partial interval when no full one was logged.
  if (meta.lossCurve.empty() && intervalCount > 0) {
    meta.lossCurve.push_back(intervalSum / intervalCount);
  }

  {
    torch::NoGradGuard noGrad;
    for (std::size_t k = 0; k < params.size(); ++k) params[k].copy_(ema[k]);
  }
  net->to(torch::kFloat64);
  net->meta = meta;
  net->meta.steps = step;
  net->meta.seconds = secondsSince(t0);
  net->eval();
  return net;
}

torch::Tensor langevinSamples(const Potential& potential, double kT,
                              const std::vector<double>& lowIn, const std::vector<double>& highIn,
                              long long n, int steps, double stepSize, std::uint64_t seed,
                              int threads, LangevinStart start) {
  const int D = potential.dimension();
  if (n < 1 || steps < 0 || !(stepSize > 0) || !(kT > 0)) {
    throw std::invalid_argument("langevinSamples: need n >= 1, steps >= 0, ds > 0 and kT > 0");
  }
  std::vector<double> low = lowIn, high = highIn;
  if (low.empty() && high.empty()) {
    if (!potential.hasDataBox()) {
      throw std::invalid_argument(
          "langevinSamples: a potential without a data box needs the box of the start grid");
    }
    for (int d = 0; d < D; ++d) {
      low.push_back(potential.boxLow(d));
      high.push_back(potential.boxHigh(d));
    }
  }
  if (static_cast<int>(low.size()) != D || static_cast<int>(high.size()) != D) {
    throw std::invalid_argument(
        fmt::format("langevinSamples: the box needs {} lower and upper bounds", D));
  }
  for (int d = 0; d < D; ++d) {
    if (!(high[d] > low[d])) throw std::invalid_argument("langevinSamples: empty box");
  }

  // Start grid: g points per dimension at the cell centres, g^D >= n (uniform: walker i takes the
  // cell i * g^D / n, which spreads the walkers evenly when n is not a perfect power) and, for the
  // Boltzmann start, g^D >= 40000 so that the resampled density resolves the basins.
  const double minCells =
      start == LangevinStart::Boltzmann ? std::max(static_cast<double>(n), 40000.0) : n;
  long long g = std::max(1LL, static_cast<long long>(std::floor(std::pow(minCells, 1.0 / D))));
  auto power = [&](long long base) {
    long long p = 1;
    for (int d = 0; d < D; ++d) p *= base;
    return p;
  };
  while (static_cast<double>(power(g)) < minCells) ++g;
  const long long cells = power(g);
  auto cellCentre = [&](long long cell, double* x) {
    for (int d = 0; d < D; ++d) {
      const long long k = cell % g;
      cell /= g;
      x[d] = low[d] + (k + 0.5) * (high[d] - low[d]) / g;
    }
  };
  // Start cell of each walker.
  std::vector<long long> startCell(static_cast<std::size_t>(n));
  if (start == LangevinStart::UniformGrid) {
    for (long long i = 0; i < n; ++i) {
      startCell[i] = static_cast<long long>((static_cast<__int128>(i) * cells) / n);
    }
  } else {
    // Systematic resampling of the grid with weights exp(-(U - U_min)/kT).
    std::vector<double> energy(static_cast<std::size_t>(cells));
    parallelFor(static_cast<std::size_t>(cells), resolveThreads(threads),
                [&](std::size_t begin, std::size_t end, int) {
                  std::vector<double> x(D);
                  for (std::size_t c = begin; c < end; ++c) {
                    cellCentre(static_cast<long long>(c), x.data());
                    potential.evaluate(x.data(), 1, &energy[c], nullptr);
                  }
                });
    const double uMin = *std::min_element(energy.begin(), energy.end());
    if (!std::isfinite(uMin)) {
      throw SamplerError("langevinSamples: the potential is not finite on the start grid");
    }
    std::vector<double> cumulative(static_cast<std::size_t>(cells));
    double total = 0.0;
    for (long long c = 0; c < cells; ++c) {
      total += std::isfinite(energy[c]) ? std::exp(-(energy[c] - uMin) / kT) : 0.0;
      cumulative[c] = total;
    }
    Rng rng(seed, 0x7374617274ULL);
    const double offset = rng.uniform();
    long long c = 0;
    for (long long i = 0; i < n; ++i) {
      const double target = (static_cast<double>(i) + offset) / static_cast<double>(n) * total;
      while (c + 1 < cells && cumulative[c] <= target) ++c;
      startCell[i] = c;
    }
  }

  auto out = torch::empty({n, D}, torch::TensorOptions().dtype(torch::kFloat64));
  double* result = out.data_ptr<double>();
  const double halfDs = 0.5 * stepSize, sqrtDs = std::sqrt(stepSize), invKT = 1.0 / kT;
  const bool periodic = potential.isPeriodic();

  parallelFor(
      static_cast<std::size_t>(n), resolveThreads(threads),
      [&](std::size_t begin, std::size_t end, int) {
        std::vector<double> x(kLangevinBatch * D), u(kLangevinBatch), grad(kLangevinBatch * D);
        std::vector<Rng> rngs;
        for (std::size_t b0 = begin; b0 < end; b0 += kLangevinBatch) {
          const int nB = static_cast<int>(std::min<std::size_t>(kLangevinBatch, end - b0));
          rngs.clear();
          for (int b = 0; b < nB; ++b) {
            const long long i = static_cast<long long>(b0) + b;
            rngs.emplace_back(seed, static_cast<std::uint64_t>(i));
            cellCentre(startCell[i], &x[b * D]);
          }
          for (int step = 0; step < steps; ++step) {
            potential.evaluate(x.data(), nB, u.data(), grad.data());
            for (int b = 0; b < nB; ++b) {
              for (int d = 0; d < D; ++d) {
                x[b * D + d] += -halfDs * grad[b * D + d] * invKT + sqrtDs * rngs[b].normal();
              }
            }
          }
          for (int b = 0; b < nB; ++b) {
            for (int d = 0; d < D; ++d) {
              double v = x[b * D + d];
              if (!std::isfinite(v)) {
                throw SamplerError(
                    fmt::format("langevinSamples: walker {} left the finite range; reduce "
                                "training.langevin_step_size (now {})",
                                b0 + b, stepSize));
              }
              if (periodic && potential.period(d) > 0.0) {  // a non-periodic axis: kept
                const double lo = potential.boxLow(d), p = potential.period(d);
                v = lo + (v - lo) - p * std::floor((v - lo) / p);
                if (v >= lo + p) v = lo;  // floating-point edge
              }
              result[(b0 + b) * D + d] = v;
            }
          }
        }
      });
  return out;
}

torch::Tensor temperedLogWeights(const Potential& potential, const torch::Tensor& samplesIn,
                                 double kT, double factor) {
  if (samplesIn.dim() != 2 || samplesIn.size(1) != potential.dimension() || !(kT > 0) ||
      !(factor > 0)) {
    throw std::invalid_argument(
        "temperedLogWeights: need [n, D] samples of the potential's dimension, kT > 0 and a "
        "temperature factor > 0");
  }
  const auto samples = samplesIn.to(torch::kFloat64).contiguous();
  const long long n = samples.size(0);
  auto logW = torch::empty({n}, torch::TensorOptions().dtype(torch::kFloat64));
  potential.evaluate(samples.data_ptr<double>(), static_cast<std::size_t>(n),
                     logW.data_ptr<double>(), nullptr);
  // Samples of exp(-U / (f kT)) reweighted to exp(-U / kT): log w = -U (1 - 1/f) / kT.
  logW.mul_(-(1.0 - 1.0 / factor) / kT);
  if (!torch::isfinite(logW).all().item<bool>()) {
    throw SamplerError("temperedLogWeights: the potential is not finite at every sample");
  }
  return logW;
}

double effectiveSampleSize(const torch::Tensor& logWeights) {
  const auto w = torch::exp(logWeights.to(torch::kFloat64) - logWeights.max().item<double>());
  return (w.sum().pow(2) / w.pow(2).sum()).item<double>();
}

long long cvFrameCount(const std::string& h5path) {
  H5File f(h5path, H5File::Mode::Read);
  requireRunResult(f);
  if (!f.exists("/full_atom/cv")) {
    throw H5Error(h5path +
                  ": no /full_atom/cv dataset; CV samples come from a result file written by "
                  "`geotps run` on an openmm config");
  }
  const auto shape = f.shape("/full_atom/cv");
  if (shape.size() != 3 || shape[2] < 1) {
    throw H5Error(h5path + ": /full_atom/cv is not an [M, F, D] array");
  }
  return static_cast<long long>(shape[0] * shape[1]);
}

int cvDimensionOf(const std::string& h5path) {
  cvFrameCount(h5path);  // checks the dataset
  return static_cast<int>(H5File(h5path, H5File::Mode::Read).shape("/full_atom/cv")[2]);
}

torch::Tensor cvSamplesFromResult(const std::string& h5path, long long stride) {
  if (stride < 1) throw std::invalid_argument("cvSamplesFromResult: stride must be >= 1");
  const long long frames = cvFrameCount(h5path);
  if (frames == 0) throw H5Error(h5path + ": /full_atom/cv holds no frames");
  const int D = cvDimensionOf(h5path);
  const auto all = H5File(h5path, H5File::Mode::Read).readDoubles("/full_atom/cv");
  const long long n = (frames + stride - 1) / stride;
  auto out = torch::empty({n, D}, torch::TensorOptions().dtype(torch::kFloat64));
  double* dst = out.data_ptr<double>();
  const double pi = std::numbers::pi, twoPi = 2.0 * pi;
  for (long long k = 0; k < n; ++k) {
    for (int d = 0; d < D; ++d) {
      const double v = all[static_cast<std::size_t>(k * stride) * D + d];
      if (!std::isfinite(v))
        throw H5Error(fmt::format("{}: /full_atom/cv frame {} holds {}; expected finite angles",
                                  h5path, k * stride, v));
      dst[k * D + d] = v - twoPi * std::floor((v + pi) / twoPi);
    }
  }
  return out;
}

}  // namespace geotps
