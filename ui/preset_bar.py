"""The panel's presets: pick one, save what the controls say as a new one (name and description
asked in one dialog, the preset picked offered as where to start; into the musician's own folder,
never over a shipped preset), rename or delete one's own. What is saved is what the panel plays,
the program shown included, even where it is the model card's."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QPushButton,
    QWidget,
)

from accompanist.errors import AccompanistError

NONE = "(no preset)"


class PresetBar(QWidget):
    def __init__(self, settings: Callable[[], object], say: Callable[..., None], parent: QWidget | None = None):
        super().__init__(parent)
        self._settings, self._say = settings, say
        self.dialog: SaveDialog | None = None  #: the Save as… dialog while it is open
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
        self.dialog = SaveDialog(*self._picked(), parent=self)
        if self.dialog.exec():  # accepted
            self.save(self.dialog.name.text(), self.dialog.description.text())
        self.dialog = None

    def _picked(self) -> tuple[str, str]:
        """The preset picked (name, description) to start from; nothing when it is none or unreadable."""
        from accompanist.presets import load_preset

        name = self.combo.currentText()
        if name == NONE:
            return "", ""
        try:
            return name, load_preset(name).description
        except AccompanistError:
            return name, ""

    def _ask_rename(self) -> None:
        old = self.combo.currentText()
        new, ok = QInputDialog.getText(self, "Rename preset", f"New name for {old}:", text=old)
        if ok and new.strip() and new.strip() != old:
            self.rename(old, new)


class SaveDialog(QDialog):
    """Name and description of a preset to save, in one dialog; Save only once it has a name."""

    def __init__(self, name: str = "", description: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Save preset")
        self.name = QLineEdit(name)
        self.name.setPlaceholderText("letters, digits, spaces, - _ .")
        self.description = QLineEdit(description)
        self.description.setPlaceholderText("what it is for")
        self.description.setMinimumWidth(320)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("name", self.name)
        form.addRow("description", self.description)
        form.addRow(self.buttons)
        self.name.textChanged.connect(self._can_save)
        self._can_save(name)
        self.name.selectAll()

    def _can_save(self, text: str) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(bool(text.strip()))
