#!/usr/bin/env python3
"""Plots a GeoTPS result file: an analysis helper, not part of the engine.

    scripts/plot_result.py FILE.h5 [--out FIG.png] [--paths N] [--surface FILE.dat] [--axes I J]

A CV-space file of `geotps run` gives three panels: the (phi, psi) or (x, y) surface with
transition paths, the geodesic's posterior mean E[x0 | z_n] and the grid's minimax path; the
log-SNR l along the geodesic; the histogram of the paths' MaxEnergy with the lower bound. With D > 2
coordinates (e.g. potential.type double_well_nd) the map is the 2D projection of the paths, the
geodesic's mean and the states onto the coordinates --axes I J (default 0 1), without a surface. A full-atom file (with
/full_atom) gives six: the paths' (phi, psi) over the CV surface; the full-atom and the CV-surface
MaxEnergy histograms (kJ/mol); the log-SNR; the energy and (phi, psi) of a few paths against time
(ps). A file of `geotps compare` gives the MaxEnergy histograms of every method (full atom: also
the CV-surface MaxEnergy) and every method's mean +- std; when one method lies far from the
others the histogram axis is clipped to the others and the summary axis is logarithmic (the
figure says so). The background surface is the tabulated file the job used (read from
/config/effective), or --surface.

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
    import matplotlib.patheffects as path_effects
    from matplotlib.ticker import MaxNLocator
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


def broken(xy, period, columns=None):
    """Rows of points with a NaN row inserted where a periodic coordinate jumps by more than half a
    period, so that lines do not cross the box. The periodic columns (`columns`, default all) are
    wrapped into (-period/2, period/2]; the others (e.g. time) are kept."""
    if period is None:
        return xy
    xy = np.asarray(xy, dtype=float)
    cols = list(range(xy.shape[1])) if columns is None else list(columns)
    w = xy.copy()
    w[:, cols] = xy[:, cols] - period * np.round(xy[:, cols] / period)
    jump = np.any(np.abs(np.diff(w[:, cols], axis=0)) > period / 2, axis=1)
    if not jump.any():
        return w
    out = []
    for i, row in enumerate(w):
        out.append(row)
        if i < len(jump) and jump[i]:
            out.append(np.full(w.shape[1], np.nan))
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


def mean_std_text(values, unit=""):
    """`mean ± std unit` over the finite values (sample std; the mean alone for one value)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    suffix = f" {unit}" if unit else ""
    if len(v) == 0:
        return "no values"
    if len(v) == 1:
        return f"{v[0]:.2f}{suffix}"
    return f"{v.mean():.2f} ± {v.std(ddof=1):.2f}{suffix}"


def draw_surface(fig, ax, path, label):
    """The `x y U` grid file as filled contours at round levels (up to its 98th percentile), with a
    colour bar at round ticks labelled `label`. Returns (xs, ys, grid)."""
    xs, ys, grid = load_surface(path)
    finite = grid[np.isfinite(grid)]
    levels = MaxNLocator(nbins=20).tick_values(finite.min(), np.percentile(finite, 98))
    cs = ax.contourf(xs, ys, grid, levels=levels, cmap="viridis", extend="max", zorder=0)
    fig.colorbar(cs, ax=ax, label=label, ticks=MaxNLocator(nbins=8))
    return xs, ys, grid


def draw_states(ax, keys, axes=(0, 1)):
    """The end states A and B from the config, drawn above every line (their coordinates `axes`)."""
    for name, marker in (("a", "o"), ("b", "s")):
        x = [float(v) for v in keys[f"states.{name}"].strip("[]").split(",")]
        xy = [x[axes[0]], x[axes[1]]]
        ax.plot(*xy, marker, color="black", mec="white", mew=1.5, ms=10, zorder=10,
                label=name.upper())
        ax.annotate(name.upper(), xy, xytext=(7, 7), textcoords="offset points", color="white",
                    fontweight="bold", zorder=10,
                    path_effects=[path_effects.withStroke(linewidth=2.5, foreground="black")])


