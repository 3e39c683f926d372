"""The player's notes onto grid steps: where a MIDI message becomes a step of the melody roll.

The rule: a note belongs to the step whose window holds its time, where step k's window is
``[boundary(k) - early, boundary(k + 1) - early)``. So a note played a little after a boundary
belongs to the step that just began, and one played up to ``early`` seconds before a boundary
(a player anticipating the beat) belongs to the step that begins there. Step k closes at
``boundary(k + 1) - early``: that is when the model hears it, and its answer for step k + 1 has
until ``boundary(k + 1)`` to be ready. A hearing duet model also looks at step k while it is open
(``peek``), at the end of its listen window just after boundary(k).

A note sounds from its step to the step its release falls in (at least one step). While the
sustain pedal (CC 64 >= 64) is down, releases wait for the pedal. A message that arrives for a
step already closed is late: it is counted and moved to the step still open.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mido
import numpy as np

from accompanist.live.timing import EARLY
from accompanist.music import roll

SUSTAIN = 64


@dataclass
class ClosedStep:
    step: int
    roll: np.ndarray  #: (2, 84) uint8: sounding and onset planes
    velocities: list[int] = field(default_factory=list)  #: of the step's onsets
    strikes: list[float] = field(default_factory=list)  #: when each of them was struck


class InputQuantizer:
    def __init__(self, step_at, early: float = EARLY):
        """``step_at(t)``: the clock's step at time t (floor)."""
        self.step_at, self.early = step_at, early
        self.held: dict[int, int] = {}  #: pitch -> step it began
        self.ending: dict[int, tuple[int, int]] = {}  #: released: pitch -> (begin, end step)
        self.onsets: dict[int, dict[int, int]] = {}  #: step -> {pitch: velocity}
        self.strike_times: dict[int, dict[int, float]] = {}  #: step -> {pitch: when struck}
        self.pedal = False
        self.pedalled: set[int] = set()  #: released while the pedal was down
        self.struck: dict[int, tuple[float, int]] = {}  #: held pitch -> (time, velocity) of its strike
        self.closed = -1  #: last closed step
        self.late = 0
        self.velocity = 80.0  #: recent dynamics, an average over the last notes

    def _step(self, t: float) -> int:
        k = self.step_at(t + self.early)
        if k <= self.closed:
            self.late += 1
            return self.closed + 1
        return k

    def feed(self, t: float, msg: mido.Message) -> None:
        """One message from the player, stamped at arrival; anything but notes and the pedal
        passes by."""
        kind = msg.type
        if kind == "note_on" and msg.velocity > 0:
            k = self._step(t)
            p = roll.fold_pitch(msg.note) - roll.PITCH_LO
            if p in self.held:  # struck again without a release: the old one ends here
                self._end(p, k)
            self.held[p] = k
            self.struck[p] = (t, msg.velocity)
            self.pedalled.discard(p)
            self.onsets.setdefault(k, {})[p] = msg.velocity
            self.strike_times.setdefault(k, {})[p] = t
            self.velocity += 0.25 * (msg.velocity - self.velocity)
        elif kind == "note_off" or (kind == "note_on" and msg.velocity == 0):
            p = roll.fold_pitch(msg.note) - roll.PITCH_LO
            if p not in self.held:
                return
            if self.pedal:
                self.pedalled.add(p)
            else:
                self._end(p, self._step(t))
        elif kind == "control_change" and msg.control == SUSTAIN:
            down = msg.value >= 64
            if self.pedal and not down:
                k = self._step(t)
                for p in self.pedalled:
                    if p in self.held:
                        self._end(p, k)
                self.pedalled.clear()
            self.pedal = down

    def _end(self, p: int, k: int) -> None:
        begin = self.held.pop(p)
        self.ending[p] = (begin, max(k, begin + 1))

    def peek(self, k: int) -> np.ndarray:
        """Step k's melody as heard so far, without closing it: what the hearing duet model
        answers at the end of its listen window. Notes struck after this still belong to k."""
        out = roll.empty(1)[0]
        for p, begin in self.held.items():
            if begin <= k:
                out[roll.FRAME, p] = 1
        for p, (begin, end) in self.ending.items():
            if begin <= k < end:
                out[roll.FRAME, p] = 1
        for p in self.onsets.get(k, {}):
            out[roll.ONSET, p] = out[roll.FRAME, p] = 1
        return out

    def close(self, k: int) -> ClosedStep:
        """Step k's melody as a roll step; steps must be closed in order."""
        out = self.peek(k)
        for p, (_, end) in list(self.ending.items()):
            if end <= k + 1:
                del self.ending[p]
        struck = self.onsets.pop(k, {})
        self.closed = k
        return ClosedStep(k, out, list(struck.values()), list(self.strike_times.pop(k, {}).values()))

    def strikes(self, k: int) -> list[float]:
        """When each onset of step k heard so far was struck."""
        return list(self.strike_times.get(k, {}).values())

    def reset(self) -> None:
        """Forget every note (a new take): held keys start again at their next strike."""
        self.held.clear()
        self.struck.clear()
        self.ending.clear()
        self.onsets.clear()
        self.strike_times.clear()
        self.pedalled.clear()

    def restart(self, closed: int, since: float | None = None) -> None:
        """The grid moved (a DAW's Start, Continue or jump): forget every note, and take step
        ``closed`` as the last one closed, so the next is ``closed + 1``. A note still held that
        was struck at or after ``since`` (``early`` before the Start: a DAW sends a region's first
        notes a few ms before its Start) is kept, struck on that next step."""
        keep = {p: hit for p, hit in self.struck.items() if p in self.held and since is not None and hit[0] >= since}
        self.reset()
        self.closed = closed
        for p, (t, velocity) in keep.items():
            self.held[p] = closed + 1
            self.struck[p] = (t, velocity)
            self.onsets.setdefault(closed + 1, {})[p] = velocity
            self.strike_times.setdefault(closed + 1, {})[p] = t
