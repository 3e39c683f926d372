"""The panel following a DAW's clock through real JACK ports: it waits for the DAW, then shows
bar, beat and the DAW's tempo, and says when the DAW stops."""

from __future__ import annotations

import subprocess
import time

import mido
import pytest
from helpers import TINY_DUET

from accompanist.live.engine import Settings
from accompanist.live.ports import open_output

DAW_BPM = 100.0
TICK = 60.0 / DAW_BPM / 24


def play(daw, qtbot, ticks: int, label) -> set[str]:
    """Start, then ``ticks`` MIDI clock ticks at DAW_BPM (24 a quarter); returns what ``label``
    showed meanwhile."""
    daw.send(mido.Message("start"))
    t0, seen = time.perf_counter(), set()
    for i in range(ticks):
        while time.perf_counter() < t0 + i * TICK:
            qtbot.wait(1)  # the panel's timer keeps reading the engine while the DAW plays
            seen.add(label.text())
        daw.send(mido.Message("clock"))
    return seen


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_the_panel_waits_for_the_daws_clock_then_follows_its_bars_and_tempo(qtbot, tmp_path):
    from accompanist.ui.panel import Panel

    panel = Panel(
        Settings(model=TINY_DUET, api="jack", clock="external", client_name="follow", record=tmp_path / "d.mid")
    )
    qtbot.addWidget(panel)
    panel.show()
    daw = open_output("virtual", api="jack", client_name="daw")
    try:
        panel.start_button.click()
        qtbot.waitUntil(lambda: panel.engine is not None, timeout=5000)
        subprocess.run(["jack_connect", "daw-out:out", "follow-in:in"], check=True)
        qtbot.wait(400)
        assert "waiting for the DAW's clock" in panel.where.place.text()  # nothing moves before Start
        assert panel.steps == 0 and not panel.bpm.isEnabled()  # the DAW sets the tempo

        seen = play(daw, qtbot, 24 * 4 * 2, panel.where.place)  # two bars of 4/4
        assert any(t.startswith("bar 2") for t in seen), seen  # (the grid may close the bar first)
        shown = panel.where.clock_line.text()
        assert shown.startswith("DAW ") and float(shown.split()[1]) == pytest.approx(DAW_BPM, rel=0.03), shown

        daw.send(mido.Message("stop"))
        qtbot.waitUntil(lambda: "the DAW stopped" in panel.where.place.text(), timeout=2000)
        assert panel.where.clock_line.text() == ""
        assert panel.engine is not None  # still following: the DAW may play again

        seen = play(daw, qtbot, 24 * 4, panel.where.place)  # plays again, then its ticks cease (it crashed)
        assert any(t.startswith("bar 1") for t in seen), seen
        qtbot.waitUntil(lambda: "clock went silent" in panel.where.place.text(), timeout=3000)
    finally:
        panel.close()
        daw.close()
