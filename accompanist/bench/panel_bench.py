"""`accompanist bench live --panel`: does the control panel disturb the engine's timing?

The same duet run against the rig's player twice over, alternating: once with the engine alone,
once started from the panel, whose piano roll repaints 60 times a second and whose meter reads the
engine's figures twice a second, all on the window's thread of the same process (offscreen unless
a display is there). Reported: the engine's own output timing error (how late each message left
against its due time: what a busy GIL would show first) and missed deadlines, median over the
pairs of runs, and the difference the panel makes.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from accompanist.bench.live_bench import Rig, _next_bar_line, ensure_jack, stop_jack


def _run(with_panel: bool, seconds: float, model: str | None, bpm: float, app) -> dict:
    from accompanist.live.engine import Engine, Settings

    client = "accompanist-pbench"
    rig = Rig("prig", seconds, bpm)
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "p.mid"
        s = Settings(mode="duet", model=model, api="jack", client_name=client, record=record, seed=0, bpm=bpm)
        panel = None
        if with_panel:
            from accompanist.ui.panel import Panel

            panel = Panel(s)
            panel.resize(1280, 760)
            panel.show()
            panel.start()
            engine = panel.engine
        else:
            engine = Engine(s)
            engine.start()
        rig.wire(client)
        rig.go(_next_bar_line(engine, 0.3))
        done = threading.Event()
        threading.Thread(target=lambda: (rig.played(), done.set()), daemon=True).start()
        while not done.is_set():  # the window's event loop, as `accompanist ui` runs it
            if app is not None:
                app.processEvents()
            time.sleep(0.004)
        fig = engine.figures()
        frames = panel.roll.frames if panel is not None else 0
        if panel is not None:
            panel.stop()
            panel.close()
        else:
            engine.stop()
        rig.result(30)
    return {
        "p99_ms": fig["output_error_ms_p99"],
        "median_ms": fig["output_error_ms_median"],
        "missed": fig["missed_deadlines"],
        "steps": fig["steps"],
        "frames": frames,
    }


def bench_panel(seconds: float = 20.0, model: str | None = None, bpm: float = 120.0, pairs: int = 2) -> dict:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen" if not os.environ.get("DISPLAY") else "xcb")
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    jack = ensure_jack()
    runs: dict[str, list[dict]] = {"alone": [], "panel": []}
    try:
        for _ in range(pairs):
            runs["alone"].append(_run(False, seconds, model, bpm, app))
            runs["panel"].append(_run(True, seconds, model, bpm, app))
    finally:
        stop_jack(jack)
    p99 = {k: [r["p99_ms"] for r in v if r["p99_ms"] is not None] for k, v in runs.items()}
    med = {k: float(np.median(v)) if v else float("nan") for k, v in p99.items()}
    return {
        "seconds": seconds,
        "pairs": pairs,
        "platform": app.platformName(),
        "runs": runs,
        "p99_ms_alone": round(med["alone"], 3),
        "p99_ms_with_panel": round(med["panel"], 3),
        "panel_costs_ms": round(med["panel"] - med["alone"], 3),
        "frames_per_second": round(np.mean([r["frames"] for r in runs["panel"]]) / seconds, 1),
    }
