"""The panel's piano roll and its 'where am I' line: what they draw, read from the roll's model,
fed by hand and by a real engine playing through JACK."""

from __future__ import annotations

import re
import subprocess
import time

import mido
import numpy as np
import pytest
from helpers import TINY_BI
from PyQt6.QtCore import Qt

from accompanist.live.engine import Settings
from accompanist.live.ports import open_output
from accompanist.music import roll
from accompanist.ui.roll_model import RollModel

STEP = 0.125  # seconds a 16th at 120 bpm


def step(k: int) -> dict:
    return {"type": "step", "step": k, "at": k * STEP, "seconds": STEP}


def test_notes_land_on_the_steps_of_their_times_and_old_ones_scroll_away():
    m = RollModel()
    m.feed(step(0))
    m.feed({"type": "note_in", "note": 60, "velocity": 90, "t": 1 * STEP})  # struck at step 1
    m.feed({"type": "note_out", "note": 48, "velocity": 80, "t": 1 * STEP + 0.02})
    m.feed(step(3))
    m.feed({"type": "note_in", "note": 60, "velocity": 0, "t": 3.5 * STEP})  # released halfway into step 3
    assert [(n.pitch, n.start, n.end) for n in m.player] == [(60, 1.0, 3.5)]
    assert m.answer[0].pitch == 48 and m.answer[0].end is None  # still sounding
    assert m.bar_and_beat() == (1, 2)  # step 4 sounds: bar 1, beat 2
    for k in range(4, 80):  # five bars on: the released note has scrolled out, the held one stays
        m.feed(step(k))
    assert m.player == [] and [n.pitch for n in m.answer] == [48]


def test_a_planned_pass_is_drawn_ahead_as_ghosts_until_it_sounds():
    m = RollModel()
    plan = roll.empty(16)
    plan[4:8, roll.FRAME, 64 - roll.PITCH_LO] = 1
    plan[4, roll.ONSET, 64 - roll.PITCH_LO] = 1
    m.feed(step(15))
    m.feed({"type": "pass", "index": 0, "next_step": 16, "plan": plan})
    assert m.passes == [16]
    assert [(g.pitch, g.start, g.end) for g in m.ghosts] == [(64, 20, 24)]
    m.feed(step(19))  # step 20 begins: the ghost is a real note now, no longer drawn ahead
    assert m.ghosts == []
    m.feed({"type": "planned", "step": 21, "struck": [67, 71]})  # duet: the next step's answer
    assert sorted(g.pitch for g in m.ghosts) == [67, 71]
    m.feed({"type": "settings", "mode": "duet"})
    assert m.ghosts == [] and m.passes == []


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_the_panel_draws_both_parts_the_planned_pass_and_where_the_player_is(qtbot, tmp_path):
    from accompanist.ui.panel import Panel

    panel = Panel(
        Settings(
            mode="loop", model=TINY_BI, bars=1, api="jack", record=tmp_path / "r.mid", client_name="rollp", bpm=240
        )
    )
    qtbot.addWidget(panel)
    panel.show()
    # loop mode: its lock, refresh and clear are offered, the duet's controls are not
    assert panel.lock_button.isVisible() and panel.bars.isEnabled()
    assert not panel.max_notes.isEnabled() and not panel.listen.isEnabled() and not panel.end_call_button.isVisible()
    assert panel.start()
    player = open_output("virtual", api="jack", client_name="rollplayer")
    subprocess.run(["jack_connect", "rollplayer-out:out", "rollp-in:in"], check=True)
    time.sleep(0.2)
    places = set()
    for i in range(48):  # three bars of 16ths at 240 bpm
        player.send(mido.Message("note_on", note=60 + (i * 2) % 7, velocity=90))
        qtbot.wait(55)
        player.send(mido.Message("note_off", note=60 + (i * 2) % 7))
        qtbot.wait(7)
        places.add(panel.where.place.text())
    qtbot.waitUntil(lambda: bool(panel.roll.model.ghosts and panel.roll.model.answer), timeout=4000)
    m = panel.roll.model
    assert {n.pitch for n in m.player} <= {60 + (i * 2) % 7 for i in range(48)} and m.player
    assert m.passes and all(g.start >= m.passes[-1] for g in m.ghosts)  # drawn ahead, from the pass line
    bars = {re.match(r"bar (\d+)", p).group(1) for p in places if p.startswith("bar")}
    assert len(bars) >= 3, places  # the bar advances with the clock
    assert any("pass" in p for p in places)
    assert panel.roll.frames > 10  # it repaints while playing
    shot = tmp_path / "roll.png"
    assert panel.roll.grab().save(str(shot))

    qtbot.waitUntil(lambda: panel.score.harmony["consonance"] is not None, timeout=3000)
    assert panel.score.model_ms and "median" in panel.score.timing.text()

    panel.mode.setCurrentText("duet")  # the duet's controls come, the loop's go
    assert panel.max_notes.isEnabled() and not panel.lock_button.isVisible() and not panel.bars.isEnabled()
    at_change = panel.steps
    qtbot.waitUntil(lambda: panel.score.since >= at_change, timeout=3000)  # meter and scorecard start again
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    player.close()
    assert panel.where.place.text() == "stopped"


