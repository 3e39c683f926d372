"""The panel's presets: pick one, save what the controls say as a new one (name and description,
into the musician's own folder, never over a shipped preset), rename or delete one's own."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QInputDialog, QPushButton, QWidget

from accompanist.errors import AccompanistError

NONE = "(no preset)"


class PresetBar(QWidget):
    def __init__(self, settings: Callable[[], object], say: Callable[..., None], parent: QWidget | None = None):
        super().__init__(parent)
        self._settings, self._say = settings, say
        self.combo = QComboBox()
        self.save_button = QPushButton("Save as…")
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete")
        self.save_button.clicked.connect(self._ask_save)
        self.rename_button.clicked.connect(self._ask_rename)
        self.delete_button.clicked.connect(lambda: self.delete(self.combo.currentText()))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.combo, 1)
        for b in (self.save_button, self.rename_button, self.delete_button):
            row.addWidget(b)
        self.combo.currentTextChanged.connect(self._own_buttons)
        self.reload()

    def reload(self, select: str | None = None) -> None:
        """List the presets again; ``select`` one without loading it (it is what the controls say)."""
        from accompanist.presets import list_presets

        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItem(NONE)
        self.combo.addItems(list(list_presets()))
        self.combo.setCurrentText(select or NONE)
        self.combo.blockSignals(False)
        self._own_buttons(self.combo.currentText())

    def own(self, name: str) -> bool:
        """Is ``name`` the musician's (theirs to rename and delete), not one that ships?"""
        from accompanist.presets import SHIPPED, list_presets

        path = list_presets().get(name)
        return path is not None and path.parent != SHIPPED

    def _own_buttons(self, name: str) -> None:
        mine = self.own(name)
        self.rename_button.setEnabled(mine)
        self.delete_button.setEnabled(mine)

    # --- the three verbs (the buttons ask, then call these; tests call them directly) -------------

    def save(self, name: str, description: str, replace: bool = False) -> bool:
        from accompanist.presets import save_preset, settings_to_preset

        name = name.strip()
        settings = settings_to_preset(self._settings())
        return self._attempt(
            lambda: save_preset(name, description.strip(), settings, replace),
            lambda path: f"preset {name} saved to {path}",
            name,
        )

    def rename(self, old: str, new: str) -> bool:
        from accompanist.presets import rename_preset

        new = new.strip()
        return self._attempt(lambda: rename_preset(old, new), lambda _: f"preset {old} renamed {new}", new)

    def delete(self, name: str) -> bool:
        from accompanist.presets import delete_preset

        return self._attempt(lambda: delete_preset(name), lambda _: f"preset {name} deleted", None)

    def _attempt(self, act: Callable[[], object], done: Callable[[object], str], select: str | None) -> bool:
        """Do one verb: refused, its one line is said and nothing changes; done, it is said and
        the list is read again with ``select`` chosen."""
        try:
            got = act()
        except AccompanistError as exc:
            self._say(str(exc), error=True)
            return False
        self._say(done(got))
        self.reload(select=select)
        return True

    def _ask_save(self) -> None:
        name, ok = QInputDialog.getText(self, "Save preset", "Name:")
        if not ok or not name.strip():
            return
        description, ok = QInputDialog.getText(self, "Save preset", "Description (what it is for):")
        if ok:
            self.save(name, description)

    def _ask_rename(self) -> None:
        old = self.combo.currentText()
        new, ok = QInputDialog.getText(self, "Rename preset", f"New name for {old}:", text=old)
        if ok and new.strip() and new.strip() != old:
            self.rename(old, new)
