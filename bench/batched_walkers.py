#!/usr/bin/env python3
"""Table of bench/batched_walkers.sh: sampling wall time and us per walker-step per mode, platform
and number of walkers R, from the result files in WORKDIR; then the per-stage wall times of the
runs with 100 walkers and their MaxEnergy statistics (per-Context rows over every frame, batched
rows over every output.frame_stride-th frame)."""
import glob
import os
import re
import sys

import h5py
import numpy as np

work = sys.argv[1]
rows = []
for path in glob.glob(os.path.join(work, "*_*_*.h5")):
    m = re.match(r"(per_context|batched)_(\w+?)_(\d+)\.h5$", os.path.basename(path))
    if not m:
        continue
    mode, platform, R = m.group(1), m.group(2), int(m.group(3))
    with h5py.File(path) as f:
        s = f["/summary"].attrs
        steps = R * f["/paths"].attrs["frames_per_path"]
        fa = f["/full_atom"].attrs
        rows.append(dict(mode=mode, platform=platform, R=R, sampling=s["wall_seconds_sampling"],
                         us=1e6 * s["wall_seconds_sampling"] / steps,
                         stages={k: s["wall_seconds_" + k] for k in
                                 ("setup", "geodesic", "sampling", "metrics", "output")},
                         total=s["wall_seconds"],
                         maxE=np.asarray(f["/paths/max_energy_full_atom"]),
                         maxCV=np.asarray(f["/paths/max_energy_cv"]),
                         success=float(s["success_fraction"]),
                         observe=int(fa.get("observe_stride", 1))))
rows.sort(key=lambda r: (r["mode"], r["platform"], r["R"]))
print("| walkers | platform | R | sampling wall s | us per walker-step |")
print("| --- | --- | ---: | ---: | ---: |")
for r in rows:
    print(f"| {r['mode']} | {r['platform']} | {r['R']} | {r['sampling']:.2f} | {r['us']:.2f} |")
print()
print("Runs with R = 100: wall time per stage (s) and their statistics (MaxEnergy in kJ/mol, "
      "mean ± standard deviation over paths).")
print()
print("| walkers | platform | setup | geodesic | sampling | metrics | output | total | "
      "full-atom MaxEnergy | CV MaxEnergy | success | observed every |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    if r["R"] != 100:
        continue
    st = r["stages"]
    print(f"| {r['mode']} | {r['platform']} | {st['setup']:.2f} | {st['geodesic']:.2f} | "
          f"{st['sampling']:.2f} | {st['metrics']:.2f} | {st['output']:.2f} | {r['total']:.2f} | "
          f"{r['maxE'].mean():.2f} ± {r['maxE'].std(ddof=1):.2f} | "
          f"{r['maxCV'].mean():.2f} ± {r['maxCV'].std(ddof=1):.2f} | {r['success']:.2f} | "
          f"{r['observe']} frames |")
