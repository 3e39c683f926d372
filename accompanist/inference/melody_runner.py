"""Answer a phrase with the exported pitch + duration melody model (ONNX Runtime and numpy only).

The call is read note by note into the model's state; a rest then fills the time up to the bar
line where the answer starts (the model has met rests between phrases in training), and notes
are drawn one at a time, each head with its own temperature, until the answer fills its length;
the last note is cut at the answer's end. Each drawn note's bar position comes from the meter
the caller gives, so the model always knows where the bar lines are.

``key_lock`` is a logit penalty on pitches outside the key heard in the call (Krumhansl-Kessler,
``music.keys``): 0 lets the model modulate as it learned to; the issue asks for answers in the
player's key, and a soft penalty keeps chromatic passing notes possible.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from accompanist.inference.answerers import Answerer, Draw, call_key, note_tokens, open_step
from accompanist.inference.cards import ModelCard
from accompanist.inference.sampling import draw, key_bias
from accompanist.music.events import (
    MAX_PHASE,
    MAX_STEPS,
    N_PITCH,
    Events,
    pitch_of_index,
)
from accompanist.music.keys import Key, in_key

_PITCHES = pitch_of_index(np.arange(N_PITCH))


def in_key_mask(key: Key) -> np.ndarray:
    """(N_PITCH,) True for the rest and every pitch of ``key``'s scale."""
    return in_key(_PITCHES, key)


class MelodyRunner(Answerer):
    def __init__(self, card: ModelCard, threads: int = 1) -> None:
        super().__init__(card, "melody", "a melody model")
        self.session, self.state_size = open_step(card, "melody_step", threads)

    def step(self, pitch: int, dur: int, phase: int, state: np.ndarray):
        """One note in (model indices), logits of the next note out, and the new state."""
        p, d, s = self.session.run(
            None,
            {
                "pitch": np.array([pitch], np.int64),
                "dur": np.array([dur], np.int64),
                "phase": np.array([min(phase, MAX_PHASE - 1)], np.int64),
                "state": state,
            },
        )
        return p[0], d[0], s

    def read(self, events: Events, state: np.ndarray | None = None):
        """Feed a phrase; the logits after its last note and the state."""
        state = np.zeros((1, self.state_size), np.float32) if state is None else state
        p = d = None
        for pi, di, ph in zip(events.pitch_index(), events.duration_index(), events.phase_index(), strict=True):
            p, d, state = self.step(int(pi), int(di), int(ph), state)
        return p, d, state

    def answer_tokens(self, call: Events, phase_of, gap: int, how: Draw, key: Key | None) -> Iterator[int]:
        """The call read, a rest up to the answer's bar line, then one note drawn at a time."""
        bias = key_bias(_PITCHES, call_key(call, key), how.key_lock)
        p, d, state = self.read(call)
        at = call.total_steps
        while gap > 0:  # a rest up to the bar line, in pieces the model can read
            g = min(gap, MAX_STEPS)
            p, d, state = self.step(0, g - 1, phase_of(at), state)
            at, gap = at + g, gap - g
        if p is None:  # nothing was played: the answer starts from a rest of one step
            p, d, state = self.step(0, 0, phase_of(at), np.zeros((1, self.state_size), np.float32))
        while True:
            pi = draw(p, how.temperature, how.rng, bias)
            di = draw(d, how.duration_temperature, how.rng)
            yield from note_tokens(int(pitch_of_index(pi)), di + 1)
            p, d, state = self.step(pi, di, phase_of(at), state)
            at += di + 1
