"""Melodies as note events: one (pitch, duration) pair a note or rest, for the melody models.

The grid (``music.tokens``) says what sounds at every 16th; an event says what starts and for
how long, which is what VRASH and the pitch + duration LSTM read and write. The two forms carry the same music:
``tokens_to_events`` and ``events_to_tokens`` are exact inverses on any melody whose notes and
rests last at most ``MAX_STEPS`` steps (two 4/4 bars); a longer note keeps its first two bars and
the rest of its length becomes a rest, a longer rest is split, so bar lines never drift.

Indices the models read and write:
    pitch index 0 is a rest, 1..N_NOTES are MIDI PITCH_LO..PITCH_HI
    duration index d is d + 1 steps (0..MAX_STEPS-1)
    phase index: the event's onset in its bar, in steps (clipped at MAX_PHASE - 1)
    pitch class 0..11 and 12 for a rest, octave 0..OCTAVES-1 (MIDI // 12 - OCTAVE_LO) for VRASH
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accompanist.music.tokens import HOLD, REST

PITCH_LO = 36
PITCH_HI = 96
N_NOTES = PITCH_HI - PITCH_LO + 1
N_PITCH = N_NOTES + 1  #: rest + notes
MAX_STEPS = 32
N_DUR = MAX_STEPS
MAX_PHASE = 32  #: 12/8 is 24 steps a bar on the 16th grid; 32 covers 4/4 twice over
REST_CLASS = 12
START_CLASS = 13  #: the pitch class VRASH's decoder reads before a phrase's first note
OCTAVE_LO = PITCH_LO // 12
OCTAVES = PITCH_HI // 12 - OCTAVE_LO + 1


@dataclass
class Events:
    """A melody as events: MIDI pitch (-1 for a rest), length in steps, bar phase of the onset."""

    pitch: np.ndarray
    steps: np.ndarray
    phase: np.ndarray

    def __len__(self) -> int:
        return len(self.pitch)

    @property
    def total_steps(self) -> int:
        return int(self.steps.sum())

    def pitch_index(self) -> np.ndarray:
        """Model pitch indices; ValueError if a note lies outside PITCH_LO..PITCH_HI."""
        p = self.pitch
        notes = p >= 0
        if notes.any() and (p[notes].min() < PITCH_LO or p[notes].max() > PITCH_HI):
            raise ValueError(f"a note lies outside MIDI {PITCH_LO}..{PITCH_HI}")
        return np.where(notes, p - PITCH_LO + 1, 0).astype(np.int64)

    def duration_index(self) -> np.ndarray:
        return (np.clip(self.steps, 1, MAX_STEPS) - 1).astype(np.int64)

    def phase_index(self) -> np.ndarray:
        return np.minimum(self.phase, MAX_PHASE - 1).astype(np.int64)

    def transposed(self, shift: int) -> Events:
        return Events(np.where(self.pitch >= 0, self.pitch + shift, -1), self.steps, self.phase)

    def slice(self, lo: int, hi: int) -> Events:
        return Events(self.pitch[lo:hi], self.steps[lo:hi], self.phase[lo:hi])


def tokens_to_events(tokens: np.ndarray, phase: np.ndarray | None = None) -> Events:
    """A monophonic token row (and its bar phases; 4/4 from step 0 if None) as events."""
    tokens = np.asarray(tokens, dtype=np.int64)
    if phase is None:
        phase = np.arange(len(tokens)) % 16
    pitch, steps, onset = [], [], []
    i, n = 0, len(tokens)
    while i < n:
        t = int(tokens[i])
        j = i + 1
        if t < 128:  # a note: its holds follow
            while j < n and tokens[j] == HOLD:
                j += 1
            p = t
        else:  # silence (a stray HOLD after silence is silence too)
            while j < n and tokens[j] >= 128:
                j += 1
            p = -1
        start = i
        while start < j:  # cut what lasts longer than MAX_STEPS
            length = min(j - start, MAX_STEPS)
            pitch.append(p if start == i else -1)
            steps.append(length)
            onset.append(int(phase[start]))
            start += length
        i = j
    return Events(np.array(pitch, np.int64), np.array(steps, np.int64), np.array(onset, np.int64))


def events_to_tokens(events: Events) -> np.ndarray:
    """Events back to a token row (a note's first step is its pitch, then HOLDs; a rest is RESTs)."""
    out = np.full(events.total_steps, REST, np.int64)
    at = 0
    for p, s in zip(events.pitch.tolist(), events.steps.tolist(), strict=True):
        if p >= 0:
            out[at] = p
            out[at + 1 : at + s] = HOLD
        at += s
    return out


def pitch_of_index(index: np.ndarray) -> np.ndarray:
    """Model pitch indices back to MIDI pitches (-1 for a rest)."""
    index = np.asarray(index, dtype=np.int64)
    return np.where(index > 0, index - 1 + PITCH_LO, -1)


def pitch_class_octave(pitch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """VRASH's split of a pitch: class 0..11 (REST_CLASS for a rest) and octave index (0 for a rest)."""
    pitch = np.asarray(pitch, dtype=np.int64)
    rest = pitch < 0
    pc = np.where(rest, REST_CLASS, pitch % 12)
    octave = np.where(rest, 0, np.clip(pitch // 12 - OCTAVE_LO, 0, OCTAVES - 1))
    return pc, octave
