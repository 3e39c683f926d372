"""A DAW's transport and the song position: what the engine does when the DAW starts, jumps or
stops, and where each take goes in the recording."""

from __future__ import annotations

import time

import mido

from accompanist.live.clock import TICKS_PER_BEAT, ExternalClock
from accompanist.live.events import EventBus
from accompanist.live.recorder import TICKS_PER_BEAT as TICKS_PER_FILE_BEAT
from accompanist.live.recorder import Recorder
from accompanist.live.work import Release, WorkQueue

TRANSPORT = frozenset({"clock", "start", "stop", "continue", "songpos"})  #: the messages a DAW's clock sends


def apply_transport(ext: ExternalClock, kind: str, t: float, msg: mido.Message) -> None:
    """One of the DAW's clock or transport messages, arrived at time t, to the external clock."""
    if kind == "clock":
        ext.tick(t)
    elif kind == "start":
        ext.start(t)
    elif kind == "stop":
        ext.stop()
    elif kind == "continue":
        ext.resume(t)
    else:
        ext.song_position(msg.pos, t)


class DawTransport:
    """Following a DAW: each move of its transport makes a new grid (work from before is dropped)
    and a new take in the recording, on the next whole bar of the file."""

    def __init__(
        self, clock: ExternalClock, recorder: Recorder, work: WorkQueue, bus: EventBus, steps_per_beat: int, bar: int
    ) -> None:
        self.clock, self.recorder, self.work, self.bus = clock, recorder, work, bus
        self.steps_per_beat, self.steps_per_bar = steps_per_beat, bar
        self.song_offset = 0  #: the file tick of the DAW's song position 0, this take
        self.unanchored = False  #: the take's first anchor is still to come

    def moved(self, state: str, **info) -> None:
        """The DAW started, continued, jumped, stopped, or its clock went silent ("lost"). Work
        from the old place is dropped, and the model worker releases everything sounding (it
        holds the mode while it answers; the clock must not wait for it)."""
        self.work.moved()
        if state == "playing":
            self._take_offset(info["step"])
        elif self.clock.last_tick is not None:  # the take ends at the DAW's last tick
            tick = self.song_offset + self.clock.ticks * (TICKS_PER_FILE_BEAT // TICKS_PER_BEAT)
            self.recorder.tempo(self.clock.last_tick, self.clock.bpm, tick=tick)
        self.work.give(Release(restart=state == "playing"))
        self.bus.emit("transport", state=state, **info)

    def _take_offset(self, step: int) -> None:
        """Where the DAW's step ``step`` goes in the recording: on the next whole bar of the file
        at or after now, so takes follow each other and the file's bars are the song's."""
        tps = TICKS_PER_FILE_BEAT // self.steps_per_beat
        bar = tps * self.steps_per_bar
        now_tick = self.recorder.end_tick(time.perf_counter()) + 1  # strictly after what is written
        self.song_offset = -(-(now_tick - step * tps) // bar) * bar
        self.unanchored = True

    def song_tick(self, step: int) -> int:
        return self.song_offset + step * (TICKS_PER_FILE_BEAT // self.steps_per_beat)

    def anchor(self, k: int) -> None:
        """Step k closed: the recording's grid is the DAW's, each beat anchored at its song position."""
        if self.unanchored:
            # a take's first anchor waits for this: by now its first ticks have come, and say
            # when its first step really began (Start itself can come a tick early)
            self.recorder.tempo(self.clock.began(k), self.clock.bpm, tick=self.song_tick(k))
            self.unanchored = False
        if (k + 1) % self.steps_per_beat == 0:
            self.recorder.tempo(self.clock.boundary(k + 1), self.clock.bpm, tick=self.song_tick(k + 1))
