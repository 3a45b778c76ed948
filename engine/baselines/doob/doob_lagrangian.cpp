// The Doob's Lagrangian baseline (Du et al., NeurIPS 2024): a Gaussian path trained on the
// first-order Lagrangian, with the potential's drift as a custom autograd function, and
// sampling of the path's SDE (exponential integrator, exact for the frozen gain).
#include "engine/baselines/doob/doob_lagrangian.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "engine/baselines/doob/doob_lagrangian_internal.h"
#include "engine/core/clock.h"
#include "engine/core/parallel.h"
#include "engine/core/random.h"

namespace geotps {

namespace detail {

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

/// grad U at n points (row-major, n x D) into `gradient`, in contiguous blocks over `threads`.
void evaluateGradients(const Potential& potential, const double* x, std::size_t n, double* gradient,
                       int threads) {
  const int D = potential.dimension();
  std::vector<double> energy(n);
  parallelFor(n, resolveThreads(threads), [&](std::size_t begin, std::size_t end, int) {
    potential.evaluate(x + begin * D, end - begin, energy.data() + begin, gradient + begin * D);
  });
}

/// b(x) = -D * grad U(x) / kT with the finite-difference Hessian-vector product as its backward.
struct PotentialDriftFunction : torch::autograd::Function<PotentialDriftFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* actx, const torch::Tensor& xIn,
                               DriftContext* ctx) {
    const auto x = xIn.detach().to(torch::kFloat64).contiguous();
    const std::int64_t B = x.size(0), D = x.size(1);
    auto grad = torch::empty({B, D}, kF64);
    evaluateGradients(*ctx->potential, x.data_ptr<double>(), static_cast<std::size_t>(B),
                      grad.data_ptr<double>(), ctx->threads);
    ctx->gradientEvaluations += B;
    actx->save_for_backward({x});
    actx->saved_data["context"] = static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(ctx));
    const auto dk = torch::from_blob(ctx->diffusion.data(), {D}, kF64).clone() / ctx->kT;
    return -grad * dk;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* actx,
                                                 torch::autograd::variable_list gradOutputs) {
    auto* ctx = reinterpret_cast<DriftContext*>(
        static_cast<std::intptr_t>(actx->saved_data["context"].toInt()));
    const auto x = actx->get_saved_variables()[0];
    const std::int64_t B = x.size(0), D = x.size(1);
    const auto w = gradOutputs[0].to(torch::kFloat64).contiguous();
    const double* xp = x.data_ptr<double>();
    const double* wp = w.data_ptr<double>();
    const double* dp = ctx->diffusion.data();
    const double h = ctx->hvpStep;

    // u = D ∘ w per row; the rows with u != 0 get the two displaced points x +- h u/|u|.
    std::vector<std::int64_t> rows;
    std::vector<double> norms, points;
    rows.reserve(B);
    for (std::int64_t i = 0; i < B; ++i) {
      double n2 = 0.0;
      for (std::int64_t d = 0; d < D; ++d) {
        const double u = dp[d] * wp[i * D + d];
        n2 += u * u;
      }
      if (n2 > 0.0) {
        rows.push_back(i);
        norms.push_back(std::sqrt(n2));
      }
    }
    const std::size_t m = rows.size();
    points.resize(2 * m * D);
    for (std::size_t k = 0; k < m; ++k) {
      const std::int64_t i = rows[k];
      for (std::int64_t d = 0; d < D; ++d) {
        const double step = h * dp[d] * wp[i * D + d] / norms[k];
        points[(2 * k) * D + d] = xp[i * D + d] + step;
        points[(2 * k + 1) * D + d] = xp[i * D + d] - step;
      }
    }
    std::vector<double> grads(points.size());
    evaluateGradients(*ctx->potential, points.data(), 2 * m, grads.data(), ctx->threads);
    ctx->gradientEvaluations += static_cast<long long>(2 * m);

    auto gradX = torch::zeros({B, D}, kF64);
    double* gp = gradX.data_ptr<double>();
    for (std::size_t k = 0; k < m; ++k) {
      const double factor = -norms[k] / (2.0 * h * ctx->kT);
      for (std::int64_t d = 0; d < D; ++d) {
        gp[rows[k] * D + d] = factor * (grads[(2 * k) * D + d] - grads[(2 * k + 1) * D + d]);
      }
    }
    return {gradX, torch::Tensor()};
  }
};

torch::Tensor siluDerivative(const torch::Tensor& z) {
  const auto sg = torch::sigmoid(z);
  return sg * (1.0 + z * (1.0 - sg));
}

}  // namespace

