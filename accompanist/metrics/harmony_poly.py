"""Harmony figures of a monophonic melody and a polyphonic accompaniment (the duet model's rolls).

The same figures as ``harmony.py``, counted the way a chord must be: ``coverage`` is still the
share of melody steps with any accompaniment under them, but ``consonance``, ``crossing`` and the
interval-class histogram count every (step, accompaniment pitch) pair against the melody note of
that step, and ``in_key`` every accompaniment onset. ``polyphony`` is the mean number of
accompaniment pitches sounding where the melody sounds and the accompaniment does (Bach's alto,
tenor and bass: about 2.9). The reference for all of them is the chorales' own soprano against
their alto, tenor and bass, measured the same way.

Two rhythm figures count *onset steps*, steps where the accompaniment strikes at least one
note (a chord struck at once is one event, as a listener hears it): ``onset_ratio``, onset
steps per melody onset (Bach's alto, tenor and bass against the soprano: 1.58), and
``onsets_aligned``, the share of onset steps that fall where the melody strikes a note or on a
beat (Bach: 0.66); a texture that moves with the tune and the pulse, not anywhere in the beat.

Two texture figures count what the ear calls clutter, which the figures above can hide:
``far_notes``, the share of accompaniment onsets more than an octave from every other note
sounding at that step, melody included (a lone note in a far register), and ``clusters``, the
share of accompanied steps where two accompaniment pitches sound a semitone or a tone apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from accompanist.metrics.harmony import Counts, ratio
from accompanist.music import roll
from accompanist.music.intervals import CONSONANT_IC
from accompanist.music.keys import Key, check_tokens, find_key
from accompanist.music.tokens import sounding_pitches


@dataclass(frozen=True)
class PolyStats(Counts):
    pieces: int = 0
    steps: int = 0
    melody_steps: int = 0
    covered_steps: int = 0  #: melody sounds and at least one accompaniment pitch does
    pairs: int = 0  #: (step, accompaniment pitch) with the melody sounding
    consonant_pairs: int = 0
    crossing_pairs: int = 0  #: accompaniment pitch strictly above the melody
    ic_counts: tuple[int, ...] = (0,) * 12
    melody_onsets: int = 0
    accompaniment_onsets: int = 0
    onset_steps: int = 0  #: steps where the accompaniment strikes at least one note
    aligned_onsets: int = 0  #: of those, steps on a melody onset or a beat
    keyed_notes: int = 0
    in_key_notes: int = 0
    range_sum: int = 0
    ranged_pieces: int = 0
    distinct_sum: int = 0
    far_onsets: int = 0  #: accompaniment onsets more than an octave from every other sounding note
    cluster_steps: int = 0  #: accompanied steps with two accompaniment pitches 1-2 semitones apart


def poly_stats(
    melody: np.ndarray,
    accompaniment: np.ndarray,
    key: Key | None = None,
    phases: np.ndarray | None = None,
    steps_per_beat: int = 4,
) -> PolyStats:
    """Counts of one piece: melody as tokens (steps,), accompaniment as a roll (steps, 2, 84);
    ``phases`` (steps,) are bar phases (``music.meter``; default: beats every ``steps_per_beat``
    steps from step 0)."""
    mel = check_tokens(melody)
    acc = np.asarray(accompaniment)
    if len(mel) != len(acc):
        raise ValueError(f"melody and accompaniment differ in length: {len(mel)} != {len(acc)}")
    mp = sounding_pitches(mel)
    frames = acc[:, roll.FRAME].astype(bool)
    steps, pitches = np.nonzero(frames[mp >= 0])
    mel_at = mp[mp >= 0][steps]
    acc_pitch = pitches + roll.PITCH_LO
    ic = np.bincount((mel_at - acc_pitch) % 12, minlength=12)
    onset_steps, onset_pitches = np.nonzero(acc[:, roll.ONSET] & acc[:, roll.FRAME])
    notes = onset_pitches + roll.PITCH_LO
    phase = np.arange(len(mel)) if phases is None else np.asarray(phases)
    on_grid = (phase % steps_per_beat == 0) | (mel < 128)
    struck = np.unique(onset_steps)
    key = key if key is not None else find_key(mel)
    has = len(notes) > 0
    far, clustered = _texture(mp, frames, onset_steps, onset_pitches)
    return PolyStats(
        pieces=1,
        steps=len(mel),
        melody_steps=int((mp >= 0).sum()),
        covered_steps=int(frames[mp >= 0].any(axis=1).sum()),
        pairs=len(steps),
        consonant_pairs=int(sum(ic[i] for i in CONSONANT_IC)),
        crossing_pairs=int((acc_pitch > mel_at).sum()),
        ic_counts=tuple(int(c) for c in ic),
        melody_onsets=int((mel < 128).sum()),
        accompaniment_onsets=len(notes),
        onset_steps=len(struck),
        aligned_onsets=int(on_grid[struck].sum()),
        keyed_notes=len(notes) if key is not None else 0,
        in_key_notes=int(sum(int(p % 12 in key.pitch_classes) for p in notes)) if key is not None else 0,
        range_sum=int(notes.max() - notes.min()) if has else 0,
        ranged_pieces=int(has),
        distinct_sum=len(np.unique(notes)),
        far_onsets=far,
        cluster_steps=clustered,
    )


def _texture(mp: np.ndarray, frames: np.ndarray, onset_steps: np.ndarray, onset_pitches: np.ndarray) -> tuple[int, int]:
    """(onsets far from every other sounding note, accompanied steps holding a second)."""
    far = 0
    for t, p in zip(onset_steps, onset_pitches, strict=True):
        others = np.flatnonzero(frames[t])
        others = others[others != p]
        dist = np.abs(others - p)
        if mp[t] >= 0:
            dist = np.append(dist, abs(int(mp[t]) - roll.PITCH_LO - int(p)))
        far += bool(len(dist)) and int(dist.min()) > 12
    under = frames[mp >= 0]
    second = (under[:, 1:] & under[:, :-1]).any(axis=1) | (under[:, 2:] & under[:, :-2]).any(axis=1)
    clustered = int(second.sum())
    return far, clustered


def summarize_poly(stats: Sequence[PolyStats], reference_ic: Sequence[float] | None = None) -> dict:
    """Pooled figures (keys as ``harmony.summarize``, plus ``polyphony``)."""
    t = sum(stats, PolyStats())
    ic = np.asarray(t.ic_counts, dtype=np.float64)
    ic_hist = ic / ic.sum() if ic.sum() else np.full(12, np.nan)
    overlap = None if reference_ic is None else float(np.minimum(ic_hist, np.asarray(reference_ic)).sum())
    return {
        "pieces": t.pieces,
        "steps": t.steps,
        "coverage": ratio(t.covered_steps, t.melody_steps),
        "consonance": ratio(t.consonant_pairs, t.pairs),
        "in_key": ratio(t.in_key_notes, t.keyed_notes),
        "crossing": ratio(t.crossing_pairs, t.pairs),
        "onset_ratio": ratio(t.onset_steps, t.melody_onsets),
        "onsets_aligned": ratio(t.aligned_onsets, t.onset_steps),
        "range": ratio(t.range_sum, t.ranged_pieces),
        "distinct_pitches": ratio(t.distinct_sum, t.pieces),
        "polyphony": ratio(t.pairs, t.covered_steps),
        "far_notes": ratio(t.far_onsets, t.accompaniment_onsets),
        "clusters": ratio(t.cluster_steps, t.covered_steps),
        "ic_hist": [float(x) for x in ic_hist],
        "ic_overlap": overlap,
    }
