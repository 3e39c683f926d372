"""The runners that answer a call with a melody, by model family: one face for respond mode.

Every answerer has ``stream(call, phase_of, gap, temperature, duration_temperature, key_lock,
rng, key, **family_settings)``, the answer as grid tokens for as long as it is asked (respond
mode takes a bar at a time while the answer plays), and ``answer(call, answer_steps, phase_of,
gap, ...)``, its first ``answer_steps`` steps as events.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from accompanist.errors import AccompanistError
from accompanist.inference.cards import ModelCard, load_card
from accompanist.inference.session import open_session
from accompanist.music.events import Events, events_to_tokens, tokens_to_events
from accompanist.music.keys import Key, find_key
from accompanist.music.tokens import HOLD, REST

#: Families whose models answer a phrase with a phrase.
MELODY_FAMILIES = ("melody", "vrash", "rl")


def open_answerer(model: str | ModelCard, threads: int = 1):
    card = model if isinstance(model, ModelCard) else load_card(model)
    if card.family == "melody":
        from accompanist.inference.melody_runner import MelodyRunner

        return MelodyRunner(card, threads)
    if card.family == "vrash":
        from accompanist.inference.vrash_runner import VrashRunner

        return VrashRunner(card, threads)
    if card.family == "rl":
        from accompanist.inference.rl_runner import RLRunner

        return RLRunner(card, threads)
    raise AccompanistError(
        f"model '{card.name}' is a {card.family} model; answering a call needs a melody model "
        f"({', '.join(MELODY_FAMILIES)}: see accompanist models)"
    )


def family_settings(card: ModelCard, variation: float | None) -> dict:
    """The settings only some families take, for those that take them."""
    return {"variation": variation} if card.family == "vrash" and variation is not None else {}


class Answerer:
    """What every melody family's runner shares: ``stream`` resolves the settings against the
    card's and hands them to the family's ``answer_tokens``; ``answer`` is the first steps of
    ``stream``."""

    key_lock: float  #: the card's default

    def __init__(self, card: ModelCard, family: str, what: str) -> None:
        """Refuse a card of another family than ``family`` (whose models are ``what``); keep the
        card and its key lock."""
        if card.family != family:
            raise ValueError(f"{card.name} is not {what}")
        self.card = card
        self.key_lock = card.default("key_lock")

    def stream(
        self,
        call: Events,
        phase_of,
        gap: int = 0,
        temperature: float = 1.0,
        duration_temperature: float | None = None,
        key_lock: float | None = None,
        rng: np.random.Generator | None = None,
        key: Key | None = None,
        **family,
    ) -> Iterator[int]:
        """The answer as grid tokens, one a step, for as long as it is asked (respond mode takes
        a bar at a time while the answer plays). ``duration_temperature`` defaults to the
        temperature, ``key_lock`` to the card's; ``key`` to the call's (see ``call_key``)."""
        draw = Draw(
            temperature,
            temperature if duration_temperature is None else duration_temperature,
            self.key_lock if key_lock is None else key_lock,
            rng or np.random.default_rng(),
        )
        return self.answer_tokens(call, phase_of, gap, draw, key, **family)

    def answer_tokens(self, call: Events, phase_of, gap: int, draw: Draw, key: Key | None, **family) -> Iterator[int]:
        raise NotImplementedError

    def answer(self, call: Events, answer_steps: int, phase_of, gap: int = 0, *args, **kw) -> Events:
        """An answer of exactly ``answer_steps`` steps after ``call`` and ``gap`` silent steps.
        ``phase_of(step)`` gives the bar phase of a step counted from the call's first step."""
        return take(self.stream(call, phase_of, gap, *args, **kw), answer_steps, phase_of, call.total_steps + gap)


def open_step(card: ModelCard, role: str, threads: int = 1):
    """The card's step graph ``role`` as a session, and the size of the state it carries."""
    return open_session(card.graph(role), threads), int(card.data["io"][role]["state_size"])


@dataclass(frozen=True)
class Draw:
    """How one answer is drawn: the temperatures of the note and length heads, the key lock and
    the random source."""

    temperature: float
    duration_temperature: float
    key_lock: float
    rng: np.random.Generator


def call_key(call: Events, key: Key | None) -> Key | None:
    """``key`` if given, else the call's Krumhansl-Kessler key (None for an empty call)."""
    return find_key(events_to_tokens(call)) if key is None and len(call) else key


def note_tokens(pitch: int, length: int) -> list[int]:
    """A note (or a rest, pitch -1) as grid tokens."""
    return [pitch] + [HOLD] * (length - 1) if pitch >= 0 else [REST] * length


def take(stream: Iterator[int], steps: int, phase_of, start: int) -> Events:
    """The first ``steps`` tokens of a stream as events (the last note cut at the end), each at the
    bar phase of its step, counted from ``start``."""
    tokens = np.fromiter((next(stream) for _ in range(steps)), np.int64, steps)
    return tokens_to_events(tokens, np.array([phase_of(start + t) for t in range(steps)], np.int64))
