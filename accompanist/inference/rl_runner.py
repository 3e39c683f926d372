"""Answer a phrase with an exported note RNN or RL-tuned model (ONNX Runtime and numpy only).

The call, and the silence up to the answer's bar line, are read as the model's 38 events a 16th
step (``music.rl_tokens``); then one event is drawn per step from softmax(logits / T) (a tuned
model's logits are its Q-values, sampled as upstream samples them) until the answer is full.
``key_lock`` penalises note-ons outside the key heard in the call. A model tuned with every call
moved to C major or A minor (``model.in_c`` on its card, ``train rl --in-c``) hears the call
moved there too (the octave that keeps it nearest the middle of its range), and its answer is
moved back.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from accompanist.inference.answerers import Answerer, Draw, open_step
from accompanist.inference.cards import ModelCard
from accompanist.inference.sampling import draw, key_bias
from accompanist.music.events import Events, events_to_tokens
from accompanist.music.keys import Key, home_key, key_heard, to_c
from accompanist.music.rl_tokens import N_CLASSES, pitch_of, to_rl
from accompanist.music.tokens import HOLD, REST, transpose

#: the pitch each event sounds (-1: note off and no event), as the key lock reads them
_EVENT_PITCHES = np.array([pitch_of(e) if e >= 2 else -1 for e in range(N_CLASSES)])


class RLRunner(Answerer):
    def __init__(self, card: ModelCard, threads: int = 1) -> None:
        super().__init__(card, "rl", "an RL-tuner model")
        self.session, self.state_size = open_step(card, "note_step", threads)
        self.in_c = bool(card.data["model"].get("in_c", False))

    def hear(self, tokens: np.ndarray, key: Key | None = None) -> tuple[np.ndarray, Key | None, int]:
        """The call as the model hears it: its tokens, its key (``key`` if given, else the one
        heard) and the semitones it was moved by (a model tuned ``in_c`` hears it in its
        ``home_key``; its answer is to be moved back by as much)."""
        if key is None:
            key = key_heard(tokens)
        if not self.in_c or key is None:
            return tokens, key, 0
        shift = to_c(tokens, key)
        return transpose(tokens, shift), home_key(key), shift

    def step(self, event: int, state: np.ndarray):
        logits, state = self.session.run(None, {"event": np.array([event], np.int64), "state": state})
        return logits[0], state

    def answer_tokens(self, call: Events, phase_of, gap: int, how: Draw, key: Key | None) -> Iterator[int]:
        """The call and the gap read as events, then one event drawn a step (the event model has
        no separate length, so the duration temperature is not used)."""
        tokens = np.concatenate([events_to_tokens(call), np.full(gap, REST, np.int64)])
        tokens, key, shift = self.hear(tokens, key)
        bias = key_bias(_EVENT_PITCHES, key, how.key_lock)
        events = to_rl(tokens) if len(tokens) else np.array([0])
        state = np.zeros((1, self.state_size), np.float32)
        for e in events[:-1]:
            _, state = self.step(int(e), state)
        obs = int(events[-1])
        sounding = False  # the answer starts after silence: a no-event first is silence
        while True:
            logits, state = self.step(obs, state)
            obs = draw(logits, how.temperature, how.rng, bias)
            if obs >= 2:
                sounding = True
                yield pitch_of(obs) - shift
            elif obs == 0:
                sounding = False
                yield REST
            else:
                yield HOLD if sounding else REST
