"""The panel's keys, as a player reaches for them: Space start/stop, Esc panic, L lock, R refresh,
C clear (the last three in loop mode only, as their buttons), E end the call (respond mode), Up
or ``]`` and Down or ``[`` the temperature by one step, the terminal's (``TEMPERATURE_STEP``).

They work wherever the focus is: after typing in a spin box, Space starts and stops, it does not
type into the box. Only a text field being edited (a port's name, the SoundFont's path) keeps
its keys, since a port's name may hold an L or a space; Enter or Esc leaves it, and the keys are
the panel's again."""

from __future__ import annotations

from PyQt6.QtCore import QEvent, QObject, Qt, QTimer
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QWidget

from accompanist.live.terminal import TEMPERATURE_STEP

#: the temperature's step in the slider's hundredths
STEP = round(TEMPERATURE_STEP * 100)
LEAVE = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Escape)
#: what each key is said to do, for the tooltip and the help
HELP = (
    f"keys: Space start/stop, Esc panic, L lock, R refresh, C clear, E end the call, "
    f"Up or ] / Down or [ temperature +/-{TEMPERATURE_STEP:g}"
)


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
        "Up": nudge(STEP),
        "]": nudge(STEP),
        "Down": nudge(-STEP),
        "[": nudge(-STEP),
    }
    out = {}
    for key, action in keys.items():
        sc = QShortcut(QKeySequence(key), panel)
        sc.activated.connect(action)
        out[key] = sc
    router = KeyRouter([QKeySequence(k) for k in keys], panel)
    for w in panel.findChildren(QWidget):
        w.installEventFilter(router)
    panel.temperature.setToolTip(HELP)
    return out


def text_field(w: QObject) -> QWidget | None:
    """The text field ``w`` is (or is inside): an editable line that is not a spin box's number."""
    if isinstance(w, QComboBox) and w.isEditable():
        return w
    if isinstance(w, QLineEdit) and not w.isReadOnly():
        parent = w.parentWidget()
        if isinstance(parent, QAbstractSpinBox):
            return None
        return parent if isinstance(parent, QComboBox) and parent.isEditable() else w
    return None


class KeyRouter(QObject):
    """Asked first for each key (Qt's ShortcutOverride), a spin box or a list would take the
    panel's keys for itself: it is told no, so the shortcut runs. A text field is told yes, and
    Enter or Esc in it leaves it."""

    def __init__(self, keys: list[QKeySequence], parent: QObject):
        super().__init__(parent)
        self.keys = {k[0].toCombined() for k in keys}

    def eventFilter(self, obj: QObject, ev: QEvent) -> bool:
        kind = ev.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        field = text_field(obj)
        if kind == QEvent.Type.KeyPress:
            if field is not None and ev.key() in LEAVE:
                QTimer.singleShot(0, field.clearFocus)  # Enter is taken first (a typed port name kept)
                return ev.key() == Qt.Key.Key_Escape
            return False
        if ev.keyCombination().toCombined() not in self.keys:
            return False
        if field is not None:
            ev.accept()  # the field types it
        else:
            ev.ignore()  # the panel's key, wherever the focus is
        return True
