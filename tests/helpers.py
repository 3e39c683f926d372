"""Plain helpers shared by the tests: writing melody files and running the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mido

TINY_BI = "tiny-bi"  # bi-aligned, soprano -> alto
TINY_UNI = "tiny-uni"  # uni-faithful, tenor -> bass
TINY_VARIANTS = {TINY_BI: ("bi-aligned", "alto"), TINY_UNI: ("uni-faithful", "bass")}


def write_melody(
    path: Path,
    notes: list[tuple[int | None, int]],
    *,
    ticks_per_beat: int = 480,
    channel: int = 1,
    tempo: int = 500000,
    name: str = "lead",
    program: int | None = 73,
    offs_as_note_on: bool = False,
) -> Path:
    """A type-1 file: a conductor track (tempo, 4/4) and one melody track of (pitch or None, 16ths).

    Velocities vary note by note, so a test can tell whether they were copied.
    """
    step = ticks_per_beat // 4
    mf = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    mf.tracks.append(
        mido.MidiTrack(
            [
                mido.MetaMessage("set_tempo", tempo=tempo, time=0),
                mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
            ]
        )
    )
    track = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
    if program is not None:
        track.append(mido.Message("program_change", program=program, channel=channel, time=0))
    pending = 0
    for i, (pitch, steps) in enumerate(notes):
        if pitch is None:
            pending += steps * step
            continue
        vel = 40 + (i * 17) % 80
        track.append(mido.Message("note_on", note=pitch, velocity=vel, channel=channel, time=pending))
        off = (
            mido.Message("note_on", note=pitch, velocity=0, channel=channel, time=steps * step)
            if offs_as_note_on
            else mido.Message("note_off", note=pitch, velocity=64, channel=channel, time=steps * step)
        )
        track.append(off)
        pending = 0
    mf.tracks.append(track)
    mf.save(path)
    return path


def melody_of_length(steps: int) -> list[tuple[int | None, int]]:
    """A deterministic C major tune of exactly ``steps`` sixteenths (notes of 1, 2 or 4 steps, some rests)."""
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    out: list[tuple[int | None, int]] = []
    total = i = 0
    while total < steps:
        length = min([2, 4, 1, 2, 4][i % 5], steps - total)
        pitch = None if i % 7 == 6 and total + length < steps else scale[(i * 3) % 8]
        out.append((pitch, length))
        total += length
        i += 1
    return out


def run_cli(*args: str | os.PathLike, timeout: float = 180) -> subprocess.CompletedProcess:
    """``python -m accompanist.cli ARGS`` in a fresh interpreter, with this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "accompanist.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
    )


def assert_clean_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit code 2, exactly one line on stderr, starting 'accompanist: error:', no traceback."""
    err = proc.stderr
    assert proc.returncode == 2, (proc.returncode, err)
    assert "Traceback" not in err, err
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("accompanist: error:"), err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]
