"""Where a controller message becomes an action: on the input thread, before the player is heard
(a mapped message is an action, never a note of the melody nor of the recording's player
track), and MIDI learn (the next controller, pad or program change the player sends is mapped).
The actions run on a thread of their own (``accompanist-controls``): a model loading for a new
mode never holds up the input, and a knob turned fast is taken at its latest value, eight times a second at most."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

import mido

from accompanist.live.controls import ACTIONS, Control, ControlMap
from accompanist.live.settings import Settings, is_players

PRESS = 64  #: a controller at or above this is a button held down (General MIDI's switch rule)
#: seconds: a knob turned is acted on (and said) at most this often; the model reads it at the
#: next step anyway, and a sweep said at every one of its values floods the terminal
KNOB_EVERY = 0.125


class ControlInput:
    def __init__(self, settings: Callable[[], Settings], say: Callable[[str], None]):
        """``settings``: the session's now (the map and the player's channel); ``say``: a warning."""
        self.settings, self.say = settings, say
        self._read: tuple[Settings, ControlMap] | None = None
        self._down: set[tuple[int, int]] = set()  #: (channel, controller) held at or above PRESS
        self._pads: set[tuple[int, int]] = set()  #: (channel, note) pressed as a control: its release is ours too
        self._learning: str | None = None
        self._items: queue.Queue[tuple[Control, int | None]] = queue.Queue(maxsize=512)

    def learn(self, action: str) -> None:
        """The next message of the kind ``action`` takes is mapped to it."""
        self._learning = action

    def take(self, msg: mido.Message) -> bool:
        """True if ``msg`` is a control (an action, a learned message, a pad's release): the
        player's melody never hears it."""
        kind, number, value = _shape(msg)
        if kind is None:
            return False
        channel = msg.channel
        if kind == "note" and value is None:  # a release: ours if its press was
            if (channel, number) in self._pads:
                self._pads.discard((channel, number))
                return True
            return False
        if self._learning is not None and self.heard(channel):
            return self._learn(kind, number, value, channel)
        c = self.controls().find(kind, number, channel)
        if c is None or (c.channel is None and not self.heard(channel)):
            return False
        if kind == "note":
            self._pads.add((channel, number))
        if kind == "cc" and ACTIONS[c.action][0] != "knob":
            was = (channel, number) in self._down
            (self._down.add if value >= PRESS else self._down.discard)((channel, number))
            if value < PRESS or was:
                return True  # a button's release, or held: no new press
            value = None
        elif kind == "note":
            value = None
        self._give(c, value)
        return True

    def _learn(self, kind: str, number: int | None, value: int | None, channel: int) -> bool:
        """A knob learns a controller; a button a controller or a note; a choice any of them.
        What does not fit the action passes as ever (a note played while a knob is learned)."""
        action, taker = self._learning, ACTIONS[self._learning][0]
        if (taker == "knob" and kind != "cc") or (kind == "pc" and taker != "choice"):
            return False
        self._learning = None
        if kind == "note":
            self._pads.add((channel, number))
        elif taker != "knob" and value is not None and value >= PRESS:
            self._down.add((channel, number))
        self._give(Control(action, kind, number), -1)  # -1: learned, not acted on
        return True

    def controls(self) -> ControlMap:
        """The map of the settings now, read again only when they changed (a learn, a preset)."""
        s = self.settings()
        if self._read is None or self._read[0] is not s:
            self._read = (s, ControlMap.parse(s.controls))
        return self._read[1]

    def heard(self, channel: int) -> bool:
        return is_players(self.settings(), channel)

    def _give(self, c: Control, value: int | None) -> None:
        try:
            self._items.put_nowait((c, value))
        except queue.Full:
            self.say(f"{c.source}: too many controller messages at once; {c.action} skipped")

    def serve(
        self,
        running: threading.Event,
        act: Callable[[Control, int | None], None],
        learned: Callable[[Control], None],
    ) -> None:
        """The controls thread: each action in the order it came; a knob at its latest value, at
        most every ``KNOB_EVERY`` seconds, and always where it comes to rest."""
        due: dict[str, tuple[Control, int]] = {}  #: knobs moved and not yet acted on
        acted: dict[str, float] = {}  #: when each knob was last acted on
        while running.is_set():
            now = time.monotonic()
            for action, (c, v) in list(due.items()):
                if now - acted.get(action, -KNOB_EVERY) >= KNOB_EVERY:
                    del due[action]
                    acted[action] = now
                    act(c, v)
            wait = min((acted[a] + KNOB_EVERY - now for a in due), default=0.1)
            try:
                batch = [self._items.get(timeout=max(wait, 0.001))]
            except queue.Empty:
                continue
            while True:
                try:
                    batch.append(self._items.get_nowait())
                except queue.Empty:
                    break
            for c, v in batch:
                if v == -1:
                    learned(c)
                elif ACTIONS[c.action][0] != "knob":
                    act(c, v)
                else:
                    due[c.action] = (c, v)


def _shape(msg: mido.Message) -> tuple[str | None, int | None, int | None]:
    """(kind, number, value) of a message a control can take: a controller's value, a note's
    velocity (None for a release), a program change's program."""
    if msg.type == "control_change":
        return "cc", msg.control, msg.value
    if msg.type == "note_on" and msg.velocity:
        return "note", msg.note, msg.velocity
    if msg.type in ("note_on", "note_off"):
        return "note", msg.note, None
    if msg.type == "program_change":
        return "pc", None, msg.program
    return None, None, None
