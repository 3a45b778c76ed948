// `geotps export FILE`: one full-atom path as DCD + PDB or a multi-model PDB, for VMD / mdtraj.
#include <fmt/format.h>

#include <memory>

#include "app/command.h"
#include "engine/pipelines/full_atom_commands.h"

namespace geotps::app {

Command addExportCommand(CLI::App& app) {
  struct Options {
    std::string file, format = "dcd", prefix;
    long long index = 0;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "export", "Write one full-atom path as DCD + PDB (or a multi-model PDB) for VMD / mdtraj");
  cmd->add_option("file", o->file, "full-atom result file (HDF5)")->required();
  cmd->add_option("--path,-p", o->index, "path index (0-based)")->capture_default_str();
  cmd->add_option("--format,-f", o->format, "dcd (DCD + topology PDB) or pdb (multi-model)")
      ->check(CLI::IsMember({"dcd", "pdb"}))
      ->capture_default_str();
  cmd->add_option("--out,-o", o->prefix,
                  "output prefix (default: the result file's name + _path<I>)");
  return {cmd, [o](const std::string&) {
            std::string prefix = o->prefix;
            if (prefix.empty()) {
              std::string stem = o->file;
              if (stem.size() > 3 && stem.substr(stem.size() - 3) == ".h5") {
                stem.resize(stem.size() - 3);
              }
              prefix = fmt::format("{}_path{}", stem, o->index);
            }
            for (const auto& w : exportPath(o->file, o->index, o->format, prefix)) {
              fmt::print("wrote {}\n", w);
            }
          }};
}

}  // namespace geotps::app
