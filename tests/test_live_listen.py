"""The hearing duet through a real JACK server: the answer for step k waits its listen window
after boundary(k), hears what the player struck for step k by then, and sounds at boundary(k) + L."""

from __future__ import annotations

import time

import mido
import pytest
from helpers import TINY_DUET_LISTEN
from jack_rig import Rig, drain, no_stuck_notes, on_grid, sleep_to, start_engine

LISTEN_MS = 20.0


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_a_note_inside_the_listen_window_is_heard_by_its_step_and_one_after_it_is_not(tmp_path):
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET_LISTEN, temperature=3.0, listen_ms=LISTEN_MS)
    clock = rig.engine.clock
    k = clock.step_at(time.perf_counter()) + 4
    j = k + 8
    sleep_to(clock.boundary(k) + 0.005)  # 5 ms after the beat: inside the window
    rig.player.send(mido.Message("note_on", note=60, velocity=90))
    sleep_to(clock.boundary(k + 2))
    rig.player.send(mido.Message("note_off", note=60))
    sleep_to(clock.boundary(j) + LISTEN_MS / 1e3 + 0.005)  # 5 ms after the window closed
    rig.player.send(mido.Message("note_on", note=67, velocity=90))
    sleep_to(clock.boundary(j + 2))
    rig.player.send(mido.Message("note_off", note=67))
    rig.play(16)
    heard = rig.stop()
    events = drain(rig.events)
    answers = {e["step"]: e for e in events if e["type"] == "answer"}
    closed = {e["step"]: e for e in events if e["type"] == "step"}
    assert 60 in answers[k]["heard"]
    assert 67 not in answers[j]["heard"]
    assert 67 in closed[j]["heard"]  # the note still belongs to step j: the window missed it
    assert 67 in answers[j + 1]["heard"]  # and the next step's answer hears it held
    started = next(e for e in events if e["type"] == "started")
    assert started["listen_ms"] == LISTEN_MS
    assert on_grid(rig, heard, lag=LISTEN_MS / 1e3) > 3  # every answer sounds L after its beat
    no_stuck_notes(rig.sent)
    assert rig.engine.figures()["steps"] > 16


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_the_listen_window_changes_while_playing_and_zero_answers_before_the_beat(tmp_path):
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET_LISTEN, temperature=3.0, listen_ms=0.0)
    rig.play(16)
    rig.engine.set(listen_ms=LISTEN_MS)
    assert rig.engine.listen == pytest.approx(LISTEN_MS / 1e3)
    rig.play(16)
    rig.stop()
    no_stuck_notes(rig.sent)
    planned = [e for e in drain(rig.events) if e["type"] == "planned"]
    clock = rig.engine.clock
    lags = {round((e["at"] - clock.boundary(clock.step_at(e["at"] + 0.001))) * 1e3) for e in planned}
    assert lags == {0, round(LISTEN_MS)}


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_the_duet_waits_for_the_player_and_rests_when_the_player_rests(tmp_path):
    # temperature 3 on a tiny model: left to itself it would play almost every step
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET_LISTEN, temperature=3.0, listen_ms=LISTEN_MS)
    time.sleep(8.0)  # eight seconds, eight bars at 240 bpm, with nobody playing
    assert not [m for m in rig.sent if m.type == "note_on" and m.velocity and m.channel == 1]
    rig.play(16)
    played_to = time.perf_counter()
    time.sleep(3.0)  # the player rests for three bars
    heard = rig.stop()
    clock = rig.engine.clock
    answers = [(t, m) for t, m in rig.sent_at if m.type == "note_on" and m.velocity and m.channel == 1]
    assert answers, "the answer never came"
    # a bar (16 steps) after the last note the answer is silent: nothing struck after that
    rest_from = played_to + 16 * clock.step_seconds + 0.1
    assert all(t < rest_from for t, _ in answers), [t - played_to for t, _ in answers]
    # as it falls silent, All Notes Off on its channel: a note-off lost on the way ends there
    silent = [t for t, m in rig.sent_at if m.type == "control_change" and m.control == 123 and m.channel == 1]
    assert silent and answers[-1][0] < silent[0] < rest_from + 0.5, [t - played_to for t in silent]
    no_stuck_notes(rig.sent)
    assert heard is not None


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_terminal_keys_mean_what_they_say_in_duet_mode(tmp_path):
    from accompanist.live.terminal import key_action

    rig = Rig(tmp_path, mode="duet", model=TINY_DUET_LISTEN, temperature=0.1, listen_ms=LISTEN_MS)
    rig.play(8)
    for key in "lrc":
        assert "loop-mode key" in key_action(rig.engine, key)
    sent_before = len(rig.sent)
    assert key_action(rig.engine, "]") is None
    assert rig.engine.temperature == pytest.approx(0.2)
    assert key_action(rig.engine, "[") is None and key_action(rig.engine, "[") is None
    assert rig.engine.temperature == 0.0
    assert "stays 0" in key_action(rig.engine, "[")
    rig.stop()
    events = drain(rig.events)
    assert not [e for e in events if e["type"] in ("panic", "lock", "refresh", "clear")]
    assert [e["temperature"] for e in events if e["type"] == "settings"] == ["0.2", "0.1", "0.0"]
    # a temperature change sends no CC 123 and no program change: it is not a panic
    between = rig.sent[sent_before:]
    assert not [m for m in between if m.type == "program_change"]
    no_stuck_notes(rig.sent)


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_a_feedback_loop_is_said_once_and_the_answer_never_taken_for_the_player(tmp_path):
    import subprocess

    from accompanist.live.ports import list_ports

    player, engine, events = start_engine(
        tmp_path / "s.mid", mode="duet", model=TINY_DUET_LISTEN, temperature=3.0, inp="virtual", out="virtual",
        client_name="fb",
    )  # fmt: skip
    try:
        ports = list_ports("jack", own="fb")
        assert "fb-in:in" not in ports.outputs and "fb-out:out" not in ports.inputs  # never offered
        subprocess.run(["jack_connect", "player-out:out", "fb-in:in"], check=True)
        subprocess.run(["jack_connect", "fb-out:out", "fb-in:in"], check=True)  # the answer comes back
        time.sleep(0.2)
        for i in range(24):
            player.send(mido.Message("note_on", note=60 + i % 5, velocity=90))
            time.sleep(0.1)
            player.send(mido.Message("note_off", note=60 + i % 5))
    finally:
        engine.stop()
        player.close()
    got = drain(events)
    warnings = [e for e in got if e["type"] == "warning"]
    assert len(warnings) == 1 and "looped back" in warnings[0]["text"]
    assert any(e["type"] == "note_out" and e["velocity"] for e in got)
    heard = [e for e in got if e["type"] == "note_in"]
    assert heard and {e["note"] for e in heard} <= {60, 61, 62, 63, 64}
    song = mido.MidiFile(tmp_path / "s.mid")
    names = {next((x.name for x in t if x.type == "track_name"), ""): t for t in song.tracks}
    assert {m.channel for m in names["player"] if m.type == "note_on"} == {0}  # no answer notes in it


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_the_metronome_on_a_port_of_its_own_leaves_the_answers_port_clean(tmp_path):
    from helpers import Listener

    from accompanist.live.ports import open_input

    rig = Rig(tmp_path, mode="duet", model=TINY_DUET_LISTEN, temperature=3.0, metronome=True, click_out="virtual")
    clicks = Listener(open_input("acc-click-out", api="jack", client_name="click-ear"))
    try:
        rig.play(16)
    finally:
        heard = rig.stop()
        got = clicks.close()
    beat = [m for _, m in got if m.type == "note_on" and m.velocity]
    assert len(beat) >= 3 and {m.channel for m in beat} == {9}
    assert not [m for _, m in got if getattr(m, "channel", 9) != 9]  # only clicks on the click port
    assert not [m for _, m in heard if getattr(m, "channel", None) == 9]  # and none on the answer's
    no_stuck_notes(rig.sent)
