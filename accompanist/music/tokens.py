"""The monophonic grid of the harmonisers' paper (Faitas et al., NIME 2019): one token a 16th step.

Tokens 0-127 start a note of that MIDI pitch, 128 is silence and 129 holds the note that sounds.
The paper writes 129 as "play the same as the previous element"; we use it only to continue a
sounding note and write 128 on every silent step, so that a token alone says whether the voice
sounds. A 129 after silence (which a sampled model can produce) decodes as silence.
"""

from __future__ import annotations

import numpy as np

REST = 128
HOLD = 129
VOCAB = 130
#: Decoder input vocabulary adds a start symbol that is never an output.
START = 130
STEPS_PER_BEAT = 4


def sounding_pitches(tokens: np.ndarray) -> np.ndarray:
    """The pitch sounding at each step, or -1 where the voice is silent."""
    out = np.full(len(tokens), -1, dtype=np.int64)
    current = -1
    for i, t in enumerate(np.asarray(tokens)):
        if t < 128:
            current = int(t)
        elif t == REST:
            current = -1
        out[i] = current
    return out


def onsets(tokens: np.ndarray) -> np.ndarray:
    """Boolean mask of the steps where a note starts."""
    return np.asarray(tokens) < 128


def transpose(tokens: np.ndarray, semitones: int) -> np.ndarray:
    """Shift every pitch token; raises ValueError if a pitch leaves 0..127."""
    tokens = np.asarray(tokens, dtype=np.int64)
    out = tokens.copy()
    notes = tokens < 128
    out[notes] += semitones
    if notes.any() and (out[notes].min() < 0 or out[notes].max() > 127):
        raise ValueError(f"transposing by {semitones} leaves the MIDI range")
    return out


def invert(tokens: np.ndarray, axis2: int) -> np.ndarray:
    """Mirror every pitch p to axis2 - p (axis2 is twice the axis, so half-steps axes work)."""
    tokens = np.asarray(tokens, dtype=np.int64)
    out = tokens.copy()
    notes = tokens < 128
    out[notes] = axis2 - tokens[notes]
    if notes.any() and (out[notes].min() < 0 or out[notes].max() > 127):
        raise ValueError("inversion leaves the MIDI range")
    return out


def pitch_range(tokens: np.ndarray) -> tuple[int, int] | None:
    """(lowest, highest) pitch in the tokens, or None if there is no note."""
    p = np.asarray(tokens)
    p = p[p < 128]
    return (int(p.min()), int(p.max())) if len(p) else None


def window_at(tokens: np.ndarray, start: int, size: int) -> np.ndarray:
    """tokens[start:start+size], where a leading HOLD becomes the note it holds (or silence), so a
    window cut anywhere stands on its own."""
    w = np.array(tokens[start : start + size], dtype=np.int64)
    if len(w) and w[0] == HOLD:
        j = start
        while j > 0 and tokens[j] == HOLD:
            j -= 1
        w[0] = tokens[j] if tokens[j] < 128 else REST
    return w
