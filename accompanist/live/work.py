"""What the clock thread hands the model worker: typed work items, and the queue that never
makes the clock wait."""

from __future__ import annotations

import queue
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from accompanist.live.quantize import ClosedStep

#: items waiting for the model worker at most (one or two a step: 4-8 s at 120 bpm); the clock never waits
WORK_QUEUE = 64


@dataclass(frozen=True, slots=True)
class Listen:
    """A hearing mode is asked for clock step ``k`` while it is still open."""

    epoch: int  #: the grid it was heard on (a DAW that moves makes a new one)
    k: int  #: the clock's step
    index: int  #: the step counted from the end of the count-in
    heard: np.ndarray  #: (2, 84): step k as played so far
    at: float  #: when its answer sounds


@dataclass(frozen=True, slots=True)
class Closed:
    """Clock step ``k`` closed; what follows it sounds at ``at``, the next boundary."""

    epoch: int
    k: int
    index: int
    step: ClosedStep
    at: float


@dataclass(frozen=True, slots=True)
class Release:
    """The DAW started, jumped or stopped: release everything; ``restart``: a loop starts over."""

    restart: bool


@dataclass(frozen=True, slots=True)
class Stop:
    """The session ends: the worker returns."""


Work = Listen | Closed | Release | Stop


class WorkQueue:
    """Items for the model worker, bounded without ever blocking the clock. A worker this far
    behind (``WORK_QUEUE`` items) has missed those deadlines anyway: the oldest ``Listen`` goes
    (an answer only), else the oldest ``Closed`` (``on_drop`` counts it missed); a release and
    the stop are never dropped."""

    def __init__(self, on_drop: Callable[[], None], limit: int = WORK_QUEUE) -> None:
        self._q: queue.Queue[Work] = queue.Queue()
        self._on_drop, self.limit = on_drop, limit
        self.epoch = 0  #: the grid's generation: bumped when a DAW moves it, items of older ones are dropped

    def moved(self) -> None:
        self.epoch += 1

    def give(self, item: Work) -> None:
        q = self._q
        with q.mutex:  # the queue's own lock: the check and the drop are one step
            if len(q.queue) >= self.limit:
                for kind in (Listen, Closed):
                    at = next((i for i, w in enumerate(q.queue) if type(w) is kind), None)
                    if at is not None:
                        del q.queue[at]
                        q.unfinished_tasks -= 1
                        self._on_drop()
                        break
        q.put_nowait(item)  # unbounded underneath: never blocks

    def get(self) -> Work:
        return self._q.get()

    def qsize(self) -> int:
        return self._q.qsize()
