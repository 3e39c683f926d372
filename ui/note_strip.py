"""A strip of keys that lights what the player plays (blue) and what comes back (amber), fading,
so a musician sees at a glance that the engine hears and answers."""

from __future__ import annotations

import time

from PyQt6.QtCore import QRectF, QTimer
from PyQt6.QtGui import QColor, QPainter
from PyQt6.QtWidgets import QWidget

LOW, HIGH = 24, 108  #: MIDI 24..107, the models' pitch range
FADE = 0.6  #: seconds a released note takes to fade
PLAYER, ANSWER = QColor(60, 130, 230), QColor(235, 160, 40)
BLACK = {1, 3, 6, 8, 10}


class NoteStrip(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumHeight(36)
        self.held: dict[tuple[str, int], float | None] = {}  #: (who, note) -> release time or None
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def note(self, who: str, note: int, on: bool) -> None:
        """``who`` is "in" (the player) or "out" (the answer)."""
        if LOW <= note < HIGH:
            self.held[(who, note)] = None if on else time.monotonic()
            self.update()

    def clear(self) -> None:
        self.held.clear()
        self.update()

    def lit(self, who: str) -> list[int]:
        return sorted(n for (w, n), off in self.held.items() if w == who and off is None)

    def _tick(self) -> None:
        now = time.monotonic()
        gone = [k for k, off in self.held.items() if off is not None and now - off > FADE]
        for k in gone:
            del self.held[k]
        if self.held:
            self.update()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        w = self.width() / (HIGH - LOW)
        h = self.height()
        now = time.monotonic()
        for n in range(LOW, HIGH):
            x = (n - LOW) * w
            p.fillRect(QRectF(x, 0, w, h), QColor(40, 40, 40) if n % 12 in BLACK else QColor(235, 235, 235))
        for (who, n), off in self.held.items():
            color = QColor(PLAYER if who == "in" else ANSWER)
            if off is not None:
                color.setAlphaF(max(0.0, 1 - (now - off) / FADE))
            top = 0 if who == "in" else h / 2
            p.fillRect(QRectF((n - LOW) * w, top, w, h / 2), color)
        p.end()
