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
    a = p.parse_args(argv)
    player = open_output("virtual", a.api, client_name=f"{a.name}-player")
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
    time.sleep(1.0)  # the answer's last notes and the engine's release
    stop.set()
    t.join(1)
    player.close()
    ear.close()
    print(json.dumps({"sent": sent, "heard": heard}), flush=True)
    return 0


def _sleep_to(t: float) -> None:
    while (left := t - time.perf_counter()) > 0.0015:
        time.sleep(left - 0.001)
    while time.perf_counter() < t:
        pass


if __name__ == "__main__":
    raise SystemExit(main())
