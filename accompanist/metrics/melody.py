"""Melody metrics as pure functions of a monophonic token row (16th grid).

MusPy's definitions (Dong et al., "MusPy: A Toolkit for Symbolic Music Generation", 2020;
muspy 0.5.0), computed on our grid with one step as MusPy's time unit and ``steps_per_beat``
as its resolution; tests check them against muspy itself:
- pitch-class entropy: log2 entropy of the note-count histogram over the 12 pitch classes;
- scale consistency: the largest share of notes inside one of the 24 major and natural-minor scales;
- groove consistency: 1 - the mean Hamming distance between adjacent bars' onset vectors / steps a bar
  (bars counted from the first step; NaN for a melody of less than two bars);
- empty-beat rate: the share of beats in which no note sounds.
Two places where muspy's code departs from its own definition, and we do not: it counts
``length // bar + 1`` bars (and beats), so a melody that ends on a bar line gains an empty bar
(every answer here is a whole number of bars: its last bar would always differ from a silent
one); and a note that ends exactly on a beat marks the next beat as sounding. Elsewhere the
numbers are muspy's to the last digit (tests/test_melody_metrics.py).
- pitch range (highest - lowest MIDI pitch) and pitches used.
"""

from __future__ import annotations

import math

import numpy as np

from accompanist.music.notes import tokens_to_notes

_MAJOR = np.array([0, 2, 4, 5, 7, 9, 11])
_MINOR = np.array([0, 2, 3, 5, 7, 8, 10])


def _notes(tokens: np.ndarray):
    return tokens_to_notes(np.asarray(tokens), 1.0)


def _spans(notes, steps: int) -> int:
    """How many spans of ``steps`` (bars, beats) from the first step the notes reach into."""
    return -(-max(n.end for n in notes) // steps)


def pitch_class_entropy(tokens: np.ndarray) -> float:
    notes = _notes(tokens)
    if not notes:
        return math.nan
    counts = np.bincount([n.pitch % 12 for n in notes], minlength=12).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def scale_consistency(tokens: np.ndarray) -> float:
    notes = _notes(tokens)
    if not notes:
        return math.nan
    pcs = np.array([n.pitch % 12 for n in notes])
    best = 0.0
    for scale in (_MAJOR, _MINOR):
        for root in range(12):
            best = max(best, float(np.isin(pcs, (scale + root) % 12).mean()))
    return best


def groove_consistency(tokens: np.ndarray, steps_per_bar: int = 16) -> float:
    notes = _notes(tokens)
    if not notes:
        return math.nan
    bars = _spans(notes, steps_per_bar)
    if bars < 2:
        return math.nan
    grooves = np.zeros((bars, steps_per_bar), bool)
    for n in notes:
        bar, pos = divmod(n.start, steps_per_bar)
        grooves[bar, pos] = True
    return float(1 - np.count_nonzero(grooves[:-1] != grooves[1:]) / (steps_per_bar * (bars - 1)))


def empty_beat_rate(tokens: np.ndarray, steps_per_beat: int = 4) -> float:
    notes = _notes(tokens)
    if not notes:
        return math.nan
    filled = np.zeros(_spans(notes, steps_per_beat), bool)
    for n in notes:
        filled[n.start // steps_per_beat : (n.end - 1) // steps_per_beat + 1] = True
    return float(1 - filled.mean())


def pitch_range(tokens: np.ndarray) -> int:
    p = [n.pitch for n in _notes(tokens)]
    return max(p) - min(p) if p else 0


def pitches_used(tokens: np.ndarray) -> int:
    return len({n.pitch for n in _notes(tokens)})


def melody_table(melodies: list[np.ndarray], steps_per_bar: int = 16, steps_per_beat: int = 4) -> dict[str, float]:
    """Each metric's mean over a set of melodies (NaNs, from melodies too short to say, left out)."""
    rows = {
        "pitch_class_entropy": [pitch_class_entropy(m) for m in melodies],
        "scale_consistency": [scale_consistency(m) for m in melodies],
        "groove_consistency": [groove_consistency(m, steps_per_bar) for m in melodies],
        "empty_beat_rate": [empty_beat_rate(m, steps_per_beat) for m in melodies],
        "pitch_range": [pitch_range(m) for m in melodies],
        "pitches_used": [pitches_used(m) for m in melodies],
    }
    out = {}
    for k, v in rows.items():
        a = np.array(v, np.float64)
        a = a[~np.isnan(a)]
        out[k] = round(float(a.mean()), 4) if len(a) else math.nan
    return out
