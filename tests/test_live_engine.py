"""The live engine through a real JACK server: a scripted player plays into the engine's input
port, a listener records what comes out of its output port, both on real MIDI ports."""

from __future__ import annotations

import json
import random
import subprocess
import threading
import time

import mido
import numpy as np
import pytest
from helpers import TINY_BI, TINY_DUET, Listener, run_cli
from jack_rig import Rig, drain, jack_inputs, no_stuck_notes, on_grid, start_engine, wait_connections, wait_for

from accompanist.errors import AccompanistError
from accompanist.live.engine import Engine, Settings
from accompanist.live.ports import find_port, list_ports, open_input, open_output
from accompanist.live.terminal import describe


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_duet_mode_answers_on_the_grid_and_records_both_parts(tmp_path):
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET, temperature=3.0)
    rig.play(48)
    end = time.monotonic() + 1.0  # the phrase's last step closes a margin after its last note-off
    while rig.engine.figures()["steps"] < 48 and time.monotonic() < end:
        time.sleep(0.01)
    heard = rig.stop()
    assert on_grid(rig, heard) > 5
    no_stuck_notes(rig.sent)
    assert any(m.type == "control_change" and m.control == 123 for _, m in heard)
    fig = rig.engine.figures()  # timing is measured by bench live, not asserted here
    assert fig["steps"] >= 48 and fig["missed_deadlines"] <= fig["steps"]
    song = mido.MidiFile(tmp_path / "session.mid")
    names = {next((x.name for x in t if x.type == "track_name"), ""): t for t in song.tracks}
    assert sum(1 for m in names["player"] if m.type == "note_on" and m.velocity) == 12
    assert sum(1 for m in names["accompaniment"] if m.type == "note_on" and m.velocity) > 5
    events = drain(rig.events)
    started = [e for e in events if e["type"] == "started"]
    assert started and started[0]["record"].endswith("session.mid")
    # what a panel draws: the player's notes, the answer planned and sent, each step's timing
    kinds = {e["type"] for e in events}
    assert {"note_in", "step", "answer", "planned", "note_out"} <= kinds
    struck = [n for e in events if e["type"] == "planned" for n in e["struck"]]
    out = [e["note"] for e in events if e["type"] == "note_out" and e["velocity"]]
    assert out and out == struck[: len(out)]


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_loop_mode_plays_each_pass_back_during_the_next(tmp_path):
    rig = Rig(tmp_path, mode="loop", model=TINY_BI, bars=1)
    rig.play(16 * 3)
    heard = rig.stop()
    assert on_grid(rig, heard) > 3
    no_stuck_notes(rig.sent)
    passes = [e for e in drain(rig.events) if e["type"] == "pass"]
    assert len(passes) >= 2
    assert all(p["lead_ms"] > 0 for p in passes)  # each pass harmonised before the next began


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_panic_model_switch_and_a_hostile_stream_leave_nothing_sounding(tmp_path):
    import rtmidi

    rig = Rig(tmp_path, mode="duet", model=TINY_DUET, temperature=3.0)
    raw = rtmidi.MidiOut(rtapi=rtmidi.API_UNIX_JACK)
    raw.open_virtual_port("raw")
    src = find_port("raw", list_ports("jack").inputs, "input")
    subprocess.run(["jack_connect", src, find_port("acc", [p for p in jack_inputs()], "input")], check=False)
    rng = random.Random(1)
    stop = threading.Event()

    failed: list[Exception] = []

    def hostile() -> None:
        try:
            play_hostile()
        except Exception as exc:  # the stream must run to the end, or the test proves less
            failed.append(exc)

    def play_hostile() -> None:
        while not stop.is_set():
            r = rng.random()
            if r < 0.3:
                raw.send_message([0x90, rng.randrange(128), rng.randrange(1, 128)])  # never released
            elif r < 0.4:
                raw.send_message([0xF0, 0x7D, 1, 2, 3, 0xF7])  # sysex
            elif r < 0.5:
                for _ in range(24):
                    raw.send_message([0xF8])  # a burst of clock
            elif r < 0.6:
                raw.send_message([0xB0, 64, rng.choice([0, 127])])  # the pedal
            elif r < 0.7:
                raw.send_message([0x90, 200, 255])  # data bytes out of range
            elif r < 0.75:
                raw.send_message([0xE0, rng.randrange(128), rng.randrange(128)])
            elif r < 0.8:  # running status: a note on, then its release as data bytes alone
                note = rng.randrange(128)
                raw.send_message([0x90, note, rng.randrange(1, 128)])
                raw.send_message([note, 0])
            else:
                raw.send_message([0x80, rng.randrange(128), 0])
            time.sleep(0.002)

    t = threading.Thread(target=hostile, daemon=True)
    t.start()
    time.sleep(1.0)
    rig.consistent()
    rig.engine.panic()
    rig.consistent()
    rig.engine.set(model=TINY_DUET, temperature=2.0)
    rig.consistent()
    rig.engine.set(channel=3)  # the notes of the old channel are released on it
    time.sleep(0.3)
    rig.consistent()
    rig.engine.set(mode="loop", model=TINY_BI, bars=1)
    time.sleep(0.3)
    rig.consistent()
    rig.engine.set(mode="duet", model=TINY_DUET)
    time.sleep(0.3)
    rig.consistent()
    stop.set()
    t.join()
    raw.delete()
    assert not failed, failed
    heard = rig.stop()
    no_stuck_notes(rig.sent)
    assert any(m.type == "note_on" for _, m in heard)
    assert rig.engine.figures()["steps"] > 20  # it kept running through all of it
    assert not [e for e in drain(rig.events) if e["type"] == "error" and "step" in e.get("text", "")]