def test_ghost_notes_of_a_plan_keep_their_lengths():
    m = RollModel()
    plan = np.zeros((8, 2, roll.N_PITCHES), np.uint8)
    plan[0:2, roll.FRAME, 10] = 1
    plan[0, roll.ONSET, 10] = 1
    plan[2:8, roll.FRAME, 20] = 1
    plan[2, roll.ONSET, 20] = 1
    m.feed(step(7))
    m.feed({"type": "pass", "index": 0, "next_step": 8, "plan": plan})
    assert sorted((g.pitch, g.start, g.end) for g in m.ghosts) == [
        (10 + roll.PITCH_LO, 8, 10),
        (20 + roll.PITCH_LO, 10, 16),
    ]


def test_the_scorecard_measures_the_last_bars_against_bachs_bands(qtbot):
    from accompanist.ui.scorecard import Scorecard

    card = Scorecard()
    qtbot.addWidget(card)
    m = RollModel()
    m.feed(step(-1))
    for beat in range(20):  # five bars of C, E, G, E in quarters, over C and E held below
        m.feed({"type": "note_in", "note": (60, 64, 67, 64)[beat % 4], "velocity": 90, "t": beat * 4 * STEP})
        m.feed({"type": "note_in", "note": (60, 64, 67, 64)[beat % 4], "velocity": 0, "t": (beat * 4 + 3) * STEP})
    for p in (48, 52):
        m.feed({"type": "note_out", "note": p, "velocity": 80, "t": 0.0})
    m.feed(step(63))
    fig = card.measure(m)
    assert fig["consonance"] == 1.0 and fig["in_key"] == 1.0 and fig["crossing"] == 0.0
    green, amber = "2a8a3a", "c98a00"
    assert green in card.chips["in_key"].styleSheet() and green in card.chips["crossing"].styleSheet()
    assert amber in card.chips["consonance"].styleSheet()  # all consonant: a toy's, above Bach's band
    m.feed({"type": "note_out", "note": 73, "velocity": 80, "t": 64 * STEP})  # C sharp above the tune
    m.feed(step(79))
    fig = card.measure(m)
    assert fig["crossing"] > 0.03 and amber in card.chips["crossing"].styleSheet()


