"""What each mapped action does to the engine: what its terminal key does (``terminal.key_action``)
or its panel control, so a pad, a knob and a key can never mean different things. Runs on the
controls thread (``control_input.ControlInput.serve``)."""

from __future__ import annotations

from accompanist.errors import AccompanistError
from accompanist.limits import LIMITS
from accompanist.live.controls import Control
from accompanist.live.settings import MODE_FAMILY, MODES

#: the actions a terminal key does: the key
KEY_OF = {"lock": "l", "refresh": "r", "clear": "c", "end_call": "e", "panic": "p", "start_stop": " ", "tap": "t"}


def knob_value(name: str, value: int) -> float:
    """A controller's 0-127 over a setting's range (its control's reach where it has no top)."""
    limit = LIMITS[name]
    return round(limit.lo + (limit.top - limit.lo) * value / 127, 2)


def perform(engine, control: Control, value: int | None) -> str | None:
    """Do ``control``'s action (``value``: a knob's 0-127 or a program change's program); the
    line to say beside what the engine says of it, or why it did nothing."""
    from accompanist.live.terminal import key_action

    a = control.action
    try:
        if a in KEY_OF:
            refused = key_action(engine, KEY_OF[a])
            return refused or (None if a == "tap" else f"{control.source}: {a.replace('_', ' ')}")
        if a == "temperature":
            engine.set(temperature=knob_value("temperature", value))
        elif a == "variation":
            if engine.card.family != "vrash":
                return f"{control.source}: variation moves a VRASH model's answer; {engine.card.name} has none"
            engine.set(variation=knob_value("variation", value))
        elif a == "mode":
            engine.set(mode=_pick(MODES, engine.settings.mode, value, "mode"))
        elif a == "model":
            engine.set(model=_pick(_models(engine.settings.mode), engine.card.name, value, "model"))
    except AccompanistError as exc:
        return f"{control.source}: {exc}"
    return None


def _pick(choices: list[str] | tuple[str, ...], now: str, program: int | None, what: str) -> str:
    """The next after ``now`` on a press; the Nth on program change N (counted from 0)."""
    if program is None:
        return choices[(choices.index(now) + 1) % len(choices)] if now in choices else choices[0]
    if program >= len(choices):
        listed = ", ".join(f"{i} {c}" for i, c in enumerate(choices))
        raise AccompanistError(f"program change {program} picks no {what}; there are {len(choices)}: {listed}")
    return choices[program]


def _models(mode: str) -> list[str]:
    from accompanist.inference.cards import find_models

    return sorted(name for name, card in find_models().items() if card.family in MODE_FAMILY[mode])
