"""The panel's ports and clock: where it listens, where it answers, whose clock it keeps. The
lists follow the devices: read again every few seconds while stopped (a keyboard plugged in after
launch appears), and on the refresh button. Not while playing: ports are set before start, and
each listing opens a MIDI client, which a running JACK graph need not see come and go."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QPushButton, QWidget

from accompanist.errors import AccompanistError
from accompanist.limits import CLOCKS, clocks_said

NO_OUT = "(no MIDI out)"
VIRTUAL = "virtual"
REFRESH_MS = 3000


class PortLists(QGroupBox):
    def __init__(self, api: str, say: Callable[[str], None], parent: QWidget | None = None):
        super().__init__("ports and clock (set before start)", parent)
        self.api, self._say, self._said = api, say, None
        self.inp, self.out = QComboBox(), QComboBox()
        for box in (self.inp, self.out):
            box.setEditable(True)  # a port that is not there yet may be typed
        self.clock = QComboBox()
        self.clock.addItems(list(CLOCKS))
        self.clock.setToolTip(clocks_said())
        self.refresh_button = QPushButton("Refresh ports")
        self.refresh_button.clicked.connect(self.refresh)
        form = QFormLayout(self)
        form.addRow("listen on", self.inp)
        form.addRow("answer on", self.out)
        form.addRow("clock", self.clock)
        form.addRow("", self.refresh_button)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.refresh()
        self._timer.start()

    def refresh(self) -> None:
        """List the ports again, keeping what is chosen (typed names too)."""
        names_in, names_out = [VIRTUAL], [VIRTUAL]
        try:
            from accompanist.live.ports import list_ports

            found = list_ports(self.api)
            names_in += found.inputs
            names_out += found.outputs
            self._said = None
        except AccompanistError as exc:  # no MIDI system yet: virtual ports, and say why (once)
            if str(exc) != self._said:
                self._said = str(exc)
                self._say(str(exc))
        for box, names in ((self.inp, names_in), (self.out, [*names_out, NO_OUT])):
            chosen = box.currentText()
            if [box.itemText(i) for i in range(box.count())] == names:
                continue
            box.blockSignals(True)
            box.clear()
            box.addItems(names)
            box.setCurrentText(chosen or names[0])
            box.blockSignals(False)

    def playing(self, on: bool) -> None:
        for w in (self.inp, self.out, self.clock, self.refresh_button):
            w.setEnabled(not on)
        if on:
            self._timer.stop()
        else:
            self._timer.start()
