"""Where a grid step lies in its bar and beat, and the features the hearing duet model reads.

A piece's meter is kept as one number per step, its *bar phase*: the steps since the last
downbeat. A pickup (anacrusis) sits at the end of a bar (a one-beat pickup in 4/4 has phase 12
on the 16th grid), so the first full bar starts at phase 0 as the score says. The live engine
knows the phase from its clock (internal: steps since the first downbeat; a DAW: its Song
Position); training data takes it from the score's measures (``bar_phase_of_part``, music21).
"""

from __future__ import annotations

import numpy as np

#: Position features per step: 4 for the step within its beat, 4 for the beat within its bar
#: (the fourth class also takes any later beat of a longer bar).
POSITION = 8
#: Two 4/4 bars of 16ths: the span of the pitch-class memory the hearing model reads.
CONTEXT_STEPS = 32
#: Pitch classes per part in that memory (melody, then accompaniment).
CONTEXT = 24


def steady_phase(length: int, steps_per_bar: int, first: int = 0) -> np.ndarray:
    """Bar phase of ``length`` steps in one unchanging meter, the first step at phase ``first``."""
    return ((np.arange(length) + first) % steps_per_bar).astype(np.int64)


def position_features(phase: np.ndarray, steps_per_beat: int) -> np.ndarray:
    """(steps,) bar phases -> float32 (steps, 8): one-hot step in the beat (quartered, so any grid
    maps onto four classes) and one-hot beat in the bar (the downbeat is beat 0)."""
    phase = np.asarray(phase, dtype=np.int64)
    out = np.zeros((len(phase), POSITION), np.float32)
    in_beat = (phase % steps_per_beat) * 4 // steps_per_beat
    beat = np.minimum(phase // steps_per_beat, 3)
    out[np.arange(len(phase)), in_beat] = 1
    out[np.arange(len(phase)), 4 + beat] = 1
    return out


def pitch_classes(frames: np.ndarray) -> np.ndarray:
    """(steps, 84) sounding plane -> (steps, 12) 0/1: which pitch classes sound at each step
    (the roll starts at MIDI 24, a C, so pitch index mod 12 is the pitch class)."""
    f = np.asarray(frames).reshape(len(frames), -1, 12)
    return f.any(axis=1).astype(np.float32)


def bar_phase_of_part(part, length: int, steps_per_beat: int) -> np.ndarray:
    """Bar phase of every step of a music21 part, from its measures (meter changes and a
    pickup included); steps past the last measure go on in the last bar's length."""
    phase = steady_phase(length, 4 * steps_per_beat)
    measures = list(part.getElementsByClass("Measure"))
    if not measures:
        return phase
    starts = []
    for m in measures:
        downbeat = float(m.offset) - float(m.paddingLeft or 0.0)
        bar = float(m.barDuration.quarterLength) if m.barDuration is not None else 4.0
        starts.append((int(round(downbeat * steps_per_beat)), max(1, int(round(bar * steps_per_beat)))))
    for i, (s, bar) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else length
        lo, hi = max(s, 0), min(end, length)
        if hi > lo:
            phase[lo:hi] = (np.arange(lo, hi) - s) % bar
    return phase


def bar_phase_of_midi(time_meta: list, length: int, ticks_per_step: float, steps_per_beat: int) -> np.ndarray:
    """Bar phase of every step of a MIDI file, from its time-signature messages ``(tick, msg)``:
    each one starts a bar of ``numerator`` beats of ``4 / denominator`` quarters (a file says
    nothing of a pickup: its first bar starts at tick 0, as every sequencer draws it). No
    time signature: 4/4, as the MIDI standard assumes."""
    phase = steady_phase(length, 4 * steps_per_beat)
    signatures = sorted((t, m) for t, m in time_meta if m.type == "time_signature")
    for i, (tick, m) in enumerate(signatures):
        start = int(round(tick / ticks_per_step))
        end = int(round(signatures[i + 1][0] / ticks_per_step)) if i + 1 < len(signatures) else length
        bar = max(1, int(round(m.numerator * 4 / m.denominator * steps_per_beat)))
        lo, hi = max(start, 0), min(end, length)
        if hi > lo:
            phase[lo:hi] = (np.arange(lo, hi) - start) % bar
    return phase
