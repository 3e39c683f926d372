"""Melody -> accompaniment pairs from chorales: split by chorale, augment, cut into windows.

The split happens on whole chorales before any augmentation, so no transposition or inversion
of a held-out chorale is ever trained on. Chorales that share a name or an identical soprano tune
in any key (Bach set some tunes more than once) fall on the same side, so a held-out tune is never seen in
training under another number. Held-out windows are the untouched originals.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from accompanist.data import cache
from accompanist.data.chorales import SELECTION_RULE, VOICES, Chorales
from accompanist.music.tokens import START, invert, transpose, window_at

#: The seed's pairs: soprano -> alto and tenor -> bass.
PAIRS = {"alto": ("soprano", "alto"), "bass": ("tenor", "bass")}


@dataclass
class PairDataConfig:
    """Everything that decides the training arrays; its hash keys the cache and the model card."""

    pair: str = "alto"  #: "alto" (soprano -> alto) or "bass" (tenor -> bass)
    test_fraction: float = 0.1
    #: carved from the training chorales, for early stopping; the test set only reports
    val_fraction: float = 0.1
    split_seed: int = 0
    window: int = 32
    stride: int = 16
    transpositions: list[int] = field(default_factory=lambda: list(range(-6, 6)))
    invert: bool = False
    limit: int | None = None  #: first N chorale files only (tests)
    #: add a last window ending on the final step, so cadences are trained on and scored
    tail_window: bool = True

    def describe(self) -> dict:
        d = asdict(self)
        d["selection"] = SELECTION_RULE
        return d


@dataclass
class PairArrays:
    """Windows ready for teacher forcing: the decoder reads ``tgt_in`` and predicts ``tgt_out``."""

    src: np.ndarray  # (N, window) melody tokens
    tgt_in: np.ndarray  # (N, window) START, then the accompaniment shifted right by one step
    tgt_out: np.ndarray  # (N, window) accompaniment tokens

    def __len__(self) -> int:
        return len(self.src)


@dataclass
class PairData:
    train: PairArrays
    val: PairArrays
    test: PairArrays
    counts: dict
    data_hash: str
    test_names: list[str]
    val_names: list[str] = field(default_factory=list)


def tune_groups(names: list[str], tunes: list[np.ndarray | None]) -> list[list[str]]:
    """Names grouped so that chorales sharing a name or an identical tune are together (a tune of
    None groups by name only)."""
    parent = list(range(len(names)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[object, int] = {}
    for i, (n, t) in enumerate(zip(names, tunes, strict=True)):
        for key in (("name", n),) if t is None else (("name", n), ("tune", _tune_key(t))):
            if key in first:
                parent[root(i)] = root(first[key])
            else:
                first[key] = i
    groups: dict[int, set[str]] = {}
    for i, n in enumerate(names):
        groups.setdefault(root(i), set()).add(n)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: g[0])


def _tune_key(tokens: np.ndarray) -> bytes:
    """The tune up to transposition: pitches relative to the lowest, rhythm tokens kept."""
    t = np.asarray(tokens).copy()
    notes = t < 128
    if notes.any():
        t[notes] -= t[notes].min()
    return t.tobytes()


def split_names(names: list[str], fraction: float, seed: int, tunes: list[np.ndarray] | None = None) -> set[str]:
    """The held-out chorales: whole groups (see tune_groups) in a fixed-seed order until
    ``fraction`` of the chorales is held out."""
    groups = tune_groups(names, tunes if tunes is not None else [None] * len(names))
    rng = np.random.default_rng(seed)
    n_test = max(1, int(round(len(names) * fraction)))
    test: set[str] = set()
    count = 0
    for gi in rng.permutation(len(groups)):
        if count >= n_test:
            break
        test.update(groups[gi])
        count += sum(1 for n in names if n in groups[gi])
    return test


def invert_pair(mel: np.ndarray, acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror both voices about the melody's mean pitch, then lower the accompaniment by octaves
    until it lies under the melody again (inversion alone would put it above)."""
    mp = mel[mel < 128]
    ap = acc[acc < 128]
    if len(mp) == 0 or len(ap) == 0:
        return mel, acc
    axis2 = int(round(2 * mp.mean()))
    mel_i = invert(mel, axis2)
    acc_i = invert(acc, axis2)
    gap = mp.mean() - ap.mean()
    shift = 0
    # Lower until the accompaniment is under the melody again (a gap of under 3 semitones would
    # otherwise stay inverted, above it) and no more than about an octave from its old distance.
    while (new_gap := mel_i[mel_i < 128].mean() - (acc_i[acc_i < 128].mean() + shift)) <= 0 or new_gap < gap - 6:
        shift -= 12
    return mel_i, transpose(acc_i, shift)


