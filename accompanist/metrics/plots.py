"""Figures for the Yang & Lerch metrics: mean histograms and transition matrices per set, and the
intra-set / inter-set distance densities of a set comparison.

matplotlib is imported inside the functions, so ``accompanist.metrics`` works without it (it comes
with the training extras through music21). We draw with ``matplotlib.figure.Figure`` and the Agg
canvas directly, never ``pyplot``: nothing opens a window, and the process's global matplotlib
backend is left alone (the Qt control panel may want its own).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from accompanist.metrics.yang_lerch import METRICS, PITCH_CLASS_NAMES, MetricComparison

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Short labels for the length classes on the plots' axes (same order as LENGTH_CLASSES).
LENGTH_LABELS: tuple[str, ...] = (
    "1",
    "1/2",
    "1/4",
    "1/8",
    "1/16",
    "1/2.",
    "1/4.",
    "1/8.",
    "1/16.",
    "1/2t",
    "1/4t",
    "1/8t",
)


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=110)
    return path


def _bars(
    sets: Mapping[str, Mapping[str, np.ndarray]], metric: str, labels: Sequence[str], title: str, path: Path
) -> Path:
    fig = _new_figure(max(6.0, 0.6 * len(labels) + 1.5), 3.6)
    ax = fig.add_subplot()
    x = np.arange(len(labels))
    width = 0.8 / max(len(sets), 1)
    for k, (name, feats) in enumerate(sets.items()):
        values = np.asarray(feats[metric], dtype=float)
        mean = values.mean(axis=0) if len(values) else np.zeros(len(labels))
        ax.bar(x + (k - (len(sets) - 1) / 2) * width, mean, width, label=f"{name} (n={len(values)})")
    ax.set_xticks(x, labels)
    ax.set_ylabel("mean share")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return _save(fig, path)


def _heatmaps(
    sets: Mapping[str, Mapping[str, np.ndarray]], metric: str, labels: Sequence[str], title: str, path: Path
) -> Path:
    n = max(len(sets), 1)
    fig = _new_figure(3.6 * n + 0.8, 3.8)
    axes = fig.subplots(1, n, squeeze=False)[0]
    means = [np.asarray(f[metric], dtype=float) for f in sets.values()]
    means = [m.mean(axis=0) if len(m) else np.zeros((len(labels), len(labels))) for m in means]
    vmax = max((float(m.max()) for m in means), default=1.0) or 1.0
    image = None
    for ax, name, mean in zip(axes, sets, means, strict=False):
        image = ax.imshow(mean, origin="upper", cmap="viridis", vmin=0.0, vmax=vmax)
        ax.set_xticks(np.arange(len(labels)), labels, rotation=90, fontsize="x-small")
        ax.set_yticks(np.arange(len(labels)), labels, fontsize="x-small")
        ax.set_xlabel("to")
        ax.set_ylabel("from")
        ax.set_title(name, fontsize="small")
    if image is not None:
        fig.colorbar(image, ax=list(axes), shrink=0.8, label="mean per sample")
    fig.suptitle(title)
    return _save(fig, path)


def plot_histograms(sets: Mapping[str, Mapping[str, np.ndarray]], out_dir: str | Path) -> list[Path]:
    """Write the mean PCH and NLH (grouped bars, one colour per set) and the mean PCTM and NLTM
    (a heatmap per set, one shared colour scale) as PNGs into ``out_dir``.

    ``sets`` maps a set's name to its :func:`~accompanist.metrics.yang_lerch.set_features` dict.
    Returns the paths written: ``pch.png``, ``nlh.png``, ``pctm.png``, ``nltm.png``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [
        _bars(sets, "PCH", PITCH_CLASS_NAMES, "Pitch-class histogram (duration-weighted)", out / "pch.png"),
        _bars(sets, "NLH", LENGTH_LABELS, "Note-length histogram (t = triplet, . = dotted)", out / "nlh.png"),
        _heatmaps(sets, "PCTM", PITCH_CLASS_NAMES, "Pitch-class transitions", out / "pctm.png"),
        _heatmaps(sets, "NLTM", LENGTH_LABELS, "Note-length transitions", out / "nltm.png"),
    ]


def plot_distances(
    comparisons: Mapping[str, MetricComparison], out_dir: str | Path, name_a: str = "A", name_b: str = "B"
) -> Path:
    """Write ``distances.png``: for each metric the intra-A, intra-B and inter distance densities
    of a :func:`~accompanist.metrics.yang_lerch.compare_sets` result, on their common grid, with
    the overlapped areas in the title. Metrics without densities (too few samples) are left blank.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = [m for m in METRICS if m in comparisons] + [m for m in comparisons if m not in METRICS]
    cols = 3
    rows = max(1, -(-len(names) // cols))
    fig = _new_figure(4.0 * cols, 2.8 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[len(names) :]:
        ax.set_axis_off()
    for ax, name in zip(axes, names, strict=False):
        c = comparisons[name]
        if len(c.grid) == 0:
            ax.set_title(f"{name}: too few samples", fontsize="small")
            ax.set_axis_off()
            continue
        ax.plot(c.grid, c.density_intra_a, label=f"intra {name_a}")
        ax.plot(c.grid, c.density_intra_b, label=f"intra {name_b}")
        ax.plot(c.grid, c.density_inter, label="inter", color="black", linestyle="--")
        ax.set_title(f"{name}   OA {name_a} {c.oa_a:.2f}, OA {name_b} {c.oa_b:.2f}", fontsize="small")
        ax.set_xlabel("distance", fontsize="small")
        ax.tick_params(labelsize="x-small")
    if names:
        axes[0].legend(fontsize="x-small")
    return _save(fig, out / "distances.png")
