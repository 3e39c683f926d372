"""The accompanist played from the instrument: a map of controller messages to actions
(``--control ACTION=SPEC``, repeatable; in presets as ``"controls": ["temperature=cc:21", ...]``).

SPEC is ``cc:N`` or ``note:N`` (N 0-127) or ``pc`` (program changes), each with an optional
``@CHANNEL`` (1-16). A knob action (temperature, variation) takes a controller and moves its
setting over the setting's range, 0 to 127. A button action acts on a press: a note-on, or a
controller rising to 64 or more (a pad or a pedal sends 127, then 0). ``mode`` and ``model``
step through their lists on a press, or take the Nth of the list on program change N.

Pure: texts in, a map out; the session's ``control_input`` matches messages against it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from accompanist.errors import AccompanistError
from accompanist.limits import channel_from_user, channel_to_user

#: each action, what takes it (a knob, a button, or a choice: a button or a program change), and
#: what it does: the terminal's key or the panel's control that does the same
ACTIONS: dict[str, tuple[str, str]] = {
    "temperature": ("knob", "the temperature, over its range"),
    "variation": ("knob", "respond, VRASH: how far the answer strays from the call"),
    "lock": ("button", "lock or unlock the loop"),
    "refresh": ("button", "harmonise the loop afresh"),
    "clear": ("button", "start over"),
    "end_call": ("button", "respond: the call is over"),
    "panic": ("button", "release every note"),
    "start_stop": ("button", "stop the accompaniment, or start it again"),
    "tap": ("button", "tap the tempo: the first guess, or the tempo"),
    "mode": ("choice", "the next mode, or the Nth on program change N"),
    "model": ("choice", "the mode's next model, or the Nth on program change N"),
}
SPEC = re.compile(r"^(?:(cc|note):(\d{1,3})|pc)(?:@(\d{1,2}))?$")
SPEC_HELP = "SPEC is cc:N, note:N (N 0-127) or pc, with @CHANNEL (1-16) if one channel only"


@dataclass(frozen=True)
class Control:
    action: str
    kind: str  #: "cc", "note" or "pc"
    number: int | None = None  #: the controller's or the note's; None for pc
    channel: int | None = None  #: 0-based; None: every channel the player is heard on

    @property
    def spec(self) -> str:
        at = f"@{channel_to_user(self.channel)}" if self.channel is not None else ""
        return ("pc" if self.kind == "pc" else f"{self.kind}:{self.number}") + at

    @property
    def text(self) -> str:
        return f"{self.action}={self.spec}"

    @property
    def source(self) -> str:
        """How a player calls the message: 'cc 21 on channel 1', 'note 36', 'program change'."""
        what = "program change" if self.kind == "pc" else f"{self.kind} {self.number}"
        return what + (f" on channel {channel_to_user(self.channel)}" if self.channel is not None else "")

    def takes(self, kind: str, number: int | None, channel: int) -> bool:
        """Whether a message of ``kind`` (cc, note, pc) is this control's."""
        return (
            kind == self.kind
            and (self.kind == "pc" or number == self.number)
            and (self.channel is None or channel == self.channel)
        )

    def overlaps(self, other: Control) -> bool:
        return (
            self.kind == other.kind
            and self.number == other.number
            and (self.channel is None or other.channel is None or self.channel == other.channel)
        )


def parse_control(text: str) -> Control:
    """``ACTION=SPEC`` -> a Control; anything else is refused in one line."""
    if not isinstance(text, str) or "=" not in text:
        raise AccompanistError(f"control {text!r}: write ACTION=SPEC, for example temperature=cc:21 or panic=note:36")
    action, _, spec = (part.strip() for part in text.partition("="))
    if action not in ACTIONS:
        raise AccompanistError(f"control {text!r}: no action '{action}'; actions: {', '.join(ACTIONS)}")
    m = SPEC.match(spec.lower())
    if m is None or (m.group(2) is not None and int(m.group(2)) > 127):
        raise AccompanistError(f"control {text!r}: {SPEC_HELP}")
    kind, number, channel = m.group(1) or "pc", m.group(2), m.group(3)
    if channel is not None and not 1 <= int(channel) <= 16:
        raise AccompanistError(f"control {text!r}: the channel is 1-16")
    taker = ACTIONS[action][0]
    if taker == "knob" and kind != "cc":
        raise AccompanistError(f"control {text!r}: {action} is a knob: map a controller (cc:N)")
    if kind == "pc" and taker != "choice":
        raise AccompanistError(f"control {text!r}: a program change picks a mode or a model, not {action}")
    number = int(number) if number is not None else None
    return Control(action, kind, number, channel_from_user(int(channel)) if channel else None)


@dataclass(frozen=True)
class ControlMap:
    controls: tuple[Control, ...] = ()

    @classmethod
    def parse(cls, texts: list[str] | tuple[str, ...] | None) -> ControlMap:
        """Every ``ACTION=SPEC``; a message mapped twice is refused, naming both."""
        controls: list[Control] = []
        for text in texts or ():
            c = parse_control(text)
            for other in controls:
                if c.overlaps(other):
                    both = c.source if c.channel is not None else other.source
                    raise AccompanistError(
                        f"controls {other.text} and {c.text} both take {both}: "
                        "give each its own message (or its own @CHANNEL)"
                    )
            controls.append(c)
        return cls(tuple(controls))

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.controls]

    def find(self, kind: str, number: int | None, channel: int) -> Control | None:
        return next((c for c in self.controls if c.takes(kind, number, channel)), None)

    def learned(self, control: Control) -> ControlMap:
        """This map with ``control`` in it: in place of the action's own and of any other
        mapping that took the same message."""
        kept = tuple(c for c in self.controls if c.action != control.action and not c.overlaps(control))
        return ControlMap((*kept, control))

    def without(self, action: str) -> ControlMap:
        return ControlMap(tuple(c for c in self.controls if c.action != action))
