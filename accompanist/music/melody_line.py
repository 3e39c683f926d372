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
