"""Binary piano rolls of the duet model (after DuetHLSTM, Huang, Ji and Martin): 84 pitches, MIDI
24..107, one row per grid step.

A roll is a uint8 array of shape (steps, 2, 84). Plane ``FRAME`` is 1 where a pitch sounds at
that step, plane ``ONSET`` is 1 where a note begins at that step. An onset implies a frame. The
paper's rolls have the frame plane only, so a repeated note and a held one look the same; the
onset plane keeps them apart (two quarter-note Cs are two onsets, a half-note C is one).

Pitches outside 24..107 are folded by octaves into the range, so a piccolo line or a low organ
pedal keeps its pitch class rather than vanishing. Steps per beat is the caller's choice: the
seed took 8 steps a bar (2 a beat in 4/4), the live grid uses 16ths (4 a beat).
"""

from __future__ import annotations

import numpy as np

from accompanist.music.notes import Note, tokens_to_notes

PITCH_LO = 24
N_PITCHES = 84
PITCH_HI = PITCH_LO + N_PITCHES - 1  # 107
FRAME, ONSET = 0, 1
#: Bytes of one packed plane: 84 bits.
PACKED = (N_PITCHES + 7) // 8


def fold_pitch(pitch: int) -> int:
    """The pitch moved by whole octaves into 24..107."""
    return fold_into(pitch, PITCH_LO, PITCH_HI)


def fold_into(pitch: int, lo: int, hi: int) -> int:
    """The pitch moved by whole octaves into lo..hi (a range of an octave or more)."""
    while pitch < lo:
        pitch += 12
    while pitch > hi:
        pitch -= 12
    return pitch


def empty(steps: int) -> np.ndarray:
    return np.zeros((steps, 2, N_PITCHES), dtype=np.uint8)


def notes_to_roll(notes: list[Note], ticks_per_step: float, length: int | None = None) -> np.ndarray:
    """Quantise notes to the grid: starts and ends round to the nearest step, every note keeps at
    least one step. A note that begins where the same pitch still sounds cuts the old one short."""
    spans = []
    for n in notes:
        s = int(round(n.start / ticks_per_step))
        e = max(int(round(n.end / ticks_per_step)), s + 1)
        spans.append((s, e, fold_pitch(n.pitch) - PITCH_LO))
    steps = length if length is not None else max((e for _, e, _ in spans), default=0)
    roll = empty(steps)
    for s, e, p in spans:
        if s >= steps:
            continue
        roll[s : min(e, steps), FRAME, p] = 1
    for s, _, p in spans:
        if s < steps:
            roll[s, ONSET, p] = 1
    return roll


def tokens_to_roll(tokens: np.ndarray) -> np.ndarray:
    """One monophonic voice of the 130-token grid (``music.tokens``) as a roll on the same grid,
    (steps, 2, 84): the melody the duet model hears, or one voice of an accompaniment."""
    return notes_to_roll(tokens_to_notes(tokens, 1.0), 1.0, len(tokens))


def roll_to_notes(
    roll: np.ndarray, ticks_per_step: float, velocity: int | np.ndarray = 80, channel: int = 0
) -> list[Note]:
    """Notes of a roll, in ticks. A note begins at an onset, or where a frame rises without one
    (a sampled roll can do that), and ends where the frame falls or the next onset of its pitch.
    ``velocity`` may be one value or one per step (taken at each note's first step)."""
    roll = np.asarray(roll)
    steps = len(roll)
    frame = roll[:, FRAME].astype(bool)
    onset = roll[:, ONSET].astype(bool) & frame
    prev = np.vstack([np.zeros((1, N_PITCHES), bool), frame[:-1]]) if steps else frame
    starts = onset | (frame & ~prev)
    vel = np.broadcast_to(np.asarray(velocity), (steps,)) if steps else np.zeros(0)
    notes: list[Note] = []
    for p in range(N_PITCHES):
        begin = -1
        for t in range(steps):
            if begin >= 0 and (not frame[t, p] or starts[t, p]):
                notes.append(_note(p, begin, t, ticks_per_step, vel, channel))
                begin = -1
            if starts[t, p]:
                begin = t
        if begin >= 0:
            notes.append(_note(p, begin, steps, ticks_per_step, vel, channel))
    notes.sort(key=lambda n: (n.start, n.pitch))
    return notes


def _note(p: int, begin: int, end: int, tps: float, vel: np.ndarray, channel: int) -> Note:
    return Note(p + PITCH_LO, int(round(begin * tps)), int(round(end * tps)), int(np.clip(vel[begin], 1, 127)), channel)


def merge(*rolls: np.ndarray) -> np.ndarray:
    """Several rolls sounding together (e.g. alto, tenor and bass as one accompaniment)."""
    steps = max(len(r) for r in rolls)
    out = empty(steps)
    for r in rolls:
        out[: len(r)] |= r
    return out


def transpose(roll: np.ndarray, shift: int) -> np.ndarray:
    """Shift by semitones along the pitch axis (works on any array whose last axis is pitch);
    notes pushed out of 24..107 are dropped."""
    out = np.zeros_like(roll)
    if shift >= 0:
        out[..., shift:] = roll[..., : N_PITCHES - shift]
    else:
        out[..., :shift] = roll[..., -shift:]
    return out


def pack(roll: np.ndarray) -> np.ndarray:
    """(..., 84) bits -> (..., 11) bytes, for shards on disk (8x smaller)."""
    return np.packbits(roll.astype(np.uint8), axis=-1)


def unpack(packed: np.ndarray) -> np.ndarray:
    return np.unpackbits(packed, axis=-1, count=N_PITCHES)


def features(roll: np.ndarray) -> np.ndarray:
    """Model input: (steps, 2, 84) -> float32 (steps, 168), frame plane then onset plane."""
    return np.ascontiguousarray(roll.reshape(*roll.shape[:-2], 2 * N_PITCHES), dtype=np.float32)


def polyphony(roll: np.ndarray) -> np.ndarray:
    """Number of pitches sounding at each step."""
    return roll[:, FRAME].sum(axis=1)
