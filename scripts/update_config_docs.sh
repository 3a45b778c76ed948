#!/usr/bin/env bash
# Regenerates the key table in docs/configuration.md from the schema (`geotps keys`).
# Usage: scripts/update_config_docs.sh [path/to/geotps]   (default build/geotps)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/geotps}
doc=docs/configuration.md
table=$("$bin" keys)
python3 - "$doc" "$table" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
begin, end = "<!-- BEGIN GENERATED KEYS -->", "<!-- END GENERATED KEYS -->"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(path, "w").write(head + begin + "\n" + table.rstrip("\n") + "\n" + end + tail)
PY
echo "updated $doc"
