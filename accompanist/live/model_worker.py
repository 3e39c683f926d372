"""Where the model is called: the model worker thread. It takes each work item from the clock
thread, asks the mode (``mode.py``) for its reply, and has the planner sound it at its deadline
if it is ready in time; an answer not ready by then is a missed deadline: counted, said, and
the answer holds what it sounds. The grid never moves."""

from __future__ import annotations

import threading
import time

from accompanist.live.events import EventBus
from accompanist.live.lag_meter import LagMeter
from accompanist.live.mode import Mode, Reply
from accompanist.live.planner import AnswerPlanner
from accompanist.live.settings import Stats
from accompanist.live.timing import StepBudget
from accompanist.live.work import Closed, Listen, Release, Stop, WorkQueue


class ModelWorker:
    """Holds the mode, its lock and its step budget: whoever changes the mode (the engine's
    ``set``, ``clear``, ``panic``) holds ``lock``, so no step is planned between a release and
    a swap."""

    def __init__(
        self, work: WorkQueue, planner: AnswerPlanner, bus: EventBus, stats: Stats, steps_per_bar: int, lag: LagMeter
    ):
        self.work, self.planner, self.bus, self.stats, self.lag = work, planner, bus, stats, lag
        self.steps_per_bar = steps_per_bar
        self.lock = threading.Lock()
        self.mode: Mode | None = None
        self.budget = StepBudget()
        self.listens = False  #: the clock thread asks for ``Listen`` items while this is True
        self.paused = False  #: the accompaniment stopped (start_stop): steps pass, nothing is answered

    def install(self, mode: Mode, budget: StepBudget) -> None:
        """A new mode (under ``lock``); the clock thread reads ``listens`` and ``budget`` from the next
        step. The lag a player feels is measured again from here (a new mode or listen window)."""
        self.mode, self.budget, self.listens = mode, budget, mode.listens
        self.lag.reset()

    def release(self, restart: bool = False) -> None:
        """Everything sounding released, the mode told (under ``lock``)."""
        self.planner.release()
        if self.mode is not None:
            self.mode.sounded(self.planner.last)
            self.mode.moved(restart)

    def run(self) -> None:
        while True:
            item = self.work.get()
            if isinstance(item, Stop):
                return
            try:
                with self.lock:
                    if isinstance(item, Release):  # the DAW moved: release, and a loop starts over
                        self.release(item.restart)
                    elif item.epoch == self.work.epoch and not self.paused:  # else heard before the DAW moved the grid
                        self._step(item)
            except Exception as exc:  # the session goes on; the step is lost, and said so
                self.bus.error(f"{type(item).__name__.lower()}: {type(exc).__name__}: {exc}")

    def _step(self, item: Listen | Closed) -> None:
        mode, played = self.mode, self.planner.last
        t0 = time.perf_counter()
        if isinstance(item, Listen):
            reply, k = mode.heard(item.k, item.k % self.steps_per_bar, item.heard, played), item.k
        else:
            reply, k = mode.closed(item.k, item.index, item.k % self.steps_per_bar, item.step.roll, played), item.k + 1
        if reply is not None:
            self._sound(reply, k, item.at, t0, time.perf_counter())

    def _sound(self, reply: Reply, k: int, deadline: float, t0: float, t1: float) -> None:
        """Say the reply, and plan it at ``deadline`` if it is ready in time."""
        if reply.say is not None:
            kind, data = reply.say
            if reply.timed_as is not None:
                self.stats.inference.append(t1 - t0)
                data = {**data, reply.timed_as: round((t1 - t0) * 1e3, 3)}
            self.bus.emit(kind, **data, lead_ms=round(self.budget.left(t1, deadline) * 1e3, 3))
        late = self.budget.late_by(time.perf_counter(), deadline)
        if late is not None:
            self.stats.missed += 1
            self.bus.emit("missed", step=k, late_ms=round(late * 1e3, 3))
            self.mode.sounded(self.planner.hold())
            return
        self.planner.plan(deadline, reply.step, k)
        self.mode.sounded(reply.step)
        if reply.silence:
            self.planner.all_notes_off(deadline)
