"""Loop mode's controls through real JACK ports: lock keeps the answer, refresh re-samples it, clear
starts over; and the same controls as keys of `accompanist live` in a terminal."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time

import mido
import pytest
from helpers import TINY_BI
from jack_rig import Rig, drain, no_stuck_notes, sleep_to

PASS = 16  # one bar of 16ths


def play_pass(rig: Rig, p: int, notes: tuple[int, ...], midway=None) -> None:
    """Quarter notes through pass p; ``midway`` is called at the pass's ninth step."""
    clock = rig.engine.clock
    for i, note in enumerate(notes):
        k = p * PASS + 4 * i
        sleep_to(clock.boundary(k))
        rig.player.send(mido.Message("note_on", note=note, velocity=90))
        if i == 2 and midway:
            midway()
        sleep_to(clock.boundary(k + 3))
        rig.player.send(mido.Message("note_off", note=note, velocity=0))
    sleep_to(clock.boundary(p * PASS + PASS))


def answers(rig: Rig) -> dict[int, list[tuple[int, int]]]:
    """The answer's note-ons the engine sent, by pass: (step in the pass, note)."""
    clock = rig.engine.clock
    out: dict[int, list[tuple[int, int]]] = {}
    for t, m in rig.sent_at:
        if m.type == "note_on" and m.velocity and m.channel == rig.engine.settings.channel:
            k = round((t - clock.boundary(0)) / clock.step_seconds)
            out.setdefault(k // PASS, []).append((k % PASS, m.note))
    return out


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_lock_keeps_the_answer_refresh_resamples_it_and_clear_starts_over(tmp_path):
    rig = Rig(tmp_path, mode="loop", model=TINY_BI, bars=1, temperature=1.5)
    a, b = (60, 64, 67, 72), (62, 65, 69, 74)
    try:
        p = rig.engine.clock.step_at(time.perf_counter()) // PASS + 1
        play_pass(rig, p, a)  # recorded
        play_pass(rig, p + 1, b, midway=rig.engine.lock)  # a's answer plays; then locked
        play_pass(rig, p + 2, b, midway=rig.engine.refresh)  # a's answer again; b harmonised afresh
        play_pass(rig, p + 3, ())  # nothing played: still locked, b's answer plays on
        cleared_at = time.perf_counter()
        rig.engine.clear()
        play_pass(rig, p + 4, ())
    finally:
        rig.stop()
    passes = {e["index"]: e for e in drain(rig.events) if e["type"] == "pass"}
    assert passes[p]["source"] == "harmonised" and passes[p]["notes"] > 0
    assert passes[p + 1]["source"] == "locked"
    assert passes[p + 2]["source"] == "refreshed"
    assert passes[p + 4]["source"] == "silent"
    heard = answers(rig)
    assert len(heard[p + 1]) >= 2
    assert heard[p + 2] == heard[p + 1]  # locked: the same notes on the same steps
    assert heard.get(p + 3) and heard[p + 3] != heard[p + 1]  # refreshed: b's own answer
    # after the clear, at most the step already planned sounds: then silence
    clock, ch = rig.engine.clock, rig.engine.settings.channel
    struck = [t for t, m in rig.sent_at if m.type == "note_on" and m.velocity and m.channel == ch]
    assert not [t for t in struck if clock.step_at(t + 1e-4) > clock.step_at(cleared_at) + 1]
    no_stuck_notes(rig.sent)


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_live_keys_lock_refresh_clear_panic_temperature_and_quit(tmp_path):
    import pty
    import signal
    import termios

    leader, follower = pty.openpty()
    cmd = [sys.executable, "-m", "accompanist.cli", "live", "--in", "virtual", "--out", "virtual", "--api", "jack"]
    cmd += ["--mode", "loop", "--model", TINY_BI, "--bars", "1", "--record", str(tmp_path / "take.mid")]
    proc = subprocess.Popen(cmd, stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.close(follower)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()

    def expect(text: str) -> str:
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if text in line:
                return line
        raise AssertionError(f"never printed: {text!r}")

    try:
        expect("keys: l lock")
        # each line is printed from the engine's own event, so it says the engine did it
        for key, said in (
            (b"l", "loop locked"),
            (b"l", "loop unlocked"),
            (b"r", "refresh"),
            (b"]", "temperature 1.1"),
            (b"\x1b[A\x1bOQ[", "temperature 1.0"),  # an arrow and F2 are no keys: only [ counts
            (b"c", "cleared"),
            (b"p", "panic"),
        ):
            os.write(leader, key)
            assert "temperature 0.9" not in expect(said)
        proc.send_signal(signal.SIGINT)
        expect("all notes released")
        assert proc.wait(10) == 0
        attrs = termios.tcgetattr(leader)
        assert attrs[3] & termios.ICANON and attrs[3] & termios.ECHO  # the terminal is given back
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    assert "Traceback" not in proc.stderr.read()


def test_keys_skip_escape_sequences_and_q_quits():
    from accompanist.live.terminal import TerminalKeys, keys_of

    assert keys_of("l\x1b[Ar\x1bOPc\x1b[15~P") == (["l", "r", "c", "p"], 0)
    keys, state = keys_of("x\x1b[1;5")  # a sequence cut between two reads
    assert keys == ["x"] and state == 2
    assert keys_of("Dq", state) == (["q"], 0)

    got, quit_ = [], threading.Event()
    keys = TerminalKeys(got.append, quit_.set)
    read, write = os.pipe()
    reader = threading.Thread(target=keys._run, args=(read,), daemon=True)
    reader.start()
    os.write(write, b"l\x1b[Bq]")
    assert quit_.wait(2)
    reader.join(2)
    assert got == ["l"] and not reader.is_alive()  # nothing after q
    os.close(read)
    os.close(write)
