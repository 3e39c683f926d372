"""Harmony figures of a melody and its accompaniment on the 16th-note token grid.

Every figure is built from raw counts (:class:`PairStats`) so that a set of pieces is pooled:
a figure over a test set weighs each frame or note once, instead of averaging per-piece ratios
where a four-bar piece would count as much as a forty-bar one. Per-piece figures are the same
functions applied to a one-piece list.

Conventions (the same ones behind the Bach reference in ``bach_reference.json``):

- A step "sounds" for a voice when a note started on it or is held through it (see
  :func:`accompanist.music.tokens.sounding_pitches`); a note is one onset token.
- Intervals are ``(melody - accompaniment) mod 12``, so a third below the melody is 3 or 4.
- Consonant interval classes are unisons/octaves, thirds, fifths and sixths: {0, 3, 4, 7, 8, 9}.
  The fourth (5) counts as dissonant, as it does against the bass in common-practice harmony.
- The key is the melody's (Krumhansl-Kessler), so an accompaniment is judged against what the
  player plays, never against itself.

Only numpy is imported: the metrics run in the eval report and in tests without torch or music21.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from accompanist.music.intervals import CONSONANT_IC, DISSONANT_IC
from accompanist.music.keys import (
    KK_MAJOR,
    KK_MINOR,
    MAJOR_SCALE,
    MINOR_SCALE,
    Key,
    check_tokens,
    find_key,
    pitch_class_histogram,
)
from accompanist.music.tokens import sounding_pitches

__all__ = ["KK_MAJOR", "KK_MINOR", "MAJOR_SCALE", "MINOR_SCALE", "Key", "find_key", "pitch_class_histogram"]


#: A run of more than this many consecutive same-pitch notes is "repetitive" (RL-tuner's rule).
MAX_REPEATS = 4


def repeated_notes(tokens: np.ndarray, max_repeats: int = MAX_REPEATS) -> int:
    """Notes that belong to a run of more than ``max_repeats`` consecutive notes of one pitch with no
    rest between them (the RL-tuner penalises these as monotony)."""
    t = check_tokens(tokens)
    idx = np.flatnonzero(t < 128)
    if len(idx) <= max_repeats:
        return 0
    sounding = sounding_pitches(t)
    # Note k joins note k+1 when they share a pitch and note k still sounds on the step before k+1.
    joined = (t[idx[1:]] == t[idx[:-1]]) & (sounding[idx[1:] - 1] >= 0)
    count, run = 0, 1
    for j in joined:
        if j:
            run += 1
            continue
        count += run if run > max_repeats else 0
        run = 1
    return count + (run if run > max_repeats else 0)


class Counts:
    """Frozen dataclasses of counts that add field by field (tuples element-wise), so a set's
    figures pool every piece's raw counts."""

    def __add__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        values = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            values[f.name] = tuple(x + y for x, y in zip(a, b, strict=True)) if isinstance(a, tuple) else a + b
        return type(self)(**values)

    def __radd__(self, other: object):
        # Lets sum(list_of_stats) start from 0.
        if other == 0:
            return self
        return NotImplemented


@dataclass(frozen=True)
class PairStats(Counts):
    """Raw counts of one piece (or, once added, of a set of pieces): everything :func:`summarize`
    needs, so that pooled figures weigh each step or note once."""

    pieces: int = 0
    steps: int = 0
    melody_steps: int = 0  #: steps where the melody sounds
    both_steps: int = 0  #: steps where both voices sound
    consonant_steps: int = 0  #: both sound, interval class in CONSONANT_IC
    crossing_steps: int = 0  #: both sound, accompaniment strictly above the melody
    ic_counts: tuple[int, ...] = (0,) * 12  #: both sound, by (melody - accompaniment) mod 12
    melody_onsets: int = 0
    accompaniment_onsets: int = 0
    keyed_notes: int = 0  #: accompaniment notes in pieces whose melody has a key
    in_key_notes: int = 0  #: ... of which the pitch class is in that key
    repeated_notes: int = 0
    range_sum: int = 0  #: sum over pieces with accompaniment notes of (highest - lowest) pitch
    ranged_pieces: int = 0  #: pieces with at least one accompaniment note
    distinct_sum: int = 0  #: sum over pieces of the number of distinct accompaniment pitches


