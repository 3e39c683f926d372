"""The runners that answer a call with a melody, by model family: one face for respond mode.

Every answerer has ``answer(call, answer_steps, phase_of, gap, temperature,
duration_temperature, key_lock, rng, key, **family_settings)`` and returns the answer's events.
"""

from __future__ import annotations

from accompanist.errors import AccompanistError
from accompanist.inference.cards import ModelCard, load_card

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
