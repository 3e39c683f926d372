"""A musician's second hour with the live engine, through real JACK ports: two accompanists side
by side, a DAW's controller sweep that is no feedback loop, a keyboard on the answer's channel,
program changes in the recording, and messages a musician can act on."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import mido
import pytest
from helpers import TINY_DUET, TINY_DUET_LISTEN, TINY_MELODY
from jack_rig import BPM, Rig, drain

from accompanist.errors import AccompanistError
from accompanist.live.engine import Engine, Settings, card_for
from accompanist.live.terminal import BarLines, describe, help_line

pytestmark = pytest.mark.usefixtures("jack_server", "use_tiny_models")


def test_a_second_accompanist_with_a_name_in_use_is_told_and_one_with_its_own_name_plays(tmp_path):
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET)
    try:
        with pytest.raises(AccompanistError) as err:
            Engine(
                Settings(mode="duet", model=TINY_DUET, api="jack", client_name="acc", record=tmp_path / "b.mid")
            ).start()
        line = str(err.value)
        assert "\n" not in line and "acc-in" in line and "--name acc2" in line
        second = Engine(
            Settings(mode="duet", model=TINY_DUET, api="jack", client_name="acc2", record=tmp_path / "c.mid")
        )
        events = second.subscribe()
        with second:
            started = next(e for e in drain(events) if e["type"] == "started")
            ports = subprocess.run(["jack_lsp"], capture_output=True, text=True).stdout.split()
            assert started["input"] == "acc2-in:in" and "acc2-in:in" in ports and "acc2-out:out" in ports
            assert "acc-in:in" in ports and not any(p.startswith("acc-in-01") for p in ports)
    finally:
        rig.stop()
    with pytest.raises(AccompanistError, match="name 'my accompanist'"):
        Engine(Settings(client_name="my accompanist"))


def test_a_daws_controller_sweep_is_no_feedback_loop_but_notes_on_the_answers_channel_are_said_with_the_fix(tmp_path):
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET)
    try:
        for ch in range(16):  # what a DAW sends at stop and locate
            rig.player.send(mido.Message("control_change", channel=ch, control=64, value=0))
            rig.player.send(mido.Message("control_change", channel=ch, control=123, value=0))
        time.sleep(0.3)
        assert not [e for e in drain(rig.events) if e["type"] == "warning"]
        ch = rig.engine.settings.channel
        for note in (60, 62):  # a keyboard set to the answer's channel
            rig.player.send(mido.Message("note_on", channel=ch, note=note, velocity=80))
            rig.player.send(mido.Message("note_off", channel=ch, note=note, velocity=0))
        time.sleep(0.3)
        got = drain(rig.events)
    finally:
        rig.stop()
    (warning,) = [e for e in got if e["type"] == "warning"]
    assert (
        f"channel {ch + 1}" in warning["text"] and "--channel" in warning["text"] and "--in-channel" in warning["text"]
    )
    bars = BarLines(16)
    lines = [line for e in got if (line := bars.feed(e))]
    if not lines:  # the bar had not ended yet: end it
        lines = [bars.feed({"type": "step", "step": 15, "count_in": False})]
    assert any("not heard: 2 notes on channel 2" in line for line in lines), lines


def test_the_recording_keeps_every_program_change_at_its_time(tmp_path):
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET, program=48)
    try:
        time.sleep(0.3)
        rig.engine.set(program=52)
        time.sleep(0.3)
        rig.engine.set(program=73)
        time.sleep(0.3)
    finally:
        rig.stop()
    answer = mido.MidiFile(tmp_path / "session.mid").tracks[2]
    programs = [m.program for m in answer if m.type == "program_change"]
    assert programs[0] == 48 and programs[-2:] == [52, 73]


def test_a_session_without_record_goes_to_the_users_sessions_folder_and_says_where(isolated_env):
    engine = Engine(Settings(mode="duet", model=TINY_DUET, api="jack", client_name="acc-rec", bpm=BPM))
    events = engine.subscribe()
    with engine:
        started = next(e for e in drain(events) if e["type"] == "started")
    where = Path(started["record"])
    assert where.parent == (isolated_env / "sessions").resolve() and where.is_file()


def test_messages_a_musician_can_act_on():
    line = describe({"type": "missed", "step": 84, "late_ms": 1.007})
    assert line.startswith("the answer for step 84 was 1.0 ms too late") and "=" not in line
    assert "e end the call" in help_line("respond") and "l lock" not in help_line("respond")
    assert "l lock" in help_line("loop") and "e end" not in help_line("duet")
    with pytest.raises(AccompanistError) as err:
        card_for("loop", TINY_MELODY)
    assert "loop mode runs seq2seq models: " in str(err.value) and "chorale-alto" in str(err.value)


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--no-midi-out"], "you will hear: nothing: no MIDI out and no synth (add --synth"),
        ([], "you will hear: nothing from accompanist itself: the answer goes out as MIDI"),
        (["--synth"], "but not your own notes (your keyboard or DAW sounds them; --monitor adds them)"),
        # the lag as it is at the port, and what a DAW's own compensation does to it (item 14)
        (
            ["--model", TINY_DUET_LISTEN, "--listen-ms", "25"],
            "answers leave acc-say-out:out 25 ms after each beat, to hear the note they answer; a DAW records "
            "them that late, less the input latency it makes up for itself",
        ),
    ],
)
def test_the_start_lines_say_what_will_sound_and_how_to_change_it(tmp_path, flags, said):
    import os
    import signal
    import sys

    cmd = [sys.executable, "-m", "accompanist.cli", "live", "--api", "jack", "--model", TINY_DUET]
    cmd += ["--name", "acc-say", "--record", str(tmp_path / "s.mid"), *flags]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "Ctrl-C stops" in line or "keys:" in line:
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert any(said in line for line in lines), lines


def test_respond_says_the_bar_its_answer_starts_on(tiny_models):
    import numpy as np

    from accompanist.inference.cards import read_card
    from accompanist.inference.sampling_config import sampling_of
    from accompanist.live.respond_mode import RespondMode
    from accompanist.music import roll

    card = read_card(tiny_models / TINY_MELODY / "card.json")
    mode = RespondMode(card, sampling_of(card, temperature=1.0), 16, np.random.default_rng(0))
    said = []
    for k in range(16 * 6):
        step = roll.empty(1)[0]
        if 16 <= k < 48 and k % 4 == 0:  # a two-bar call from bar 2, then silence
            step[:, 60 + k % 12 - roll.PITCH_LO] = 1
        reply = mode.closed(k, k, k % 16, step, roll.empty(1)[0])
        if reply.say and reply.say[0] == "response":  # (each bar of the open call says so too)
            said.append(reply.say[1])
    assert said and said[0]["bar"] == 5 and said[0]["step"] == 64  # after the silent bar 4
    assert "from bar 5" in describe({"type": "response", "answer_ms": 2.0, **said[0]})


def test_an_unknown_out_lists_no_port_of_accompanists_own(tmp_path):
    from accompanist.live.ports import open_output

    rig = Rig(tmp_path, mode="duet", model=TINY_DUET)  # its ports: acc-in:in, acc-out:out
    try:
        with pytest.raises(AccompanistError) as err:
            open_output("acc-in", api="jack", client_name="acc")
    finally:
        rig.stop()
    assert "no MIDI output port matches 'acc-in'" in str(err.value) and "acc-in:in" not in str(err.value)
