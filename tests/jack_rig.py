"""A scripted player, the engine and a listener on real JACK ports: the rig of the live tests."""

from __future__ import annotations

import queue
import subprocess
import time
from collections import Counter

import mido
from helpers import Listener

from accompanist.live.engine import METRONOME_CHANNEL, Engine, Settings
from accompanist.live.ports import find_port, list_ports, open_input, open_output
from accompanist.music import roll

BPM = 240  # 16ths of 62.5 ms: a quick test, and a tighter deadline than a musician's tempo


def wait_connections(timeout: float = 3.0, want: int = 2) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        out = subprocess.run(["jack_lsp", "-c"], capture_output=True, text=True).stdout
        if sum(1 for line in out.splitlines() if line.startswith("   ")) >= 2 * want:
            return
        time.sleep(0.05)
    raise AssertionError(f"JACK connections not made: {out}")


def start_engine(record, **settings):
    """A player port (client "player"), then an engine on JACK at the rig's tempo, seeded,
    recording to ``record``, started; and the queue of its events (subscribed before it
    starts): (player, engine, events)."""
    player = open_output("virtual", api="jack", client_name="player")
    try:
        engine = Engine(Settings(record=record, **({"api": "jack", "bpm": BPM, "seed": 0} | settings)))
        events = engine.subscribe()
        engine.start()
    except BaseException:  # a start that fails must not leave "player" behind for the next test
        player.close()
        raise
    return player, engine, events


class Rig:
    """A player port, an engine, and a listener on the engine's output."""

    def __init__(self, tmp_path, **settings):
        kw = {"inp": "player", "out": "virtual", "client_name": "acc"} | settings
        self.player, self.engine, self.events = start_engine(tmp_path / "session.mid", **kw)
        # everything the engine really sent to its port, in order: the authority on whether it
        # released all it struck (JACK itself may drop events in a late cycle, see no_stuck_notes)
        self.sent: list[mido.Message] = []
        self.sent_at: list[tuple[float, mido.Message]] = []  #: with the time each was due
        inner = self.engine.output.on_sent
        self.engine.output.on_sent = lambda t, m: (self.sent.append(m), self.sent_at.append((t, m)), inner(t, m))
        try:
            source = find_port("acc-out", list_ports("jack").inputs, "input")
            self.listener = Listener(open_input(source, api="jack", client_name="listener"))
            wait_connections()
        except BaseException:  # nothing left behind for the next test
            self.engine.stop()
            self.player.close()
            raise

    def play(self, steps: int, pattern=(60, 64, 67, 72), offsets=(0.0,)) -> None:
        """Quarter notes on the beat (every 4 steps), released after 3 steps; each struck that
        many seconds after its beat (``offsets``, in turn)."""
        clock = self.engine.clock
        k0 = clock.step_at(time.perf_counter()) + 2
        for i in range(0, steps, 4):
            note = pattern[(i // 4) % len(pattern)]
            sleep_to(clock.boundary(k0 + i) + offsets[(i // 4) % len(offsets)])
            self.player.send(mido.Message("note_on", note=note, velocity=90))
            sleep_to(clock.boundary(k0 + i + 3))
            self.player.send(mido.Message("note_off", note=note, velocity=0))

    def consistent(self) -> None:
        """Between two steps (after a boundary's messages went out, before the next step is
        planned), what the output has sounding is exactly what the engine thinks it planned: no
        note the engine forgot (it would never be released), none it lost."""
        engine = self.engine
        clock = engine.clock
        k = clock.step_at(time.perf_counter()) + 1
        sleep_to(clock.boundary(k) + 0.005)
        with engine.parts.worker.lock:  # the model worker plans nothing while we look
            assert time.perf_counter() < clock.boundary(k + 1) - engine.settings.early, "too slow to look"
            ch = engine.settings.channel
            out = {(c, note) for (c, note), n in engine.output.sounding.items() if c != METRONOME_CHANNEL and n}
            planned = {(ch, p + roll.PITCH_LO) for p in engine.parts.planner.sounding}
        assert out == planned, (out, planned)

    def stop(self) -> list[tuple[float, mido.Message]]:
        self.engine.stop()
        time.sleep(0.2)
        out = self.listener.close()
        self.player.close()
        return out


def sleep_to(t: float) -> None:
    while (left := t - time.perf_counter()) > 0:
        time.sleep(min(left, 0.002))


def no_stuck_notes(msgs: list[mido.Message]) -> None:
    """Every note-on in ``msgs`` has its note-off (CC 123 aside). Tests pass what the engine sent
    to its port (``Rig.sent``) or wrote to its recording: a JACK server on a busy 2-core machine
    runs cycles late ("XRun" in its log) and a listener can then miss events that were sent."""
    on: Counter = Counter()
    for m in msgs:
        if m.type == "note_on" and m.velocity > 0:
            on[(m.channel, m.note)] += 1
        elif m.type in ("note_on", "note_off") and on[(m.channel, m.note)] > 0:
            on[(m.channel, m.note)] -= 1
    assert not +on, f"notes left sounding: {+on}"


def on_grid(rig: Rig, heard: list[tuple[float, mido.Message]], lag: float = 0.0) -> int:
    """Every note-on the listener heard arrived on a step boundary (``lag`` seconds after it, for
    a hearing duet's listen window): within a quarter of a step of one (how close is a timing
    figure, measured by bench live rather than asserted here)."""
    clock = rig.engine.clock
    tolerance = clock.step_seconds / 4
    n = 0
    for t, m in heard:
        if m.type == "note_on" and m.velocity > 0 and m.channel == rig.engine.settings.channel:
            k = round((t - lag - clock.boundary(0)) / clock.step_seconds)
            assert abs(t - lag - clock.boundary(k)) < tolerance, (t - lag - clock.boundary(k), m)
            n += 1
    return n


def jack_inputs() -> list[str]:
    out = subprocess.run(["jack_lsp"], capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if "acc" in line and "in" in line]


def drain(q: queue.Queue) -> list[dict]:
    out = []
    while not q.empty():
        out.append(q.get())
    return out


def wait_for(q: queue.Queue, pred, timeout: float) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            ev = q.get(timeout=0.05)
        except queue.Empty:
            continue
        if pred(ev):
            return ev
    raise AssertionError("the awaited event never came")