def max_energy_histogram(ax, values, unit, label, color, lines=()):
    """A histogram of per-path MaxEnergy with its mean ± std in the title and legend; `lines` are
    (value, label, colour) vertical lines (e.g. a barrier)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    ax.hist(v, bins=min(40, max(5, len(v))), color=color, alpha=0.85, label=label)
    if len(v):
        ax.axvline(v.mean(), color="black", label=f"mean ± std: {mean_std_text(v, unit)}")
    for value, text_, colour in lines:
        if np.isfinite(value):
            ax.axvline(value, color=colour, ls="--", label=text_)
    ax.set_xlabel(f"{label} ({unit})")
    ax.set_ylabel("paths")
    ax.set_title(f"{label}: {mean_std_text(v, unit)}", fontsize=10)
    ax.legend(fontsize=8)


def frame_times(f, keys, n_rows):
    """Time (ps) of the n_rows observed full-atom frames (the rows of /full_atom/energy and
    /full_atom/cv): row k at (k + 1) * observe_stride * dynamics.time_step (0.001 ps by default).
    /full_atom/time (the stored frames', every frame_stride-th) is used when it has those rows."""
    if "/full_atom/time" in f and f["/full_atom/time"].shape == (n_rows,):
        return np.asarray(f["/full_atom/time"], dtype=float)
    stride = int(f["/full_atom"].attrs.get("observe_stride", 1))
    dt = float(keys.get("dynamics.time_step", 0.001))
    return (np.arange(n_rows) + 1) * stride * dt


def plot_run(f, args, out):
    keys = effective_keys(text(f["/config/effective"][()]))
    full_atom = "/full_atom" in f
    unit = "kJ/mol" if full_atom else text(f.attrs["energy_unit"])
    surface_file = args.surface or (keys.get("cv.surface") if full_atom else
                                    (keys.get("potential.file")
                                     if keys.get("potential.type") == "tabulated_surface" else None))
    periodic = full_atom or keys.get("potential.type") == "tabulated_surface"
    period = 2 * math.pi if periodic else None
    # D > 2 (e.g. double_well_nd): the map is the projection onto the coordinates --axes.
    d = f["/curve/x"].shape[1]
    i0, i1 = args.axes
    if d < 2 or not (0 <= i0 < d and 0 <= i1 < d and i0 != i1):
        sys.exit(f"plot_result.py: --axes {i0} {i1}: the paths have D = {d} coordinates; expected "
                 f"two different coordinates in 0 .. {d - 1}")
    projected = d > 2 or (i0, i1) != (0, 1)
    if projected and not full_atom:
        surface_file = None  # a surface file is a map of (x[0], x[1]) only

    if full_atom:
        fig, grid_axes = plt.subplots(2, 3, figsize=(18, 10))
        map_ax, fa_ax, cv_ax = grid_axes[0]
        l_ax, energy_ax, cvt_ax = grid_axes[1]
    else:
        fig, axes = plt.subplots(1, 3, figsize=(16, 5), gridspec_kw={"width_ratios": [1.3, 1, 1]})
        map_ax, l_ax, fa_ax = axes
    ax = map_ax
    grid = None
    if surface_file and os.path.exists(surface_file):
        xs, ys, grid = draw_surface(fig, ax, surface_file,
                                    "CV surface energy (kJ/mol)" if full_atom
                                    else f"surface energy ({unit})")
    elif surface_file:
        print(f"plot_result.py: surface {surface_file} not found; drawing without it",
              file=sys.stderr)

    frames = f["/full_atom/cv"] if full_atom else (f["/paths/frames"] if "/paths/frames" in f
                                                    else None)
    drawn = 0
    if frames is not None:
        m = frames.shape[0]
        # Thin, translucent, and at most ~1000 points per path, so that the map stays visible
        # where many paths overlap.
        every = max(1, frames.shape[1] // 1000)
        for i in np.linspace(0, m - 1, min(args.paths, m)).astype(int):
            xy = broken(np.asarray(frames[i, ::every], dtype=float)[:, [i0, i1]], period)
            ax.plot(xy[:, 0], xy[:, 1], lw=0.4, alpha=0.25, zorder=2,
                    color="white" if grid is not None else "tab:blue")
            drawn += 1
        if drawn:  # a legend entry that can be seen on the legend's background
            ax.plot([], [], lw=1.5, color="white" if grid is not None else "tab:blue",
                    label="transition paths" + (f" (every {every}th frame)" if every > 1 else ""))
    mean = np.asarray(f["/curve/mu"][:, :d])
    ax.plot(mean[:, i0], mean[:, i1], color="red", lw=2, zorder=4, label="geodesic: E[x0 | z_n]")
    if "/metrics/minimax_path" in f and grid is not None and not projected:
        idx = np.asarray(f["/metrics/minimax_path"], dtype=int)
        mp = broken(np.column_stack([xs[idx[:, 0] % len(xs)], ys[idx[:, 1] % len(ys)]]), period)
        ax.plot(mp[:, 0], mp[:, 1], color="orange", lw=1.5, ls="--", zorder=3,
                label="minimax path (grid)")
    draw_states(ax, keys, (i0, i1))
    if period is not None:
        ax.set_xlim(-math.pi, math.pi)
        ax.set_ylim(-math.pi, math.pi)
    if periodic and not projected:
        ax.set_xlabel("phi (rad)")
        ax.set_ylabel("psi (rad)")
    elif d == 2 and not projected:
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    else:
        ax.set_xlabel(f"x[{i0}]")
        ax.set_ylabel(f"x[{i1}]")
    ax.set_title(f"{drawn} of {frames.shape[0] if frames is not None else 0} paths"
                 + (" (CV frames)" if full_atom else "")
                 + (f" (projection onto x[{i0}], x[{i1}] of D = {d})" if projected else ""))
    ax.legend(loc="lower left", fontsize=8, framealpha=0.9, facecolor="0.75")

    ax = l_ax
    l = np.asarray(f["/curve/l"])
    ax.plot(np.linspace(0, 1, len(l)), l, color="red")
    ax.set_xlabel("curve parameter s")
    ax.set_ylabel("log-SNR l")
    ax.set_title(f"geodesic: lowest l {l.min():.2f}")
    ax.grid(alpha=0.3)

    bound = f["/summary"].attrs.get("minimax_bound", float("nan"))
    if full_atom:
        maxe = np.asarray(f["/paths/max_energy_full_atom"])
        max_energy_histogram(fa_ax, maxe, unit, "full-atom MaxEnergy", "steelblue")
        fa_ax.set_xlabel("full-atom MaxEnergy (kJ/mol, relative to the lower end state)")
        # The bound is the CV surface's; compare it with the paths' MaxEnergy on that surface.
        max_energy_histogram(cv_ax, np.asarray(f["/paths/max_energy_cv"]), unit,
                             "CV-surface MaxEnergy", "grey",
                             [(bound, f"CV-surface barrier {bound:.2f} kJ/mol", "orange")])
        plot_time_series(f, keys, energy_ax, cvt_ax, args.time_paths)
    else:
        maxe = np.asarray(f["/paths/max_energy_nearest"])
        max_energy_histogram(fa_ax, maxe, unit, "MaxEnergy", "steelblue",
                             [(bound, f"lower bound {bound:.2f}", "orange")])
    fig.suptitle(f"{text(f.attrs['name'])}: {len(maxe)} paths")
    fig.tight_layout()
    save(fig, out, args.dpi)
    return f"{drawn} paths drawn, MaxEnergy mean {maxe.mean():.6f} over {len(maxe)} paths"


def plot_time_series(f, keys, energy_ax, cv_ax, n_paths):
    """Energy (kJ/mol, relative to the lower minimised end state) and (phi, psi) (rad) of up to
    `n_paths` paths, evenly chosen, against time (ps)."""
    energy = f["/full_atom/energy"]
    cvs = f["/full_atom/cv"]
    m, n_rows = energy.shape[0], energy.shape[1]
    t = frame_times(f, keys, n_rows)
    reference = float(f["/full_atom"].attrs.get("reference_energy", 0.0))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    chosen = np.unique(np.linspace(0, m - 1, min(n_paths, m)).astype(int)) if m else []
    # The frame energies fluctuate by tens of kJ/mol from frame to frame: each path is drawn faint,
    # with its running mean over 1 % of the run on top.
    window = max(1, n_rows // 100)
    for n, i in enumerate(chosen):
        c = colours[n % len(colours)]
        e = np.asarray(energy[i], dtype=float) - reference
        energy_ax.plot(t, e, lw=0.4, alpha=0.3, color=c)
        if window > 1:
            smooth = np.convolve(e, np.ones(window) / window, mode="valid")
            energy_ax.plot(t[window // 2:window // 2 + len(smooth)], smooth, lw=1.6, color=c,
                           label=f"path {i}: running mean over {window * (t[1] - t[0]):.2g} ps")
        else:
            energy_ax.lines[-1].set(alpha=1.0, lw=0.9, label=f"path {i}")
        cv = np.asarray(cvs[i], dtype=float)
        for col, style, name in ((0, "-", "phi"), (1, "--", "psi")):
            tc = broken(np.column_stack([t, cv[:, col]]), 2 * math.pi, columns=[1])
            cv_ax.plot(tc[:, 0], tc[:, 1], ls=style, lw=0.9, color=c,
                       label=f"path {i}: {name}")
    energy_ax.set_xlabel("time (ps)")
    energy_ax.set_ylabel("energy (kJ/mol, relative to the lower end state)")
    energy_ax.set_title(f"energy of {len(chosen)} paths")
    energy_ax.grid(alpha=0.3)
    energy_ax.legend(fontsize=8)
    cv_ax.set_xlabel("time (ps)")
    cv_ax.set_ylabel("CV (rad): phi solid, psi dashed")
    cv_ax.set_ylim(-math.pi, math.pi)
    cv_ax.set_title(f"(phi, psi) of the same {len(chosen)} paths")
    cv_ax.grid(alpha=0.3)
    cv_ax.legend(fontsize=7, ncol=2)


def choose_axis(samples, reference=None, allow_log=False, reach=3.0):
    """How to draw the values of several methods on one axis so that every method stays readable.

    `samples` maps a method to its values (NaN ignored). The methods are grouped around
    `reference` (default: mcmc_variable, else geodesic, else the method with the median of the
    methods' medians): a method joins the group when its 5-95 % range comes within `reach` times
    the group's width of the group's range. Returns a dict: `scale` is "linear" (every method in
    the group; `limits` span every value), "clipped" (`limits` span the group's values; the
    methods in `outside` lie beyond them) or, with `allow_log` and every value positive, "log"
    (`limits` span every value); `note` says so in words, for the figure."""
    vals = {m: np.asarray(v, dtype=float)[np.isfinite(np.asarray(v, dtype=float))]
            for m, v in samples.items()}
    vals = {m: v for m, v in vals.items() if len(v)}
    if not vals:
        return {"scale": "linear", "limits": (0.0, 1.0), "outside": [], "note": ""}
    everything = np.concatenate(list(vals.values()))
    medians = {m: float(np.median(v)) for m, v in vals.items()}
    if reference not in vals:
        reference = next((r for r in ("mcmc_variable", "geodesic") if r in vals), None)
    if reference is None:
        middle = np.median(list(medians.values()))
        reference = min(vals, key=lambda m: abs(medians[m] - middle))
    spans = {m: (float(np.percentile(v, 5)), float(np.percentile(v, 95))) for m, v in vals.items()}
    lo, hi = spans[reference]
    group, changed = {reference}, True
    while changed:
        changed = False
        width = max(hi - lo, 0.05 * max(abs(lo), abs(hi)), 1e-12)
        for m, (a, b) in spans.items():
            if m not in group and b >= lo - reach * width and a <= hi + reach * width:
                group.add(m)
                lo, hi = min(lo, a), max(hi, b)
                changed = True
    outside = [m for m in vals if m not in group]

    def padded(a, b):
        pad = 0.05 * max(b - a, 0.05 * max(abs(a), abs(b)), 1e-12)
        return a - pad, b + pad

    if not outside:
        return {"scale": "linear", "limits": padded(everything.min(), everything.max()),
                "outside": [], "note": ""}
    if allow_log and everything.min() > 0:
        return {"scale": "log", "limits": (everything.min() / 1.5, everything.max() * 1.5),
                "outside": outside,
                "note": "logarithmic axis: " + ", ".join(outside) + " far from the others"}
    inside = np.concatenate([vals[m] for m in group])
    limits = padded(inside.min(), inside.max())
    where = ", ".join(f"{m} (median {medians[m]:.3g}, "
                      f"{'right' if medians[m] > limits[1] else 'left'})" for m in outside)
    return {"scale": "clipped", "limits": limits, "outside": outside,
            "note": f"axis clipped to [{limits[0]:.3g}, {limits[1]:.3g}]; beyond it: {where}"}


def compare_histograms(ax, samples, labels, unit, quantity, bound=None):
    """Step histograms of every method on one axis chosen by choose_axis (clipped when a method
    is far off, said in the panel)."""
    axis = choose_axis(samples)
    lo, hi = axis["limits"]
    bins = np.linspace(lo, hi, 60)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for n, (m, v) in enumerate(samples.items()):
        colour = colours[n % len(colours)]
        v = np.asarray(v, dtype=float)
        v = v[np.isfinite(v)]
        if not len(v):
            continue
        label = f"{labels[m]}: {mean_std_text(v, unit)} ({len(v)} paths"
        shown = v[(v >= lo) & (v <= hi)]
        if m in axis["outside"] or not len(shown):
            # Beyond the clipped axis: a legend entry, and an arrow at the edge it lies beyond.
            ax.plot([], [], color=colour, lw=1.5, label=label + ", beyond the axis)")
            right = np.median(v) > hi
            ax.annotate(f"{m}: {np.median(v):.3g} {unit} " + ("→" if right else "←"),
                        xy=(0.98 if right else 0.02, 0.5), xycoords="axes fraction",
                        ha="right" if right else "left", color=colour, fontsize=9,
                        fontweight="bold")
            continue
        ax.hist(shown, bins=bins, histtype="step", lw=1.5, density=True, color=colour,
                label=label + ")")
    if bound is not None and np.isfinite(bound) and lo <= bound <= hi:
        ax.axvline(bound, color="orange", ls="--", label=f"lower bound {bound:.2f} {unit}")
    ax.set_xlim(lo, hi)
    ax.set_xlabel(f"{quantity} ({unit})" + (" — axis clipped" if axis["scale"] == "clipped"
                                            else ""))
    ax.set_ylabel("density of paths")
    ax.legend(fontsize=7, loc="best")
    if axis["note"]:
        ax.set_title(axis["note"], fontsize=8, color="darkred")
    return axis


def compare_summary(ax, samples, labels, unit, quantity):
    """Every method's mean ± std as a point with an error bar, on a logarithmic axis when one
    method is far off and every value is positive (said in the panel)."""
    axis = choose_axis(samples, allow_log=True)
    names = [m for m in samples if np.isfinite(np.asarray(samples[m], dtype=float)).any()]
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for row, m in enumerate(names):
        colour = colours[list(samples).index(m) % len(colours)]
        v = np.asarray(samples[m], dtype=float)
        v = v[np.isfinite(v)]
        mean, sd = v.mean(), (v.std(ddof=1) if len(v) > 1 else 0.0)
        low = min(sd, mean - axis["limits"][0]) if axis["scale"] == "log" else sd
        ax.errorbar([mean], [row], xerr=[[low], [sd]], fmt="o", capsize=4, color=colour)
        ax.annotate(mean_std_text(v, unit), (mean, row), xytext=(0, 8),
                    textcoords="offset points", ha="center", fontsize=8)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=9)  # the method keys: the legends give the labels
    ax.set_ylim(-0.6, len(names) - 0.4)
    if axis["scale"] == "log":
        ax.set_xscale("log")
    else:
        ax.set_xlim(*axis["limits"])
    ax.set_xlabel(f"{quantity} mean ± std ({unit})"
                  + {"log": " — logarithmic axis", "clipped": " — axis clipped"}.get(
                      axis["scale"], ""))
    ax.grid(alpha=0.3, axis="x")
    if axis["note"]:
        ax.set_title(axis["note"], fontsize=8, color="darkred")
    return axis


def plot_compare(f, args, out):
    methods = text(f["/summary"].attrs["methods"]).split(",")
    full_atom = text(f["/summary"].attrs.get("kind", "2d")) == "full_atom"
    unit = "kJ/mol" if full_atom else text(f.attrs["energy_unit"])
    samples, cv_samples, labels = {}, {}, {}
    for m in methods:
        g = f[f"/methods/{m}"]
        if int(g.attrs["ok"]) == 1 and "max_energy" in g and len(g["max_energy"]) > 0:
            label = text(g.attrs["label"])
            if int(g.attrs.get("converged", 1)) == 0:
                label += " (not converged)"
            labels[m] = label
            samples[m] = np.asarray(g["max_energy"])
            if "max_energy_cv" in g:
                cv_samples[m] = np.asarray(g["max_energy_cv"])
    panels = 3 if full_atom and cv_samples else 2
    fig, axes = plt.subplots(1, panels, figsize=(6.5 * panels, 5.5))
    bound = f["/summary"].attrs.get("minimax_bound", float("nan"))
    quantity = "full-atom MaxEnergy" if full_atom else "MaxEnergy"
    axis = compare_histograms(axes[0], samples, labels, unit, quantity,
                              None if full_atom else bound)
    if panels == 3:
        compare_histograms(axes[1], cv_samples, labels, unit, "CV-surface MaxEnergy", bound)
    compare_summary(axes[-1], samples, labels, unit, quantity)
    fig.suptitle(f"{text(f.attrs['name'])}: {len(samples)} methods")
    fig.tight_layout()
    save(fig, out, args.dpi)
    means = [f"{m} {np.nanmean(v):.6f}" for m, v in samples.items()]
    return f"MaxEnergy means: {', '.join(means)}; axis {axis['scale']}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file", help="result file of `geotps run` or `geotps compare`")
    p.add_argument("--out", "-o", help="figure file (default: FILE with .png)")
    p.add_argument("--paths", type=int, default=20, help="transition paths to draw (default 20)")
    p.add_argument("--time-paths", type=int, default=3,
                   help="full atom: paths whose energy and (phi, psi) are drawn against time "
                        "(default 3)")
    p.add_argument("--surface", help="background `x y U` grid file (default: the job's)")
    p.add_argument("--dpi", type=int, default=120)
    p.add_argument("--axes", type=int, nargs=2, default=(0, 1), metavar=("I", "J"),
                   help="run files: the two coordinates of the path map, a projection when the "
                        "paths have D > 2 coordinates (default 0 1)")
    args = p.parse_args()
    if args.paths < 0 or args.time_paths < 0:
        p.error("--paths and --time-paths must be >= 0")
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
