"""The modes the engine plays, by name: each mode's one file, and the one place a mode is made
from the settings and its model's card."""

from __future__ import annotations

import numpy as np

from accompanist.inference.cards import ModelCard
from accompanist.inference.sampling_config import SAMPLING_SETTINGS, Sampling, sampling_of
from accompanist.live.mode import Mode
from accompanist.live.settings import Settings


def make_mode(s: Settings, card: ModelCard, steps_per_bar: int, rng: np.random.Generator, locked: bool) -> Mode:
    """The mode ``s.mode`` running ``card`` with its sampling configuration, warmed up (ONNX
    Runtime's first runs are slow)."""
    sampling = session_sampling(s, card)
    if s.mode == "respond":
        from accompanist.live.respond_mode import RespondMode

        return RespondMode(card, sampling, steps_per_bar, rng, s.call_bars, s.answer_bars)
    if s.mode == "duet":
        from accompanist.inference.duet_partner import rest_steps
        from accompanist.live.duet_mode import DuetMode

        return DuetMode(card, sampling, rng, rest_steps(s.rest_after, steps_per_bar))
    from accompanist.live.loop_mode import LoopMode

    mode = LoopMode(card, sampling, s.bars * steps_per_bar, rng)
    mode.lock(locked)
    return mode


def session_sampling(s: Settings, card: ModelCard) -> Sampling:
    """The card's sampling configuration with the session's settings in place (None: the card's)."""
    return sampling_of(card, **{name: getattr(s, name) for name in SAMPLING_SETTINGS})
