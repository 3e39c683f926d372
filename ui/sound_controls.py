"""The panel's sound: accompanist's own FluidSynth (on or off, its loudness, its SoundFont) and
where the metronome clicks (its channel, and the answer's port or a port of its own, so a click
never lands in the answer's track unless chosen). Loudness changes while playing; the rest is set
before start, like the ports."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from accompanist.limits import LIMITS, channel_from_user, channel_to_user

SAME_PORT, OWN_PORT = "the answer's port", "a port of its own (NAME-click)"


class SoundControls(QGroupBox):
    def __init__(self, changed: Callable[..., None], parent: QWidget | None = None):
        super().__init__("sound and metronome", parent)
        self.synth = QCheckBox("play through accompanist's own synth (FluidSynth)")
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(*LIMITS["synth_volume"].span(100))  # hundredths of the renders' loudness
        self.volume.valueChanged.connect(lambda v: changed(synth_volume=v / 100))
        self.soundfont = QLineEdit()
        self.soundfont.setPlaceholderText("the system's General MIDI SoundFont")
        browse = QPushButton("…")
        browse.clicked.connect(self._browse)
        sf = QHBoxLayout()
        sf.addWidget(self.soundfont, 1)
        sf.addWidget(browse)
        self.click_channel = QSpinBox()
        self.click_channel.setRange(*LIMITS["click_channel"].span())  # counted 1-16
        self.click_out = QComboBox()
        self.click_out.addItems([SAME_PORT, OWN_PORT])
        form = QFormLayout(self)
        form.addRow("", self.synth)
        form.addRow("synth volume", self.volume)
        form.addRow("SoundFont", sf)
        form.addRow("click channel", self.click_channel)
        form.addRow("clicks go to", self.click_out)
        self.clash = QLabel()
        self.clash.setStyleSheet("color: #c33; font-weight: bold;")
        self.clash.setWordWrap(True)
        self.clash.hide()
        form.addRow("", self.clash)
        self._fixed = (self.synth, self.soundfont, browse, self.click_channel, self.click_out)
        self._playing = False

    def guard(self, answer: QSpinBox, start: QAbstractButton) -> None:
        """Say at once, not at Start, when the click and the answer share a channel (the engine
        refuses it: a click would sound in the answer's instrument), and keep Start off till then."""

        def check() -> None:
            clash = answer.value() == self.click_channel.value()
            self.clash.setText(f"the answer and the click share channel {answer.value()}: move one" if clash else "")
            self.clash.setVisible(clash)
            start.setEnabled(self._playing or not clash)

        answer.valueChanged.connect(check)
        self.click_channel.valueChanged.connect(check)
        self._check = check
        check()

    def show_settings(self, s) -> None:
        self.synth.setChecked(s.synth)
        self.volume.blockSignals(True)
        self.volume.setValue(round(s.synth_volume * 100))
        self.volume.blockSignals(False)
        self.soundfont.setText(s.soundfont or "")
        self.click_channel.setValue(channel_to_user(s.click_channel))
        self.click_out.setCurrentText(OWN_PORT if s.click_out == "virtual" else SAME_PORT)

    def values(self) -> dict:
        own = self.click_out.currentText() == OWN_PORT
        return {
            "synth": self.synth.isChecked(),
            "synth_volume": self.volume.value() / 100,
            "soundfont": self.soundfont.text().strip() or None,
            "click_channel": channel_from_user(self.click_channel.value()),
            "click_out": "virtual" if own else None,
        }

    def playing(self, on: bool) -> None:
        self._playing = on
        for w in self._fixed:
            w.setEnabled(not on)
        if hasattr(self, "_check"):
            self._check()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "SoundFont", "", "SoundFonts (*.sf2 *.sf3)")
        if path:
            self.soundfont.setText(path)
