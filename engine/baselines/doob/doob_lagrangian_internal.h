// Internals of the Doob's Lagrangian baseline (engine/baselines/doob/doob_lagrangian.h), exposed
// for the tests: the Gaussian-path network with its exact time derivatives, the potential's drift
// b(x) as a torch autograd function (Hessian-vector products by central differences of the
// gradient), the path's SDE drift and the per-sample Lagrangian.
#pragma once

#include <torch/torch.h>

#include <Eigen/Dense>
#include <atomic>

#include "potentials/potential.h"

namespace geotps::detail {

/// What the drift b(x) = -D * grad U(x) / kT needs; must outlive the backward pass.
struct DriftContext {
  const Potential* potential = nullptr;
  Eigen::VectorXd diffusion;  ///< D per coordinate
  double kT = 1.0;
  double hvpStep = 1e-4;  ///< h of the central difference along the unit direction
  int threads = 1;        ///< threads for the potential's evaluations (0 = all cores)
  std::atomic<long long> gradientEvaluations{0};  ///< points whose gradient was evaluated
};

/// b(x) for x [B, D] (float64) through a torch::autograd::Function: the forward evaluates grad U at
/// the B points (parallelFor over ctx.threads); the backward maps the incoming gradient w [B, D] to
/// -(1/kT) H (D ∘ w), with H u ≈ (grad U(x + h û) - grad U(x - h û)) / (2h) |u|, û = u / |u| (rows
/// with u = 0 give 0 and cost no evaluation). Counts every evaluated point in ctx.
torch::Tensor potentialDrift(const torch::Tensor& x, DriftContext& ctx);

/// mu, sigma and their time derivatives d/dt = (1/T) d/ds, each [B, D].
struct PathState {
  torch::Tensor mu, sigma, dmu, dsigma;
};

/// The Gaussian path of the header: mu(s) = (1 - s) A + s B + s (1 - s) NN_mu(s),
/// sigma(s) = sigma_min + s (1 - s) ell softplus(NN_sigma(s)) (mu's correction is also scaled by
/// ell), with an MLP (SiLU) of s whose exact derivative in s is propagated alongside the forward
/// pass (forward-mode, differentiable in the weights by ordinary autograd).
struct DoobPathModelImpl : torch::nn::Module {
  DoobPathModelImpl(const Eigen::VectorXd& a, const Eigen::VectorXd& b, int hidden, int layers,
                    double sigmaMin, double timeHorizon, double lengthScale = 1.0);
  /// s [B] (float64, in [0, 1]) -> the path at t = s T.
  PathState forward(const torch::Tensor& s);
  /// The raw network output [NN_mu, NN_sigma] [B, 2D] and its derivative in s.
  std::pair<torch::Tensor, torch::Tensor> network(const torch::Tensor& s);

  int dimension;
  double sigmaMin, timeHorizon;
  double lengthScale;  ///< the network's outputs are in units of this length
  torch::Tensor a, b;  // buffers [D]
  std::vector<torch::nn::Linear> linears;
};
TORCH_MODULE(DoobPathModel);

/// The drift of the path's SDE at x [B, D]: v = mu' + (sigma'/sigma - D/sigma^2) (x - mu).
torch::Tensor pathDrift(const PathState& p, const torch::Tensor& x, const torch::Tensor& diffusion);

/// The per-sample Lagrangian T * 1/2 sum_d (v_d - b_d)^2 / D_d at x = mu(s) + sigma(s) eps, for
/// s [B] and eps [B, D]; its batch mean is the training loss. Differentiable in the model's
/// weights.
torch::Tensor lagrangianSamples(DoobPathModel& model, const torch::Tensor& s,
                                const torch::Tensor& eps, DriftContext& ctx);

}  // namespace geotps::detail
