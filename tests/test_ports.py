"""MIDI ports on a real JACK server: listing, finding by substring, virtual ports, clear errors,
and real messages through real ports."""

from __future__ import annotations

import json
import subprocess
import time

import mido
import pytest
from helpers import Listener, assert_clean_error, run_cli

from accompanist.errors import AccompanistError
from accompanist.live.ports import find_port, list_ports, open_input, open_output


def test_find_port_by_exact_name_or_unique_substring():
    names = ["Midi Through:0", "KeyStep Pro:0", "accompanist:accompanist-out"]
    assert find_port("KeyStep Pro:0", names, "input") == "KeyStep Pro:0"
    assert find_port("keystep", names, "input") == "KeyStep Pro:0"
    with pytest.raises(AccompanistError, match="matches 2 input ports"):
        find_port(":0", names, "input")
    with pytest.raises(AccompanistError, match=r"no MIDI input port matches 'launchkey'.*KeyStep"):
        find_port("launchkey", names, "input")


def test_no_server_is_one_clean_line(monkeypatch):
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "no-such-server-here")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    assert_clean_error(run_cli("ports", "--api", "jack"), "JACK")
    assert_clean_error(run_cli("ports", "--api", "midi-over-carrier-pigeon"), "unknown MIDI API")


def _wait_connected(port: str, timeout: float = 3.0) -> None:
    """JACK connects asynchronously: wait until jack_lsp shows the port with a connection."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        lines = subprocess.run(["jack_lsp", "-c"], capture_output=True, text=True).stdout.splitlines()
        for i, line in enumerate(lines):
            if line == port and i + 1 < len(lines) and lines[i + 1].startswith(" "):
                return
        time.sleep(0.05)
    raise AssertionError(f"{port} never got connected")


def test_a_player_port_found_by_substring_carries_every_message(jack_server):
    player = open_output("virtual", api="jack", client_name="player")
    try:
        ports = list_ports("jack")
        assert ports.api == "jack"
        source = find_port("PLAYER", ports.inputs, "input")  # a player's output is our input
        listener = Listener(open_input("PLAYER", api="jack", client_name="rx"))
        _wait_connected(source)
        sent = [mido.Message("note_on", note=60 + i, velocity=90) for i in range(20)]
        sent += [mido.Message("note_off", note=60 + i) for i in range(20)]
        t0 = time.perf_counter()
        for m in sent:
            player.send(m)
        end = time.monotonic() + 3
        while len(listener.heard) < len(sent) and time.monotonic() < end:
            time.sleep(0.01)
        heard = listener.close()
        assert [m for _, m in heard] == sent
        assert all(t0 - 0.001 < t < t0 + 0.5 for t, _ in heard)
        assert [t for t, _ in heard] == sorted(t for t, _ in heard)
    finally:
        player.close()


def test_an_unknown_port_names_the_ones_there_are(jack_server):
    player = open_output("virtual", api="jack", client_name="keyboard")
    try:
        with pytest.raises(AccompanistError, match=r"no MIDI input port matches 'launchkey'.*keyboard"):
            open_input("launchkey", api="jack")
    finally:
        player.close()


def test_ports_verb_lists_a_virtual_port(jack_server):
    out = open_output("virtual", api="jack", client_name="somesynth")
    try:
        proc = run_cli("ports", "--api", "jack", "--json")
        assert proc.returncode == 0, proc.stderr
        listed = json.loads(proc.stdout)
        assert any("somesynth" in n for n in listed["inputs"])  # our output is an input to others
    finally:
        out.close()


def test_the_decoder_reads_running_status_real_time_inside_and_drops_junk():
    from accompanist.live.ports import MidiDecoder

    d = MidiDecoder()
    msgs = d.decode([0x90, 60, 100, 62, 100, 60, 0])  # three notes under one status byte
    assert [(m.type, m.note, m.velocity) for m in msgs] == [
        ("note_on", 60, 100),
        ("note_on", 62, 100),
        ("note_on", 60, 0),
    ]
    assert [m.note for m in d.decode([64, 90])] == [64]  # running status goes on into the next event
    msgs = d.decode([0xB0, 64, 0xF8, 127])  # a clock byte in the middle of a controller
    assert [m.type for m in msgs] == ["clock", "control_change"] and msgs[1].value == 127
    assert d.decode([0xF0, 0x7D, 1, 0xF7])[0].type == "sysex"
    assert d.decode([70, 80]) == []  # sysex ended running status: stray data bytes
    assert d.decode([0x90, 200, 255]) == [mido.Message("reset")]  # bad data: only what parses is kept
    assert d.decode([0xF4, 0xE0, 0, 64])[0].type == "pitchwheel"  # undefined status skipped
    assert d.decode([0x80, 60]) == []  # cut short
    msgs = d.decode([0x90, 61, 0xF9, 90, 0xFD])  # undefined real-time bytes inside: skipped alone
    assert [(m.type, m.note) for m in msgs] == [("note_on", 61)]