def pair_stats(melody: np.ndarray, accompaniment: np.ndarray, key: Key | None = None) -> PairStats:
    """Counts of one piece. ``key`` overrides the melody's Krumhansl-Kessler key (for example when
    the melody is too short to find one)."""
    mel = check_tokens(melody)
    acc = check_tokens(accompaniment)
    if len(mel) != len(acc):
        raise ValueError(f"melody and accompaniment differ in length: {len(mel)} != {len(acc)}")
    mp = sounding_pitches(mel)
    ap = sounding_pitches(acc)
    both = (mp >= 0) & (ap >= 0)
    ic = (mp[both] - ap[both]) % 12
    ic_counts = np.bincount(ic, minlength=12)
    acc_notes = acc[acc < 128]
    key = key if key is not None else find_key(mel)
    in_key = sum(int(p % 12 in key.pitch_classes) for p in acc_notes) if key is not None else 0
    has_notes = len(acc_notes) > 0
    return PairStats(
        pieces=1,
        steps=len(mel),
        melody_steps=int((mp >= 0).sum()),
        both_steps=int(both.sum()),
        consonant_steps=int(sum(ic_counts[i] for i in CONSONANT_IC)),
        crossing_steps=int((ap[both] > mp[both]).sum()),
        ic_counts=tuple(int(c) for c in ic_counts),
        melody_onsets=int((mel < 128).sum()),
        accompaniment_onsets=len(acc_notes),
        keyed_notes=len(acc_notes) if key is not None else 0,
        in_key_notes=in_key,
        repeated_notes=repeated_notes(acc),
        range_sum=int(acc_notes.max() - acc_notes.min()) if has_notes else 0,
        ranged_pieces=int(has_notes),
        distinct_sum=len(np.unique(acc_notes)),
    )


def ratio(num: float, den: float) -> float:
    return float(num) / den if den else float("nan")


def summarize(stats: Sequence[PairStats], reference_ic: np.ndarray | Sequence[float] | None = None) -> dict:
    """Pooled figures of a set of pieces. A figure whose denominator is zero (no melody, no shared
    steps, ...) is NaN rather than a flattering 0 or 1.

    Keys: ``pieces``, ``steps``, ``coverage``, ``consonance``, ``in_key``, ``crossing``,
    ``onset_ratio``, ``range``, ``distinct_pitches``, ``repetition``, ``ic_hist`` (12 floats) and
    ``ic_overlap`` (None without ``reference_ic``). ``range`` averages over pieces that have an
    accompaniment note; ``distinct_pitches`` over all pieces (a silent part has 0).
    """
    total = sum(stats, PairStats())
    ic = np.asarray(total.ic_counts, dtype=np.float64)
    ic_hist = ic / ic.sum() if ic.sum() else np.full(12, np.nan)
    overlap = None
    if reference_ic is not None:
        ref = np.asarray(reference_ic, dtype=np.float64)
        if ref.shape != (12,):
            raise ValueError(f"reference_ic must have 12 bins, got shape {ref.shape}")
        overlap = float(np.minimum(ic_hist, ref).sum())
    return {
        "pieces": total.pieces,
        "steps": total.steps,
        "coverage": ratio(total.both_steps, total.melody_steps),
        "consonance": ratio(total.consonant_steps, total.both_steps),
        "in_key": ratio(total.in_key_notes, total.keyed_notes),
        "crossing": ratio(total.crossing_steps, total.both_steps),
        "onset_ratio": ratio(total.accompaniment_onsets, total.melody_onsets),
        "range": ratio(total.range_sum, total.ranged_pieces),
        "distinct_pitches": ratio(total.distinct_sum, total.pieces),
        "repetition": ratio(total.repeated_notes, total.accompaniment_onsets),
        "ic_hist": [float(x) for x in ic_hist],
        "ic_overlap": overlap,
    }


def harmony(
    melody: np.ndarray, accompaniment: np.ndarray, reference_ic: np.ndarray | Sequence[float] | None = None
) -> dict:
    """Figures of one piece: ``summarize([pair_stats(melody, accompaniment)], reference_ic)``."""
    return summarize([pair_stats(melody, accompaniment)], reference_ic)


__all__ = [
    "CONSONANT_IC",
    "DISSONANT_IC",
    "KK_MAJOR",
    "KK_MINOR",
    "MAJOR_SCALE",
    "MAX_REPEATS",
    "MINOR_SCALE",
    "Key",
    "PairStats",
    "find_key",
    "harmony",
    "pair_stats",
    "pitch_class_histogram",
    "repeated_notes",
    "summarize",
]
