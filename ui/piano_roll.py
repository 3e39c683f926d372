"""The panel's piano roll: the last bars of both parts scrolling past a cursor, the answer planned
ahead as ghost notes, bar and beat lines, loop pass boundaries, octave lines with C labels.

It shows ``RollModel`` (what tests read). The drawing is a QGraphicsScene of plain rectangle and
line items, in steps across and pitches down, so Qt paints it in C++ with the GIL released: Python
runs only when an event adds or ends a note, and 60 times a second for a few calls that move the
cursor, stretch the notes still sounding and scroll the view. (Painting it from Python cost 1.5 ms
a frame, 9 % of a core holding the GIL, and the engine's output timing p99 rose by about 1 ms.)
"""

from __future__ import annotations

import time

from PyQt6.QtCore import QRectF, Qt, QTimer
from PyQt6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QPixmap, QTransform
from PyQt6.QtWidgets import QGraphicsScene, QGraphicsView, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from accompanist.ui.roll_model import RollModel, RollNote

PLAYER, ANSWER = QColor(60, 130, 230), QColor(235, 160, 40)
GHOST = QColor(235, 160, 40, 90)
BACK, BLACK_ROW = QColor(250, 250, 250), QColor(236, 236, 240)
BAR, BEAT, OCTAVE = QColor(70, 70, 70), QColor(205, 205, 205), QColor(170, 170, 190)
PASS, CURSOR = QColor(200, 40, 120), QColor(220, 30, 30)
BLACK_KEYS = {1, 3, 6, 8, 10}
LOW, HIGH = 48, 84  #: the rows shown when nothing sounds (C3 to C6); they widen to fit the notes
FAR = 1e6  #: steps: rows and octave lines run this far both ways (a day at 120 bpm is 7e5)
FPS = 60
#: the events that change what is drawn
SYNCED = {"step", "note_in", "note_out", "planned", "pass", "panic", "clear", "settings", "stopped", "response"}


