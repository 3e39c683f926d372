"""Where a take's steps go in the recording when the grid is not our own tempo (a DAW's clock,
the player's): on the next whole bar of the file, each beat anchored at the time the clock put
it, so the take sits on a grid in a DAW and replays in the time it was played."""

from __future__ import annotations

import time
from typing import Protocol

from accompanist.live.recorder import TICKS_PER_BEAT as FILE_TICKS_PER_BEAT
from accompanist.live.recorder import Recorder


class AnchoredClock(Protocol):
    bpm: float

    def boundary(self, k: int) -> float: ...

    def began(self, k: int) -> float: ...


class TakeAnchors:
    def __init__(self, clock: AnchoredClock, recorder: Recorder, steps_per_beat: int, steps_per_bar: int) -> None:
        self.clock, self.recorder = clock, recorder
        self.steps_per_beat, self.steps_per_bar = steps_per_beat, steps_per_bar
        self.ticks_per_step = FILE_TICKS_PER_BEAT // steps_per_beat
        self.offset = 0  #: the file tick of the take's step 0
        self.unanchored = True  #: the take's first anchor is still to come

    def begin(self, step: int) -> None:
        """A take begins at ``step``: on the next whole bar of the file at or after now, so takes
        follow each other and the file's bars are the take's."""
        bar = self.ticks_per_step * self.steps_per_bar
        now_tick = self.recorder.end_tick(time.perf_counter()) + 1  # strictly after what is written
        self.offset = -(-(now_tick - step * self.ticks_per_step) // bar) * bar
        self.unanchored = True

    def tick(self, step: int) -> int:
        return self.offset + step * self.ticks_per_step

    def anchor(self, k: int) -> None:
        """Step k closed: the take's first step is anchored (by now its clock has heard enough to
        say when it began), then every beat, a step ahead."""
        if self.unanchored:
            self.recorder.tempo(self.clock.began(k), self.clock.bpm, tick=self.tick(k))
            self.unanchored = False
        if (k + 1) % self.steps_per_beat == 0:
            self.recorder.tempo(self.clock.boundary(k + 1), self.clock.bpm, tick=self.tick(k + 1))
