"""The other end of `accompanist bench live`, run as its own process (as a keyboard and a DAW are):
a scripted player that plays a known melody into a MIDI port, and a recording client that stamps
everything arriving on another. Both stamp with ``time.perf_counter`` (CLOCK_MONOTONIC, shared
by every process of the machine), and print what they did as one JSON object at the end.

    python -m accompanist.bench.live_rig --name rig --seconds 20 --bpm 120
"""

from __future__ import annotations

import argparse
import json
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
    p.add_argument("--lead-in", type=float, default=1.0, help="seconds to wait for connections")
    p.add_argument("--random", action="store_true", help="a random player: notes, chords and the pedal, any time")
    p.add_argument("--clock", action="store_true", help="be the DAW too: Start, and MIDI clock on the player port")
    a = p.parse_args(argv)
    player = _Serialized(open_output("virtual", a.api, client_name=f"{a.name}-player"))
    ear = open_input("virtual", a.api, client_name=f"{a.name}-ear")
    heard: list = []
    stop = threading.Event()

    def listen() -> None:
        while not stop.is_set():
            got = ear.poll(time.perf_counter())
            heard.extend((t, m.type, getattr(m, "note", None), getattr(m, "velocity", None)) for t, m in got)
            if not got:
                time.sleep(0.0002)

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    print("ready", flush=True)
    time.sleep(a.lead_in)
    eighth = 30.0 / a.bpm
    sent = []
    start = time.perf_counter()
    ticks: list[float] = []
    if a.clock:  # the DAW: Start and its downbeat's tick now, a tick every 1/24 beat after
        start += 0.05
        clock = threading.Thread(target=_clock, args=(player, start, a.bpm, a.seconds + 0.5, ticks), daemon=True)
        clock.start()
    if a.random:
        sent = _random_player(player, a.seconds, eighth)
    else:
        i = 0
        nxt = start
        while nxt - start < a.seconds:
            pitch, length = MELODY[i % len(MELODY)]
            _sleep_to(nxt)
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


def _random_player(player, seconds: float, eighth: float) -> list:
    """Off the grid, in chords and runs, with the pedal: everything released by the end."""
    import random

    rng = random.Random(0)
    sent, held = [], set()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        r = rng.random()
        if r < 0.55 or not held:
            for _ in range(1 if rng.random() < 0.8 else rng.randint(2, 4)):
                p = rng.randint(48, 84)
                player.send(mido.Message("note_on", note=p, velocity=rng.randint(20, 127)))
                sent.append((time.perf_counter(), p))
                held.add(p)
        elif r < 0.9:
            p = rng.choice(sorted(held))
            player.send(mido.Message("note_off", note=p, velocity=0))
            held.discard(p)
        else:
            player.send(mido.Message("control_change", control=64, value=rng.choice([0, 127])))
        time.sleep(rng.uniform(0.2, 2.0) * eighth)
    for p in held:
        player.send(mido.Message("note_off", note=p, velocity=0))
    player.send(mido.Message("control_change", control=64, value=0))
    return sent


def _sleep_to(t: float) -> None:
    while (left := t - time.perf_counter()) > 0.0015:
        time.sleep(left - 0.001)
    while time.perf_counter() < t:
        pass


if __name__ == "__main__":
    raise SystemExit(main())
