"""`accompanist bench hostile`: every reader fed hostile inputs, class by class, each class in a
fresh process so its peak memory is its own: cases, how each ended, time per case, peak growth.

An input ends *read* (the reader returned), *refused* (one AccompanistError line, exit 2 at the
command line) or *skipped* (the MIDI-folder pipeline's counted reason); anything else is a *bug*,
named by its exception type.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

MIDI_READERS = ("melody reader", "MIDI-folder pipeline")


def _classes(n: int, seed: int) -> list[tuple[str, str]]:
    from accompanist.bench.hostile_cases import midi_classes

    out = []
    for name in midi_classes(random.Random(seed), n):
        readers = ("eval", "MIDI-folder pipeline") if "two-track" in name else MIDI_READERS
        out += [(name, r) for r in readers]
    return (
        out
        + [("a 100 MB file", "melody reader"), ("presets of the wrong shape", "presets")]
        + [("cards of the wrong shape or pointing outside", "model cards")]
    )


def _run_class(name: str, reader: str, n: int, seed: int, q) -> None:
    """In a child process: every case of one class through one reader."""
    from accompanist.bench import hostile_cases as hc
    from accompanist.data import midi_folder
    from accompanist.data.track_pick import PickRule
    from accompanist.errors import AccompanistError
    from accompanist.evaluation.harmoniser import measure_files
    from accompanist.inference.answerers import open_answerer
    from accompanist.inference.cards import load_card, read_card
    from accompanist.live.settings import DEFAULT_MODELS
    from accompanist.offline.two_track import read_melody
    from accompanist.presets import load_preset

    tmp = Path(tempfile.mkdtemp(prefix="accompanist-hostile-"))
    outcomes: dict[str, int] = {}
    times: list[float] = []

    def read_one(path: Path) -> str:
        try:
            if reader == "melody reader":
                read_melody(path, None, 4)
            elif reader == "eval":
                measure_files([path], "alto")
            elif reader == "presets":
                load_preset(str(path))
            elif reader == "model cards":
                open_answerer(read_card(path))
            else:  # the pipeline's own per-file step: a reason is a counted skip, "failed: X" its bug
                _, got = midi_folder.process_file(path.name)
                if isinstance(got, str):
                    return f"bug: {got[8:]}" if got.startswith("failed: ") else "skipped"
        except AccompanistError as exc:
            return "refused" if "\n" not in str(exc) else "bug: two lines"
        except Exception as exc:
            return f"bug: {type(exc).__name__}"
        return "read"

    def cases():
        if reader == "presets":
            yield from (t.encode() for t in hc.ODD_PRESETS)
        elif reader == "model cards":
            yield from hc.ODD_CARDS
        elif name == "a 100 MB file":
            yield None
        else:
            yield from hc.midi_classes(random.Random(seed), n)[name]()

    if reader == "MIDI-folder pipeline":
        midi_folder.init_worker(tmp, PickRule(), midi_folder.PieceRule())
    if reader == "model cards":
        src = load_card(DEFAULT_MODELS["respond"]).folder
        shutil.copytree(src, tmp / "card", dirs_exist_ok=True)
        base = (tmp / "card" / "card.json").read_text()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for i, case in enumerate(cases()):
        path = tmp / f"case{i}.mid"
        if reader == "model cards":
            path = tmp / "card" / "card.json"
            path.write_text(hc.odd_card(json.loads(base), case))
        elif case is None:
            hc.write_huge(path)
        else:
            path.write_bytes(case)
        t0 = time.perf_counter()
        end = read_one(path)
        times.append(time.perf_counter() - t0)
        outcomes[end] = outcomes.get(end, 0) + 1
        path.unlink(missing_ok=True)
    shutil.rmtree(tmp, ignore_errors=True)
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss
    q.put({"outcomes": outcomes, "times": times, "peak_growth_mb": growth / 1024})


#: a class that takes longer than this has hung
CLASS_LIMIT_S = 600.0


def _result(p, q, limit: float) -> dict | None:
    import queue

    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        try:
            return q.get(timeout=0.5)
        except queue.Empty:
            if not p.is_alive() and q.empty():
                return None
    p.kill()
    return None


def _failed_row(name: str, reader: str, exitcode: int | None) -> dict:
    why = f"process ended with {exitcode}" if exitcode not in (None, -9) else "hung or killed"
    return {
        "class": name,
        "reader": reader,
        "cases": 0,
        "read": 0,
        "refused": 0,
        "skipped": 0,
        "bugs": {f"bug: {why}": 1},
        "median_ms": float("nan"),
        "max_ms": float("nan"),
        "peak_growth_mb": float("nan"),
    }


def run(n: int = 200, seed: int = 0) -> list[dict]:
    """One row per (class, reader)."""
    ctx = mp.get_context("spawn")  # a fresh interpreter: no memory high-water mark carried over
    rows = []
    for name, reader in _classes(n, seed):
        q = ctx.Queue()
        p = ctx.Process(target=_run_class, args=(name, reader, n, seed, q))
        p.start()
        got = _result(p, q, CLASS_LIMIT_S)
        p.join()
        if got is None:  # the child died (killed for memory?) or hung: a bug of the whole class
            rows.append(_failed_row(name, reader, p.exitcode))
            continue
        t = got["times"]
        o = got["outcomes"]
        rows.append(
            {
                "class": name,
                "reader": reader,
                "cases": len(t),
                "read": o.get("read", 0),
                "refused": o.get("refused", 0),
                "skipped": o.get("skipped", 0),
                "bugs": {k: v for k, v in o.items() if k.startswith("bug")},
                "median_ms": 1000 * float(np.median(t)),
                "max_ms": 1000 * max(t),
                "peak_growth_mb": got["peak_growth_mb"],
            }
        )
    return rows


def format_rows(rows: list[dict]) -> list[str]:
    out = [
        "| inputs | reader | cases | read | refused | skipped | bugs | median ms | max ms | peak growth MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        bugs = ", ".join(f"{k[5:]} x{v}" for k, v in r["bugs"].items()) or "0"
        out.append(
            f"| {r['class']} | {r['reader']} | {r['cases']} | {r['read']} | {r['refused']} | {r['skipped']} | "
            f"{bugs} | {r['median_ms']:.2f} | {r['max_ms']:.1f} | {r['peak_growth_mb']:.1f} |"
        )
    return out
