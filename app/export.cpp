// `geotps export FILE`: full-atom paths as DCD + PDB, mdtraj HDF5 + PDB or multi-model PDB files,
// for VMD, mdtraj and MDAnalysis.
#include "engine/pipelines/export.h"

#include <fmt/format.h>

#include <memory>

#include "app/command.h"

namespace geotps::app {

Command addExportCommand(CLI::App& app) {
  auto o = std::make_shared<ExportOptions>();
  auto* cmd = app.add_subcommand(
      "export",
      "Write full-atom paths as DCD + PDB, mdtraj HDF5 + PDB or multi-model PDB, for VMD, mdtraj "
      "and MDAnalysis");
  cmd->add_option("file", o->file, "full-atom result file of geotps run or geotps compare (HDF5)")
      ->required();
  cmd->add_option("--path,-p", o->paths,
                  "paths (0-based): I, all, A:B (A..B-1) or A: (A to the last)")
      ->capture_default_str();
  cmd->add_option("--format,-f", o->format,
                  "dcd (DCD + topology PDB), mdtraj-h5 (mdtraj HDF5 + topology PDB) or pdb "
                  "(multi-model PDB)")
      ->check(CLI::IsMember({"dcd", "mdtraj-h5", "pdb"}))
      ->capture_default_str();
  cmd->add_option("--method,-m", o->method,
                  "compare files: the method whose paths to export (e.g. mcmc_variable, doob)");
  cmd->add_option("--out,-o", o->prefix,
                  "output prefix (default: the file's name without .h5, then _<method> for a "
                  "compare file, then _path<I> for one path)");
  return {cmd, [o](const std::string&) {
            const ExportResult r = exportPaths(*o);
            for (const auto& w : r.written) fmt::print("wrote {}\n", w);
            for (const auto& n : r.notes) fmt::print("skipped {}\n", n);
          }};
}

}  // namespace geotps::app
