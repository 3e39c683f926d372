"""Run a duet model exported as one ONNX graph, one grid step at a time (numpy and ORT only).

Two rules, as the card says (``io[role]["listens"]``):

* anticipating (the seed's window and our stateful variant): every step, the runner reads what
  was really played at the step that just closed (the player's melody and the model's own
  accompaniment) and returns the logits of the *next* accompaniment step (``step``). The
  stateful graph carries the LSTM state from call to call; the window graph is fed the last
  ``window`` steps, kept here.
* hearing (the listen variant): the runner is asked for step k's accompaniment while step k is
  still being played (``hear``), with the melody of step k as heard so far, its place in the
  bar, and the memory of the two bars before; when step k closes, ``commit`` files the whole
  step and what the accompaniment really played.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from accompanist.errors import AccompanistError
from accompanist.inference.cards import ModelCard
from accompanist.inference.duet_priors import StepSampler
from accompanist.inference.session import open_session
from accompanist.music import roll
from accompanist.music.meter import CONTEXT_STEPS, pitch_classes, position_features

if TYPE_CHECKING:
    from accompanist.inference.sampling_config import DuetSampling

STEP = 2 * roll.N_PITCHES


class DuetRunner:
    def __init__(self, card: ModelCard, threads: int = 1):
        if card.family != "duet":
            raise AccompanistError(f"model '{card.name}' is a {card.family} model, not a duet model")
        self.card = card
        (self.role,) = card.data["graphs"]
        self.session = open_session(card.graph(self.role), threads)
        spec = card.data["io"][self.role]
        self.stateful = "state" in spec["inputs"]
        self.listens = bool(spec.get("listens", False))
        self.state_size = int(spec.get("state_size", 0))
        self.window = int(spec.get("window", 1))
        self.steps_per_beat = card.steps_per_beat
        self.reset()

    def reset(self) -> None:
        """Forget the past: a new session or a new take."""
        if self.stateful:
            self.state = np.zeros((1, self.state_size), np.float32)
            return
        self.mel_win = np.zeros((1, self.window, STEP), np.float32)
        self.acc_win = np.zeros_like(self.mel_win)
        self.pos_win = np.zeros((1, self.window, 8), np.float32)
        # the listen variant's two-bar memory: pitch classes of the last CONTEXT_STEPS steps
        self.pcs = np.zeros((CONTEXT_STEPS, 2, 12), np.float32)
        self.pc_sum = np.zeros((2, 12), np.float32)
        self.filed = 0

    # --- anticipating -------------------------------------------------------------------------

    def step(self, melody: np.ndarray, accompaniment: np.ndarray) -> np.ndarray:
        """Read one closed step of both parts ((2, 84) rolls); logits (168,) of the next
        accompaniment step."""
        if self.listens:
            raise AccompanistError(f"model '{self.card.name}' hears the step it answers: use hear() and commit()")
        mel = roll.features(melody[None])
        acc = roll.features(accompaniment[None])
        if self.stateful:
            logits, _, self.state = self.session.run(None, {"mel": mel, "acc": acc, "state": self.state})
        else:
            self.mel_win = np.concatenate([self.mel_win[:, 1:], mel[:, None]], axis=1)
            self.acc_win = np.concatenate([self.acc_win[:, 1:], acc[:, None]], axis=1)
            logits, _ = self.session.run(None, {"mel": self.mel_win, "acc": self.acc_win})
        return logits[0]

    # --- hearing ------------------------------------------------------------------------------

    def hear(self, melody_now: np.ndarray, phase: int) -> np.ndarray:
        """Logits (168,) of the accompaniment of step k, from the melody of step k as heard so
        far ((2, 84)), the step's bar phase, and every step before k filed by ``commit``."""
        mel = self.mel_win.copy()
        mel[0, -1] = roll.features(melody_now[None])[0]
        pos = self.pos_win.copy()
        pos[0, -1] = position_features(np.array([phase]), self.steps_per_beat)[0]
        ctx = (self.pc_sum.reshape(1, 24) / CONTEXT_STEPS).astype(np.float32)
        logits, _ = self.session.run(None, {"mel": mel, "acc": self.acc_win, "pos": pos, "ctx": ctx})
        return logits[0]

    def commit(self, melody: np.ndarray, accompaniment: np.ndarray, phase: int) -> None:
        """Step k is over: its whole melody and the accompaniment that really sounded."""
        feats = roll.features(np.stack([melody, accompaniment]))
        self.mel_win[0, :-1] = self.mel_win[0, 1:]
        self.mel_win[0, -2] = feats[0]
        self.pos_win[0, :-1] = self.pos_win[0, 1:]
        self.pos_win[0, -2] = position_features(np.array([phase]), self.steps_per_beat)[0]
        self.acc_win[0, :-1] = self.acc_win[0, 1:]
        self.acc_win[0, -1] = feats[1]
        slot = self.filed % CONTEXT_STEPS
        self.pc_sum -= self.pcs[slot]
        self.pcs[slot] = pitch_classes(np.stack([melody[roll.FRAME], accompaniment[roll.FRAME]]))
        self.pc_sum += self.pcs[slot]
        self.filed += 1

    # --- both ---------------------------------------------------------------------------------

    def sampler(self, config: DuetSampling) -> StepSampler:
        """The step sampler of ``config`` (``sampling`` makes one from the card)."""
        return StepSampler.of(config, self.steps_per_beat)

    def sampling(self, **given) -> DuetSampling:
        """The card's configuration, with ``given`` fields (None: the card's) in place."""
        from accompanist.inference.sampling_config import DuetSampling

        return DuetSampling.from_card(self.card, **given)

    def accompany(
        self,
        melody: np.ndarray,
        sampling: DuetSampling,
        rng: np.random.Generator,
        heard: np.ndarray | None = None,
        phases: np.ndarray | None = None,
        rest_after: float | None = None,
        waits: bool = True,
    ) -> np.ndarray:
        """Play against a whole recorded melody roll (steps, 2, 84) by the live duet's step
        protocol (``DuetPartner``), sampling by ``sampling``: ``heard`` and ``phases`` as
        ``DuetPartner.accompany`` takes them; the live wait rule too (silent until the player's
        first note, and after ``rest_after`` bars of 4/4 of the player's silence, default
        ``REST_AFTER``), unless ``waits`` is False."""
        from accompanist.inference.duet_partner import REST_AFTER, DuetPartner, rest_steps

        rest = rest_steps(REST_AFTER if rest_after is None else rest_after, 4 * self.steps_per_beat)
        return DuetPartner(self, self.sampler(sampling), rng, rest, waits).accompany(melody, heard, phases)
