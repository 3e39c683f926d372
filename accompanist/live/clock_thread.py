"""Where time is kept: the clock thread. It sleeps to each step's listen time and close, hands
what the player struck to the model worker, and plans the metronome and, as master, the MIDI
clock; it never runs the model itself and never waits for it. Following a DAW, it re-finds its
step at each Start, Continue or Song Position, and releases everything at Stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import mido
import numpy as np

from accompanist.live.clock import TICKS_PER_BEAT, ExternalClock, InternalClock
from accompanist.live.events import EventBus
from accompanist.live.lag_meter import LagMeter
from accompanist.live.model_worker import ModelWorker
from accompanist.live.output import Scheduler
from accompanist.live.player_clock import PlayerClock
from accompanist.live.quantize import InputQuantizer
from accompanist.live.recorder import RecordingWriter
from accompanist.live.settings import Settings, Stats
from accompanist.live.take_anchors import TakeAnchors
from accompanist.live.transport import DawTransport
from accompanist.live.work import Closed, Listen
from accompanist.music import roll


class ClockThread:
    def __init__(
        self,
        settings: Callable[[], Settings],
        clock: InternalClock | ExternalClock | PlayerClock,
        quantizer: InputQuantizer,
        qlock: threading.Lock,
        worker: ModelWorker,
        output: Scheduler,
        writer: RecordingWriter,
        transport: DawTransport | None,
        anchors: TakeAnchors | None,
        stats: Stats,
        bus: EventBus,
        steps_per_beat: int,
        program_change: Callable[[], None],
        lag: LagMeter,
    ) -> None:
        self.settings, self.clock, self.quantizer, self.qlock = settings, clock, quantizer, qlock
        self.worker, self.output, self.writer, self.transport = worker, output, writer, transport
        self.stats, self.bus, self.program_change, self.lag = stats, bus, program_change, lag
        self.anchors = anchors  #: following a DAW or the player: the recording's beats are theirs
        self.steps_per_beat = steps_per_beat
        self.steps_per_bar = settings().beats_per_bar * steps_per_beat
        self.ext = clock if isinstance(clock, ExternalClock) else None
        self.count_in = 0 if self.ext else settings().count_in * self.steps_per_bar  # a DAW counts in itself
        self.send_clock = settings().send_clock
        self.tempo_said = False  #: following a DAW: its tempo, once learned, has been said
        self.moves = not isinstance(clock, InternalClock)  #: a grid that moves is asked often

    def run(self, running: threading.Event) -> None:
        s, ext = self.settings(), self.ext
        self.program_change()
        if self.send_clock:
            self.output.at(self.clock.boundary(0) - 0.0001, mido.Message("start"))
            self._plan_ticks(0)
        if ext is None and (s.metronome or self.count_in):
            self._click(self.clock.boundary(0), accent=True)  # the first downbeat: later ones at step closes
        k, generation, lost_from, listened = 0, None, None, -1
        while running.is_set():
            try:
                if ext is not None:
                    with self.qlock:
                        now_generation, first = ext.generation, self.quantizer.closed + 1
                    if not ext.running or ext.silent(time.perf_counter()):
                        if generation is not None:
                            lost_from, generation = generation, None
                            self.transport.moved("stopped" if not ext.running else "lost")
                        time.sleep(0.002)
                        continue
                    if now_generation != generation:
                        if now_generation == lost_from:
                            # the ticks came back with no Start: the song went on without us
                            with self.qlock:
                                first = max(0, ext.step_at(time.perf_counter() + self.worker.budget.early))
                                self.quantizer.restart(first - 1)
                        generation, k, lost_from = now_generation, first, None
                        # the tempo is said once it is learned from the ticks (a guess until then)
                        learned = ext.learned
                        self.tempo_said = learned
                        self.transport.moved("playing", step=k, **({"bpm": round(ext.bpm, 2)} if learned else {}))

                def moved(g=generation) -> bool:
                    if ext is None:
                        return False
                    return not ext.running or ext.generation != g or ext.silent(time.perf_counter())

                budget = self.worker.budget
                if self.worker.listens and listened != k and k >= self.count_in:
                    at = lambda k=k, b=budget: b.listen_at(self.clock.boundary(k), self.clock.boundary(k + 1))  # noqa: E731
                    if not self._sleep_until(at, moved, running):
                        continue
                    self._listen_step(k)
                    listened = k
                close = lambda k=k, b=budget: b.close_at(self.clock.boundary(k + 1))  # noqa: E731
                if not self._sleep_until(close, moved, running):
                    continue  # stopping, or the DAW stopped or jumped: the top of the loop sees which
                self._close_step(k)
                k += 1
            except Exception as exc:  # the clock must outlive anything a step can throw
                self.bus.error(f"clock: {type(exc).__name__}: {exc}")
                time.sleep(0.01)

    def _listen_step(self, k: int) -> None:
        """A hearing mode: step k as played so far goes to the model worker, which answers it."""
        with self.qlock:
            heard = self.quantizer.peek(k)
            strikes = self.quantizer.strikes(k)
        at = self.clock.boundary(k) + self.worker.budget.listen
        work = self.worker.work
        work.give(Listen(work.epoch, k, k - self.count_in, heard, at))
        self.lag.listened(k, strikes, at)

    def _close_step(self, k: int) -> None:
        """Step k ends: its melody goes to the model worker, the step after it is planned."""
        s = self.settings()
        with self.qlock:
            closed = self.quantizer.close(k)
        next_at = self.clock.boundary(k + 1)
        if self.send_clock:
            self._plan_ticks(k + 1)
        if (s.metronome or k + 1 < self.count_in) and (k + 1) % self.steps_per_beat == 0:
            self._click(next_at, (k + 1) % self.steps_per_bar == 0)
        if k >= self.count_in:
            work = self.worker.work
            work.give(Closed(work.epoch, k, k - self.count_in, closed, next_at))
            budget = self.worker.budget
            if budget.answers_steps and not self.worker.paused:
                self.lag.closed(k, closed.strikes, next_at + budget.listen)
        if self.anchors is not None:
            self.anchors.anchor(k)
        if self.transport is not None:
            if not self.tempo_said and self.ext.learned:
                self.tempo_said = True
                self.bus.emit("tempo", bpm=round(self.ext.bpm, 2), source="daw")
        if (k + 1) % self.steps_per_bar == 0:
            self.writer.soon()
        self.stats.steps += 1
        heard = (np.flatnonzero(closed.roll[roll.ONSET]) + roll.PITCH_LO).tolist()
        self.bus.emit(
            "step",
            step=k,
            count_in=k < self.count_in,
            heard=heard,
            at=self.clock.boundary(k),
            seconds=60.0 / self.clock.bpm / self.steps_per_beat,
        )

    def _sleep_until(self, target: Callable[[], float], moved: Callable[[], bool], running: threading.Event) -> bool:
        """Sleep until ``target()``, asked again every few milliseconds (a DAW's clock refines its
        prediction with each tick, a tempo change moves it); False if the engine stops or
        ``moved()`` says the grid went somewhere else."""
        nap = 0.005 if self.moves else 0.05
        while running.is_set() and not moved():
            left = target() - time.perf_counter()
            if left <= 0:
                return True
            time.sleep(min(left, nap))
        return False

    def _click(self, t: float, accent: bool) -> None:
        note = 76 if accent else 77  # GM hi / lo wood block
        ch = self.settings().click_channel
        self.output.at(t, mido.Message("note_on", channel=ch, note=note, velocity=100 if accent else 70))
        self.output.at(t + 0.05, mido.Message("note_off", channel=ch, note=note, velocity=0))

    def _plan_ticks(self, k: int) -> None:
        """As master: MIDI clock for step k, its share of the 24 ticks a quarter, spread over the step."""
        t0, t1 = self.clock.boundary(k), self.clock.boundary(k + 1)
        n = TICKS_PER_BEAT // self.steps_per_beat
        for i in range(n):
            self.output.at(t0 + (t1 - t0) * i / n, mido.Message("clock"))