torch::Tensor potentialDrift(const torch::Tensor& x, DriftContext& ctx) {
  return PotentialDriftFunction::apply(x, &ctx);
}

DoobPathModelImpl::DoobPathModelImpl(const Eigen::VectorXd& aIn, const Eigen::VectorXd& bIn,
                                     int hidden, int layers, double sigmaMinIn,
                                     double timeHorizonIn, double lengthScaleIn)
    : dimension(static_cast<int>(aIn.size())),
      sigmaMin(sigmaMinIn),
      timeHorizon(timeHorizonIn),
      lengthScale(lengthScaleIn) {
  const Eigen::VectorXd ac = aIn, bc = bIn;
  a = register_buffer("a",
                      torch::from_blob(const_cast<double*>(ac.data()), {dimension}, kF64).clone());
  b = register_buffer("b",
                      torch::from_blob(const_cast<double*>(bc.data()), {dimension}, kF64).clone());
  int width = 1;
  for (int k = 0; k <= layers; ++k) {
    const int out = k < layers ? hidden : 2 * dimension;
    linears.push_back(register_module(fmt::format("linear{}", k), torch::nn::Linear(width, out)));
    width = out;
  }
  to(torch::kFloat64);
}

std::pair<torch::Tensor, torch::Tensor> DoobPathModelImpl::network(const torch::Tensor& s) {
  // Input 2s - 1 (in [-1, 1]); its s-derivative 2 is carried through every layer as the tangent.
  auto h = (2.0 * s - 1.0).reshape({-1, 1});
  auto dh = torch::full_like(h, 2.0);
  for (std::size_t k = 0; k < linears.size(); ++k) {
    const auto z = linears[k]->forward(h);
    const auto dz = torch::matmul(dh, linears[k]->weight.t());
    if (k + 1 == linears.size()) return {z, dz};
    h = torch::silu(z);
    dh = siluDerivative(z) * dz;
  }
  return {h, dh};  // not reached: there is always an output layer
}

PathState DoobPathModelImpl::forward(const torch::Tensor& sIn) {
  const auto s = sIn.reshape({-1, 1});
  const auto [out, dout] = network(s);
  const int D = dimension;
  const auto nnMu = lengthScale * out.slice(1, 0, D), dnnMu = lengthScale * dout.slice(1, 0, D);
  const auto nnSig = out.slice(1, D, 2 * D), dnnSig = dout.slice(1, D, 2 * D);
  const auto bump = s * (1.0 - s), dbump = 1.0 - 2.0 * s;
  const auto sp = lengthScale * torch::softplus(nnSig);
  PathState p;
  p.mu = (1.0 - s) * a + s * b + bump * nnMu;
  p.sigma = sigmaMin + bump * sp;
  const double invT = 1.0 / timeHorizon;
  p.dmu = (b - a + dbump * nnMu + bump * dnnMu) * invT;
  p.dsigma = (dbump * sp + bump * lengthScale * torch::sigmoid(nnSig) * dnnSig) * invT;
  return p;
}

torch::Tensor pathDrift(const PathState& p, const torch::Tensor& x,
                        const torch::Tensor& diffusion) {
  return p.dmu + (p.dsigma / p.sigma - diffusion / (p.sigma * p.sigma)) * (x - p.mu);
}

torch::Tensor lagrangianSamples(DoobPathModel& model, const torch::Tensor& s,
                                const torch::Tensor& eps, DriftContext& ctx) {
  const std::int64_t D = model->dimension;
  const auto diffusion = torch::from_blob(ctx.diffusion.data(), {D}, kF64).clone();
  const PathState p = model->forward(s);
  const auto x = p.mu + p.sigma * eps;
  const auto v = pathDrift(p, x, diffusion);
  const auto bx = potentialDrift(x, ctx);
  return (0.5 * model->timeHorizon) * ((v - bx).pow(2) / diffusion).sum(1);
}

}  // namespace detail

