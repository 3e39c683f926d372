"""Yang & Lerch's objective metrics for generated music, and their set comparison (the mgeval toolbox).

Yang & Lerch, "On the evaluation of generative models in music" (Neural Computing and Applications,
2018), measure a set of generated samples against a set of real ones in two steps: nine features
per sample, then for each feature the distribution of distances between samples *within* a set
compared with the distribution of distances *across* the two sets. If the generated set is like the
real one, a real sample is as far from a generated one as from another real one, and the densities
overlap (overlapped area OA near 1, KL near 0).

Per-sample features (names and order in :data:`METRICS`); times are in beats (quarter note = 1):

- ``PC``   pitch count: number of distinct MIDI pitches used.
- ``PR``   pitch range: highest minus lowest pitch, in semitones.
- ``PCH``  pitch-class histogram (12), weighted by note duration, summing to 1.
- ``PCTM`` pitch-class transition matrix (12 x 12): counts of ``pc(note k) -> pc(note k+1)``.
- ``NC``   note count: the number of notes. We follow Yang & Lerch; the DuetHLSTM paper describes
  NC as "number of different note lengths", which is not what mgeval computes.
- ``PI``   mean absolute interval in semitones between consecutive notes.
- ``IOI``  mean inter-onset interval in beats between consecutive *distinct* onsets.
- ``NLH``  note-length histogram (12 classes of :data:`LENGTH_CLASSES`), summing to 1 (as mgeval's
  default ``normalize=True``).
- ``NLTM`` note-length transition matrix (12 x 12): counts of ``class(note k) -> class(note k+1)``.

Polyphony: "consecutive notes" means consecutive in the order (onset, pitch), both ascending, so a
chord is read from its lowest note up and its inner intervals count in PI, PCTM and NLTM. This is
one fixed rule for any input; mgeval itself reads note events in file order (PI, NLTM) or uses
pretty_midi's time-threshold rule (PCTM), which depend on how a MIDI file happens to be written.

Length classes: a note goes to the class nearest on a log scale (the ratio of lengths, not their
difference), because durations are heard proportionally: 0.3 beats is closer to an 8th triplet
(1/3) than to a 16th (1/4) by ratio, and a whole note held 10 % long is still a whole note.
mgeval uses the nearest class in ticks; both agree on every exact class length.

Undefined values: a sample with fewer than two notes has ``PI`` = NaN, and one with fewer than two
distinct onsets has ``IOI`` = NaN, rather than a 0 that would look like a real figure.
:func:`compare_sets` leaves such samples out of that metric's distances, and :func:`summary_table`
averages with ``nanmean``. An empty sample has zeros everywhere else.

Transition matrices are raw counts by default, as in mgeval (``normalize=0``); mgeval also offers
row normalisation (``1``) and whole-matrix normalisation (``2``), which are ``"row"`` and ``"total"``
in :func:`normalize_transitions` and the ``transitions`` argument of :func:`set_features`. Counts
grow with the length of a sample; use ``"total"`` when the two sets' samples differ in length.

Set comparison, and what we changed from mgeval (see :func:`compare_sets`): all three densities
(intra-A, intra-B, inter) are evaluated on one common grid that covers all three distance samples,
and both OA and KL are computed on that grid. mgeval's ``kl_dist`` evaluated each density on its
own grid (so the KL compared values at different distances), and its ``overlap_area`` integrated
only between the smallest and largest observed distance.

The densities (a Gaussian KDE on a grid, its overlapped area and KL) are
:mod:`accompanist.metrics.density`. Only numpy is imported, so the metrics run in the eval report
and in tests without scipy or torch.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from accompanist.metrics.density import kde_on_grid, kl_divergence, overlap_area, scott_bandwidth
from accompanist.music.notes import Note

#: The metric names, in Yang & Lerch's order (pitch-based, then rhythm-based).
METRICS: tuple[str, ...] = ("PC", "PR", "PCH", "PCTM", "NC", "PI", "IOI", "NLH", "NLTM")

#: The scalar metrics that :func:`summary_table` shows (the DuetHLSTM paper's table).
SUMMARY_METRICS: tuple[str, ...] = ("PC", "PR", "NC", "PI", "IOI")

#: The 12 note-length classes, in mgeval's order, as (name, length in beats).
LENGTH_CLASSES: tuple[tuple[str, float], ...] = (
    ("whole", 4.0),
    ("half", 2.0),
    ("quarter", 1.0),
    ("8th", 0.5),
    ("16th", 0.25),
    ("dotted half", 3.0),
    ("dotted quarter", 1.5),
    ("dotted 8th", 0.75),
    ("dotted 16th", 0.375),
    ("half triplet", 4 / 3),
    ("quarter triplet", 2 / 3),
    ("8th triplet", 1 / 3),
)
LENGTH_CLASS_NAMES: tuple[str, ...] = tuple(name for name, _ in LENGTH_CLASSES)
_LOG_CLASS_BEATS = np.log(np.array([beats for _, beats in LENGTH_CLASSES]))

PITCH_CLASS_NAMES: tuple[str, ...] = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

TransitionNorm = Literal["counts", "row", "total"]
NoteInput = Sequence[Note] | np.ndarray


# --------------------------------------------------------------------------------------------
# Per-sample features
# --------------------------------------------------------------------------------------------


@dataclass
class SampleFeatures:
    """The nine Yang & Lerch features of one sample (see the module docstring for definitions)."""

    pc: int  #: distinct pitches
    pr: int  #: highest - lowest pitch, semitones
    pch: np.ndarray  #: (12,) duration-weighted pitch-class histogram, sums to 1 (zeros if no notes)
    pctm: np.ndarray  #: (12, 12) pitch-class transition counts, row = from, column = to
    nc: int  #: number of notes
    pi: float  #: mean |interval| between consecutive notes, semitones (NaN with < 2 notes)
    ioi: float  #: mean inter-onset interval in beats (NaN with < 2 distinct onsets)
    nlh: np.ndarray  #: (12,) note-length class histogram, sums to 1 (zeros if no notes)
    nltm: np.ndarray  #: (12, 12) note-length class transition counts

    def as_dict(self, transitions: TransitionNorm = "counts") -> dict[str, np.ndarray]:
        """The features keyed by :data:`METRICS` names, as float arrays (scalars are 0-d)."""
        return {
            "PC": np.asarray(float(self.pc)),
            "PR": np.asarray(float(self.pr)),
            "PCH": self.pch.astype(float),
            "PCTM": normalize_transitions(self.pctm, transitions),
            "NC": np.asarray(float(self.nc)),
            "PI": np.asarray(float(self.pi)),
            "IOI": np.asarray(float(self.ioi)),
            "NLH": self.nlh.astype(float),
            "NLTM": normalize_transitions(self.nltm, transitions),
        }


def notes_to_array(notes: NoteInput, ticks_per_beat: float) -> np.ndarray:
    """(n, 3) float array of (pitch, start, end) in beats, ordered by onset then pitch.

    ``notes`` is a sequence of :class:`~accompanist.music.notes.Note` (times in ticks) or an
    (n, 3) array of (pitch, start, end) in the same time unit; either way start and end are
    divided by ``ticks_per_beat``, so an array already in beats takes ``ticks_per_beat=1``.
    """
    if ticks_per_beat <= 0:
        raise ValueError(f"ticks_per_beat must be positive, got {ticks_per_beat}")
    if isinstance(notes, np.ndarray):
        arr = np.asarray(notes, dtype=float).reshape(-1, 3).copy()
    else:
        arr = np.array([(n.pitch, n.start, n.end) for n in notes], dtype=float).reshape(-1, 3)
    arr[:, 1:] /= float(ticks_per_beat)
    order = np.lexsort((arr[:, 0], arr[:, 1]))  # last key is primary: onset, then pitch
    return arr[order]


def length_class(beats: np.ndarray | float) -> np.ndarray:
    """Index into :data:`LENGTH_CLASSES` of the class nearest on a log scale, for each length.

    Lengths of zero or less (a note-off on its note-on) count as the shortest class, the 16th.
    """
    b = np.maximum(np.asarray(beats, dtype=float), 1e-6)
    return np.abs(np.log(b)[..., None] - _LOG_CLASS_BEATS).argmin(axis=-1)


def normalize_transitions(matrix: np.ndarray, mode: TransitionNorm = "counts") -> np.ndarray:
    """A transition matrix as counts, row-normalised or normalised to sum 1 (mgeval's 0, 1, 2).

    All-zero rows (or an all-zero matrix) stay zero rather than dividing by zero.
    """
    m = np.asarray(matrix, dtype=float)
    if mode == "counts":
        return m.copy()
    if mode == "row":
        sums = m.sum(axis=-1, keepdims=True)
        return np.divide(m, sums, out=np.zeros_like(m), where=sums > 0)
    if mode == "total":
        total = m.sum(axis=(-2, -1), keepdims=True)
        return np.divide(m, total, out=np.zeros_like(m), where=total > 0)
    raise ValueError(f"unknown transition normalisation {mode!r}: use 'counts', 'row' or 'total'")


def _transitions(classes: np.ndarray, n_classes: int = 12) -> np.ndarray:
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    if len(classes) > 1:
        np.add.at(m, (classes[:-1], classes[1:]), 1)
    return m


def features(notes: NoteInput, ticks_per_beat: float) -> SampleFeatures:
    """The nine Yang & Lerch features of one sample (a list of notes, polyphony allowed).

    ``ticks_per_beat`` converts note times to beats; pass 1 for an (n, 3) array already in beats.
    """
    arr = notes_to_array(notes, ticks_per_beat)
    n = len(arr)
    if n == 0:
        z12, z12x12 = np.zeros(12), np.zeros((12, 12), dtype=np.int64)
        return SampleFeatures(0, 0, z12, z12x12, 0, float("nan"), float("nan"), z12.copy(), z12x12.copy())
    pitch = arr[:, 0].round().astype(np.int64)
    start, end = arr[:, 1], arr[:, 2]
    dur = np.maximum(end - start, 0.0)
    pcs = pitch % 12

    pch = np.bincount(pcs, weights=dur, minlength=12)
    if pch.sum() <= 0:  # every note has zero length: fall back to counting notes
        pch = np.bincount(pcs, minlength=12).astype(float)
    pch = pch / pch.sum()

    classes = length_class(dur)
    nlh = np.bincount(classes, minlength=12).astype(float)
    nlh /= nlh.sum()

    onsets = np.unique(start)
    return SampleFeatures(
        pc=len(np.unique(pitch)),
        pr=int(pitch.max() - pitch.min()),
        pch=pch,
        pctm=_transitions(pcs),
        nc=n,
        pi=float(np.abs(np.diff(pitch)).mean()) if n > 1 else float("nan"),
        ioi=float(np.diff(onsets).mean()) if len(onsets) > 1 else float("nan"),
        nlh=nlh,
        nltm=_transitions(classes),
    )


def set_features(
    samples: Sequence[NoteInput], ticks_per_beat: float, transitions: TransitionNorm = "counts"
) -> dict[str, np.ndarray]:
    """The features of every sample of a set, stacked per metric.

    Returns ``{name: array}`` for each name in :data:`METRICS`, with the sample on axis 0: shape
    (n,) for the scalars, (n, 12) for PCH and NLH, (n, 12, 12) for PCTM and NLTM. All float64
    (NaN marks an undefined PI or IOI). This dict is what :func:`compare_sets`,
    :func:`summary_table` and the plots take.
    """
    rows = [features(s, ticks_per_beat).as_dict(transitions) for s in samples]
    shapes = {"PCH": (12,), "NLH": (12,), "PCTM": (12, 12), "NLTM": (12, 12)}
    return {
        name: (np.stack([r[name] for r in rows]) if rows else np.zeros((0, *shapes.get(name, ())))).astype(float)
        for name in METRICS
    }


# --------------------------------------------------------------------------------------------
# Set comparison
# --------------------------------------------------------------------------------------------


@dataclass
class MetricComparison:
    """Intra-set and inter-set distances of one metric, their densities on a common grid, and
    how much the densities overlap.

    ``oa_a`` / ``kl_a`` compare intra-A with inter (KL(intra-A || inter)); ``oa_b`` / ``kl_b`` the
    same for set B. With A the real data and B the generated set, a high ``oa_b`` says the
    generated samples are as far from the real ones as from each other. Figures are NaN when a
    set has fewer than two samples with this metric defined.
    """

    metric: str
    n_a: int  #: samples of A used (PI and IOI leave out samples where they are undefined)
    n_b: int
    intra_a_mean: float
    intra_a_std: float
    intra_b_mean: float
    intra_b_std: float
    inter_mean: float
    inter_std: float
    oa_a: float
    kl_a: float
    oa_b: float
    kl_b: float
    bandwidths: tuple[float, float, float]  #: KDE bandwidths of intra-A, intra-B, inter
    grid: np.ndarray = field(repr=False)
    density_intra_a: np.ndarray = field(repr=False)
    density_intra_b: np.ndarray = field(repr=False)
    density_inter: np.ndarray = field(repr=False)
    intra_a: np.ndarray = field(repr=False)  #: the distances themselves (subsampled past max_pairs)
    intra_b: np.ndarray = field(repr=False)
    inter: np.ndarray = field(repr=False)

    def summary(self) -> dict[str, float]:
        """The scalar figures, for a JSON report."""
        keys = ("n_a", "n_b", "intra_a_mean", "intra_a_std", "intra_b_mean", "intra_b_std", "inter_mean")
        keys += ("inter_std", "oa_a", "kl_a", "oa_b", "kl_b")
        return {k: float(getattr(self, k)) for k in keys}


def _pairs_within(n: int, max_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Every unordered pair i < j, or ``max_pairs`` pairs i != j drawn uniformly with replacement.

    Unordered pairs give the same distribution as mgeval's leave-one-out (which counts each pair
    twice, once from each side).
    """
    if n * (n - 1) // 2 <= max_pairs:
        i, j = np.triu_indices(n, k=1)
        return i, j
    i = rng.integers(n, size=max_pairs)
    j = rng.integers(n - 1, size=max_pairs)
    return i, j + (j >= i)


def _pairs_across(na: int, nb: int, max_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if na * nb <= max_pairs:
        i, j = np.meshgrid(np.arange(na), np.arange(nb), indexing="ij")
        return i.ravel(), j.ravel()
    return rng.integers(na, size=max_pairs), rng.integers(nb, size=max_pairs)


def _distances(x: np.ndarray, y: np.ndarray, i: np.ndarray, j: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Euclidean distances ``|x[i] - y[j]|``, in chunks so that memory stays small."""
    out = np.empty(len(i))
    for s in range(0, len(i), chunk):
        out[s : s + chunk] = np.linalg.norm(x[i[s : s + chunk]] - y[j[s : s + chunk]], axis=1)
    return out


def _mean_std(d: np.ndarray) -> tuple[float, float]:
    return (float(d.mean()), float(d.std())) if len(d) else (float("nan"), float("nan"))


def compare_metric(
    metric: str,
    a: np.ndarray,
    b: np.ndarray,
    grid_points: int = 1000,
    max_pairs: int = 20000,
    rng: np.random.Generator | None = None,
) -> MetricComparison:
    """Compare one metric's values over set A (``a``, sample on axis 0) and set B (``b``).

    Each sample's feature is flattened and compared by Euclidean distance. Intra-A: every pair of
    distinct samples of A; intra-B likewise; inter: every (A, B) pair. Past ``max_pairs`` pairs a
    distance sample is drawn at random (uniformly, with replacement) instead: 20000 distances
    pin a density down well, and the cost then stays flat however large the sets are. Samples
    whose feature holds NaN (undefined PI or IOI) are left out.

    Densities: Gaussian KDE with Scott's bandwidth, never narrower than 1 % of the range of all
    three distance samples (see :func:`scott_bandwidth`), evaluated on one grid of ``grid_points``
    points from the smallest distance minus 4 bandwidths to the largest plus 4 bandwidths. There
    is no boundary correction at distance 0 (as in scipy's ``gaussian_kde``, which mgeval uses):
    the grid reaches below 0 so each density still integrates to 1.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    xa = np.asarray(a, dtype=float).reshape(len(a), -1)
    xb = np.asarray(b, dtype=float).reshape(len(b), -1)
    xa = xa[~np.isnan(xa).any(axis=1)]
    xb = xb[~np.isnan(xb).any(axis=1)]
    na, nb = len(xa), len(xb)
    intra_a = _distances(xa, xa, *_pairs_within(na, max_pairs, rng)) if na > 1 else np.zeros(0)
    intra_b = _distances(xb, xb, *_pairs_within(nb, max_pairs, rng)) if nb > 1 else np.zeros(0)
    inter = _distances(xa, xb, *_pairs_across(na, nb, max_pairs, rng)) if na and nb else np.zeros(0)
    samples = (intra_a, intra_b, inter)
    stats = [_mean_std(d) for d in samples]
    if min(len(d) for d in samples) == 0:
        nan, empty = float("nan"), np.zeros(0)
        return MetricComparison(
            metric, na, nb, *stats[0], *stats[1], *stats[2], nan, nan, nan, nan, (nan, nan, nan),
            empty, empty, empty, empty, intra_a, intra_b, inter,
        )  # fmt: skip
    everything = np.concatenate(samples)
    lo, hi = float(everything.min()), float(everything.max())
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    bws = tuple(scott_bandwidth(d, floor=0.01 * span) for d in samples)
    grid = np.linspace(
        min(float(d.min()) - 4 * h for d, h in zip(samples, bws, strict=True)),
        max(float(d.max()) + 4 * h for d, h in zip(samples, bws, strict=True)),
        grid_points,
    )
    pa, pb, pi = (kde_on_grid(d, grid, h) for d, h in zip(samples, bws, strict=True))
    return MetricComparison(
        metric=metric,
        n_a=na,
        n_b=nb,
        intra_a_mean=stats[0][0],
        intra_a_std=stats[0][1],
        intra_b_mean=stats[1][0],
        intra_b_std=stats[1][1],
        inter_mean=stats[2][0],
        inter_std=stats[2][1],
        oa_a=overlap_area(pa, pi, grid),
        kl_a=kl_divergence(pa, pi),
        oa_b=overlap_area(pb, pi, grid),
        kl_b=kl_divergence(pb, pi),
        bandwidths=bws,
        grid=grid,
        density_intra_a=pa,
        density_intra_b=pb,
        density_inter=pi,
        intra_a=intra_a,
        intra_b=intra_b,
        inter=inter,
    )


def compare_sets(
    a: Mapping[str, np.ndarray],
    b: Mapping[str, np.ndarray],
    grid_points: int = 1000,
    max_pairs: int = 20000,
    seed: int = 0,
    metrics: Sequence[str] | None = None,
) -> dict[str, MetricComparison]:
    """Yang & Lerch's relative measurement of set B against set A, metric by metric.

    ``a`` and ``b`` are :func:`set_features` dicts. ``metrics`` defaults to every name of
    :data:`METRICS` present in both. The random pair draws (only past ``max_pairs``) come from
    ``seed`` and the metric's name, so a figure does not change with which other metrics
    are asked for. See :func:`compare_metric` for the method.
    """
    names = [m for m in METRICS if m in a and m in b] if metrics is None else list(metrics)
    out: dict[str, MetricComparison] = {}
    for name in names:
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        out[name] = compare_metric(name, a[name], b[name], grid_points, max_pairs, rng)
    return out


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(c) for c in col) for col in zip(header, *rows, strict=True)]
    lines = []
    for r in [header, *rows]:
        cells = (c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(r, widths, strict=True)))
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(x: float, digits: int = 3) -> str:
    return "nan" if not np.isfinite(x) else f"{x:.{digits}f}"


def format_comparison(comparisons: Mapping[str, MetricComparison], name_a: str = "A", name_b: str = "B") -> str:
    """A plain-text table of :func:`compare_sets` results: one row per metric.

    Columns: mean (std) of the intra-A, intra-B and inter distances, then OA and KL of each set's
    intra density against the inter density.
    """
    header = [
        "metric", f"intra {name_a}", f"intra {name_b}", "inter",
        f"OA {name_a}", f"KL {name_a}", f"OA {name_b}", f"KL {name_b}",
    ]  # fmt: skip
    rows = [
        [
            c.metric,
            f"{_fmt(c.intra_a_mean)} ({_fmt(c.intra_a_std)})",
            f"{_fmt(c.intra_b_mean)} ({_fmt(c.intra_b_std)})",
            f"{_fmt(c.inter_mean)} ({_fmt(c.inter_std)})",
            _fmt(c.oa_a),
            _fmt(c.kl_a),
            _fmt(c.oa_b),
            _fmt(c.kl_b),
        ]
        for c in comparisons.values()
    ]
    note = (
        f"distances: mean (std); OA = overlapped area of the intra density with the inter density "
        f"(1 = {name_b} indistinguishable from {name_a}); KL(intra || inter) in nats"
    )
    return _table(header, rows) + "\n" + note


def summary_table(sets: Mapping[str, Mapping[str, np.ndarray]], metrics: Sequence[str] = SUMMARY_METRICS) -> str:
    """Mean PC, PR, NC, PI and IOI per set, one row per set (e.g. "training data", "DuetHLSTM").

    Means skip undefined values (NaN PI or IOI of samples with too few notes).
    """
    header = ["set", "n", *metrics]
    rows = []
    for name, feats in sets.items():
        n = len(next(iter(feats.values()))) if feats else 0
        cells = []
        for m in metrics:
            v = np.asarray(feats[m], dtype=float)
            cells.append(_fmt(float(np.nanmean(v)), 2) if np.isfinite(v).any() else "nan")
        rows.append([name, str(n), *cells])
    return _table(header, rows)
