"""The player's roll steps as one monophonic line of tokens (0-127 a note struck, HOLD, REST):
what the harmoniser and the melody models read of a player who may play chords."""

from __future__ import annotations

import numpy as np

from accompanist.music import roll
from accompanist.music.tokens import HOLD, REST


def melody_tokens(rolls: np.ndarray) -> np.ndarray:
    """The player's steps as the harmoniser's monophonic tokens: the top note struck at a step,
    else the top note still held (a hold if it was already the melody), else a rest."""
    out = np.full(len(rolls), REST, np.int64)
    current = -1
    for i, step in enumerate(rolls):
        out[i], current = melody_token(step, current)
    return out


def melody_token(step: np.ndarray, current: int) -> tuple[int, int]:
    """One roll step as a monophonic token, given the pitch the melody held before (-1: none);
    and the pitch it holds after."""
    struck = np.flatnonzero(step[roll.ONSET])
    held = np.flatnonzero(step[roll.FRAME])
    if len(struck):
        current = int(struck.max()) + roll.PITCH_LO
        return current, current
    if len(held) and int(held.max()) + roll.PITCH_LO == current:
        return HOLD, current
    if len(held):
        current = int(held.max()) + roll.PITCH_LO
        return current, current
    return REST, -1


#: steps: a rest this short before the next note is a key let go early, not a rest
LIFT = 1


def legato(tokens: np.ndarray, lift: int = LIFT) -> np.ndarray:
    """A played phrase as a score writes it: a rest of at most ``lift`` steps between a note and
    the next is the player's finger leaving the key before the next strike (a keyboard player
    detaches nearly every note), so the note is held over it. The melody models learned from
    scores, where such a phrase is legato; read with the gaps, they lose the beat (the RL tuner
    put every answer note on the 16th after the 8th, the melody LSTM 40 % of them)."""
    out = np.array(tokens, np.int64)
    i = 1
    while i < len(out):
        if out[i] == REST and out[i - 1] != REST:
            j = i
            while j < len(out) and out[j] == REST:
                j += 1
            if j < len(out) and j - i <= lift:
                out[i:j] = HOLD
            i = j
        else:
            i += 1
    return out
