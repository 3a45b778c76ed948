// All walkers of a full-atom run in one OpenMM Context: R non-interacting copies of the molecule in
// one System, each under its own CV restraint, integrated by OpenMM's LangevinMiddleIntegrator on
// the platform (OpenCL/CUDA on a GPU, CPU, Reference) with no host round trip between observations
// (docs/method.md, "Batched walkers").
#pragma once

#include <OpenMM.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/samplers/full_atom_sampler.h"

namespace geotps {

/// The System of `copies` non-interacting copies of `single`: particles, constraints and every
/// bonded force replicated with index offsets (copy c holds particles c*n ... c*n + n - 1); the
/// vacuum NonbondedForce (NoCutoff) becomes a CustomBondForce over each copy's non-excluded pairs
/// and exceptions (Coulomb + Lennard-Jones, the same energy; copies never see each other);
/// CMMotionRemover is dropped (the per-walker sampler never applied it either: it integrates the
/// dynamics itself). Any other force, or a NonbondedForce with a cutoff, periodic boundaries or
/// parameter offsets, is refused with std::invalid_argument naming it.
std::unique_ptr<OpenMM::System> replicateSystem(const OpenMM::System& single, int copies);

/// The batched restraint on one dihedral of every copy: a CustomTorsionForce with one torsion per
/// copy, E = 1/2 k_cv d^2 (k_cv global). Unwrapped (`unwrapped` true): d = w(theta - ref_w) + ref -
/// c, per torsion `ref` the walker's angle followed continuously (RestrainedDynamics::
/// setUnwrappedRestraint) at the last observation and `ref_w` its value in (-pi, pi], w the wrap to
/// [-pi, pi): the per-walker restraint's d as long as the angle moves by less than pi between
/// observations. Wrapped: d = w(theta - c). `centre` names the global centre parameter.
std::unique_ptr<OpenMM::CustomTorsionForce> makeBatchedRestraint(const DihedralAtoms& atoms,
                                                                 int copies, int atomsPerCopy,
                                                                 const std::string& centre,
                                                                 bool unwrapped);

/// sampleFullAtomPaths() with the walkers in batches of at most `batchSize` copies in one Context
/// on `setup.platform`. Walker i keeps stream i of the seed for its initial velocities; batch b's
/// integrator noise comes from OpenMM's generator seeded by (seed, b). Positions are fetched every
/// observation stride (output.frame_stride, or min(K, 20) when no frames are stored); the energies
/// (without restraint, by single-molecule Reference Contexts on `threads` host threads), CVs and
/// MaxEnergy are over those observed frames (FullAtomPaths::observeStride). Walkers and batches are
/// numbered from settings.firstWalker (a multiple of `batchSize`), so that a job sampled in whole
/// batches gives the same paths as in one call.
FullAtomPaths sampleFullAtomPathsBatched(const FullAtomSetup& setup, const Eigen::MatrixXd& curve,
                                         const FullAtomSamplerSettings& settings, int batchSize,
                                         const CvEnergyFunction& cvEnergy,
                                         const ProgressCallback& progress = {});

}  // namespace geotps
