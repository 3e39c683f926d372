"""MIDI learn in the panel (pytest-qt, offscreen), on a real engine through real JACK ports: a
knob and a pad learned, played, kept in a preset, cleared."""

from __future__ import annotations

import subprocess
import time

import mido
import pytest
from helpers import TINY_DUET
from PyQt6.QtCore import Qt

from accompanist.live.engine import Settings
from accompanist.live.ports import open_output


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_midi_learn_in_the_panel_maps_a_knob_and_a_pad_that_then_play_it(qtbot, tmp_path, monkeypatch):
    from accompanist.presets import load_preset
    from accompanist.ui.panel import Panel

    monkeypatch.setenv("ACCOMPANIST_PRESETS", str(tmp_path / "presets"))
    panel = Panel(
        Settings(model=TINY_DUET, api="jack", record=tmp_path / "s.mid", client_name="panel", seed=0, bpm=240)
    )
    qtbot.addWidget(panel)
    panel.show()
    midi = panel.midi
    assert not midi.learn_buttons["temperature"].isEnabled()  # learning listens on the input: start first
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "playing" in panel.status.text(), timeout=5000)
    player = open_output("virtual", api="jack", client_name="player")
    try:
        subprocess.run(["jack_connect", "player-out:out", "panel-in:in"], check=True)
        time.sleep(0.3)
        qtbot.mouseClick(panel.midi_button, Qt.MouseButton.LeftButton)
        assert midi.isVisible()
        qtbot.mouseClick(midi.learn_buttons["temperature"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "learning temperature" in panel.log.toPlainText(), timeout=2000)
        player.send(mido.Message("note_on", note=60, velocity=80))  # a note: a knob does not learn it
        player.send(mido.Message("control_change", control=22, value=10))
        qtbot.waitUntil(lambda: midi.mapped["temperature"].text() == "cc:22", timeout=2000)
        assert panel.base.controls == ["temperature=cc:22"] and "cc 22 is now temperature" in panel.log.toPlainText()
        player.send(mido.Message("note_off", note=60))
        player.send(mido.Message("control_change", control=22, value=127))
        qtbot.waitUntil(lambda: panel.engine.temperature == 3.0, timeout=2000)
        qtbot.waitUntil(lambda: panel.temperature.value() == 300, timeout=2000)  # the slider follows the knob

        qtbot.mouseClick(midi.learn_buttons["panic"], Qt.MouseButton.LeftButton)
        player.send(mido.Message("note_on", note=36, velocity=100))
        player.send(mido.Message("note_off", note=36))
        qtbot.waitUntil(lambda: midi.mapped["panic"].text() == "note:36", timeout=2000)
        time.sleep(0.1)
        player.send(mido.Message("note_on", note=36, velocity=100))  # the pad, now a panic
        player.send(mido.Message("note_off", note=36))
        qtbot.waitUntil(lambda: "note 36: panic" in panel.log.toPlainText(), timeout=2000)

        assert panel.presets.save("pads", "a knob and a pad")
        assert load_preset("pads").settings["controls"] == ["temperature=cc:22", "panic=note:36"]
        qtbot.mouseClick(midi.forget_buttons["temperature"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: midi.mapped["temperature"].text() == "-", timeout=2000)
        assert panel.engine.settings.controls == ["panic=note:36"] and panel.base.controls == ["panic=note:36"]
    finally:
        panel.stop()
        player.close()
    song = mido.MidiFile(tmp_path / "s.mid")
    played = next(t for t in song.tracks if any(x.type == "track_name" and x.name == "player" for x in t))
    assert [x.note for x in played if x.type == "note_on" and x.velocity] == [60]  # the pad is not the player's
    assert not [x for x in played if x.type == "control_change" and x.control == 22]
