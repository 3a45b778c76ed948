// `geotps surface CONFIG`: the adiabatic (phi, psi) map of an openmm job.
#include <fmt/format.h>

#include <memory>
#include <optional>

#include "app/command.h"
#include "engine/pipelines/full_atom_commands.h"

namespace geotps::app {

Command addSurfaceCommand(CLI::App& app) {
  struct Options {
    std::string config, out;
    bool quiet = false;
    std::vector<std::string> sets;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "surface", "Adiabatic (phi, psi) map of an openmm job by restrained minimisation");
  cmd->add_option("config", o->config, "job configuration (YAML, potential.type openmm)")
      ->required();
  auto* outOpt = cmd->add_option("--out,-o", o->out, "surface file (overrides surface.output)");
  cmd->add_flag("--quiet,-q", o->quiet, "no progress display");
  addSetOption(*cmd, o->sets);
  return {cmd, [o, outOpt](const std::string&) {
            const SurfaceSummary sum = runSurface(
                loadConfig(o->config, o->sets),
                *outOpt ? std::optional<std::string>(o->out) : std::nullopt, !o->quiet, stdout);
            fmt::print(
                "adiabatic map  {0} x {0} on {1}, {2:.1f} s\nbarrier        {3:.3f} kJ/mol "
                "(minimax between the states)\noutput         {4}\n",
                sum.gridSize, sum.platform, sum.seconds, sum.barrierKjMol, sum.path);
          }};
}

}  // namespace geotps::app
