"""Run a duet model exported as one ONNX graph, one grid step at a time (numpy and ORT only).

Every step, the runner reads what was really played at the step that just closed (the player's
melody and the model's own accompaniment, as rolls) and returns the logits of the next
accompaniment step; ``sample_roll_step`` turns them into notes. The stateful graph carries the
LSTM state from call to call; the window graph is fed the last ``window`` steps, kept here.
"""

from __future__ import annotations

import numpy as np

from accompanist.errors import AccompanistError
from accompanist.inference.cards import ModelCard
from accompanist.inference.duet_priors import MelodyContext
from accompanist.inference.sampling import sample_roll_step
from accompanist.inference.session import open_session
from accompanist.music import roll


class DuetRunner:
    def __init__(self, card: ModelCard, threads: int = 1):
        if card.family != "duet":
            raise AccompanistError(f"model '{card.name}' is a {card.family} model, not a duet model")
        self.card = card
        (self.role,) = card.data["graphs"]
        self.session = open_session(card.graph(self.role), threads)
        spec = card.data["io"][self.role]
        self.stateful = "state" in spec["inputs"]
        self.state_size = int(spec.get("state_size", 0))
        self.window = int(spec.get("window", 1))
        self.reset()

    def reset(self) -> None:
        """Forget the past: a new session or a new take."""
        if self.stateful:
            self.state = np.zeros((1, self.state_size), np.float32)
        else:
            self.mel_win = np.zeros((1, self.window, 2 * roll.N_PITCHES), np.float32)
            self.acc_win = np.zeros_like(self.mel_win)

    def step(self, melody: np.ndarray, accompaniment: np.ndarray) -> np.ndarray:
        """Read one closed step of both parts ((2, 84) rolls); logits (168,) of the next
        accompaniment step."""
        mel = roll.features(melody[None])
        acc = roll.features(accompaniment[None])
        if self.stateful:
            logits, _, self.state = self.session.run(None, {"mel": mel, "acc": acc, "state": self.state})
        else:
            self.mel_win = np.concatenate([self.mel_win[:, 1:], mel[:, None]], axis=1)
            self.acc_win = np.concatenate([self.acc_win[:, 1:], acc[:, None]], axis=1)
            logits, _ = self.session.run(None, {"mel": self.mel_win, "acc": self.acc_win})
        return logits[0]

    def sampling(self, max_notes: int | None, key_lock: float | None, two_part: float | None) -> tuple:
        """The card's defaults where a setting is None."""
        d = self.card.defaults
        return (
            int(d.get("max_notes", 4) if max_notes is None else max_notes),
            float(d.get("key_lock", 0.0) if key_lock is None else key_lock),
            float(d.get("two_part", 0.0) if two_part is None else two_part),
        )

    def accompany(
        self,
        melody: np.ndarray,
        temperature: float,
        rng: np.random.Generator,
        max_notes: int | None = None,
        key_lock: float | None = None,
        two_part: float | None = None,
    ) -> np.ndarray:
        """Play against a whole recorded melody roll (steps, 2, 84) exactly as live: at each step
        the model reads the melody's real step and its own last step and answers the next one.
        The first step is silent: the model has heard nothing yet."""
        cap, key_lock, two_part = self.sampling(max_notes, key_lock, two_part)
        self.reset()
        heard = MelodyContext()
        out = roll.empty(len(melody))
        for t in range(len(melody) - 1):
            logits = self.step(melody[t], out[t])
            heard.hear(melody[t])
            bias = heard.bias(key_lock, two_part)
            out[t + 1] = sample_roll_step(logits, out[t, roll.FRAME], temperature, rng, cap, bias)
        return out
