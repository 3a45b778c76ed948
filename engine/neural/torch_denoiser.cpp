// Tweedie moments and their Jacobian from a torch posterior-mean function, by autograd.
#include "engine/neural/torch_denoiser.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <limits>
#include <random>
#include <stdexcept>
#include <utility>

namespace geotps {

namespace {

// d(sum over the batch of `output`) / d input, or zeros when `output` does not depend on `input`
// (e.g. a mean function linear in x has a divergence that does not depend on x).
torch::Tensor gradientOrZero(const torch::Tensor& output, const torch::Tensor& input,
                             bool createGraph) {
  if (!output.requires_grad()) return torch::zeros_like(input);
  auto g = torch::autograd::grad({output.sum()}, {input}, {}, /*retain_graph=*/true, createGraph,
                                 /*allow_unused=*/true)[0];
  return g.defined() ? g : torch::zeros_like(input);
}

}  // namespace

TorchDenoiser::TorchDenoiser(Function function, int dimension, TorchDenoiserOptions options,
                             std::string name)
    : function_(std::move(function)),
      dimension_(dimension),
      options_(std::move(options)),
      name_(std::move(name)) {
  if (!function_) throw std::invalid_argument("TorchDenoiser: empty denoiser function");
  if (dimension_ < 1) throw std::invalid_argument("TorchDenoiser: dimension must be >= 1");
  if (options_.divergence == "hutchinson") {
    hutchinson_ = true;
  } else if (options_.divergence != "exact") {
    throw std::invalid_argument(fmt::format(
        "TorchDenoiser: divergence '{}' is not one of 'exact', 'hutchinson'", options_.divergence));
  }
  if (options_.batchSize < 1) throw std::invalid_argument("TorchDenoiser: batchSize must be >= 1");
  if (hutchinson_) {
    if (options_.probes < 1) throw std::invalid_argument("TorchDenoiser: probes must be >= 1");
    // std::mt19937_64 is specified bit for bit by the standard: the probes of a seed are the same
    // on every platform (torch's generator would tie them to the LibTorch version).
    std::mt19937_64 rng(options_.seed);
    probes_ = torch::empty({options_.probes, dimension_}, torch::kFloat64);
    auto p = probes_.accessor<double, 2>();
    for (int k = 0; k < options_.probes; ++k) {
      for (int d = 0; d < dimension_; ++d) p[k][d] = (rng() >> 63) ? 1.0 : -1.0;
    }
  }
}

std::shared_ptr<TorchDenoiser> TorchDenoiser::fromNetwork(DenoiserNetwork network,
                                                          TorchDenoiserOptions options) {
  if (network.is_empty()) throw std::invalid_argument("TorchDenoiser: empty network");
  network->eval();
  const int D = network->meta.dimension;
  // The lambda owns a reference to the module: the network lives as long as the denoiser.
  std::shared_ptr<DenoiserNetworkImpl> impl = network.ptr();
  return std::make_shared<TorchDenoiser>(
      [impl](const torch::Tensor& x, const torch::Tensor& l) { return impl->forward(x, l); }, D,
      std::move(options), "network");
}

torch::Tensor TorchDenoiser::divergence(const torch::Tensor& den, const torch::Tensor& x,
                                        bool createGraph) const {
  const auto B = x.size(0);
  torch::Tensor div = torch::zeros({B}, torch::kFloat64);
  if (!den.requires_grad()) return div;  // D does not depend on x at all
  if (!hutchinson_) {
    for (int d = 0; d < dimension_; ++d) {
      div = div + gradientOrZero(den.select(1, d), x, createGraph).select(1, d);
    }
    return div;
  }
  // v . (dD/dx)^T v per point, from the vector-Jacobian product grad_x (D . v).
  for (int k = 0; k < options_.probes; ++k) {
    const torch::Tensor v = probes_[k].unsqueeze(0);  // [1, D]
    const torch::Tensor vjp = gradientOrZero((den * v).sum(1), x, createGraph);
    div = div + (vjp * v).sum(1);
  }
  return div / static_cast<double>(options_.probes);
}

void TorchDenoiser::evaluateBatch(const Eigen::MatrixXd& z, Eigen::Index begin, Eigen::Index count,
                                  bool withJacobian, PosteriorMoments* out) const {
  const int D = dimension_;
  torch::Tensor zt = torch::empty({static_cast<std::int64_t>(count), D + 1}, torch::kFloat64);
  {
    auto a = zt.accessor<double, 2>();
    for (Eigen::Index i = 0; i < count; ++i) {
      for (int c = 0; c <= D; ++c) a[i][c] = z(begin + i, c);
    }
  }
  // x always requires grad (the divergence needs dD/dx); l only for the Jacobian.
  const torch::Tensor l = zt.select(1, 0).clone().requires_grad_(withJacobian);
  const torch::Tensor x = zt.slice(1, 1).clone().requires_grad_(true);
  torch::Tensor den = function_(x, l);
  if (den.dim() != 2 || den.size(0) != count || den.size(1) != D) {
    throw std::runtime_error(fmt::format(
        "TorchDenoiser '{}': the denoiser function returned shape {}, expected [{}, {}]", name_,
        fmt::join(den.sizes().vec(), ", "), count, D));
  }
  if (den.scalar_type() != torch::kFloat64) den = den.to(torch::kFloat64);
  // Jacobians need derivatives of the divergence, hence a differentiable (second-order) graph.
  const torch::Tensor div = divergence(den, x, withJacobian);
  // sigma^2 / alpha, as a tensor so that its l-derivative enters dmu/dl.
  const torch::Tensor coef = torch::sigmoid(-l) * torch::rsqrt(torch::sigmoid(l));
  const torch::Tensor muLast = (den * den).sum(1) + coef * div;

  torch::Tensor mu = torch::cat({den, muLast.unsqueeze(1)}, 1).detach().contiguous();
  torch::Tensor jac;  // [B, D+1 (output), D+1 (l, x)]
  if (withJacobian) {
    jac = torch::zeros({static_cast<std::int64_t>(count), D + 1, D + 1}, torch::kFloat64);
    for (int i = 0; i <= D; ++i) {
      // Points are independent, so d(sum_b out_i[b])/dz_b is the gradient of out_i[b] alone.
      const torch::Tensor outI = i < D ? den.select(1, i) : muLast;
      jac.select(1, i).select(1, 0).copy_(gradientOrZero(outI, l, false).detach());
      jac.select(1, i).slice(1, 1).copy_(gradientOrZero(outI, x, false).detach());
    }
  }
  const double* m = mu.data_ptr<double>();
  const double* j = withJacobian ? jac.data_ptr<double>() : nullptr;
  for (Eigen::Index i = 0; i < count; ++i) {
    PosteriorMoments& o = out[i];
    o.mu = Eigen::Map<const Eigen::VectorXd>(m + i * (D + 1), D + 1);
    o.psi = std::numeric_limits<double>::quiet_NaN();
    if (withJacobian) {
      o.dmu_dz =
          Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
              j + i * (D + 1) * (D + 1), D + 1, D + 1);
    } else {
      o.dmu_dz.resize(0, 0);
    }
  }
}

void TorchDenoiser::evaluate(const Eigen::MatrixXd& z, bool withJacobian,
                             std::vector<PosteriorMoments>& out) const {
  if (z.cols() != dimension_ + 1) {
    throw std::invalid_argument(fmt::format(
        "TorchDenoiser: spacetime points need {} columns, got {}", dimension_ + 1, z.cols()));
  }
  out.resize(static_cast<std::size_t>(z.rows()));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // The divergence needs autograd even when the caller disabled it (e.g. under a NoGradGuard).
    torch::AutoGradMode gradMode(true);
    const Eigen::Index step = options_.batchSize;
    for (Eigen::Index begin = 0; begin < z.rows(); begin += step) {
      const Eigen::Index count = std::min(step, z.rows() - begin);
      evaluateBatch(z, begin, count, withJacobian, out.data() + begin);
    }
  }
  count_.fetch_add(z.rows(), std::memory_order_relaxed);
}

}  // namespace geotps
