#!/usr/bin/env python3
"""Plots a GeoTPS result file: an analysis helper, not part of the engine.

    scripts/plot_result.py FILE.h5 [--out FIG.png] [--paths N] [--surface FILE.dat]

A file of `geotps run` (2D or full atom) gives three panels: the (phi, psi) or (x, y) surface with
transition paths, the geodesic's posterior mean E[x0 | z_n] and the grid's minimax path; the
log-SNR l along the geodesic; the histogram of the paths' MaxEnergy with the lower bound. A file
of `geotps compare` gives the MaxEnergy histogram of every method. The background surface is the
tabulated file the job used (read from /config/effective), or --surface.

Needs python3-h5py, python3-numpy and python3-matplotlib (`scripts/install_deps.sh --python`).
"""
import argparse
import math
import os
import sys

try:
    import h5py
    import numpy as np
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.exit(f"plot_result.py: {e.name} is missing; install it with "
             "`scripts/install_deps.sh --python` (python3-h5py, python3-numpy, python3-matplotlib)")


def text(value):
    """An HDF5 string (h5py gives bytes or str depending on how it was stored) as str."""
    return value.decode() if isinstance(value, bytes) else value


def effective_keys(yaml_text):
    """The dotted keys of /config/effective (written by GeoTPS: two levels, one key per line)."""
    keys, section = {}, ""
    for line in yaml_text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        name, _, value = line.strip().partition(":")
        value = value.split("  #")[0].strip()
        if indent == 0 and not value:
            section = name
            continue
        key = f"{section}.{name}" if indent > 0 and section else name
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            value = value[1:-1]
        keys[key] = value
    return keys


def load_surface(path):
    """A `x y U` grid file: the axes and U as an (ny, nx) array."""
    data = np.loadtxt(path, comments="#")
    if data.ndim != 2 or data.shape[1] < 3:
        sys.exit(f"plot_result.py: {path}: expected three columns x y U")
    xs, ys = np.unique(data[:, 0]), np.unique(data[:, 1])
    if len(xs) * len(ys) != len(data):
        sys.exit(f"plot_result.py: {path}: the points do not form a full grid")
    grid = np.full((len(ys), len(xs)), np.nan)
    ix = np.searchsorted(xs, data[:, 0])
    iy = np.searchsorted(ys, data[:, 1])
    grid[iy, ix] = data[:, 2]
    return xs, ys, grid


def broken(xy, period):
    """(x, y) with NaN inserted where a periodic coordinate jumps by more than half a period, so
    that lines do not cross the box. Coordinates are wrapped into (-period/2, period/2]."""
    if period is None:
        return xy
    w = xy - period * np.round(xy / period)
    jump = np.any(np.abs(np.diff(w, axis=0)) > period / 2, axis=1)
    if not jump.any():
        return w
    out = []
    for i, row in enumerate(w):
        out.append(row)
        if i < len(jump) and jump[i]:
            out.append([np.nan, np.nan])
    return np.array(out)


