"""The modes the engine plays, by name: each mode's one file, and the one place a mode is made
from the settings and its model's card."""

from __future__ import annotations

import numpy as np

from accompanist.inference.cards import ModelCard
from accompanist.live.mode import Mode
from accompanist.live.settings import Settings


def make_mode(s: Settings, card: ModelCard, steps_per_bar: int, rng: np.random.Generator, locked: bool) -> Mode:
    """The mode ``s.mode`` running ``card``, warmed up (ONNX Runtime's first runs are slow)."""
    t = float(card.defaults.get("temperature", 1.0) if s.temperature is None else s.temperature)
    if s.mode == "respond":
        from accompanist.live.respond_mode import RespondMode

        return RespondMode(card, t, steps_per_bar, rng, s.call_bars, s.answer_bars, s.key_lock, s.variation)
    if s.mode == "duet":
        from accompanist.inference.duet_partner import rest_steps
        from accompanist.live.duet_mode import DuetMode

        return DuetMode(card, t, rng, s.max_notes, s.key_lock, s.two_part, rest_steps(s.rest_after, steps_per_bar))
    from accompanist.live.loop_mode import LoopMode

    mode = LoopMode(card, t, s.bars * steps_per_bar, rng)
    mode.lock(locked)
    return mode
