"""What the panel's piano roll draws, kept apart from the drawing so tests can read it: the
player's notes and the answer's on the engine's grid, the answer planned ahead (ghost notes),
loop pass boundaries and the current step, all from the engine's events.

Positions are in grid steps (fractions for notes played off the grid). The engine's ``step``
events carry each step's boundary time and length, so a note's time becomes a position by the
newest of them; no clock is read here.

In respond mode the window widens to hold a call and its answer together, however long: from the
bar of the call's first note to the answer's last bar (the ``response`` event says how long it
is), up to ``longest`` bars (the session's call bars and answer bars: the panel sets it). Notes are
kept for that longest exchange, so a call that outgrows the window is drawn whole again once it
is answered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from accompanist.music.roll import roll_to_notes

MAX_NOTES = 1024  #: notes a part keeps at most, whatever the clock does


@dataclass
class RollNote:
    pitch: int
    start: float  #: step position
    end: float | None = None  #: None while it sounds


@dataclass
class RollModel:
    steps_per_beat: int = 4
    beats_per_bar: int = 4
    bars: int = 4  #: bars shown: all but the last behind the cursor, the last ahead of it
    least: int = 4  #: the fewest bars shown (respond mode widens the window past it)
    longest: int = 4  #: respond mode: the most bars a call and its answer take (and one ahead)
    mode: str = "duet"
    call_from: int | None = None  #: respond: the bar line the call being played began on
    current: int = -1  #: the step last closed
    player: list[RollNote] = field(default_factory=list)
    answer: list[RollNote] = field(default_factory=list)
    ghosts: list[RollNote] = field(default_factory=list)  #: planned, not yet sounding
    passes: list[int] = field(default_factory=list)  #: steps where a loop pass begins
    count_in: bool = False
    _ref: tuple[int, float, float] | None = None  #: (step, its boundary time, step seconds)

    @property
    def steps_per_bar(self) -> int:
        return self.steps_per_beat * self.beats_per_bar

    def window(self) -> tuple[float, float]:
        """(first, last) step positions drawn: ``bars - 1`` bars behind the cursor, one ahead."""
        now = self.current + 1
        return now - (self.bars - 1) * self.steps_per_bar, now + self.steps_per_bar

    def position(self, t: float) -> float | None:
        if self._ref is None:
            return None
        k, at, seconds = self._ref
        return k + (t - at) / seconds

    def bar_and_beat(self) -> tuple[int, int]:
        """1-based bar and beat of the step now sounding."""
        now = max(self.current + 1, 0)
        return now // self.steps_per_bar + 1, now % self.steps_per_bar // self.steps_per_beat + 1

    # --- events ---------------------------------------------------------------------------------

    def feed(self, ev: dict) -> None:
        kind = ev["type"]
        if kind == "step":
            self.current = ev["step"]
            self.count_in = bool(ev.get("count_in"))
            if "at" in ev:
                self._ref = (ev["step"], ev["at"], ev["seconds"])
            if self.mode == "respond" and self.call_from is not None:  # the call grows: all of it shown
                self._widen(self.call_from, self.current + 1)
            self._forget()
        elif kind == "started":
            self.mode, self.call_from, self.bars = ev.get("mode", self.mode), None, self.least
        elif kind == "response":  # the call (from its first bar) and its answer, all in the window
            spb = self.steps_per_bar
            start = ev["step"] - (ev["call_bars"] + 1) * spb if self.call_from is None else self.call_from
            self.bars = self.least
            self._widen(start, ev["step"] + ev["answer_bars"] * spb)
            self.call_from = None  # what is played from here on is the next call
        elif kind in ("note_in", "note_out"):
            self._note(self.player if kind == "note_in" else self.answer, ev)
        elif kind == "planned" and "step" in ev:
            self.ghosts = [g for g in self.ghosts if g.start > ev["step"]]
            self.ghosts += [RollNote(p, ev["step"], ev["step"] + 1) for p in ev.get("struck", [])]
        elif kind == "pass" and "next_step" in ev:
            start = ev["next_step"]
            self.passes.append(start)
            self.ghosts = [g for g in self.ghosts if g.start < start]
            plan = ev.get("plan")
            if plan is not None:
                self.ghosts += [RollNote(n.pitch, start + n.start, start + n.end) for n in roll_to_notes(plan, 1.0)]
        elif kind in ("panic", "clear"):
            self.ghosts.clear()
            if kind == "clear":
                self.call_from, self.bars = None, self.least
            for n in self.answer if kind == "panic" else ():
                n.end = n.end if n.end is not None else self.current + 1
        elif kind == "stopped" or (kind == "settings" and "mode" in ev):
            self.ghosts.clear()
            self.passes.clear()
            if kind == "settings":
                self.mode, self.call_from, self.bars = ev["mode"], None, self.least

    def _note(self, notes: list[RollNote], ev: dict) -> None:
        at = self.position(ev.get("t", 0.0))
        at = float(self.current + 1) if at is None else at
        for n in reversed(notes):
            if n.pitch == ev["note"] and n.end is None:
                n.end = max(at, n.start)
                break
        if ev["velocity"] > 0:
            notes.append(RollNote(ev["note"], at))
            if notes is self.player and self.mode == "respond" and self.call_from is None:
                self.call_from = max(0, int(at)) // self.steps_per_bar * self.steps_per_bar
            if len(notes) > MAX_NOTES:  # no steps come while a DAW is stopped: nothing scrolls away
                del notes[: len(notes) - MAX_NOTES]

    def _widen(self, first: int, last: int) -> None:
        """Show steps ``first`` .. ``last`` (and a bar ahead) when the cursor reaches ``last``."""
        need = math.ceil((last - first) / self.steps_per_bar) + 1
        self.bars = max(self.bars, min(need, max(self.longest, self.least)))

    def _forget(self) -> None:
        """Drop what has scrolled out of the window, so a long session keeps a short list (in
        respond mode, what the longest call and answer would show)."""
        kept = max(self.bars, self.longest if self.mode == "respond" else 0)
        first = self.current + 1 - kept * self.steps_per_bar  # a bar more than shown: the scorecard reads 4
        for notes in (self.player, self.answer, self.ghosts):
            notes[:] = [n for n in notes if n.end is None or n.end >= first]
        self.ghosts = [g for g in self.ghosts if g.start > self.current + 1]  # begun: a real note now
        self.passes = [p for p in self.passes if p >= first]