def test_in_respond_mode_the_scorecard_reads_the_answer_against_the_calls_key(qtbot):
    from accompanist.ui.scorecard import Scorecard

    card = Scorecard()
    qtbot.addWidget(card)
    card.reset(mode="respond")
    assert card.chips["consonance"].isHidden() and card.chips["crossing"].isHidden()
    m = RollModel()
    m.feed(step(-1))
    for beat, p in enumerate((60, 64, 67, 71, 72, 67, 64, 60)):  # a call of two bars in C major
        m.feed({"type": "note_in", "note": p, "velocity": 90, "t": beat * 4 * STEP})
        m.feed({"type": "note_in", "note": p, "velocity": 0, "t": (beat * 4 + 3) * STEP})
    for beat, p in enumerate((67, 69, 71, 72, 74, 72, 71, 66)):  # the answer, one F sharp in eight
        m.feed({"type": "note_out", "note": p, "velocity": 80, "t": (32 + beat * 4) * STEP})
        m.feed({"type": "note_out", "note": p, "velocity": 0, "t": (35 + beat * 4) * STEP})
    m.feed(step(63))
    fig = card.measure(m)
    assert fig == {"in_key": 7 / 8}
    assert "c98a00" in card.chips["in_key"].styleSheet()  # under the 90 % band: amber


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_the_keys_do_what_they_say_and_a_keyboard_plugged_in_later_is_offered(qtbot, tmp_path):
    from accompanist.ui.panel import Panel

    panel = Panel(Settings(mode="loop", model=TINY_BI, api="jack", record=tmp_path / "k.mid", client_name="keys"))
    qtbot.addWidget(panel)
    panel.show()
    keyboard = open_output("virtual", api="jack", client_name="latecomer")  # plugged in after launch
    try:
        assert panel.ports.refresh_button.isEnabled()
        qtbot.mouseClick(panel.ports.refresh_button, Qt.MouseButton.LeftButton)
        found = [panel.inp.itemText(i) for i in range(panel.inp.count())]
        assert any("latecomer" in name for name in found), found
    finally:
        keyboard.close()
    # a button clicked with the mouse keeps no focus: Space is start/stop, never "that button again"
    with qtbot.waitActive(panel):  # keys go to the active window, as a player's do
        panel.activateWindow()
    qtbot.keyClick(panel, Qt.Key.Key_Space)  # start
    qtbot.waitUntil(lambda: panel.engine is not None, timeout=3000)
    assert not panel.ports.refresh_button.isEnabled()  # ports are set before start
    qtbot.keyClick(panel, Qt.Key.Key_L)
    assert panel.engine.locked and panel.lock_button.text() == "Locked"
    before = panel.temperature.value()
    qtbot.keyClick(panel, Qt.Key.Key_Up)
    assert panel.temperature.value() == before + 10  # one step, the terminal's: 0.1
    qtbot.keyClick(panel, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: "every note released" in panel.log.toPlainText(), timeout=2000)
    qtbot.keyClick(panel, Qt.Key.Key_Space)  # stop
    assert panel.engine is None


