"""Where time is kept: the engine's clock thread, as a part of ``Engine`` (a mixin). It sleeps
to each step's listen time and close, hands what the player struck to the model worker, and
plans the metronome; it never runs the model itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import mido
import numpy as np

from accompanist.live.clock import ExternalClock
from accompanist.live.quantize import LISTEN_MARGIN
from accompanist.music import roll


class ClockThread:
    def _clock_thread(self) -> None:
        s = self.settings
        ext = self.clock if isinstance(self.clock, ExternalClock) else None
        count_in = 0 if ext else s.count_in * self.steps_per_bar  # a DAW counts in itself
        self.output.soon(self._program_change())
        if s.send_clock:
            self.output.at(self.clock.boundary(0) - 0.0001, mido.Message("start"))
            self._plan_ticks(0)
        if ext is None and (s.metronome or count_in):
            self._click(self.clock.boundary(0), accent=True)  # the first downbeat: later ones at step closes
        k, generation, lost_from, listened = 0, None, None, -1
        while self._running.is_set():
            try:
                if ext is not None:
                    with self._qlock:
                        now_generation, first = ext.generation, self.quantizer.closed + 1
                    if not ext.running or ext.silent(time.perf_counter()):
                        if generation is not None:
                            lost_from, generation = generation, None
                            self._transport_moved("stopped" if not ext.running else "lost")
                        time.sleep(0.002)
                        continue
                    if now_generation != generation:
                        if now_generation == lost_from:
                            # the ticks came back with no Start: the song went on without us
                            with self._qlock:
                                first = max(0, ext.step_at(time.perf_counter() + s.early))
                                self.quantizer.restart(first - 1)
                        generation, k, lost_from = now_generation, first, None
                        self._transport_moved("playing", step=k, bpm=round(ext.bpm, 2))

                def moved(g=generation) -> bool:
                    if ext is None:
                        return False
                    return not ext.running or ext.generation != g or ext.silent(time.perf_counter())

                if getattr(self.mode, "listens", False):
                    if listened != k and k >= count_in:
                        if not self._sleep_until(lambda k=k: self._listen_at(k), moved):
                            continue
                        self._listen_step(k, count_in)
                        listened = k
                if not self._sleep_until(lambda k=k: self.clock.boundary(k + 1) - s.early, moved):
                    continue  # stopping, or the DAW stopped or jumped: the top of the loop sees which
                self._close_step(k, count_in, ext)
                k += 1
            except Exception as exc:  # the clock must outlive anything a step can throw
                self._error(f"clock: {type(exc).__name__}: {exc}")
                time.sleep(0.01)

    def _listen_at(self, k: int) -> float:
        """When step k's answer is chosen: its listen window less the time inference and the way
        out need; never after the step closes (a listen window longer than a fast step)."""
        s = self.settings
        heard = self.clock.boundary(k) + self.listen - LISTEN_MARGIN - self.output.lead
        return min(heard, self.clock.boundary(k + 1) - s.early)

    def _listen_step(self, k: int, count_in: int) -> None:
        """A hearing duet: step k as played so far goes to the model worker, which answers it."""
        with self._qlock:
            heard = self.quantizer.peek(k)
        at = self.clock.boundary(k) + self.listen
        self._give_work(("listen", self._epoch, k - count_in, heard, at, k))

    def _close_step(self, k: int, count_in: int, ext: ExternalClock | None) -> None:
        """Step k ends: its melody goes to the model worker, the step after it is planned."""
        s = self.settings
        with self._qlock:
            closed = self.quantizer.close(k)
        next_at = self.clock.boundary(k + 1)
        if s.send_clock:
            self._plan_ticks(k + 1)
        if (s.metronome or k + 1 < count_in) and (k + 1) % self.steps_per_beat == 0:
            self._click(next_at, (k + 1) % self.steps_per_bar == 0)
        if k >= count_in:
            self._give_work(("step", self._epoch, k - count_in, closed, next_at, k))
        if ext is not None and self._take_unanchored:
            # a take's first anchor waits for this: by now its first ticks have come, and say
            # when its first step really began (Start itself can come a tick early)
            self.recorder.tempo(self.clock.boundary(k), ext.bpm, tick=self._song_tick(k))
            self._take_unanchored = False
        if ext is not None and (k + 1) % self.steps_per_beat == 0:
            # the recording's grid is the DAW's: each beat is anchored at its song position
            self.recorder.tempo(next_at, ext.bpm, tick=self._song_tick(k + 1))
        if (k + 1) % self.steps_per_bar == 0:
            threading.Thread(target=self._write_recording, daemon=True).start()
        self.stats.steps += 1
        heard = (np.flatnonzero(closed.roll[roll.ONSET]) + roll.PITCH_LO).tolist()
        self._emit(
            "step",
            step=k,
            count_in=k < count_in,
            heard=heard,
            at=self.clock.boundary(k),
            seconds=60.0 / self.clock.bpm / self.steps_per_beat,
        )

    def _sleep_until(self, target: Callable[[], float], moved: Callable[[], bool]) -> bool:
        """Sleep until ``target()``, asked again every few milliseconds (a DAW's clock refines its
        prediction with each tick, a tempo change moves it); False if the engine stops or
        ``moved()`` says the grid went somewhere else."""
        while self._running.is_set() and not moved():
            left = target() - time.perf_counter()
            if left <= 0:
                return True
            time.sleep(min(left, 0.005 if isinstance(self.clock, ExternalClock) else 0.05))
        return False

    def _click(self, t: float, accent: bool) -> None:
        note = 76 if accent else 77  # GM hi / lo wood block
        ch = self.settings.click_channel
        self.output.at(t, mido.Message("note_on", channel=ch, note=note, velocity=100 if accent else 70))
        self.output.at(t + 0.05, mido.Message("note_off", channel=ch, note=note, velocity=0))