def test_engine_refuses_bad_settings_clearly(use_tiny_models):
    from accompanist.errors import AccompanistError

    with pytest.raises(AccompanistError, match="unknown mode"):
        Engine(Settings(mode="karaoke"))
    with pytest.raises(AccompanistError, match="seq2seq model"):
        Engine(Settings(mode="duet", model=TINY_BI))
    with pytest.raises(AccompanistError, match="temperature"):
        Engine(Settings(mode="duet", model=TINY_DUET, temperature=float("nan")))
    assert np.isfinite(Engine(Settings(mode="duet", model=TINY_DUET)).steps_per_beat)


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_live_verb_starts_prints_its_ports_and_stops_cleanly_on_ctrl_c(tmp_path):
    import os
    import signal
    import sys

    record = tmp_path / "take.mid"
    cmd = [sys.executable, "-m", "accompanist.cli", "live", "--in", "virtual", "--out", "virtual"]
    cmd += ["--mode", "duet", "--model", TINY_DUET, "--temperature", "3", "--api", "jack", "--record", str(record)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        lines = [proc.stdout.readline() for _ in range(5)]
        assert "duet mode" in lines[0] and "accompanist" in lines[1] and str(record) in lines[3], lines
        player = open_output("virtual", api="jack", client_name="player")
        listener = Listener(open_input("accompanist-out", api="jack", client_name="ear"))
        subprocess.run(["jack_connect", "player-out:out", "accompanist-in:in"], check=True)
        wait_connections()
        for i in range(20):  # over a bar at 120 bpm
            player.send(mido.Message("note_on", note=60 + i % 5, velocity=80))
            time.sleep(0.12)
            player.send(mido.Message("note_off", note=60 + i % 5))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    heard = listener.close()
    player.close()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "all notes released" in out
    assert "bar 1: heard" in out  # a line a bar: the player sees it is alive
    assert any(m.type == "note_on" and m.velocity for _, m in heard)
    song = mido.MidiFile(record)
    assert [next((x.name for x in t if x.type == "track_name"), "") for t in song.tracks][1:] == [
        "player",
        "accompaniment",
    ]
    no_stuck_notes(list(song.tracks[2]))  # the recording holds everything the engine sent
    scored = run_cli("eval", record, "--json")  # a player can score their own session
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["pieces"] == 1


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_fluidsynth_plays_the_answer_through_jack_beside_midi_out(tmp_path):
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET, temperature=3.0, synth=True)
    try:
        synth = rig.engine.parts.ports.synth
        assert synth is not None and synth.synth.audio_driver is not None
        ports = subprocess.run(["jack_lsp"], capture_output=True, text=True).stdout
        assert "acc-synth:left" in ports and "acc-synth:right" in ports  # its audio ports on the JACK graph
        rig.play(16)
        gain = synth.synth.get_setting("synth.gain")
        rig.engine.set(synth_volume=0.5)  # the panel's volume slider: at once, nothing else touched
        assert synth.synth.get_setting("synth.gain") == pytest.approx(gain / 2)
        with pytest.raises(AccompanistError, match=r"synth volume 3 must be 0\.\.2"):
            rig.engine.set(synth_volume=3.0)
    finally:
        heard = rig.stop()
    assert on_grid(rig, heard) > 0  # MIDI out still answers beside the synth
    no_stuck_notes(rig.sent)


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_synth_without_midi_out_is_heard_on_the_system_playback_with_the_players_notes(tmp_path):
    """live --synth --no-midi-out: the synth's audio goes to system:playback by itself, it
    registers no MIDI inputs, and the player's own notes sound through it beside the answer."""
    player, engine, _ = start_engine(
        tmp_path / "s.mid", mode="duet", model=TINY_DUET, temperature=3.0, inp="player", out=None, synth=True,
        client_name="acc",
    )  # fmt: skip
    to_synth: list[mido.Message] = []
    send = engine.parts.ports.synth.send
    engine.parts.ports.synth.send = lambda m: (to_synth.append(m), send(m))
    wav = tmp_path / "synth.wav"
    try:
        graph = subprocess.run(["jack_lsp", "-c"], capture_output=True, text=True).stdout
        left = graph.split("acc-synth:left\n", 1)[1].split("\n", 1)[0].strip()
        assert left.startswith("system:playback"), graph  # connected with nothing wired by hand
        assert "midi" not in graph.lower(), graph  # no stray MIDI inputs (fluidsynth:midi_00..15)
        rec = subprocess.Popen(["jack_rec", "-f", str(wav), "-d", "2", "-b", "16", "acc-synth:left", "acc-synth:right"])
        for i in range(16):
            player.send(mido.Message("note_on", note=60 + i % 5, velocity=100))
            time.sleep(0.1)
            player.send(mido.Message("note_off", note=60 + i % 5))
        rec.wait(10)
    finally:
        engine.stop()
        player.close()
    audio, peak_dbfs = recorded(wav)
    assert peak_dbfs > -40, peak_dbfs
    from accompanist.sound.render import TARGET_RMS_DBFS, loudness_dbfs

    assert abs(loudness_dbfs(audio) - TARGET_RMS_DBFS) < 6  # the renders' target, within a live margin
    mine = [m for m in to_synth if m.type == "note_on" and m.velocity and m.channel == 0]
    answer = [m for m in to_synth if m.type == "note_on" and m.velocity and m.channel == 1]
    assert len(mine) == 16 and answer  # the player's notes on a channel of their own, beside the answer
    no_stuck_notes([m for m in to_synth if m.channel == 1])


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_a_player_port_that_goes_is_reported_and_reconnected_when_it_returns(tmp_path):
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET, temperature=3.0)
    try:
        rig.play(8)
        rig.player.close()  # the keyboard is unplugged
        lost = wait_for(rig.events, lambda e: e["type"] == "port" and e["state"] == "lost", 3.0)
        assert describe(lost) == "input player-out:out is gone; every note released, waiting for it to come back"
        rig.player = open_output("virtual", api="jack", client_name="player")  # and plugged back in
        wait_for(rig.events, lambda e: e["type"] == "port" and e["state"] == "back", 3.0)
        time.sleep(0.3)
        clients = subprocess.run(["jack_lsp"], capture_output=True, text=True).stdout
        assert "acc-in:" in clients and "acc-in-0" not in clients, clients  # our own name, kept
        rig.player.send(mido.Message("note_on", note=72, velocity=100))
        ev = wait_for(rig.events, lambda e: e["type"] == "note_in" and e["note"] == 72, 3.0)
        assert ev["velocity"] == 100
        rig.player.send(mido.Message("note_off", note=72))
    finally:
        rig.stop()
    no_stuck_notes(rig.sent)
    assert rig.engine.figures()["steps"] > 16  # it played on throughout


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_a_sampling_change_mid_session_strands_no_note(tmp_path):
    """set(max_notes=1) rebuilds the mode while a chord sounds: the old chord must still be
    released at the next step, leaving at most one note sounding."""
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET, temperature=3.0, max_notes=4)
    try:
        rig.play(16)
        rig.engine.set(max_notes=1)
        time.sleep(0.5)
        assert len(rig.engine.output.sounding) <= 1
        rig.consistent()
    finally:
        rig.stop()
    no_stuck_notes(rig.sent)


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_count_in_and_metronome_click_on_the_beats_and_the_model_waits_for_the_count(tmp_path):
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET, temperature=3.0, count_in=1, metronome=True)
    clock = rig.engine.clock
    try:
        threading.Thread(target=lambda: rig.play(32), daemon=True).start()  # playing through the count
        time.sleep(2.5)
    finally:
        rig.stop()
    clicks = [(t, m.note) for t, m in rig.sent_at if m.type == "note_on" and m.channel == 9 and m.velocity]
    steps = [round((t - clock.boundary(0)) / clock.step_seconds) for t, _ in clicks]
    assert len(clicks) >= 8 and all(k % 4 == 0 for k in steps)  # on every beat
    assert all((note == 76) == (k % 16 == 0) for (_, note), k in zip(clicks, steps, strict=True))  # accents
    answers = [t for t, m in rig.sent_at if m.type == "note_on" and m.channel == 1 and m.velocity]
    assert answers and min(answers) > clock.boundary(16) - 1e-6  # nothing answered during the bar of count-in
    no_stuck_notes(rig.sent)
    song = mido.MidiFile(tmp_path / "session.mid")  # the clicks are not part of the recording
    assert not any(m.type == "note_on" and m.channel == 9 for m in song.tracks[2])


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_an_output_port_that_goes_is_reported_released_and_reopened_when_it_returns(tmp_path):
    """accompanist plays into a DAW's input port by name; the DAW quits and comes back."""
    daw = Listener(open_input("virtual", api="jack", client_name="daw"))
    player, engine, events = start_engine(
        tmp_path / "s.mid", mode="duet", model=TINY_DUET, temperature=3.0, inp="player", out="daw-in",
        client_name="acc",
    )  # fmt: skip
    try:
        for i in range(8):
            player.send(mido.Message("note_on", note=60 + i, velocity=90))
            time.sleep(0.06)
        heard_before = daw.close()  # the DAW quits
        lost = wait_for(events, lambda e: e["type"] == "port" and e["state"] == "lost", 3.0)
        assert lost["direction"] == "output" and "daw" in lost["port"]
        assert not engine.output.sounding  # everything it had sounding was released
        daw = Listener(open_input("virtual", api="jack", client_name="daw"))  # and comes back
        wait_for(events, lambda e: e["type"] == "port" and e["state"] == "back", 3.0)
        time.sleep(0.3)
        clients = subprocess.run(["jack_lsp"], capture_output=True, text=True).stdout
        assert "acc-out:" in clients and "acc-out-0" not in clients and "RtMidi" not in clients, clients
        for i in range(8):
            player.send(mido.Message("note_on", note=60 + i, velocity=90))
            time.sleep(0.06)
        time.sleep(0.3)
    finally:
        engine.stop()
        player.close()
        heard_after = daw.close()
    assert any(m.type == "note_on" and m.velocity for _, m in heard_before)
    assert any(m.type == "note_on" and m.velocity for _, m in heard_after)  # it plays into the new port
    assert engine.figures()["steps"] > 30  # and it played on throughout


