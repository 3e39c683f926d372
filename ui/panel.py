"""The panel: pick a preset or set mode, model, temperature, tempo and ports; start, stop, panic;
lock, refresh and clear the loop; see what the engine hears and answers, and how well it keeps
time. Every change while playing goes through ``Engine.set``; every line shown comes from the
engine's events."""

from __future__ import annotations

import dataclasses
import re

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from accompanist.errors import AccompanistError
from accompanist.inference.cards import fallback
from accompanist.limits import LIMITS, channel_from_user, channel_to_user
from accompanist.live.engine import Engine
from accompanist.live.settings import DEFAULT_MODELS, MODE_FAMILY, MODES, Settings, card_for, waits_for_first_note
from accompanist.ui import memory, shortcuts
from accompanist.ui.event_lines import EventLines
from accompanist.ui.event_pump import EventPump
from accompanist.ui.midi_controls import MidiControls
from accompanist.ui.mode_controls import ModeControls
from accompanist.ui.piano_roll import PianoRoll
from accompanist.ui.port_lists import NO_OUT, PortLists
from accompanist.ui.preset_bar import PresetBar
from accompanist.ui.program_box import ProgramBox
from accompanist.ui.scorecard import Scorecard
from accompanist.ui.sound_controls import SoundControls
from accompanist.ui.where import WhereAmI

#: "(see: accompanist presets)", "(list them with: accompanist models)": for a terminal's user
TERMINAL_ADVICE = re.compile(r"\s*\((?:see|list them with): accompanist [a-z]+\)")
#: a change to these while playing is sent when the control has been still this long
SETTLE_MS = 150
#: what a controller may change (``live.controls``): the panel's controls follow it
PLAYED = {"temperature", "variation", "bpm", "mode", "model"}


