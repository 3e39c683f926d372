"""A DAW's transport and the song position: what the engine does when the DAW starts, jumps or
stops, and where each take goes in the recording."""

from __future__ import annotations

import mido

from accompanist.live.clock import TICKS_PER_BEAT, ExternalClock
from accompanist.live.events import EventBus
from accompanist.live.recorder import TICKS_PER_BEAT as TICKS_PER_FILE_BEAT
from accompanist.live.recorder import Recorder
from accompanist.live.take_anchors import TakeAnchors
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
        self.anchors = TakeAnchors(clock, recorder, steps_per_beat, bar)

    def moved(self, state: str, **info) -> None:
        """The DAW started, continued, jumped, stopped, or its clock went silent ("lost"). Work
        from the old place is dropped, and the model worker releases everything sounding (it
        holds the mode while it answers; the clock must not wait for it)."""
        self.work.moved()
        if state == "playing":
            self.anchors.begin(info["step"])
        elif self.clock.last_tick is not None:  # the take ends at the DAW's last tick
            tick = self.anchors.offset + self.clock.ticks * (TICKS_PER_FILE_BEAT // TICKS_PER_BEAT)
            self.recorder.tempo(self.clock.last_tick, self.clock.bpm, tick=tick)
        self.work.give(Release(restart=state == "playing"))
        self.bus.emit("transport", state=state, **info)
