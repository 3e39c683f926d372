"""The panel's piano roll: the last bars of both parts scrolling past a cursor, the answer planned
ahead as ghost notes, bar and beat lines, loop pass boundaries, octave lines with C labels.

It draws ``RollModel`` (what tests read) and nothing else. A Qt timer repaints it 60 times a
second while the engine plays; the cursor moves between the engine's step events by the step's
own length, so it glides instead of jumping a 16th at a time. Painting holds the GIL for well
under a millisecond, and the engine hands the GIL over every half millisecond (its switch
interval), so the window cannot hold its clock up.
"""

from __future__ import annotations

import time

from PyQt6.QtCore import QPointF, QRectF, Qt, QTimer
from PyQt6.QtGui import QColor, QFont, QPainter, QPen
from PyQt6.QtWidgets import QWidget

from accompanist.ui.roll_model import RollModel, RollNote

PLAYER, ANSWER = QColor(60, 130, 230), QColor(235, 160, 40)
GHOST = QColor(235, 160, 40, 90)
BACK, BLACK_ROW = QColor(250, 250, 250), QColor(236, 236, 240)
BAR, BEAT, OCTAVE = QColor(70, 70, 70), QColor(200, 200, 200), QColor(170, 170, 190)
PASS, CURSOR = QColor(200, 40, 120), QColor(220, 30, 30)
BLACK_KEYS = {1, 3, 6, 8, 10}
LOW, HIGH = 48, 84  #: the rows shown when nothing sounds (C3 to C6); they widen to fit the notes
LABEL = 28  #: pixels at the left for the C labels
FPS = 60


class PianoRoll(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = RollModel()
        self.setMinimumHeight(220)
        self._timer = QTimer(self)
        self._timer.setInterval(1000 // FPS)
        self._timer.timeout.connect(self.update)
        self.frames = 0  #: paints so far (a test sees it move)

    def feed(self, ev: dict) -> None:
        self.model.feed(ev)
        if ev["type"] == "started":
            self._timer.start()
        elif ev["type"] == "stopped":
            self._timer.stop()
            self.update()

    def set_meter(self, steps_per_beat: int, beats_per_bar: int) -> None:
        self.model.steps_per_beat, self.model.beats_per_bar = steps_per_beat, beats_per_bar

    def clear(self) -> None:
        keep = (self.model.steps_per_beat, self.model.beats_per_bar, self.model.bars)
        self.model = RollModel(*keep)
        self._timer.stop()
        self.update()

    # --- drawing --------------------------------------------------------------------------------

    def _rows(self, notes: list[RollNote]) -> tuple[int, int]:
        low = min([LOW, *(n.pitch for n in notes)])
        high = max([HIGH, *(n.pitch + 1 for n in notes)])
        return low - low % 12, high + (-high) % 12  # whole octaves, C to C

    def now(self) -> float:
        """The cursor's position: the step now sounding, moved on by the time since it began."""
        m = self.model
        at = m.position(time.perf_counter())
        return float(m.current + 1) if at is None else min(max(at, m.current + 1.0), m.current + 2.0)

    def paintEvent(self, _event) -> None:
        self.frames += 1
        m = self.model
        p = QPainter(self)
        w, h = self.width(), self.height()
        p.fillRect(0, 0, w, h, BACK)
        cursor = self.now()
        first = cursor - (m.bars - 1) * m.steps_per_bar
        last = cursor + m.steps_per_bar
        span = last - first
        notes = m.player + m.answer + m.ghosts
        low, high = self._rows(notes)
        row = h / (high - low)
        x_of = lambda s: LABEL + (s - first) / span * (w - LABEL)  # noqa: E731
        y_of = lambda pitch: h - (pitch - low + 1) * row  # noqa: E731
        for pitch in range(low, high):  # black-key rows shaded, octave lines at each C
            if pitch % 12 in BLACK_KEYS:
                p.fillRect(QRectF(LABEL, y_of(pitch), w - LABEL, row), BLACK_ROW)
        p.setFont(QFont(p.font().family(), 8))
        for pitch in range(low, high + 1, 12):
            y = y_of(pitch) + row
            p.setPen(QPen(OCTAVE, 1))
            p.drawLine(QPointF(LABEL, y), QPointF(w, y))
            p.setPen(QPen(BAR))
            p.drawText(QRectF(0, y - 12, LABEL - 3, 12), Qt.AlignmentFlag.AlignRight, f"C{pitch // 12 - 1}")
        for s in range(int(first) - 1, int(last) + 2):  # beat and bar lines
            if s % m.steps_per_beat:
                continue
            bar = s % m.steps_per_bar == 0
            p.setPen(QPen(BAR if bar else BEAT, 1.5 if bar else 1))
            p.drawLine(QPointF(x_of(s), 0), QPointF(x_of(s), h))
        for s in m.passes:
            p.setPen(QPen(PASS, 3))
            p.drawLine(QPointF(x_of(s), 0), QPointF(x_of(s), h))
        for notes, color in ((m.ghosts, GHOST), (m.answer, ANSWER), (m.player, PLAYER)):
            for n in notes:
                end = cursor if n.end is None else n.end
                if end < first or n.start > last:
                    continue
                left = x_of(max(n.start, first))
                rect = QRectF(left, y_of(n.pitch), x_of(min(end, last)) - left, row)
                p.fillRect(rect.adjusted(0, 1, 0, -1), color)
                if color is GHOST:
                    p.setPen(QPen(ANSWER, 1, Qt.PenStyle.DashLine))
                    p.drawRect(rect.adjusted(0, 1, 0, -1))
        p.setPen(QPen(CURSOR, 2))
        p.drawLine(QPointF(x_of(cursor), 0), QPointF(x_of(cursor), h))
        if m.count_in:
            p.setFont(QFont(p.font().family(), 20, QFont.Weight.Bold))
            p.setPen(QPen(CURSOR))
            p.drawText(QRectF(0, 0, w, h), Qt.AlignmentFlag.AlignCenter, "count-in")
        p.end()
