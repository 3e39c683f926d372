"""Answer a phrase with an exported note RNN or RL-tuned model (ONNX Runtime and numpy only).

The call, and the silence up to the answer's bar line, are read as the model's 38 events a 16th
step (``music.rl_tokens``); then one event is drawn per step from softmax(logits / T) (a tuned
model's logits are its Q-values, sampled as upstream samples them) until the answer is full.
``key_lock`` penalises note-ons outside the key heard in the call.
"""

from __future__ import annotations

import numpy as np

from accompanist.inference.cards import ModelCard
from accompanist.inference.sampling import sample
from accompanist.inference.session import open_session
from accompanist.music.events import Events, events_to_tokens, tokens_to_events
from accompanist.music.keys import Key, find_key
from accompanist.music.rl_tokens import N_CLASSES, from_rl, pitch_of, to_rl
from accompanist.music.tokens import REST


class RLRunner:
    def __init__(self, card: ModelCard, threads: int = 1) -> None:
        if card.family != "rl":
            raise ValueError(f"{card.name} is not an RL-tuner model")
        self.card = card
        self.session = open_session(card.graph("note_step"), threads)
        self.state_size = int(card.data["io"]["note_step"]["state_size"])
        self.key_lock = float(card.defaults.get("key_lock", 0.0))

    def step(self, event: int, state: np.ndarray):
        logits, state = self.session.run(None, {"event": np.array([event], np.int64), "state": state})
        return logits[0], state

    def answer(
        self,
        call: Events,
        answer_steps: int,
        phase_of,
        gap: int = 0,
        temperature: float = 1.0,
        duration_temperature: float | None = None,
        key_lock: float | None = None,
        rng: np.random.Generator | None = None,
        key: Key | None = None,
    ) -> Events:
        """An answer of exactly ``answer_steps`` steps, ``gap`` silent steps after the call (the
        event model has no separate length, so ``duration_temperature`` is not used)."""
        rng = rng or np.random.default_rng()
        lock = self.key_lock if key_lock is None else key_lock
        tokens = np.concatenate([events_to_tokens(call), np.full(gap, REST, np.int64)])
        if key is None and (tokens < 128).any():
            key = find_key(tokens)
        bias = None
        if key is not None and lock > 0:
            pcs = key.pitch_classes
            bias = np.array([0.0 if e < 2 or pitch_of(e) % 12 in pcs else -lock for e in range(N_CLASSES)])
        events = to_rl(tokens) if len(tokens) else np.array([0])
        state = np.zeros((1, self.state_size), np.float32)
        for e in events[:-1]:
            _, state = self.step(int(e), state)
        obs = int(events[-1])
        out = np.zeros(answer_steps, np.int64)
        for t in range(answer_steps):
            logits, state = self.step(obs, state)
            z = logits if bias is None else logits + bias
            obs = int(sample(z[None], temperature, rng)[0])
            out[t] = obs
        start = len(tokens)
        return tokens_to_events(from_rl(out), np.array([phase_of(start + t) for t in range(answer_steps)]))