class Panel(QWidget):
    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("accompanist")
        self.base = settings or Settings()  #: what the controls do not show (recording path, seed, ...)
        self.engine: Engine | None = None
        self.pump = EventPump(parent=self)
        self.pump.arrived.connect(self.on_event)
        self.steps = 0
        self._poll = QTimer(self)  # the timing meter reads the engine's output record twice a second
        self._poll.setInterval(500)
        self._poll.timeout.connect(self._poll_timing)
        self._pending: dict = {}
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._send_pending)
        self._quiet = True  #: while the panel sets its own controls, nothing goes to the engine
        self._program_explicit = False  #: a program chosen (else the model card's)
        self._takes = 0
        self._build()
        self.show_settings(self.base)

    # --- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.presets = PresetBar(self.preset_settings, self.say)
        self.preset = self.presets.combo
        self.preset.currentTextChanged.connect(self.apply_preset)

        self.mode = QComboBox()
        self.mode.addItems(MODES)
        self.mode.currentTextChanged.connect(self._mode_changed)
        self.model = QComboBox()
        self.model.currentTextChanged.connect(self._model_changed)
        self.temperature = QSlider(Qt.Orientation.Horizontal)
        self.temperature.setRange(*LIMITS["temperature"].span(100))  # hundredths: 0 takes the likeliest notes
        self.temperature.setMinimumHeight(34)  # the control a player reaches for most: large
        self.temperature.setStyleSheet(
            "QSlider::groove:horizontal { height: 10px; background: #ccd; border-radius: 5px; }"
            "QSlider::handle:horizontal { width: 26px; margin: -9px 0; background: #e90; border-radius: 13px; }"
        )
        self.temperature_label = QLabel()
        self.temperature_label.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.temperature.valueChanged.connect(self._temperature_moved)
        self.modes = ModeControls(self._changed)  # each mode's own: the duet's, the loop's, respond's
        m = self.modes
        self.max_notes, self.listen, self.bars = m.max_notes, m.listen, m.bars
        self.call_bars, self.answer_bars, self.variation = m.call_bars, m.answer_bars, m.variation
        self.bpm = QDoubleSpinBox()
        self.bpm.setRange(*LIMITS["bpm"].span())
        self.bpm.setDecimals(2)
        self.bpm.valueChanged.connect(lambda v: self._changed(bpm=v))
        self.channel = QSpinBox()
        self.channel.setRange(*LIMITS["channel"].span())  # counted 1-16, as on a keyboard
        self.channel.valueChanged.connect(lambda v: self._changed(channel=channel_from_user(v)))
        self.program = ProgramBox()
        self.program.valueChanged.connect(self._program_moved)
        self.metronome = QCheckBox("metronome")
        self.metronome.toggled.connect(lambda v: self._changed(metronome=v))
        self.log = QPlainTextEdit()  # first: listing the ports may have something to say
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(200)
        self.ports = PortLists(self.base.api, self.say)
        self.sound = SoundControls(self._changed)
        self.inp, self.out, self.clock = self.ports.inp, self.ports.out, self.ports.clock

        form = QFormLayout()
        form.addRow("preset", self.presets)
        form.addRow("mode", self.mode)
        form.addRow("model", self.model)
        row = QHBoxLayout()
        row.addWidget(self.temperature)
        row.addWidget(self.temperature_label)
        form.addRow("temperature", row)
        for label, control in self.modes.rows():
            form.addRow(label, control)
        form.addRow("tempo (bpm)", self.bpm)
        form.addRow("channel", self.channel)
        form.addRow("program", self.program)
        held = lambda texts: setattr(self, "base", dataclasses.replace(self.base, controls=texts or None))  # noqa: E731
        self.midi = MidiControls(lambda: self.engine, lambda: self.base.controls, held, self.say, self)
        self.midi_button = QPushButton("MIDI controls...")
        self.midi_button.clicked.connect(lambda: (self.midi.show(), self.midi.raise_()))
        form.addRow(self.metronome, self.midi_button)

        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.toggle)
        self.panic_button = QPushButton("Panic")
        self.panic_button.clicked.connect(self.panic)
        self.lock_button = QPushButton("Lock loop")
        self.lock_button.setCheckable(True)
        self.lock_button.toggled.connect(self._lock_toggled)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(lambda: self._do("refresh"))
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(lambda: self._do("clear"))
        self.end_call_button = QPushButton("End call")
        self.end_call_button.setToolTip("respond mode: your phrase is over; the answer starts at the next bar line")
        self.end_call_button.clicked.connect(lambda: self._do("end_call"))
        buttons = QGridLayout()
        row_of = (self.start_button, self.panic_button, self.lock_button, self.refresh_button, self.clear_button)
        for i, b in enumerate((*row_of, self.end_call_button)):
            buttons.addWidget(b, 0, i)

        self.status = QLabel("stopped")
        self.status.setWordWrap(True)
        self.score = Scorecard()
        self.where = WhereAmI()
        self.roll = PianoRoll()
        self.lines = EventLines(lambda: self.where.passes)
        self.log.setMaximumHeight(110)  # the roll takes the room, not an empty log

        # the set-up at the left; at the right what is played: where, the roll, how well, what was said
        setup, play = QVBoxLayout(), QVBoxLayout()
        setup.addLayout(form)
        setup.addWidget(self.ports)
        setup.addWidget(self.sound)
        setup.addStretch(1)
        play.addLayout(buttons)
        play.addWidget(self.where)
        play.addWidget(self.roll, 1)
        play.addWidget(self.score)
        play.addWidget(self.status)
        play.addWidget(self.log)
        top = QHBoxLayout(self)
        top.addLayout(setup, 2)
        top.addLayout(play, 3)
        self.sound.guard(self.channel, self.start_button)
        self._playing_controls(False)
        self.shortcuts = shortcuts.install(self)

    # --- settings <-> controls ---------------------------------------------------------------

    def show_settings(self, s: Settings) -> None:
        """Set the controls to ``s`` without sending anything to the engine."""
        self._quiet = True
        try:
            self.mode.setCurrentText(s.mode)
            self._fill_models(s.mode, s.model)
            t = s.temperature if s.temperature is not None else self._card_default("temperature")
            self.temperature.setValue(round(t * 100))
            self._show_temperature()
            self.modes.show_settings(s, self._card_default)
            self.bpm.setValue(s.bpm)
            self.channel.setValue(channel_to_user(s.channel))
            self._program_explicit = s.program is not None
            self.program.setValue(s.program if s.program is not None else self._card_default("program"))
            self.metronome.setChecked(s.metronome)
            self.inp.setCurrentText(s.inp)
            self.out.setCurrentText(s.out or NO_OUT)
            self.clock.setCurrentText(s.clock)
            self.sound.show_settings(s)
            self.midi.show_map()
        finally:
            self._quiet = False
        self._mode_controls()

    def settings(self) -> Settings:
        """What the controls say, over what they do not show."""
        return dataclasses.replace(
            self.base,
            mode=self.mode.currentText(),
            model=self.model.currentText() or None,
            temperature=self.temperature.value() / 100,
            **self.modes.values(self.base),
            bpm=self.bpm.value(),
            channel=channel_from_user(self.channel.value()),
            program=self.program.value() if self._program_explicit else None,
            metronome=self.metronome.isChecked(),
            inp=self.inp.currentText(),
            out=None if self.out.currentText() == NO_OUT else self.out.currentText(),
            clock=self.clock.currentText(),
            **self.sound.values(),
        )

    def preset_settings(self) -> Settings:
        """What a preset saved now keeps: what the controls say, the program shown included (a
        program that follows the card would be another under another card, or not be restored
        over one chosen since)."""
        return dataclasses.replace(self.settings(), program=self.program.value())

    def _card_default(self, key: str):
        """The chosen model's default for ``key`` (the one fallback's when there is no such model)."""
        try:
            card = card_for(self.mode.currentText(), self.model.currentText() or None)
        except AccompanistError:
            return fallback(key)
        return card.default(key)

    def _fill_models(self, mode: str, current: str | None) -> None:
        from accompanist.inference.cards import find_models

        names = sorted(n for n, c in find_models().items() if c.family in MODE_FAMILY[mode])
        was = self._quiet
        self._quiet = True
        self.model.clear()
        self.model.addItems(names)
        self.model.setCurrentText(current or DEFAULT_MODELS[mode])
        self._quiet = was

    def apply_preset(self, name: str) -> None:
        if name == "(no preset)":
            return
        from accompanist.presets import load_preset

        try:
            preset = load_preset(name)
        except AccompanistError as exc:
            self.say(str(exc), error=True)
            return
        s = dataclasses.replace(self.settings(), **preset.settings)
        self.base = dataclasses.replace(self.base, **preset.settings)  # what has no control too
        self._settle.stop()
        self._pending.clear()  # a change still waiting must not undo the preset
        self.say(f"preset {name}: {preset.description}")
        if self.engine is not None:  # playing: what can change now changes, the rest waits
            from accompanist.live.settings import LIVE_SETTINGS

            fixed = {k for k in preset.settings if k not in LIVE_SETTINGS}
            live = {k: v for k, v in preset.settings.items() if k in LIVE_SETTINGS}
            if fixed:
                self.say(f"preset {name}: {', '.join(sorted(fixed))} take effect at the next start")
            if not self._send(live):
                return
        self.show_settings(s)

    # --- changes ------------------------------------------------------------------------------

    def _mode_changed(self, mode: str) -> None:
        self._mode_controls()
        if self._quiet:
            return
        self._fill_models(mode, None)
        self._mode_controls()
        self._card_program()
        self._changed(mode=mode, model=self.model.currentText())

    def _model_changed(self, name: str) -> None:
        if self._quiet or not name:
            return
        self._mode_controls()  # a VRASH model takes a variation, another does not
        self._card_program()
        self._changed(model=name)

    def _program_moved(self, value: int) -> None:
        if self._quiet:
            return
        self._program_explicit = True
        self._changed(program=value)

    def _card_program(self) -> None:
        """A program never chosen follows the model's card."""
        if not self._program_explicit:
            self._quiet, was = True, self._quiet
            self.program.setValue(self._card_default("program"))
            self._quiet = was

    def _temperature_moved(self, _value: int) -> None:
        self._show_temperature()
        self._changed(temperature=self.temperature.value() / 100)

    def _show_temperature(self) -> None:
        self.temperature_label.setText(f"{self.temperature.value() / 100:.2f}")

    def _changed(self, **change) -> None:
        """A control moved: while playing, send it once the control is still (a slider drag is
        one change, not fifty: each change of sampling releases what sounds)."""
        if self._quiet or self.engine is None:
            return
        self._pending.update(change)
        self._settle.start()

    def _send_pending(self) -> None:
        change, self._pending = self._pending, {}
        self._send(change)

    def _send(self, change: dict) -> bool:
        """Hand a change to the engine; refused, the controls go back to what the engine has."""
        if self.engine is None or not change:
            return True
        try:
            self.engine.set(**change)
            return True
        except Exception as exc:  # anything refused is said, and the panel lives on
            self.say(_one_line(exc), error=True)
            self.show_settings(self.engine.settings)
            return False

    def panic(self) -> None:
        """The player's panic (the button, Esc): said as one, unlike the release a change makes."""
        if self.engine is not None:
            self.lines.asked_panic()
        self._do("panic")

    def _do(self, action: str, *args) -> None:
        if self.engine is None:
            return
        try:
            getattr(self.engine, action)(*args)
        except Exception as exc:  # a button never takes the panel down
            self.say(_one_line(exc), error=True)

    # --- start and stop ----------------------------------------------------------------------

    def toggle(self) -> None:
        if self.engine is None:
            self.start()
        else:
            self.stop()

    def start(self) -> bool:
        settings = self.settings()
        if settings.record is not None and self._takes:  # a second Start must not overwrite the first
            path = settings.record
            settings = dataclasses.replace(
                settings, record=path.with_name(f"{path.stem}-{self._takes + 1}{path.suffix}")
            )
        try:
            engine = Engine(settings)
            events = engine.subscribe()
            engine.start()
        except Exception as exc:  # a port, a model, a driver: said (the engine closes what it opened)
            self.say(_one_line(exc), error=True)
            return False
        self._takes += 1
        self.engine = engine
        self.steps = 0
        self.score.reset(mode=settings.mode)
        self._poll.start()
        self.roll.clear()
        self.roll.set_meter(engine.steps_per_beat, settings.beats_per_bar)
        self._hold_exchange()
        self.lines.reset()
        meter = (engine.steps_per_beat, settings.beats_per_bar, settings.count_in)
        self.where.begin(*meter, settings.clock, settings.mode, waits=waits_for_first_note(settings))
        self.pump.attach(events)
        self._playing_controls(True)
        if self.lock_button.isChecked():
            engine.lock(True)
        return True

    def stop(self) -> None:
        if self.engine is None:
            return
        self._settle.stop()
        self._send_pending()
        self.engine.stop()
        self.pump.detach()
        self.engine = None
        self._poll.stop()
        self.where.end()
        self._playing_controls(False)

    def _playing_controls(self, playing: bool) -> None:
        self.start_button.setText("Stop" if playing else "Start")
        self.midi.playing(playing)
        self.ports.playing(playing)
        self.sound.playing(playing)
        self.bpm.setEnabled(not (playing and self.clock.currentText() == "external"))  # the DAW's
        for w in (self.panic_button, self.refresh_button, self.clear_button, self.end_call_button):
            w.setEnabled(playing)
        if not playing:
            self.status.setText("stopped")
        self._mode_controls()

    def _mode_controls(self) -> None:
        """Only what applies to the mode: the duet's notes and listen window, the loop's bars
        and its lock, refresh and clear, respond mode's call and answer bars, variation (VRASH)
        and End call."""
        mode = self.mode.currentText()
        try:
            family = card_for(mode, self.model.currentText() or None).family
        except AccompanistError:
            family = ""
        self.modes.for_mode(mode, family)
        for b in (self.lock_button, self.refresh_button, self.clear_button):
            b.setVisible(mode == "loop")
        self.end_call_button.setVisible(mode == "respond")

    def _lock_toggled(self, on: bool) -> None:
        self.lock_button.setText("Locked" if on else "Lock loop")
        self.lock_button.setStyleSheet("background: #c33; color: white; font-weight: bold;" if on else "")
        self._do("lock", on)

    def closeEvent(self, event) -> None:
        self.stop()
        memory.remember(self.settings())
        super().closeEvent(event)

    # --- what the engine says ----------------------------------------------------------------

    def on_event(self, ev: dict) -> None:
        kind = ev["type"]
        if kind == "started":
            self._ports = f"listening on {ev['input']}, answering on {ev['output'] or '(no MIDI out)'}"
            self._record = ev["record"]
            self._show_status()
        elif kind == "settings":
            self._show_status()
            if self.engine is not None and not self._pending and PLAYED.intersection(ev):  # a knob, a pad
                self.show_settings(self.engine.settings)
            if "mode" in ev and self.engine is not None:  # the meter and the scorecard start again
                self.score.reset(self.engine.output.timed, since=self.steps, mode=self.engine.settings.mode)
            self._hold_exchange()
        elif kind == "step":
            self.steps = ev["step"] + 1
        self.midi.feed(ev)
        self.score.feed(ev)
        self.roll.feed(ev)
        self.where.feed(ev)
        line = self.lines.line(ev)
        if line is not None:
            self.say(line, error=kind == "error")
        if kind == "step" and self.steps % self.roll.model.steps_per_bar == 0:
            self.score.measure(self.roll.model)  # each bar line: the last bars' harmony

    def _hold_exchange(self) -> None:
        """The roll holds the longest call and answer this session's settings allow."""
        if self.engine is not None:
            s = self.engine.settings
            self.roll.hold_exchange(s.call_bars, s.answer_bars or s.call_bars)

    def _show_status(self) -> None:
        if self.engine is None:
            return
        s = self.engine.settings
        self.status.setText(
            f"playing: {s.mode} mode, model {self.engine.card.name}; {self._ports}; recording to {self._record}"
        )

    def _poll_timing(self) -> None:
        if self.engine is not None:
            self.score.poll(self.engine.output.errors, self.engine.output.timed, self.engine.lag_felt)

    def say(self, line: str, error: bool = False) -> None:
        """A line in the log (and, for an error, the status line too). Advice written for the
        terminal ("see: accompanist ports") is left out: here the lists are on screen."""
        line = TERMINAL_ADVICE.sub("", line)
        self.log.appendPlainText(("error: " if error and not line.startswith("error") else "") + line)
        if error:
            self.status.setText(line)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text and isinstance(exc, AccompanistError) else f"{type(exc).__name__}: {text[0] if text else ''}"
