"""What happened, as it happened: the engine's events, handed to every subscriber's queue.

An event is a dict with ``type`` and ``time`` (``perf_counter`` seconds) and the fields of its
kind; the README's "Python" section and docs/ARCHITECTURE.md list the kinds. A subscriber that
does not read loses its oldest events, never stalls the engine.
"""

from __future__ import annotations

import queue
import threading
import time


class EventBus:
    def __init__(self) -> None:
        self._queues: list[queue.Queue] = []
        self._lock = threading.Lock()

    def subscribe(self, maxsize: int = 10000) -> queue.Queue:
        q: queue.Queue = queue.Queue(maxsize)
        with self._lock:
            self._queues = [*self._queues, q]  # a new list: emit reads the old one without the lock
        return q

    def emit(self, kind: str, **data) -> None:
        ev = {"type": kind, "time": time.perf_counter(), **data}
        for q in self._queues:
            try:
                q.put_nowait(ev)
            except queue.Full:  # a listener that does not read must not stall the engine
                try:
                    q.get_nowait()
                    q.put_nowait(ev)
                except (queue.Empty, queue.Full):
                    pass

    def error(self, text: str) -> None:
        self.emit("error", text=text)