class PianoRoll(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = RollModel()
        self.setMinimumHeight(220)
        self.scene = QGraphicsScene(self)
        self.scene.setBackgroundBrush(BACK)
        self.view = QGraphicsView(self.scene)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self.view.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.labels = QLabel()  # C labels at the left, redrawn only when the rows change
        self.labels.setFixedWidth(30)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.labels)
        row.addWidget(self.view, 1)
        col = QVBoxLayout(self)  # the count-in is said by the "where am I" line above
        col.setContentsMargins(0, 0, 0, 0)
        col.addLayout(row, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(1000 // FPS)
        self._timer.timeout.connect(self.tick)
        self.frames = 0  #: frames moved so far (a test sees it move)
        self._items: dict[int, tuple[RollNote, object]] = {}  #: id(note) -> (note, its item)
        self._lines: dict[int, object] = {}  #: step -> its beat or bar line
        self._passes: dict[int, object] = {}
        self._rows: tuple[int, int] | None = None
        self._bars = self.model.bars  #: the bars the view is scaled to
        self._row_items: list = []
        self.cursor = self.scene.addLine(0, -200, 0, 200, QPen(CURSOR, 0))
        self.cursor.setZValue(10)
        self._fit()

    # --- events --------------------------------------------------------------------------------

    def feed(self, ev: dict) -> None:
        self.model.feed(ev)
        kind = ev["type"]
        if kind == "started":
            self._timer.start()
        elif kind == "stopped":
            self._timer.stop()
        if kind in SYNCED:
            self._sync()

    def set_meter(self, steps_per_beat: int, beats_per_bar: int) -> None:
        self.model.steps_per_beat, self.model.beats_per_bar = steps_per_beat, beats_per_bar

    def hold_exchange(self, call_bars: int, answer_bars: int) -> None:
        """Respond mode: the longest call and answer the window must hold (a silent bar between
        them, and a bar ahead of the cursor)."""
        self.model.longest = call_bars + 1 + answer_bars + 1

    def clear(self) -> None:
        m = self.model
        self.model = RollModel(m.steps_per_beat, m.beats_per_bar, m.least, least=m.least, longest=m.longest)
        self._timer.stop()
        self._sync()

    # --- keeping the scene like the model -------------------------------------------------------

    def _sync(self) -> None:
        m = self.model
        live: dict[int, tuple[RollNote, QColor]] = {}
        for notes, color in ((m.ghosts, GHOST), (m.answer, ANSWER), (m.player, PLAYER)):
            for n in notes:
                live[id(n)] = (n, color)
        for key in [k for k in self._items if k not in live]:
            self.scene.removeItem(self._items.pop(key)[1])
        for key, (n, color) in live.items():
            if key not in self._items:
                item = self.scene.addRect(QRectF(), QPen(ANSWER, 0, Qt.PenStyle.DashLine) if color is GHOST
                                          else QPen(Qt.PenStyle.NoPen), QBrush(color))  # fmt: skip
                item.setZValue(3 if color is PLAYER else 2)
                self._items[key] = (n, item)
            self._place(*self._items[key])
        self._grid()
        low = min([LOW, *(n.pitch for n, _ in self._items.values())])
        high = max([HIGH, *(n.pitch + 1 for n, _ in self._items.values())])
        rows = (low - low % 12, high + (-high) % 12)
        if rows != self._rows:
            self._rows = rows
            self._draw_rows()
            self._fit()
        elif m.bars != self._bars:  # respond mode: the window widened to a call and its answer
            self._fit()

    def _place(self, n: RollNote, item) -> None:
        end = self.now() if n.end is None else n.end
        item.setRect(QRectF(n.start, -n.pitch - 0.92, max(end - n.start, 0.05), 0.84))

    def _grid(self) -> None:
        """Beat and bar lines over the window and a bar beyond; pass lines where the model has them."""
        m = self.model
        first, last = m.window()
        first, last = int(first) - m.steps_per_bar, int(last) + 2 * m.steps_per_bar
        for s in [s for s in self._lines if not first <= s <= last]:
            self.scene.removeItem(self._lines.pop(s))
        for s in range(first - first % m.steps_per_beat, last, m.steps_per_beat):
            if s not in self._lines:
                bar = s % m.steps_per_bar == 0
                line = self.scene.addLine(s, -200, s, 200, QPen(BAR if bar else BEAT, 0))
                line.setZValue(1 if bar else 0.5)
                self._lines[s] = line
        for s in [s for s in self._passes if s not in m.passes]:
            self.scene.removeItem(self._passes.pop(s))
        for s in m.passes:
            if s not in self._passes:
                pen = QPen(PASS, 3)
                pen.setCosmetic(True)
                self._passes[s] = self.scene.addLine(s, -200, s, 200, pen)
                self._passes[s].setZValue(4)

    def _draw_rows(self) -> None:
        for item in self._row_items:
            self.scene.removeItem(item)
        low, high = self._rows
        self._row_items = []
        for pitch in range(low, high):
            if pitch % 12 in BLACK_KEYS:
                r = self.scene.addRect(QRectF(-FAR, -pitch - 1, 2 * FAR, 1), QPen(Qt.PenStyle.NoPen), QBrush(BLACK_ROW))
                r.setZValue(-2)
                self._row_items.append(r)
        for pitch in range(low, high + 1, 12):
            line = self.scene.addLine(-FAR, -pitch, FAR, -pitch, QPen(OCTAVE, 0))
            line.setZValue(-1)
            self._row_items.append(line)
        self.cursor.setLine(0, -high, 0, -low)

    def _fit(self) -> None:
        """Steps across the view's width, the rows down its height; labels to match."""
        low, high = self._rows or (LOW, HIGH)
        m = self.model
        self._bars = m.bars
        w, h = max(self.view.viewport().width(), 10), max(self.view.viewport().height(), 10)
        self._sx, self._sy = w / (m.bars * m.steps_per_bar), h / (high - low)
        self.view.setTransform(QTransform.fromScale(self._sx, self._sy))
        self._draw_labels(low, high, h)
        self.tick()

    def _draw_labels(self, low: int, high: int, h: int) -> None:
        pix = QPixmap(self.labels.width(), h)
        pix.fill(BACK)
        p = QPainter(pix)
        p.setFont(QFont(p.font().family(), 7))
        p.setPen(QPen(BAR))
        for pitch in range(low, high, 12):
            y = (high - pitch) * self._sy
            box = QRectF(0, y - 12, self.labels.width() - 3, 12)
            p.drawText(box, Qt.AlignmentFlag.AlignRight, f"C{pitch // 12 - 1}")
        p.end()
        self.labels.setPixmap(pix)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    # --- each frame -------------------------------------------------------------------------------

    def now(self) -> float:
        """The cursor's position: the step now sounding, moved on by the time since it began."""
        m = self.model
        at = m.position(time.perf_counter())
        return float(m.current + 1) if at is None else min(max(at, m.current + 1.0), m.current + 2.0)

    def tick(self) -> None:
        """A frame: the cursor, the notes still sounding, the view (a few calls; Qt paints)."""
        self.frames += 1
        cursor = self.now()
        self.cursor.setPos(cursor, 0)
        for n, item in self._items.values():
            if n.end is None:
                self._place(n, item)
        m = self.model
        low, high = self._rows or (LOW, HIGH)
        # the scene's rectangle is the window itself, scaled to fill the view: moving it scrolls
        span = m.bars * m.steps_per_bar
        self.view.setSceneRect(QRectF(cursor - span + m.steps_per_bar, -high, span, high - low))
