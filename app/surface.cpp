// `geotps surface CONFIG`: the adiabatic (phi, psi) map or the free-energy surface of an openmm
// job (surface.kind).
#include <fmt/format.h>

#include <memory>
#include <optional>

#include "app/command.h"
#include "engine/pipelines/full_atom_commands.h"

namespace geotps::app {

Command addSurfaceCommand(CLI::App& app) {
  struct Options {
    std::string config, out;
    OutputOptions output;  // --quiet, --log
    std::vector<std::string> sets;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "surface",
      "(phi, psi) surface of an openmm job: adiabatic map by restrained minimisation, or free "
      "energy by umbrella sampling and WHAM (surface.kind)");
  cmd->add_option("config", o->config, "job configuration (YAML, potential.type openmm)")
      ->required();
  auto* outOpt = cmd->add_option("--out,-o", o->out, "surface file (overrides surface.output)");
  addOutputOptions(*cmd, o->output);
  addSetOption(*cmd, o->sets);
  return {cmd, [o, outOpt](const std::string& commandLine) {
            runWithOutput(o->output, commandLine, [&](CommandOutput& out) {
              const SurfaceSummary sum =
                  runSurface(loadConfig(o->config, o->sets),
                             *outOpt ? std::optional<std::string>(o->out) : std::nullopt,
                             !o->output.quiet, out.stream());
              std::string text;
              if (sum.kind == "free_energy") {
                text = fmt::format(
                    "free energy    {0} x {0} bins from {1} x {1} umbrella windows ({2} samples) "
                    "on {3}, {4:.1f} s\nWHAM           {5} objective evaluations, {6}\nempty bins "
                    "    {7} (set to the highest sampled F, {8:.2f} kJ/mol)\n",
                    sum.gridSize, sum.windows, sum.samples, sum.platform, sum.seconds,
                    sum.whamEvaluations, sum.whamStop, sum.emptyBins, sum.fillValue);
              } else {
                text = fmt::format("adiabatic map  {0} x {0} on {1}, {2:.1f} s\n", sum.gridSize,
                                   sum.platform, sum.seconds);
              }
              text += fmt::format(
                  "barrier        {0:.3f} kJ/mol (minimax between the states)\noutput         "
                  "{1}\n",
                  sum.barrierKjMol, sum.path);
              out.finish(text, {sum.path});
            });
          }};
}

}  // namespace geotps::app
