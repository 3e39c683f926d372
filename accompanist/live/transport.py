"""A DAW's transport and the song position: what the engine does when the DAW starts, jumps or
stops, where each take goes in the recording, and the MIDI clock it sends as master (a part of
``Engine``, as a mixin)."""

from __future__ import annotations

import time

import mido

from accompanist.live.clock import TICKS_PER_BEAT, ExternalClock
from accompanist.live.recorder import TICKS_PER_BEAT as TICKS_PER_FILE_BEAT


class Transport:
    def _transport_moved(self, state: str, **info) -> None:
        """The DAW started, continued, jumped, stopped, or its clock went silent ("lost"). Work
        from the old place is dropped, and the model worker releases everything sounding (it
        holds the mode while it answers; the clock must not wait for it)."""
        self._epoch += 1
        if state == "playing":
            self._take_offset(info["step"])
        elif self.clock.last_tick is not None:  # the take ends at the DAW's last tick
            tick = self._song_offset + self.clock.ticks * (TICKS_PER_FILE_BEAT // TICKS_PER_BEAT)
            self.recorder.tempo(self.clock.last_tick, self.clock.bpm, tick=tick)
        self._give_work(("release", state == "playing"))
        self._emit("transport", state=state, **info)

    def _take_offset(self, step: int) -> None:
        """Where the DAW's step ``step`` goes in the recording: on the next whole bar of the file
        at or after now, so takes follow each other and the file's bars are the song's."""
        tps = TICKS_PER_FILE_BEAT // self.steps_per_beat
        bar = tps * self.steps_per_bar
        now_tick = self.recorder.end_tick(time.perf_counter()) + 1  # strictly after what is written
        self._song_offset = -(-(now_tick - step * tps) // bar) * bar
        self._take_unanchored = True

    def _song_tick(self, step: int) -> int:
        return self._song_offset + step * (TICKS_PER_FILE_BEAT // self.steps_per_beat)

    def _plan_ticks(self, k: int) -> None:
        """MIDI clock for step k: its share of the 24 ticks a quarter, spread over the step."""
        t0, t1 = self.clock.boundary(k), self.clock.boundary(k + 1)
        n = TICKS_PER_BEAT // self.steps_per_beat
        for i in range(n):
            self.output.at(t0 + (t1 - t0) * i / n, mido.Message("clock"))


def _transport(ext: ExternalClock, kind: str, t: float, msg: mido.Message) -> None:
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
