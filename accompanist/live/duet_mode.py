"""Duet mode: streaming, a step at a time, by the duet's one step protocol
(``inference.duet_partner.DuetPartner``, which the offline verbs run too).

Anticipating models answer step k + 1 as step k closes; hearing models answer step k from what
the player struck for it by the end of the listen window, and file it whole when it closes."""

from __future__ import annotations

import copy

import numpy as np

from accompanist.inference.cards import ModelCard
from accompanist.inference.duet_partner import DuetPartner
from accompanist.inference.duet_runner import DuetRunner
from accompanist.inference.sampling_config import DuetSampling
from accompanist.live.mode import Controls, Reply
from accompanist.music import roll


class DuetMode(Controls):
    def __init__(
        self, card: ModelCard, sampling: DuetSampling, rng: np.random.Generator, rest_steps: int | None = None
    ):
        runner = DuetRunner(card)
        self._sampling = sampling
        self.partner = DuetPartner(runner, runner.sampler(sampling), rng, rest_steps)
        self.listens = runner.listens
        self._warm_up()

    def _warm_up(self, steps: int = 24) -> None:
        """ONNX Runtime sets itself up over its first runs, and the sampler's first key estimate
        and bias allocate: the first answers took 40-170 ms (measured in the soak), deadlines
        missed as the player's first notes came. So a scale is answered before the session
        starts, past the bar after which the key lock joins in, by the same protocol with a
        sampler and a generator of its own; then everything is forgotten."""
        p = self.partner
        scale = roll.empty(steps)
        for i in range(steps):
            scale[i, :, 60 + (0, 2, 4, 5, 7, 9, 11)[i % 7] - roll.PITCH_LO] = 1
        rehearsal = DuetPartner(p.runner, copy.deepcopy(p.sampler), np.random.default_rng(0), waits=False)
        rehearsal.accompany(scale, phases=np.arange(steps) % 16)
        p.runner.reset()

    @property
    def sampling(self) -> DuetSampling:
        return self._sampling

    @sampling.setter
    def sampling(self, config: DuetSampling) -> None:
        """Every prior, from the next step on; the model's memory and what it heard stay."""
        self._sampling = config
        self.partner.sampler.configure(config)

    def heard(self, k: int, phase: int, melody: np.ndarray, played: np.ndarray) -> Reply:
        step = self.partner.hear(melody, played, phase)
        pitches = (np.flatnonzero(melody[roll.FRAME]) + roll.PITCH_LO).tolist()
        return self._reply(step, k, heard=pitches)

    def closed(self, k: int, index: int, phase: int, melody: np.ndarray, played: np.ndarray) -> Reply | None:
        if self.listens:
            self.partner.commit(melody, played, phase)
            return None
        return self._reply(self.partner.anticipate(melody, played), k + 1)

    def _reply(self, step: np.ndarray, k: int, **extra) -> Reply:
        return Reply(step, ("answer", {"step": k, **extra}), "inference_ms", silence=self.partner.fell_silent)

    def reset(self) -> None:
        self.partner.reset()