namespace {

constexpr std::uint64_t kTrainingStream = 0x646f6f62ULL;  // s and eps of training ("doob")
constexpr int kProgressUpdates = 100;                     // progress calls per phase
constexpr int kWalkerBatch = 32;                          // walkers per potential call

void require(bool ok, const char* name, const std::string& what) {
  if (!ok) {
    throw std::invalid_argument(fmt::format("runDoobLagrangian: {} {}", name, what));
  }
}

void validate(const Potential& potential, const Eigen::VectorXd& a, const Eigen::VectorXd& b,
              const DoobDynamics& dyn, const DoobSettings& s) {
  const int D = potential.dimension();
  require(D > 0, "potential", fmt::format("must have a positive dimension (got {})", D));
  require(dyn.diffusion.size() == D, "diffusion",
          fmt::format("must have one entry per coordinate ({}, got {})", D, dyn.diffusion.size()));
  for (Eigen::Index d = 0; d < dyn.diffusion.size(); ++d) {
    require(std::isfinite(dyn.diffusion[d]) && dyn.diffusion[d] > 0, "diffusion",
            fmt::format("must be positive and finite (entry {} is {})", d, dyn.diffusion[d]));
  }
  require(std::isfinite(dyn.kT) && dyn.kT > 0, "kT", fmt::format("must be > 0 (got {})", dyn.kT));
  require(a.size() == D, "a", fmt::format("must have {} coordinates (got {})", D, a.size()));
  require(b.size() == D, "b", fmt::format("must have {} coordinates (got {})", D, b.size()));
  require(a.allFinite(), "a", "must be finite");
  require(b.allFinite(), "b", "must be finite");
  require(s.hidden > 0, "hidden", fmt::format("must be >= 1 (got {})", s.hidden));
  require(s.layers > 0, "layers", fmt::format("must be >= 1 (got {})", s.layers));
  require(std::isfinite(s.sigmaMin) && s.sigmaMin > 0, "sigmaMin",
          fmt::format("must be > 0 (got {})", s.sigmaMin));
  require(s.warmupIterations >= 0, "warmupIterations",
          fmt::format("must be >= 0 (got {})", s.warmupIterations));
  require(std::isfinite(s.energyCap) && s.energyCap > 0, "energyCap",
          fmt::format("must be > 0 (got {})", s.energyCap));
  require(std::isfinite(s.lengthScale) && s.lengthScale > 0, "lengthScale",
          fmt::format("must be > 0 (got {})", s.lengthScale));
  require(std::isfinite(s.timeHorizon) && s.timeHorizon > 0, "timeHorizon",
          fmt::format("must be > 0 (got {})", s.timeHorizon));
  require(s.iterations > 0, "iterations", fmt::format("must be >= 1 (got {})", s.iterations));
  require(s.batchSize > 0, "batchSize", fmt::format("must be >= 1 (got {})", s.batchSize));
  require(std::isfinite(s.learningRate) && s.learningRate > 0, "learningRate",
          fmt::format("must be > 0 (got {})", s.learningRate));
  require(std::isfinite(s.hvpStep) && s.hvpStep > 0, "hvpStep",
          fmt::format("must be > 0 (got {})", s.hvpStep));
  require(s.nPaths > 0, "nPaths", fmt::format("must be >= 1 (got {})", s.nPaths));
  require(s.nSteps > 0, "nSteps", fmt::format("must be >= 1 (got {})", s.nSteps));
  require(s.frameStride >= 0, "frameStride",
          fmt::format("must be >= 0 (0 = no frames; got {})", s.frameStride));
  require(s.threads >= 0, "threads",
          fmt::format("must be >= 0 (0 = all cores; got {})", s.threads));
}

/// Restores torch's intra-op thread count on scope exit.
class TorchThreadsGuard {
 public:
  explicit TorchThreadsGuard(int threads) : saved_(torch::get_num_threads()) {
    torch::set_num_threads(threads);
  }
  ~TorchThreadsGuard() { torch::set_num_threads(saved_); }
  TorchThreadsGuard(const TorchThreadsGuard&) = delete;
  TorchThreadsGuard& operator=(const TorchThreadsGuard&) = delete;

 private:
  int saved_;
};

/// U0 + c asinh((U - U0) / c): equal to U near U0, logarithmic far above it (see warmupIterations).
class SoftenedPotential final : public Potential {
 public:
  SoftenedPotential(const Potential& inner, double u0, double cap)
      : inner_(inner), u0_(u0), cap_(cap) {}
  int dimension() const override { return inner_.dimension(); }
  void evaluate(const double* x, std::size_t n, double* energy, double* gradient) const override {
    inner_.evaluate(x, n, energy, gradient);
    const int D = inner_.dimension();
    for (std::size_t i = 0; i < n; ++i) {
      const double r = (energy[i] - u0_) / cap_;
      if (gradient) {
        const double f = 1.0 / std::sqrt(1.0 + r * r);
        for (int d = 0; d < D; ++d) gradient[i * D + d] *= f;
      }
      energy[i] = u0_ + cap_ * std::asinh(r);
    }
  }
  std::string name() const override { return "softened " + inner_.name(); }