def windows(mel: np.ndarray, acc: np.ndarray, size: int, stride: int, tail: bool = False) -> PairArrays:
    """Cut a pair into windows; a window that opens on a held note starts that note instead, so
    every window is self-contained. With ``tail`` a last window ends on the final step."""
    n = len(mel)
    starts = list(range(0, max(n - size, 0) + 1, stride)) if n >= size else []
    if tail and starts and starts[-1] != n - size:
        starts.append(n - size)
    src, tin, tout = [], [], []
    for s in starts:
        m = window_at(mel, s, size)
        a = window_at(acc, s, size)
        src.append(m)
        tout.append(a)
        tin.append(np.concatenate([[START], a[:-1]]))
    if not src:
        empty = np.zeros((0, size), np.int64)
        return PairArrays(empty, empty.copy(), empty.copy())
    return PairArrays(np.array(src), np.array(tin), np.array(tout))


def _cat(parts: list[PairArrays], size: int) -> PairArrays:
    parts = [p for p in parts if len(p)]
    if not parts:
        empty = np.zeros((0, size), np.int64)
        return PairArrays(empty, empty.copy(), empty.copy())
    return PairArrays(*(np.concatenate([getattr(p, k) for p in parts]) for k in ("src", "tgt_in", "tgt_out")))


def chorale_split(chorales: Chorales, test_fraction: float, val_fraction: float, seed: int) -> tuple[set, set]:
    """Test and validation chorale names, by soprano tune group (see split_names); every model
    family uses this, so all are scored on the same held-out chorales."""
    tunes = [v[0] for v in chorales.voices]
    test_names = split_names(chorales.names, test_fraction, seed, tunes)
    val_names: set[str] = set()
    if val_fraction > 0:
        rest = [(n, t) for n, t in zip(chorales.names, tunes, strict=True) if n not in test_names]
        share = val_fraction * len(chorales.names) / max(len(rest), 1)
        val_names = split_names([n for n, _ in rest], share, seed + 1, [t for _, t in rest])
    return test_names, val_names


def build_pairs(chorales: Chorales, cfg: PairDataConfig) -> PairData:
    mi, ai = (VOICES.index(v) for v in PAIRS[cfg.pair])
    test_names, val_names = chorale_split(chorales, cfg.test_fraction, cfg.val_fraction, cfg.split_seed)
    val_parts = []
    train_parts, test_parts = [], []
    skipped_range = 0
    for name, v in zip(chorales.names, chorales.voices, strict=True):
        mel, acc = v[mi], v[ai]
        if name in test_names or name in val_names:
            parts = test_parts if name in test_names else val_parts
            parts.append(windows(mel, acc, cfg.window, cfg.window, cfg.tail_window))
            continue
        variants = [(mel, acc)]
        if cfg.invert:
            variants.append(invert_pair(mel, acc))
        for m, a in variants:
            for k in cfg.transpositions:
                try:
                    mt, at = transpose(m, k), transpose(a, k)
                except ValueError:
                    skipped_range += 1
                    continue
                train_parts.append(windows(mt, at, cfg.window, cfg.stride, cfg.tail_window))
    train = _cat(train_parts, cfg.window)
    test = _cat(test_parts, cfg.window)
    val = _cat(val_parts, cfg.window)
    counts = {
        "chorale_files": chorales.source_files,
        "chorales": len(chorales.names),
        "train_chorales": sum(n not in test_names and n not in val_names for n in chorales.names),
        "val_chorales": sum(n in val_names for n in chorales.names),
        "test_chorales": sum(n in test_names for n in chorales.names),
        "train_windows": len(train),
        "val_windows": len(val),
        "test_windows": len(test),
        "variants_out_of_range": skipped_range,
    }
    digest = cache.data_hash(
        {"src": train.src, "tgt": train.tgt_out, "vsrc": val.src, "tsrc": test.src, "ttgt": test.tgt_out}
    )
    return PairData(train, val, test, counts, digest, sorted(test_names), sorted(val_names))
