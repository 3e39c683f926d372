"""Measure build_midi_folder on 2,000 generated MIDI files (2 % corrupt).

python -m accompanist.bench.midi_folder_bench gen DIR   # writes DIR/src (its own process: its memory is not counted)
python -m accompanist.bench.midi_folder_bench run DIR   # builds DIR/shards on every core: files/s and peak RSS
"""

from __future__ import annotations

import json
import os
import random
import resource
import sys
import time
from pathlib import Path

import mido

TPB = 480
LEADS = [73, 40, 56, 65, 71, 80, 81, 53, 0, 24]


def notes_of(rng: random.Random, bars: int) -> dict[str, list[tuple[int, int, int, int]]]:
    """(pitch, start, end, channel) per part: melody, arpeggiated piano, bass, pad, drums."""
    p: dict[str, list] = {"melody": [], "piano": [], "bass": [], "pad": [], "drums": []}
    pitch = 72
    for b in range(bars):
        t0 = b * 4 * TPB
        root = rng.choice([0, 2, 5, 7, 9])
        t = t0
        while t < t0 + 4 * TPB:
            d = rng.choice([TPB // 4, TPB // 2, TPB // 2, TPB, TPB])
            pitch = max(62, min(88, pitch + rng.choice([-4, -2, -1, 0, 1, 2, 3])))
            if rng.random() > 0.1:
                p["melody"].append((pitch, t, t + d, 0))
            t += d
        for e in range(8):
            iv = [0, 4, 7, 12][e % 4]
            p["piano"].append((55 + root + iv, t0 + e * TPB // 2, t0 + (e + 1) * TPB // 2, 1))
        for q in range(4):
            p["bass"].append((36 + root + (7 if q % 2 else 0), t0 + q * TPB, t0 + (q + 1) * TPB - 20, 2))
        for iv in (0, 4, 7):
            p["pad"].append((60 + root + iv, t0, t0 + 4 * TPB, 3))
        for s in range(16):
            p["drums"].append((42 if s % 4 else 36, t0 + s * TPB // 4, t0 + s * TPB // 4 + 30, 9))
    return p


def write(path: Path, rng: random.Random) -> None:
    bars = rng.randint(2, 30)  # a few bars to a minute at 120 bpm
    parts = notes_of(rng, bars)
    progs = {"melody": rng.choice(LEADS), "piano": 0, "bass": 33, "pad": 89, "drums": 0}
    type0 = rng.random() < 0.15
    mf = mido.MidiFile(type=0 if type0 else 1, ticks_per_beat=TPB)
    tracks = []
    for k, notes in parts.items():
        ch = notes[0][3]
        ev = [(0, 0, mido.Message("program_change", program=progs[k], channel=ch))]
        for b in range(bars):  # some controller traffic, as real files have
            ev.append((b * 4 * TPB, 0, mido.Message("control_change", control=7, value=100, channel=ch)))
        for pi, s, e, c in notes:
            ev.append((s, 2, mido.Message("note_on", note=pi, velocity=80, channel=c)))
            ev.append((e, 1, mido.Message("note_off", note=pi, velocity=0, channel=c)))
        tracks.append((k.capitalize() if rng.random() < 0.7 else None, ev))
    if type0:
        tracks = [("Song", [e for _, ev in tracks for e in ev])]
    meta = [(0, 0, mido.MetaMessage("set_tempo", tempo=500000))]
    meta.append((0, 0, mido.MetaMessage("time_signature", numerator=4, denominator=4)))
    if not type0:
        mf.tracks.append(mido.MidiTrack([m.copy(time=0) for _, _, m in meta]))
    else:
        tracks[0][1].extend(meta)
    for name, ev in tracks:
        tr = mido.MidiTrack()
        if name:
            tr.append(mido.MetaMessage("track_name", name=name, time=0))
        now = 0
        for t, _, m in sorted(ev, key=lambda e: (e[0], e[1])):
            tr.append(m.copy(time=t - now))
            now = t
        mf.tracks.append(tr)
    mf.save(path)


def gen(root: Path, n: int = 2000) -> None:
    rng = random.Random(0)
    src = root / "src"
    for i in range(n):
        sub = src / f"{i % 40:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"file{i:05d}.mid"
        if i % 50 == 7:  # 2 % corrupt, four kinds
            kind = (i // 50) % 4
            if kind == 0:
                path.write_bytes(rng.randbytes(rng.randint(1, 4000)))
            elif kind == 1:
                write(path, rng)
                b = path.read_bytes()
                path.write_bytes(b[: len(b) // 3])
            elif kind == 2:
                path.write_bytes(b"")
            else:
                path.write_text("not a midi file\n" * 10)
        else:
            write(path, rng)
    total = sum(f.stat().st_size for f in src.rglob("*.mid"))
    print(f"wrote {n} files, {total / 1e6:.1f} MB")


def run(root: Path) -> None:
    from accompanist.data.midi_folder import build_midi_folder

    t = time.perf_counter()
    m = build_midi_folder(root / "src", root / "shards", progress=True)
    wall = time.perf_counter() - t
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    again = build_midi_folder(root / "src", root / "shards", progress=True)
    reuse = time.perf_counter() - t
    c = dict(m.counts)
    c.pop("skipped_examples")
    print(json.dumps(c, indent=1))
    print(f"cores: {os.cpu_count()}, load average before/after: {os.getloadavg()}")
    print(
        f"build: {wall:.1f} s wall, {c['files_found'] / wall:.1f} files/s, {m.total_steps} steps, "
        f"{len(m.shards)} shards, {sum(f.stat().st_size for f in (root / 'shards').iterdir()) / 1e6:.1f} MB on disk"
    )
    print(f"peak RSS: parent {self_kb / 1024:.0f} MiB, largest child {child_kb / 1024:.0f} MiB")
    print(f"second run: reused={again.reused} in {reuse:.2f} s")


if __name__ == "__main__":
    {"gen": gen, "run": run}[sys.argv[1]](Path(sys.argv[2]))
