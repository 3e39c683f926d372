"""Key finding on the token grid: Krumhansl-Kessler profiles against a voice's pitch classes;
and the rules built on a key: which pitches lie in it, and each key's home key (C major or A
minor) with the shifts that move a call there.

Used by the metrics (is the accompaniment in the melody's key?), by the runners' key lock, and by
the RL tuner (a model tuned ``in_c`` hears every call in its home key).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accompanist.music.rl_tokens import HIGH, LOW
from accompanist.music.tokens import VOCAB, sounding_pitches

#: Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])

#: Scale degrees counted as "in key": the major scale; in minor the natural minor plus the leading
#: tone (8 pitch classes), since a minor-key cadence always raises the 7th. This definition reproduces
#: the published Bach figure (0.90 over both pairs); adding the raised 6th as well (9 pitch classes,
#: melodic minor) gives 0.92, and the natural minor alone 0.88.
MAJOR_SCALE = frozenset({0, 2, 4, 5, 7, 9, 11})
MINOR_SCALE = frozenset({0, 2, 3, 5, 7, 8, 10, 11})

_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


@dataclass(frozen=True)
class Key:
    """A key: tonic pitch class (0 = C) and mode."""

    tonic: int
    minor: bool

    @property
    def pitch_classes(self) -> frozenset[int]:
        """Pitch classes counted as in this key."""
        scale = MINOR_SCALE if self.minor else MAJOR_SCALE
        return frozenset((self.tonic + d) % 12 for d in scale)

    @property
    def name(self) -> str:
        return f"{_NAMES[self.tonic]} {'minor' if self.minor else 'major'}"

    def __str__(self) -> str:
        return self.name


def check_tokens(tokens: np.ndarray) -> np.ndarray:
    """A 1-d int64 copy of ``tokens``; ValueError if it is not a token array."""
    t = np.asarray(tokens)
    if t.ndim != 1:
        raise ValueError(f"expected a 1-d token array, got shape {t.shape}")
    t = t.astype(np.int64)
    if len(t) and (t.min() < 0 or t.max() >= VOCAB):
        raise ValueError(f"tokens must lie in 0..{VOCAB - 1}")
    return t


def pitch_class_histogram(tokens: np.ndarray) -> np.ndarray:
    """Steps each pitch class sounds (duration-weighted, as Krumhansl-Kessler key finding expects)."""
    p = sounding_pitches(check_tokens(tokens))
    return np.bincount(p[p >= 0] % 12, minlength=12).astype(np.float64)


def find_key(tokens: np.ndarray) -> Key | None:
    """Krumhansl-Kessler key of a voice: the major or minor profile, rotated to each of the 12 tonics,
    that correlates best with its duration-weighted pitch-class histogram. None when the voice has
    fewer than two pitch classes (the correlation is undefined, or any key containing it ties)."""
    return key_of_histogram(pitch_class_histogram(tokens))


def key_heard(tokens: np.ndarray) -> Key | None:
    """``find_key``, and for a voice of one pitch class that pitch as a major tonic (a model that
    plays in one home key still needs to know where to move such a call); None without notes."""
    notes = tokens[tokens < 128]
    return find_key(tokens) or (Key(int(notes[0]) % 12, False) if len(notes) else None)


def _profiles() -> np.ndarray:
    """(24, 12): the 12 major then the 12 minor key profiles, centred and of unit length."""
    rows = []
    for profile in (KK_MAJOR, KK_MINOR):
        for tonic in range(12):
            prof = np.roll(profile, tonic) - profile.mean()
            rows.append(prof / np.sqrt(prof @ prof))
    return np.array(rows)


def key_of_histogram(hist: np.ndarray) -> Key | None:
    """The Krumhansl-Kessler key of a duration-weighted pitch-class histogram (see find_key)."""
    hist = np.asarray(hist, dtype=np.float64)
    if np.count_nonzero(hist) < 2:
        return None
    h = hist - hist.mean()
    # one matrix product for the 24 correlations (the live duet asks every step); the first
    # best wins, major keys before minor, tonics upwards, as a loop over them would choose
    r = _PROFILES @ h / np.sqrt(h @ h)
    best = int(np.argmax(r))
    return Key(best % 12, best >= 12)


_PROFILES = _profiles()


def in_key(pitches: np.ndarray, key: Key) -> np.ndarray:
    """True where a pitch (a MIDI number or a pitch class; below 0: a rest or an event that sounds
    no pitch) lies in ``key``'s scale or sounds none."""
    pitches = np.asarray(pitches)
    return (pitches < 0) | np.isin(pitches % 12, np.array(sorted(key.pitch_classes)))


def home_key(key: Key) -> Key:
    """C major or A minor: a mode's key on the white keys, where a model tuned ``in_c`` plays.
    (One scale for both modes: tuned with minor calls in C minor, the model played its major
    figures over them, A natural in C minor.)"""
    return Key(9 if key.minor else 0, key.minor)


def home_shift(key: Key) -> int:
    """Semitones (within an octave either way) from ``key``'s tonic to its ``home_key``'s."""
    return home_key(key).tonic - key.tonic


def to_c(tokens: np.ndarray, key: Key, low: int = LOW, high: int = HIGH) -> int:
    """Semitones that move ``key`` to its ``home_key``, in the octave that puts the call's middle
    nearest the middle of the model's range ``low``..``high`` (by default the RL tuner's), and
    every pitch inside MIDI 0..127: how a runner moves a call."""
    notes = tokens[tokens < 128]
    mid = (int(notes.min()) + int(notes.max())) / 2 if len(notes) else (low + high) / 2
    fits = [
        s
        for s in (home_shift(key) + 12 * o for o in (-2, -1, 0, 1))
        if not len(notes) or (notes.min() + s >= 0 and notes.max() + s <= 127)
    ]
    return min(fits, key=lambda s: abs(mid + s - (low + high) / 2))


def home_shifts(call: np.ndarray, key: Key, low: int = LOW, high: int = HIGH) -> list[int]:
    """Shifts that move ``call`` from ``key`` to its home key (C major or A minor) inside the
    range ``low``..``high`` (by default the RL tuner's note RNN's); if no octave fits, the one
    nearest the range's middle (its outside notes fold): how the tuner's training moves a call."""
    home = home_shift(key)
    p = call[call < 128]
    lo, hi = int(p.min()), int(p.max())
    fits = [s for s in (home + 12 * o for o in (-2, -1, 0, 1, 2)) if lo + s >= low and hi + s <= high]
    return fits or [home + 12 * round(((low + high) / 2 - (lo + hi) / 2 - home) / 12)]
