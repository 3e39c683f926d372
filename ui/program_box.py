"""A program chooser that reads like a synth's: General MIDI names, with the numbers the
``--program`` flag takes (0-127). It answers to ``value``/``setValue``/``valueChanged`` as the spin
box it replaces did."""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QComboBox, QWidget

from accompanist.limits import LIMITS
from accompanist.music.general_midi import PROGRAMS, program_name


class ProgramBox(QComboBox):
    valueChanged = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.addItems([program_name(p) for p in range(len(PROGRAMS))])
        self.setMaxVisibleItems(16)
        self.currentIndexChanged.connect(self.valueChanged.emit)

    def value(self) -> int:
        return self.currentIndex()

    def setValue(self, program: int) -> None:  # Qt's spelling, as the spin box had it
        lo, hi = LIMITS["program"].span()
        self.setCurrentIndex(max(lo, min(hi, self.count() - 1, int(program))))
