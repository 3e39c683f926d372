"""`accompanist bench live --flood N [N ...]`: the duet engine's timing while another client floods
its input port with N messages a second (``bench.flooder``), beside the same run at 0.

Each rate is one run of ``seconds``: the rig's player plays its known melody on channel 1 (the
engine listens on channel 1 only, ``--in-channel``, as a player shuts out a drum machine), the
flooder sends from the first bar line on, and we report the answers' timing error against the
grid (p99), missed deadlines, what the input guard ignored and dropped, by kind, whether every
note-off the player sent reached the engine, and this process's resident memory (the engine runs
in it) from the first seconds of flood to the last.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from accompanist.bench.live_bench import (
    Rig,
    _connect,
    _errors,
    _next_bar_line,
    _pct,
    _rss_mb,
    spawn_ready,
    trace_answers,
)
from accompanist.errors import AccompanistError


class Flooder:
    def __init__(self, name: str, rate: float, seconds: float):
        self.name = name
        args = ["--name", name, "--rate", str(rate), "--seconds", str(seconds)]
        self.proc = spawn_ready("accompanist.bench.flooder", *args)

    def go(self, at: float) -> None:
        self.proc.stdin.write(f"go {at!r}\n")
        self.proc.stdin.flush()

    def result(self, timeout: float) -> dict:
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AccompanistError("bench flooder did not finish") from None
        if self.proc.returncode != 0:
            raise AccompanistError(f"bench flooder failed: {err[-500:]}")
        return json.loads(out.strip().splitlines()[-1])


def flood_run(
    rate: float, seconds: float, model: str | None = None, bpm: float = 120.0, listen_ms: float | None = None
) -> dict:
    """One duet run of ``seconds`` with ``rate`` messages a second flooding the input (0: none)."""
    from accompanist.live.engine import Engine, Settings

    client = "accompanist-flood"
    rig = Rig("frig", seconds, bpm)
    flooder = Flooder("flood", rate, seconds) if rate > 0 else None
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(
            Settings(mode="duet", model=model, inp="virtual", out="virtual", api="jack", bpm=bpm,
                     record=Path(tmp) / "flood.mid", client_name=client, seed=0, listen_ms=listen_ms,
                     in_channel=0)
        )  # fmt: skip
        events = engine.subscribe(200_000)
        engine.start()
        planned = trace_answers(engine)
        rig.wire(client)
        if flooder is not None:
            _connect(f"{flooder.name}-out:out", f"{client}-in:in")
        start = _next_bar_line(engine, 0.5)
        rig.go(start)
        if flooder is not None:
            flooder.go(start)
        rss: list[tuple[float, float]] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(1.0):
                rss.append((time.perf_counter() - start, _rss_mb()))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        rig.played()
        time.sleep(0.2)  # the player's last note-off is still on its way through JACK
        engine.stop()
        stop.set()
        data = rig.result(30)
        flood = flooder.result(30) if flooder is not None else {"sent": 0, "by_kind": {}}
    offs = 0
    while not events.empty():
        ev = events.get()
        offs += ev["type"] == "note_in" and ev["velocity"] == 0
    fig = engine.figures()
    errors, lost = _errors(planned, data["heard"])
    settled = [m for t, m in rss if t >= 5.0] or [m for _, m in rss]  # after the first seconds' warm-up
    return {
        "rate": rate,
        "seconds": seconds,
        "flood_sent": flood["sent"],
        "flood_by_kind": flood["by_kind"],
        "output_error": _pct(errors),
        "missed_deadlines": fig["missed_deadlines"],
        "steps": fig["steps"],
        "input_ignored": fig["input_ignored"],
        "input_dropped": fig["input_dropped"],
        "player_note_offs_sent": len(data["sent"]),
        "player_note_offs_heard": offs,
        "answer_notes_lost_at_listener": lost,
        "rss_mb_first": round(settled[0], 1) if settled else None,
        "rss_growth_mb": round(settled[-1] - settled[0], 1) if settled else None,
    }


def bench_flood(
    rates: list[float], seconds: float = 60.0, model: str | None = None, bpm: float = 120.0,
    listen_ms: float | None = None,
) -> dict:  # fmt: skip
    """One ``flood_run`` per rate, on one JACK server (started here if none runs)."""
    from accompanist.bench.live_bench import ensure_jack, jack_cycles_lost, stop_jack

    jack = ensure_jack()
    try:
        runs = [flood_run(r, seconds, model, bpm, listen_ms) for r in rates]
        lost_cycles = jack_cycles_lost(jack)
    finally:
        stop_jack(jack)
    return {"bpm": bpm, "seconds": seconds, "jack_cycles_lost": lost_cycles, "runs": runs}
