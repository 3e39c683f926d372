"""The other end of `accompanist bench live`, run as its own process (as a keyboard and a DAW are):
a scripted player that plays a known melody into a MIDI port, and a recording client that stamps
everything arriving on another. Both stamp with ``time.perf_counter`` (CLOCK_MONOTONIC, shared
by every process of the machine), and print what they did as one JSON object at the end.

    python -m accompanist.bench.live_rig --name rig --seconds 20 --bpm 120

It prints ``ready`` once its ports exist, then waits for one line on its standard input,
``go T`` (or ``go T SCRIPT``): T is the ``perf_counter`` time to begin at, chosen by the bench
once everything is connected (so no note is sent into an unconnected port) and on a bar line of
the engine's grid (a player plays with the metronome). SCRIPT is a JSON file of events
``[time, type, note or control, velocity or value]`` to play instead of the known melody.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time

import mido

from accompanist.live.ports import open_input, open_output

#: a known melody: (MIDI pitch, length in eighth notes), G major, played round and round
MELODY = [(67, 2), (71, 1), (74, 1), (72, 2), (71, 2), (69, 1), (71, 1), (72, 1), (69, 1), (67, 4)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--name", default="rig")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--bpm", type=float, default=120.0)
    p.add_argument("--api", default="jack")
    p.add_argument("--clock", action="store_true", help="be the DAW too: Start, and MIDI clock on the player port")
    p.add_argument("--jitter-ms", type=float, default=0.0, help="the known melody with human timing: this SD (seeded)")
    a = p.parse_args(argv)
    player = _Serialized(open_output("virtual", a.api, client_name=f"{a.name}-player"))
    ear = open_input("virtual", a.api, client_name=f"{a.name}-ear")
    heard: list = []
    stop = threading.Event()

    def listen() -> None:
        while not stop.is_set():
            got = ear.poll(time.perf_counter())
            heard.extend(
                (
                    t,
                    m.type,
                    getattr(m, "note", getattr(m, "control", None)),
                    getattr(m, "velocity", None),
                    getattr(m, "channel", None),
                )
                for t, m in got
            )
            if not got:  # arrival times come from rtmidi's own stamps, not from when we look
                time.sleep(0.002)

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    print("ready", flush=True)
    go = input().split()
    start = float(go[1])
    eighth = 30.0 / a.bpm
    sent = []
    ticks: list[float] = []
    if a.clock:  # the DAW: Start and its downbeat's tick now, a tick every 1/24 beat after
        start += 0.05
        clock = threading.Thread(target=_clock, args=(player, start, a.bpm, a.seconds + 0.5, ticks), daemon=True)
        clock.start()
    if len(go) > 2:
        with open(go[2]) as f:
            sent = _scripted_player(player, json.load(f))
    else:
        i = 0
        nxt = start
        human = random.Random(0)
        while nxt - start < a.seconds:
            pitch, length = MELODY[i % len(MELODY)]
            _sleep_to(nxt + human.gauss(0.0, a.jitter_ms / 1e3))
            player.send(mido.Message("note_on", note=pitch, velocity=70 + (i * 7) % 40))
            sent.append((time.perf_counter(), pitch))
            _sleep_to(nxt + length * eighth * 0.9)
            player.send(mido.Message("note_off", note=pitch, velocity=0))
            nxt += length * eighth
            i += 1
    if a.clock:
        clock.join()
    print("played", flush=True)  # the bench stops the engine now; we hear its releases
    time.sleep(1.5)
    stop.set()
    t.join(1)
    player.close()
    ear.close()
    print(json.dumps({"sent": sent, "heard": heard, "ticks": ticks}), flush=True)
    return 0


class _Serialized:
    """A port two threads send on (the player's notes, the DAW's clock): one message at a time."""

    def __init__(self, port):
        self.port, self.lock = port, threading.Lock()

    def send(self, msg: mido.Message) -> None:
        with self.lock:
            self.port.send(msg)

    def close(self) -> None:
        self.port.close()


def _clock(player, start: float, bpm: float, seconds: float, ticks: list[float]) -> None:
    """Start, then 24 ticks a quarter from ``start`` on, each stamped as it leaves; then Stop."""
    tick = 60.0 / bpm / 24
    _sleep_to(start - 0.001)
    player.send(mido.Message("start"))
    i = 0
    while i * tick < seconds:
        _sleep_to(start + i * tick)
        player.send(mido.Message("clock"))
        ticks.append(time.perf_counter())
        i += 1
    player.send(mido.Message("stop"))


def _scripted_player(player, events: list) -> list:
    """Each event at its time; the note-ons sent, with the time each left."""
    sent = []
    for t, kind, a, b in events:
        _sleep_to(t)
        if kind == "control_change":
            player.send(mido.Message(kind, control=a, value=b))
            continue
        player.send(mido.Message(kind, note=a, velocity=b))
        if kind == "note_on" and b:
            sent.append((time.perf_counter(), a))
    return sent


def _sleep_to(t: float) -> None:
    """Sleep, then spin the last 0.3 ms (a sleep wakes 0.07 ms late at the median here; a
    longer spin takes a core the JACK clients need: seen as xruns with a 1 ms spin)."""
    while (left := t - time.perf_counter()) > 0.0005:
        time.sleep(left - 0.0003)
    while time.perf_counter() < t:
        pass


if __name__ == "__main__":
    raise SystemExit(main())
