"""The panel's MIDI controls: which knob, pad or program change plays each action, with MIDI
learn (press an action's Learn, then move the knob or press the pad). A window of its own,
opened from the panel; the map lives in the panel's settings, so a preset saves it and the next
start uses it. Learning listens on the engine's input, so it works while playing."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QGridLayout, QLabel, QPushButton, QWidget

from accompanist.errors import AccompanistError
from accompanist.live.controls import ACTIONS, ControlMap

UNMAPPED = "-"


class MidiControls(QWidget):
    def __init__(
        self,
        engine: Callable[[], object | None],
        controls: Callable[[], list[str] | None],
        changed: Callable[[list[str]], None],
        say: Callable[..., None],
        parent: QWidget | None = None,
    ):
        """``engine``: the one playing, or None; ``controls``: the map the panel holds;
        ``changed``: a new map for the panel to hold; ``say``: a line in the panel's log."""
        super().__init__(parent, Qt.WindowType.Window)  # a window of its own, owned by the panel
        self.setWindowTitle("accompanist: MIDI controls")
        self._engine, self._controls, self._changed, self._say = engine, controls, changed, say
        self.mapped: dict[str, QLabel] = {}
        self.learn_buttons: dict[str, QPushButton] = {}
        self.forget_buttons: dict[str, QPushButton] = {}
        grid = QGridLayout(self)
        for row, (action, (taker, what)) in enumerate(ACTIONS.items()):
            name = QLabel(action.replace("_", " "))
            name.setToolTip(f"{what} ({taker})")
            self.mapped[action] = QLabel(UNMAPPED)
            learn = QPushButton("Learn")
            learn.setToolTip("then move the knob, press the pad or send the program change")
            learn.clicked.connect(lambda _=False, a=action: self.learn(a))
            forget = QPushButton("Clear")
            forget.clicked.connect(lambda _=False, a=action: self.forget(a))
            self.learn_buttons[action], self.forget_buttons[action] = learn, forget
            for col, w in enumerate((name, self.mapped[action], learn, forget)):
                grid.addWidget(w, row, col)
        self.playing(False)

    def show_map(self) -> None:
        """Each action's message as the panel holds the map now."""
        try:
            found = {c.action: c for c in ControlMap.parse(self._controls()).controls}
        except AccompanistError:
            found = {}
        for action, label in self.mapped.items():
            c = found.get(action)
            label.setText(c.spec if c is not None else UNMAPPED)
            self.learn_buttons[action].setText("Learn")

    def playing(self, on: bool) -> None:
        for b in self.learn_buttons.values():
            b.setEnabled(on)
            b.setToolTip("" if on else "start first: learning listens on the input")
        self.show_map()

    def learn(self, action: str) -> None:
        engine = self._engine()
        if engine is None:
            return
        self.show_map()
        engine.learn(action)
        self.learn_buttons[action].setText("move it...")

    def forget(self, action: str) -> None:
        engine = self._engine()
        if engine is not None:
            engine.forget(action)  # said back as a settings event, and the map follows it
        else:
            self._changed(ControlMap.parse(self._controls()).without(action).texts)
            self.show_map()

    def feed(self, ev: dict) -> None:
        """The engine's events: a learned control, a changed map."""
        engine = self._engine()
        if engine is not None and (ev["type"] == "learned" or (ev["type"] == "settings" and "controls" in ev)):
            self._changed(list(engine.settings.controls or []))
            self.show_map()