def test_in_respond_mode_the_roll_widens_to_hold_a_call_and_its_answer():
    m = RollModel(longest=3 + 1 + 3 + 1)
    m.feed({"type": "started", "mode": "respond"})
    m.feed(step(15))
    for beat in range(12):  # a call of three bars from bar 2, quarter notes
        t = (16 + beat * 4) * STEP
        m.feed({"type": "note_in", "note": 60 + beat % 5, "velocity": 90, "t": t})
        m.feed({"type": "note_in", "note": 60 + beat % 5, "velocity": 0, "t": t + 3 * STEP})
        m.feed(step(16 + beat * 4 + 3))
    assert m.call_from == 16 and m.bars == 4  # the call grows: the window with it (three bars and one ahead)
    m.feed({"type": "response", "step": 64, "call_bars": 3, "answer_bars": 3})
    assert m.bars == 7 and m.call_from is None
    for k in range(64, 112):  # the answer's three bars
        m.feed(step(k))
        if k % 4 == 0:
            m.feed({"type": "note_out", "note": 72, "velocity": 80, "t": k * STEP})
            m.feed({"type": "note_out", "note": 72, "velocity": 0, "t": (k + 2) * STEP})
    first, last = m.window()
    assert first <= 16 and min(n.start for n in m.player) == 16 and len(m.player) == 12  # the whole call
    assert all(first <= n.start < last for n in m.answer) and len(m.answer) == 12  # and all its answer
    m.feed({"type": "clear"})
    assert m.bars == 4
    duet = RollModel(longest=20)  # other modes keep their four bars
    duet.feed(step(200))
    assert duet.bars == 4


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_respond_mode_has_its_controls_and_the_roll_shows_a_three_bar_call_with_its_answer(qtbot, tmp_path):
    from helpers import TINY_MELODY, TINY_VRASH

    from accompanist.limits import LIMITS
    from accompanist.ui.mode_controls import AS_THE_CALL
    from accompanist.ui.panel import Panel

    panel = Panel(
        Settings(mode="respond", model=TINY_MELODY, api="jack", record=tmp_path / "c.mid", client_name="resp", bpm=240)
    )
    qtbot.addWidget(panel)
    panel.resize(1280, 760)
    panel.show()
    for box, name in ((panel.call_bars, "call_bars"), (panel.answer_bars, "answer_bars")):
        assert box.isEnabled() and box.maximum() == LIMITS[name].span()[1]  # the table's ranges
    assert panel.answer_bars.text() == AS_THE_CALL and panel.settings().answer_bars is None
    assert (panel.variation.minimum(), panel.variation.maximum()) == (LIMITS["variation"].lo, LIMITS["variation"].hi)
    assert not panel.variation.isEnabled()  # a melody LSTM takes no variation
    assert not panel.bars.isEnabled() and not panel.max_notes.isEnabled()
    panel.call_bars.setValue(3)
    panel.answer_bars.setValue(3)
    assert panel.start(), panel.log.toPlainText()
    engine = panel.engine
    assert (engine.settings.call_bars, engine.settings.answer_bars) == (3, 3)
    events: list[dict] = []
    panel.pump.arrived.connect(events.append)
    player = open_output("virtual", api="jack", client_name="respplayer")
    subprocess.run(["jack_connect", "respplayer-out:out", "resp-in:in"], check=True)
    time.sleep(0.2)
    for beat in range(12):  # three bars of quarter notes at 240 bpm: the call, cut at its 3 bars
        player.send(mido.Message("note_on", note=(67, 71, 74, 72)[beat % 4], velocity=90))
        qtbot.wait(180)
        player.send(mido.Message("note_off", note=(67, 71, 74, 72)[beat % 4]))
        qtbot.wait(70)
    qtbot.waitUntil(lambda: any(e["type"] == "response" for e in events), timeout=5000)
    answer = next(e for e in events if e["type"] == "response")
    assert answer["answer_bars"] == 3 and "with 3 bars" in panel.log.toPlainText()
    end = answer["step"] + 3 * 16
    qtbot.waitUntil(lambda: panel.steps >= end, timeout=6000)
    m = panel.roll.model
    first, last = m.window()
    call = [n for n in m.player if n.start < answer["step"]]
    answered = [n for n in m.answer if n.start >= answer["step"]]
    assert call and answered and m.bars >= 7
    assert first <= min(n.start for n in call) and all(n.start < last for n in answered)  # one window
    assert len(call) >= 11  # the call's notes are all still there
    shot = tmp_path / "respond.png"
    assert panel.grab().save(str(shot))

    panel.answer_bars.setValue(panel.answer_bars.minimum())  # while playing: as long as the call again
    qtbot.waitUntil(lambda: engine.settings.answer_bars is None, timeout=3000)
    panel.model.setCurrentText(TINY_VRASH)  # a VRASH model: its variation can be set
    qtbot.waitUntil(lambda: engine.card.name == TINY_VRASH, timeout=3000)
    assert panel.variation.isEnabled()
    panel.variation.setValue(0.3)
    qtbot.waitUntil(lambda: engine.settings.variation == 0.3, timeout=3000)
    panel.stop()
    player.close()
