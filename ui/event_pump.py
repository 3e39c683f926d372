"""Engine events into Qt signals: a Qt timer on the window's thread drains the engine's event
queue (never blocking) and hands each event on. The engine's threads never call into Qt."""

from __future__ import annotations

import queue

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

#: events drained per tick at most, so a flood (a hostile MIDI stream) cannot freeze the window
BATCH = 500


class EventPump(QObject):
    arrived = pyqtSignal(dict)  #: not "event": QObject.event() is how Qt delivers its own

    def __init__(self, interval_ms: int = 30, parent: QObject | None = None):
        super().__init__(parent)
        self._queue: queue.Queue | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.drain)

    def attach(self, events: queue.Queue) -> None:
        self._queue = events
        self._timer.start()

    def detach(self) -> None:
        self.drain()
        self._timer.stop()
        self._queue = None

    def drain(self) -> None:
        for _ in range(BATCH):
            if self._queue is None:
                return
            try:
                ev = self._queue.get_nowait()
            except queue.Empty:
                return
            self.arrived.emit(ev)
