"""`accompanist bench recorder`: what the session recorder's write costs as a session grows.

An hour of playing at 40 messages a second (a busy duet) goes into a Recorder; the file is
written every 2 s (a bar at 120 bpm), as the engine does. We report the write time at the start
and at the end of the hour, and, for scale, one rewrite of the whole hour through mido (how the
recorder worked before it encoded each event once).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import mido
import numpy as np

from accompanist.bench.stats import summary


def bench_recorder(minutes: float = 60.0, rate: float = 40.0, bar: float = 2.0) -> dict:
    from accompanist.live.recorder import Recorder
    from accompanist.music.midi_io import Part, write_midi

    rng = np.random.default_rng(0)
    n = int(minutes * 60 * rate)
    times = np.sort(rng.uniform(0, minutes * 60, n))
    writes: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "session.mid"
        rec = Recorder(path, 120.0, 0.0, 48, 1)
        due = bar
        for i, t in enumerate(times):
            on = i % 2 == 0
            msg = mido.Message("note_on" if on else "note_off", note=40 + i % 40, velocity=80 if on else 0, channel=1)
            (rec.played if i % 3 == 0 else rec.answered)(float(t), msg)
            if t > due:
                t0 = time.perf_counter()
                rec.write(float(t))
                writes.append(time.perf_counter() - t0)
                due += bar
        rec.write()
        size = path.stat().st_size
        events = [(int(t * 960), mido.Message("note_on", note=60, velocity=80)) for t in times]
        t0 = time.perf_counter()
        write_midi(Path(tmp) / "whole.mid", 480, [Part("player", events[: n // 3]), Part("answer", events[n // 3 :])])
        whole = time.perf_counter() - t0
    tenth = max(1, len(writes) // 10)
    return {
        "events": n,
        "writes": len(writes),
        "file_mb": round(size / 2**20, 2),
        "write_first_tenth": summary(np.asarray(writes[:tenth])),
        "write_last_tenth": summary(np.asarray(writes[-tenth:])),
        "mido_whole_rewrite_ms": round(whole * 1e3, 1),
    }