def save(fig, out, dpi):
    """Writes the figure under a temporary name and renames it: no partial file on failure."""
    root, ext = os.path.splitext(out)
    tmp = f"{root}.tmp-{os.getpid()}{ext}"
    try:
        fig.savefig(tmp, dpi=dpi)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def plot_run(f, args, out):
    keys = effective_keys(text(f["/config/effective"][()]))
    kind = text(f["/summary"].attrs["kind"])
    full_atom = kind == "full_atom"
    unit = text(f.attrs["energy_unit"])
    surface_file = args.surface or (keys.get("cv.surface") if full_atom else
                                    (keys.get("potential.file")
                                     if keys.get("potential.type") == "tabulated_surface" else None))
    periodic = full_atom or keys.get("potential.type") == "tabulated_surface"
    period = 2 * math.pi if periodic else None

    fig, axes = plt.subplots(1, 3, figsize=(16, 5), gridspec_kw={"width_ratios": [1.3, 1, 1]})
    ax = axes[0]
    grid = None
    if surface_file and os.path.exists(surface_file):
        xs, ys, grid = load_surface(surface_file)
        finite = grid[np.isfinite(grid)]
        levels = np.linspace(finite.min(), np.percentile(finite, 98), 30)
        cs = ax.contourf(xs, ys, grid, levels=levels, cmap="viridis", extend="max")
        fig.colorbar(cs, ax=ax, label=f"surface energy ({'kJ/mol' if full_atom else unit})")
    elif surface_file:
        print(f"plot_result.py: surface {surface_file} not found; drawing without it",
              file=sys.stderr)

    frames = f["/full_atom/cv"] if full_atom else (f["/paths/frames"] if "/paths/frames" in f
                                                    else None)
    drawn = 0
    if frames is not None:
        m = frames.shape[0]
        for i in np.linspace(0, m - 1, min(args.paths, m)).astype(int):
            xy = broken(np.asarray(frames[i], dtype=float), period)
            ax.plot(xy[:, 0], xy[:, 1], lw=0.6, alpha=0.6,
                    color="white" if grid is not None else "tab:blue")
            drawn += 1
    d = f["/curve/x"].shape[1]
    mean = np.asarray(f["/curve/mu"][:, :d])
    ax.plot(mean[:, 0], mean[:, 1], color="red", lw=2, label="geodesic: E[x0 | z_n]")
    if "/metrics/minimax_path" in f and grid is not None:
        idx = np.asarray(f["/metrics/minimax_path"], dtype=int)
        mp = broken(np.column_stack([xs[idx[:, 0] % len(xs)], ys[idx[:, 1] % len(ys)]]), period)
        ax.plot(mp[:, 0], mp[:, 1], color="orange", lw=1.5, ls="--", label="minimax path (grid)")
    a = [float(v) for v in keys["states.a"].strip("[]").split(",")]
    b = [float(v) for v in keys["states.b"].strip("[]").split(",")]
    ax.plot(*a, "o", color="black", mec="white", ms=8, label="A")
    ax.plot(*b, "s", color="black", mec="white", ms=8, label="B")
    if period is not None:
        ax.set_xlim(-math.pi, math.pi)
        ax.set_ylim(-math.pi, math.pi)
    ax.set_xlabel("phi (rad)" if periodic else "x")
    ax.set_ylabel("psi (rad)" if periodic else "y")
    ax.set_title(f"{drawn} of {frames.shape[0] if frames is not None else 0} paths"
                 + (" (CV frames)" if full_atom else ""))
    ax.legend(loc="lower left", fontsize=8, framealpha=0.8)

    ax = axes[1]
    l = np.asarray(f["/curve/l"])
    ax.plot(np.linspace(0, 1, len(l)), l, color="red")
    ax.set_xlabel("curve parameter s")
    ax.set_ylabel("log-SNR l")
    ax.set_title(f"geodesic: lowest l {l.min():.2f}")
    ax.grid(alpha=0.3)

    ax = axes[2]
    maxe = np.asarray(f["/paths/max_energy_full_atom"] if full_atom
                      else f["/paths/max_energy_nearest"])
    ax.hist(maxe, bins=40, color="steelblue", label="full atom" if full_atom else None)
    bound = f["/summary"].attrs.get("minimax_bound", float("nan"))
    if full_atom:
        # The bound is the CV surface's; compare it with the paths' MaxEnergy on that surface.
        cv = np.asarray(f["/paths/max_energy_cv"])
        ax.hist(cv, bins=40, color="grey", alpha=0.7, label=f"on the CV surface: {cv.mean():.2f}")
        if np.isfinite(bound):
            ax.axvline(bound, color="orange", ls="--", label=f"CV-surface barrier {bound:.2f}")
    elif np.isfinite(bound):
        ax.axvline(bound, color="orange", ls="--", label=f"lower bound {bound:.2f}")
    ax.axvline(maxe.mean(), color="black", label=f"mean {maxe.mean():.3f} ± {maxe.std(ddof=1):.3f}"
               if len(maxe) > 1 else f"mean {maxe.mean():.3f}")
    ax.set_xlabel(f"MaxEnergy ({'kJ/mol, relative to the lower end state' if full_atom else unit})")
    ax.set_ylabel("paths")
    ax.legend(fontsize=8)
    fig.suptitle(f"{text(f.attrs['name'])}: {len(maxe)} paths")
    fig.tight_layout()
    save(fig, out, args.dpi)
    return f"{drawn} paths drawn, MaxEnergy mean {maxe.mean():.6f} over {len(maxe)} paths"


def plot_compare(f, args, out):
    methods = text(f["/summary"].attrs["methods"]).split(",")
    unit = text(f.attrs["energy_unit"])
    fig, ax = plt.subplots(figsize=(8, 5))
    data = {}
    for m in methods:
        g = f[f"/methods/{m}"]
        if int(g.attrs["ok"]) == 1 and "max_energy" in g and len(g["max_energy"]) > 0:
            data[m] = np.asarray(g["max_energy"])
    means = []
    if data:
        every = np.concatenate(list(data.values()))
        bins = np.linspace(every.min(), every.max(), 60)
    for m, e in data.items():
        label = text(f[f"/methods/{m}"].attrs["label"])
        ax.hist(e, bins=bins, histtype="step", lw=1.5, density=True,
                label=f"{label}: {e.mean():.2f} ({len(e)} paths)")
        means.append(f"{m} {e.mean():.6f}")
    bound = f["/summary"].attrs.get("minimax_bound", float("nan"))
    if np.isfinite(bound):
        ax.axvline(bound, color="orange", ls="--", label=f"lower bound {bound:.2f}")
    ax.set_xlabel(f"MaxEnergy ({unit})")
    ax.set_ylabel("density of paths")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, out, args.dpi)
    return "MaxEnergy means: " + ", ".join(means)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file", help="result file of `geotps run` or `geotps compare`")
    p.add_argument("--out", "-o", help="figure file (default: FILE with .png)")
    p.add_argument("--paths", type=int, default=20, help="transition paths to draw (default 20)")
    p.add_argument("--surface", help="background `x y U` grid file (default: the job's)")
    p.add_argument("--dpi", type=int, default=120)
    args = p.parse_args()
    if args.paths < 0:
        p.error("--paths must be >= 0")
    out = args.out or os.path.splitext(args.file)[0] + ".png"
    try:
        f = h5py.File(args.file, "r")
    except OSError as e:
        sys.exit(f"plot_result.py: {args.file}: cannot read it as HDF5 ({e})")
    with f:
        file_type = text(f.attrs.get("file_type", "run"))
        if file_type == "compare":
            what = plot_compare(f, args, out)
        elif "/curve/l" in f:
            what = plot_run(f, args, out)
        else:
            sys.exit(f"plot_result.py: {args.file}: not a result file of `geotps run` or "
                     "`geotps compare`")
    print(f"wrote {out}: {what}")


if __name__ == "__main__":
    main()