 private:
  const Potential& inner_;
  double u0_, cap_;
};

}  // namespace

DoobResult runDoobLagrangian(const Potential& potential, const Eigen::VectorXd& a,
                             const Eigen::VectorXd& b, const DoobDynamics& dynamics,
                             const DoobSettings& settings,
                             const std::function<double(const double*)>& lookup,
                             const DoobProgress& progress) {
  validate(potential, a, b, dynamics, settings);
  const DoobSettings& st = settings;
  const int D = potential.dimension();
  const double T = st.timeHorizon;
  DoobResult result;
  result.dimension = D;

  // ---- training (one torch thread: bit-reproducible for a seed) ----
  const auto tTrain = Clock::now();
  detail::DoobPathModel model{nullptr};
  {
    TorchThreadsGuard torchThreads(1);
    torch::manual_seed(st.seed);  // the network's initial weights
    model = detail::DoobPathModel(a, b, st.hidden, st.layers, st.sigmaMin, T, st.lengthScale);
    model->train();
    torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(st.learningRate));
    detail::DriftContext ctx;
    const SoftenedPotential softened(
        potential, std::min(potential.energy(a.data()), potential.energy(b.data())), st.energyCap);
    ctx.potential = st.warmupIterations > 0 ? static_cast<const Potential*>(&softened) : &potential;
    ctx.diffusion = dynamics.diffusion;
    ctx.kT = dynamics.kT;
    ctx.hvpStep = st.hvpStep;
    ctx.threads = st.threads;

    Rng rng(st.seed, kTrainingStream);
    const int B = st.batchSize;
    std::vector<double> sv(B), ev(static_cast<std::size_t>(B) * D);
    const int every = std::max(1, st.iterations / kProgressUpdates);
    result.lossHistory.reserve(st.iterations);
    for (int step = 0; step < st.iterations; ++step) {
      if (step == st.warmupIterations) ctx.potential = &potential;
      // s stratified over [0, 1) (one uniform draw per 1/B interval): still uniform marginally,
      // with less variance of the time integral than independent draws.
      for (int i = 0; i < B; ++i) sv[i] = (i + rng.uniform()) / B;
      for (auto& e : ev) e = rng.normal();
      const auto s = torch::from_blob(sv.data(), {B}, detail::kF64).clone();
      const auto eps = torch::from_blob(ev.data(), {B, D}, detail::kF64).clone();
      const auto loss = detail::lagrangianSamples(model, s, eps, ctx).mean();
      const double lossValue = loss.item<double>();
      if (!std::isfinite(lossValue)) {
        throw std::runtime_error(fmt::format(
            "runDoobLagrangian: the loss became {} at training step {}; lower learningRate (now "
            "{}) or raise sigmaMin (now {})",
            lossValue, step, st.learningRate, st.sigmaMin));
      }
      result.lossHistory.push_back(lossValue);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      if (progress && ((step + 1) % every == 0 || step + 1 == st.iterations)) {
        progress("training", step + 1, st.iterations);
      }
    }
    result.trainingEnergyEvaluations = ctx.gradientEvaluations.load();
    model->eval();
  }
  result.trainSeconds = secondsSince(tTrain);

  // ---- sampling ----
  const auto tSample = Clock::now();
  const int K = st.nSteps;
  const double dt = T / K;
  Eigen::MatrixXd dsigmaPath;
  {
    torch::NoGradGuard noGrad;
    TorchThreadsGuard torchThreads(1);
    const auto s = torch::arange(K + 1, detail::kF64) / static_cast<double>(K);
    const detail::PathState p = model->forward(s);
    auto toEigen = [&](const torch::Tensor& t) {
      const auto c = t.contiguous();
      return Eigen::MatrixXd(
          Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
              c.data_ptr<double>(), K + 1, D));
    };
    result.meanPath = toEigen(p.mu);
    result.sigmaPath = toEigen(p.sigma);
    dsigmaPath = toEigen(p.dsigma);
  }
  // v_k(x) = dmu_k + gain_k (x - mu_k) at step k, gain = sigma'/sigma - D/sigma^2. The SDE is
  // linear in y = x - mu, so each step is integrated exactly with the gain frozen over the step
  // (an exponential integrator): y <- e^(g dt) y + sqrt(D (e^(2 g dt) - 1) / g) xi, and x =
  // mu_(k+1)
  // + y. Unlike Euler-Maruyama this stays stable when dt D / sigma^2 is large (near the end points,
  // where sigma = sigma_min, and for light atoms in full atom).
  const Eigen::MatrixXd gain = dsigmaPath.cwiseQuotient(result.sigmaPath) -
                               (result.sigmaPath.cwiseProduct(result.sigmaPath)).cwiseInverse() *
                                   dynamics.diffusion.asDiagonal();
  Eigen::MatrixXd decay(K + 1, D), noiseSd(K + 1, D);
  for (int k = 0; k <= K; ++k) {
    for (int d = 0; d < D; ++d) {
      const double gdt = gain(k, d) * dt, Dd = dynamics.diffusion[d];
      decay(k, d) = std::exp(gdt);
      noiseSd(k, d) = std::abs(gdt) < 1e-10 ? std::sqrt(2.0 * Dd * dt)
                                            : std::sqrt(Dd * std::expm1(2.0 * gdt) / gain(k, d));
    }
  }

  const int M = st.nPaths;
  const std::size_t framesPerPath = static_cast<std::size_t>(K) + 1;
  const std::size_t stored = st.frameStride > 0 ? framesPerPath / st.frameStride : 0;
  result.framesPerPath = framesPerPath;
  result.storedPerPath = stored;
  result.frames.assign(static_cast<std::size_t>(M) * stored * D, 0.0f);
  result.maxEnergy.resize(M);
  if (lookup) result.maxEnergyLookup.resize(M);
  result.finalPositions.resize(M, D);
  const int threads = resolveThreads(st.threads);

  // Walkers i in [begin, end), in batches of kWalkerBatch for the potential's calls; walker i draws
  // from its own stream, so nothing depends on the blocks or the thread count.
  auto simulate = [&](std::size_t begin, std::size_t end, int) {
    std::vector<double> x(kWalkerBatch * D), u(kWalkerBatch);
    std::vector<Rng> rngs;
    for (std::size_t b0 = begin; b0 < end; b0 += kWalkerBatch) {
      const int nB = static_cast<int>(std::min<std::size_t>(kWalkerBatch, end - b0));
      rngs.clear();
      for (int w = 0; w < nB; ++w) {
        rngs.emplace_back(st.seed, static_cast<std::uint64_t>(b0 + w));
        for (int d = 0; d < D; ++d) {
          x[w * D + d] = result.meanPath(0, d) + result.sigmaPath(0, d) * rngs[w].normal();
        }
      }
      for (int k = 0; k <= K; ++k) {
        // Frame k: energies (and the lookup), storage; then the step k -> k + 1.
        potential.evaluate(x.data(), nB, u.data(), nullptr);
        const bool store = st.frameStride > 0 && (k + 1) % st.frameStride == 0;
        for (int w = 0; w < nB; ++w) {
          const std::size_t i = b0 + w;
          const double* xw = &x[w * D];
          result.maxEnergy[i] = k == 0 ? u[w] : std::max(result.maxEnergy[i], u[w]);
          if (lookup) {
            const double l = lookup(xw);
            result.maxEnergyLookup[i] = k == 0 ? l : std::max(result.maxEnergyLookup[i], l);
          }
          if (store) {
            float* f = &result.frames[(i * stored + (k + 1) / st.frameStride - 1) * D];
            for (int d = 0; d < D; ++d) f[d] = static_cast<float>(xw[d]);
          }
        }
        if (k == K) break;
        for (int w = 0; w < nB; ++w) {
          for (int d = 0; d < D; ++d) {
            double& xd = x[w * D + d];
            const double y =
                decay(k, d) * (xd - result.meanPath(k, d)) + noiseSd(k, d) * rngs[w].normal();
            xd = result.meanPath(k + 1, d) + y;
          }
        }
      }
      for (int w = 0; w < nB; ++w) {
        for (int d = 0; d < D; ++d) result.finalPositions(b0 + w, d) = x[w * D + d];
      }
    }
  };
  // Blocks of about M / kProgressUpdates walkers, so that progress is reported from this thread.
  const std::size_t chunk = std::max<std::size_t>(1, (M + kProgressUpdates - 1) / kProgressUpdates);
  for (std::size_t c0 = 0; c0 < static_cast<std::size_t>(M); c0 += chunk) {
    const std::size_t c1 = std::min<std::size_t>(M, c0 + chunk);
    parallelFor(c1 - c0, threads, [&](std::size_t begin, std::size_t end, int worker) {
      simulate(c0 + begin, c0 + end, worker);
    });
    if (progress) progress("sampling", static_cast<long long>(c1), M);
  }
  result.samplingEnergyEvaluations = static_cast<long long>(M) * static_cast<long long>(K + 1);
  result.sampleSeconds = secondsSince(tSample);
  return result;
}

}  // namespace geotps
