"""The panel's keys, as a player reaches for them: Space start/stop, Esc panic, L lock, R refresh,
C clear (the last three in loop mode only, as their buttons), E end the call (respond mode), Up and
Down the temperature by 0.05. A field being typed in keeps its keys (a port name may hold an L)."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import QAbstractButton

TEMPERATURE_STEP = 5  #: hundredths


def install(panel) -> dict[str, QShortcut]:
    # A focused button takes Space for itself: after a click on Panic, Space would panic again
    # instead of stopping. Buttons and boxes to tick take no focus, so the keys mean one thing.
    for w in panel.findChildren(QAbstractButton):
        w.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    def button(b):
        return lambda: b.click() if b.isVisible() and b.isEnabled() else None

    def nudge(by: int):
        return lambda: panel.temperature.setValue(panel.temperature.value() + by)

    keys = {
        "Space": button(panel.start_button),  # not while Start waits for a set-up it would refuse
        "Esc": button(panel.panic_button),
        "L": button(panel.lock_button),
        "R": button(panel.refresh_button),
        "C": button(panel.clear_button),
        "E": button(panel.end_call_button),
        "Up": nudge(TEMPERATURE_STEP),
        "Down": nudge(-TEMPERATURE_STEP),
    }
    out = {}
    for key, action in keys.items():
        sc = QShortcut(QKeySequence(key), panel)
        sc.activated.connect(action)
        out[key] = sc
    return out
