"""A flood at the engine's input for `accompanist bench live --flood N`: its own process and port,
as a misbehaving controller or a MIDI loop would be.

    python -m accompanist.bench.flooder --name flood --rate 10000 --seconds 60

It prints ``ready`` once its port exists, waits for ``go T`` on its standard input, then from
``perf_counter`` time T sends ``rate`` messages a second, a batch every millisecond, cycling
through what floods a real input: pitch bend, channel pressure and polyphonic aftertouch on the
player's channel, mod-wheel control changes there, notes struck and released on channel 10 (a
drum pad left running), and MIDI clock ticks. At the end it prints one JSON object: messages
sent, by kind. Raw rtmidi, not mido: mido's checks would cap the rate at what Python can build.
"""

from __future__ import annotations

import argparse
import json
import time

#: (kind, raw bytes) sent in turn; the note pair keeps every drum strike released
CYCLE = (
    ("pitchwheel", [0xE0, 0x00, 0x40]),
    ("aftertouch", [0xD0, 0x50]),
    ("control_change", [0xB0, 0x01, 0x40]),
    ("polytouch", [0xA0, 0x43, 0x30]),
    ("note_on", [0x99, 0x24, 0x64]),
    ("clock", [0xF8]),
    ("note_off", [0x89, 0x24, 0x00]),
)


def main(argv: list[str] | None = None) -> int:
    import rtmidi

    from accompanist.live.ports import quiet_native_stderr, resolve_api, rtmidi_api

    p = argparse.ArgumentParser()
    p.add_argument("--name", default="flood")
    p.add_argument("--rate", type=float, default=10_000.0)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--api", default="jack")
    a = p.parse_args(argv)
    with quiet_native_stderr():
        out = rtmidi.MidiOut(rtapi=rtmidi_api(resolve_api(a.api)), name=f"{a.name}-out")
        out.open_virtual_port("out")
    print("ready", flush=True)
    start = float(input().split()[1])
    counts = {kind: 0 for kind, _ in CYCLE}
    i = sent = 0
    batch_at = start
    while batch_at - start < a.seconds:
        while (now := time.perf_counter()) < batch_at:
            time.sleep(min(batch_at - now, 0.0005))
        due = int((batch_at - start + 0.001) * a.rate)  # messages owed by the end of this millisecond
        while sent < due:
            kind, data = CYCLE[i % len(CYCLE)]
            out.send_message(data)
            counts[kind] += 1
            i += 1
            sent += 1
        batch_at += 0.001
    time.sleep(0.2)  # let the last batch leave before the port closes
    out.close_port()
    del out
    print(json.dumps({"sent": sent, "by_kind": counts, "seconds": a.seconds, "rate": a.rate}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
