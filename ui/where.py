"""Where am I: bar and beat (and the loop's pass) in large type, the count-in counting down, the
beat flashing with the metronome, and, following a DAW, whether its clock runs and at what tempo
(following the player, the player's tempo).
All of it from the engine's events.

The loop's passes are counted from where the loop began: its first pass after the start, a clear,
a change that makes the mode anew (mode, model, bars, ...: ``MODE_SETTINGS`` but the temperature)
or the DAW's Start; not from the session's start, as the engine's pass index is."""

from __future__ import annotations

from PyQt6.QtCore import QTimer
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QWidget

from accompanist.live.settings import MODE_SETTINGS
from accompanist.live.terminal import call_state

FLASH_MS = 90  #: how long the beat light stays lit
#: a change of these makes the mode anew: a loop begins again (the temperature is read each pass)
RESTARTS = MODE_SETTINGS - {"temperature"}


class WhereAmI(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.place = QLabel("stopped")
        big = QFont(self.place.font())
        big.setPointSize(22)
        big.setBold(True)
        self.place.setFont(big)
        self.beat_light = QLabel("  ")
        self.beat_light.setFixedSize(26, 26)
        self.clock_line = QLabel("")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.beat_light)
        row.addWidget(self.place, 1)
        row.addWidget(self.clock_line)
        self._off = QTimer(self)
        self._off.setSingleShot(True)
        self._off.setInterval(FLASH_MS)
        # a bound method, not a lambda: Qt drops the connection with the widget, so a flash timed
        # out after the window went calls nothing (a lambda kept calling into it: a segfault)
        self._off.timeout.connect(self._unlight)
        self.steps_per_beat, self.beats_per_bar, self.origin = 4, 4, 0
        self.external, self.mode = False, "duet"
        self.tempo_of: str | None = None
        self.passes = 0  #: passes closed since the loop began
        self.call = ""  #: respond mode: the call still open, as the engine last said it
        self._light(None)

    def begin(
        self, steps_per_beat: int, beats_per_bar: int, count_in_bars: int, clock: str, mode: str, waits: bool = False
    ) -> None:
        """A session starts: its meter, how many bars it counts in, whose clock it follows
        (``waits``: the grid starts at the player's first note)."""
        self.steps_per_beat, self.beats_per_bar = steps_per_beat, beats_per_bar
        self.external = clock == "external"
        self.tempo_of = {"external": "DAW", "player": "yours"}.get(clock)  #: whose tempo is shown
        self.origin = 0 if self.external else count_in_bars * steps_per_beat * beats_per_bar
        self.mode, self.passes = mode, 0
        if self.external:
            self.place.setText("waiting for the DAW's clock (press play there)")
        else:
            self.place.setText("waiting for your first note" if waits else "starting")
        self.clock_line.setText("")

    @property
    def pass_no(self) -> int:
        """The pass now playing, counted from 1 where the loop began."""
        return self.passes + 1

    def end(self) -> None:
        self.place.setText("stopped")
        self.clock_line.setText("")
        self._light(None)

    def feed(self, ev: dict) -> None:
        kind = ev["type"]
        if kind in ("call", "response", "clear", "panic"):  # respond mode: the call open, or not now
            self.call = call_state(ev) if kind == "call" else ""
        if kind == "step":
            self._step(ev["step"])
            if self.tempo_of and ev.get("seconds"):
                self.clock_line.setText(f"{self.tempo_of} {60.0 / ev['seconds'] / self.steps_per_beat:.1f} bpm")
        elif kind == "pass":
            self.passes += 1
        elif kind == "clear" or (kind == "settings" and RESTARTS & set(ev)):
            self.mode, self.passes = ev.get("mode", self.mode), 0
        elif kind == "transport" and ev.get("state") == "playing":  # the DAW's Start: the loop anew
            self.passes = 0
        elif kind == "transport" and self.external and ev.get("state") in ("stopped", "lost"):
            # the engine's names (live/clock_thread.py): a Stop from the DAW, or its ticks ceasing
            said = "the DAW stopped" if ev["state"] == "stopped" else "the DAW's clock went silent"
            self.place.setText(f"{said}: waiting for its clock")
            self.clock_line.setText("")

    def _step(self, k: int) -> None:
        now = k + 1  # the step now sounding
        bar_steps = self.steps_per_beat * self.beats_per_bar
        on_beat = now % self.steps_per_beat == 0
        if now < self.origin:
            left = -(-(self.origin - now) // self.steps_per_beat)
            self.place.setText(f"count-in  {left}")
        else:
            bar, beat = (now - self.origin) // bar_steps + 1, (now - self.origin) % bar_steps // self.steps_per_beat + 1
            where = f"bar {bar}   beat {beat}"
            if self.mode == "loop" and self.passes:
                where += f"   pass {self.pass_no}"
            if self.mode == "respond" and self.call:
                where += f"   {self.call}"
            self.place.setText(where)
        if on_beat:
            self._light("#d33" if now % bar_steps == 0 else "#e90")
            self._off.start()

    def _unlight(self) -> None:
        self._light(None)

    def _light(self, color: str | None) -> None:
        self.beat_light.setStyleSheet(f"background: {color or '#ddd'}; border-radius: 13px;")