def test_a_channel_change_is_said_as_the_controls_show_it():
    said = describe({"type": "settings", "time": 0.0, "channel": "3", "temperature": "1.5"})
    assert said == "channel 4, temperature 1.5"


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_a_silent_session_has_no_timing_figure_to_report(tmp_path):
    """Only what is planned on the grid is timed: the program change sent at start is not (it
    counted as a 14 ms lateness, the whole p99 of a session where nobody played)."""
    engine = Engine(Settings(mode="duet", model=TINY_DUET, api="jack", record=tmp_path / "s.mid", client_name="hush"))
    engine.start()
    time.sleep(1.0)
    engine.stop()
    f = engine.figures()
    assert f["messages_out"] >= 1 and f["output_error_ms_p99"] is None


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_the_metronome_and_count_in_sound_through_the_synth(tmp_path):
    """live --no-midi-out --synth --metronome --count-in 1: with nothing played, the clicks are
    heard at the synth's output (FluidSynth's channel 10 was silent until its drum kit was chosen:
    the clicks went out as MIDI only, peak 0.000)."""
    player, engine, _ = start_engine(
        tmp_path / "s.mid", mode="duet", model=TINY_DUET, inp="player", out=None, synth=True, metronome=True,
        count_in=1, client_name="acc", bpm=120,
    )  # fmt: skip
    wav = tmp_path / "clicks.wav"
    try:
        ports = ["acc-synth:left", "acc-synth:right"]
        subprocess.Popen(["jack_rec", "-f", str(wav), "-d", "1.5", "-b", "16", *ports]).wait(10)
    finally:
        engine.stop()
        player.close()
    _, peak_dbfs = recorded(wav)
    assert peak_dbfs > -40, peak_dbfs


def recorded(wav) -> tuple[np.ndarray, float]:
    """A 16-bit recording of jack_rec's: its samples and its peak in dBFS."""
    import wave

    with wave.open(str(wav)) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int32)
    return audio, 20 * np.log10(max(int(np.abs(audio).max()), 1) / 32768)
