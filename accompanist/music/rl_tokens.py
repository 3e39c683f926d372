"""The RL tuner's note vocabulary (Magenta's melody RNN as used by Jaques et al., 2017): one of 38
events per 16th step.

    0        note off: the sounding note stops here (a rest begins)
    1        no event: whatever sounded (or was silent) goes on
    2..37    note on, MIDI 48..83 (token = MIDI - 46)

Our grid (``music.tokens``) says the same with 128 (silent) and 129 (hold). The two are exact
inverses on melodies inside MIDI 48..83; a note outside is moved by octaves into that range
(``fold``), as the upstream encoder's range forces.
"""

from __future__ import annotations

import numpy as np

from accompanist.music.roll import fold_into
from accompanist.music.tokens import HOLD, REST

NOTE_OFF = 0
NO_EVENT = 1
LOW = 48
HIGH = 83
N_CLASSES = HIGH - LOW + 3


def fold(pitch: int) -> int:
    return fold_into(pitch, LOW, HIGH)


def to_rl(tokens: np.ndarray) -> np.ndarray:
    """Grid tokens -> RL events."""
    out = np.full(len(tokens), NO_EVENT, np.int64)
    sounding = False
    for i, t in enumerate(np.asarray(tokens).tolist()):
        if t < 128:
            out[i] = fold(t) - LOW + 2
            sounding = True
        elif t == REST or not sounding:
            if sounding:
                out[i] = NOTE_OFF
            sounding = False
    return out


def from_rl(events: np.ndarray) -> np.ndarray:
    """RL events -> grid tokens (a note off while silent is silence)."""
    out = np.full(len(events), REST, np.int64)
    sounding = False
    for i, e in enumerate(np.asarray(events).tolist()):
        if e >= 2:
            out[i] = e - 2 + LOW
            sounding = True
        elif e == NOTE_OFF:
            sounding = False
        elif sounding:
            out[i] = HOLD
    return out


def pitch_of(event: int) -> int:
    """MIDI pitch of a note-on event, -1 for note off and no event."""
    return event - 2 + LOW if event >= 2 else -1
