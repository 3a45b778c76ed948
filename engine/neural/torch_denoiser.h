// The neural denoiser: posterior moments mu(z) = (E[x0 | z], E[|x0|^2 | z]) from a differentiable
// posterior-mean function D(x, l) ≈ E[x0 | z] by Tweedie's formula, and d mu / d z by autograd
// (docs/method.md, "The neural denoiser (LibTorch)"). Simulation-free: one forward pass plus
// Jacobian-vector products.
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "engine/denoisers/denoiser.h"
#include "engine/neural/denoiser_network.h"

namespace geotps {

/// How the divergence div_x D in E[|x0|^2 | z] = |D|^2 + (sigma^2/alpha) div_x D is computed.
struct TorchDenoiserOptions {
  /// "exact" (one autograd pass per dimension, D passes) or "hutchinson" (one pass per probe).
  std::string divergence = "exact";
  /// Number of Rademacher probe vectors for "hutchinson" (>= 1).
  int probes = 1;
  /// Seed of the probe vectors. The probes are drawn once, at construction, and shared by every
  /// point and every call (common random numbers): the estimate is then a smooth deterministic
  /// function of z, so a geodesic optimiser sees a consistent energy and its exact gradient.
  std::uint64_t seed = 0;
  /// Points per forward / backward pass (bounds the autograd memory).
  int batchSize = 256;
};

/// Denoiser backed by a differentiable torch function D(x, l) (e.g. a trained DenoiserNetwork).
/// psi is not available (hasLogPartition() == false). Calls are serialised by a mutex, so a const
/// object may be shared between threads; evaluation runs on the CPU in float64.
class TorchDenoiser final : public Denoiser {
 public:
  /// D(x, l): x [B, D] float64 (units of x), l [B] float64 (log-SNR) -> [B, D] float64 (units of
  /// x), differentiable by autograd in both arguments (twice, when Jacobians are requested).
  using Function = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& l)>;

  /// `dimension` is D. Throws std::invalid_argument for bad options (naming the option).
  TorchDenoiser(Function function, int dimension, TorchDenoiserOptions options = {},
                std::string name = "torch");

  /// Wraps a network: puts it in eval mode and keeps it alive as long as the denoiser.
  static std::shared_ptr<TorchDenoiser> fromNetwork(DenoiserNetwork network,
                                                    TorchDenoiserOptions options = {});

  int dimension() const override { return dimension_; }
  bool hasLogPartition() const override { return false; }
  /// mu_x = D(x, l); mu_last = |D|^2 + (sigma^2/alpha) div_x D; psi = NaN; with `withJacobian`,
  /// dmu_dz by D+1 backward passes per batch (second derivatives of D through the divergence).
  void evaluate(const Eigen::MatrixXd& z, bool withJacobian,
                std::vector<PosteriorMoments>& out) const override;
  std::string name() const override { return name_; }
  long long evaluationCount() const override { return count_.load(); }

  const TorchDenoiserOptions& options() const { return options_; }
  /// The Rademacher probes (probes x D, entries +-1); empty for the exact divergence.
  const torch::Tensor& probes() const { return probes_; }

 private:
  void evaluateBatch(const Eigen::MatrixXd& z, Eigen::Index begin, Eigen::Index count,
                     bool withJacobian, PosteriorMoments* out) const;
  torch::Tensor divergence(const torch::Tensor& den, const torch::Tensor& x,
                           bool createGraph) const;

  Function function_;
  int dimension_;
  TorchDenoiserOptions options_;
  bool hutchinson_ = false;
  std::string name_;
  torch::Tensor probes_;
  mutable std::mutex mutex_;
  mutable std::atomic<long long> count_{0};
};

}  // namespace geotps
