"""Presets from the window (save, load, rename, delete, refusals) and the set-up the panel
remembers from one launch to the next. No engine runs: these are the panel's own controls."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import TINY_BI

from accompanist.live.engine import Settings
from accompanist.presets import user_folder


def shown(panel) -> dict:
    s = panel.settings()
    return {k: getattr(s, k) for k in ("mode", "model", "bars", "bpm", "channel", "program", "temperature", "inp")}


@pytest.fixture
def panel(qtbot, use_tiny_models):
    from accompanist.ui.panel import Panel

    p = Panel(Settings(mode="loop", model=TINY_BI, bars=3, bpm=90, channel=4, program=40, temperature=0.8))
    qtbot.addWidget(p)
    return p


def test_a_preset_saved_from_the_window_loads_back_the_same_set_up(panel):
    before = shown(panel)
    assert panel.presets.save("my loop", "three bars of viola")
    path = user_folder() / "my loop.json"
    body = json.loads(path.read_text())
    assert body["description"] == "three bars of viola"
    assert body["settings"]["channel"] == 5 and body["settings"]["inp"] == "virtual"  # 1-16, ports by name
    assert panel.preset.currentText() == "my loop" and panel.presets.delete_button.isEnabled()
    panel.bars.setValue(5)
    panel.bpm.setValue(140)
    panel.program.setValue(0)
    panel.preset.setCurrentText("(no preset)")
    panel.preset.setCurrentText("my loop")  # picked again: the controls go back
    assert shown(panel) == before


def test_a_preset_is_never_saved_over_a_shipped_one_nor_under_a_bad_name(panel):
    assert not panel.presets.save("duet-strings", "mine now")
    assert "ships with accompanist" in panel.log.toPlainText()
    assert not (user_folder() / "duet-strings.json").exists()
    assert not panel.presets.save("../escape", "out of the folder")
    assert "cannot name a preset" in panel.log.toPlainText()
    assert not any(user_folder().parent.glob("escape*"))
    panel.preset.setCurrentText("duet-strings")  # a shipped preset: not the musician's to rename or delete
    assert not panel.presets.rename_button.isEnabled() and not panel.presets.delete_button.isEnabled()


def test_own_presets_are_renamed_and_deleted(panel):
    assert panel.presets.save("first", "")
    assert panel.presets.rename("first", "second")
    assert not (user_folder() / "first.json").exists() and (user_folder() / "second.json").exists()
    assert panel.preset.currentText() == "second"
    assert not panel.presets.save("second", "again")  # taken: said, nothing replaced
    assert panel.presets.delete("second")
    assert "second" not in [panel.preset.itemText(i) for i in range(panel.preset.count())]


def test_a_malformed_user_preset_says_why_and_changes_nothing(panel):
    folder = user_folder()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "broken.json").write_text('{"description": "x", "settings": {"bars": "many"}}')
    panel.presets.reload()
    before = shown(panel)
    panel.preset.setCurrentText("broken")
    assert "'bars' is 'many'; it takes int" in panel.log.toPlainText()
    assert shown(panel) == before
    panel.apply_preset("no-such-preset")  # said in the window, without advice for a terminal
    said = panel.log.toPlainText().splitlines()[-1]
    assert "no preset named 'no-such-preset'" in said and "accompanist presets" not in said


def test_the_set_up_survives_closing_and_opening_the_window(qtbot, use_tiny_models, tmp_path):
    from accompanist.ui.memory import config_file, last_session
    from accompanist.ui.panel import Panel

    first = Panel(Settings(mode="loop", model=TINY_BI, bars=4, bpm=77, channel=7, program=73))
    qtbot.addWidget(first)
    first.show()
    first.close()  # remembered on closing
    remembered, problem = last_session()
    assert problem is None and remembered["bars"] == 4 and remembered["channel"] == 7
    second = Panel(Settings(**remembered))
    qtbot.addWidget(second)
    assert (second.bars.value(), second.bpm.value(), second.channel.value(), second.program.value()) == (4, 77, 8, 73)
    assert second.mode.currentText() == "loop" and second.model.currentText() == TINY_BI
    # a remembered set-up that no longer works (its model gone) is said, and not used
    from PyQt6.QtCore import QSettings

    store = QSettings(str(config_file()), QSettings.Format.IniFormat)
    store.setValue("last_session", json.dumps({"mode": "loop", "model": "gone-model"}))
    store.sync()
    remembered, problem = last_session()
    assert remembered == {} and "gone-model" in problem


def test_ui_starts_from_the_remembered_set_up_under_the_flags_given(use_tiny_models):
    import argparse

    from accompanist.cli.play import _live_options, _live_settings

    p = argparse.ArgumentParser()
    _live_options(p)
    remembered = {"mode": "loop", "model": TINY_BI, "bars": 4, "bpm": 77.0, "channel": 8}
    s = _live_settings(p.parse_args(["--bpm", "100"]), remembered)
    assert (s.mode, s.model, s.bars, s.bpm, s.channel) == ("loop", TINY_BI, 4, 100.0, 8)
    s = _live_settings(p.parse_args(["--preset", "duet-strings"]), remembered)
    assert s.mode == "duet" and s.model == "duet-chorale" and s.bars == 4  # the preset's mode: its model
    assert Path(os.environ["ACCOMPANIST_CONFIG"]).name == "config"  # tests never touch the real one


def test_the_answer_and_the_click_on_one_channel_is_said_at_once_and_start_waits(panel):
    panel.channel.setValue(5)
    panel.sound.click_channel.setValue(5)
    assert not panel.start_button.isEnabled()
    assert not panel.sound.clash.isHidden() and "share channel 5" in panel.sound.clash.text()
    panel.sound.click_channel.setValue(10)
    assert panel.start_button.isEnabled() and panel.sound.clash.isHidden()


def _save_as(qtbot, panel, name: str | None = None) -> tuple[str, str]:
    """Click Save as…, and in its one dialog keep (or give) the name and Save; what it offered."""
    from PyQt6.QtCore import Qt, QTimer
    from PyQt6.QtWidgets import QDialogButtonBox

    offered = []

    def answer() -> None:
        d = panel.presets.dialog
        offered.append((d.name.text(), d.description.text()))
        if name is not None:
            d.name.setText(name)
        d.buttons.button(QDialogButtonBox.StandardButton.Save).click()

    QTimer.singleShot(0, answer)
    qtbot.mouseClick(panel.presets.save_button, Qt.MouseButton.LeftButton)
    return offered[0]


def test_save_as_asks_name_and_description_at_once_and_keeps_the_program(qtbot, use_tiny_models):
    from accompanist.presets import load_preset
    from accompanist.ui.panel import Panel

    panel = Panel(Settings(mode="loop", model=TINY_BI))  # its program follows the model's card
    qtbot.addWidget(panel)
    shown_program = panel.program.value()
    assert _save_as(qtbot, panel, "card program") == ("", "")  # no preset picked: nothing to start from
    assert json.loads((user_folder() / "card program.json").read_text())["settings"]["program"] == shown_program

    panel.preset.setCurrentText("loop-alto")  # a preset picked: its name and description offered
    alto = load_preset("loop-alto")
    assert _save_as(qtbot, panel, "my alto") == ("loop-alto", alto.description)
    mine = load_preset("my alto")
    assert mine.description == alto.description and mine.settings["program"] == alto.settings["program"] == 71
    panel.program.setValue(0)  # a program chosen since ...
    panel.preset.setCurrentText("(no preset)")
    panel.preset.setCurrentText("my alto")
    assert panel.program.value() == 71  # ... gives way to the preset's
