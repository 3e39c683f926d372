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
TINY_DUET = "tiny-duet"  # stateful
TINY_DUET_WINDOW = "tiny-duet-window"  # the paper's 4-step window (DuetHLSTM)
TINY_DUET_LISTEN = "tiny-duet-listen"  # hears the step it answers
TINY_DUETS = {TINY_DUET: "stateful", TINY_DUET_WINDOW: "window", TINY_DUET_LISTEN: "listen"}
TINY_MELODY = "tiny-melody"  # pitch + duration LSTM (Conner et al. 2022), on chorale sopranos
TINY_VRASH = "tiny-vrash"  # VRASH (Tikhonov and Yamshchikov 2017)
TINY_LM = "tiny-lm"  # VRASH's language-model baseline
TINY_NOTES = "tiny-notes"  # the RL tuner's note RNN (Jaques et al. 2017, stage 1)
TINY_RL = "tiny-rl"  # that note RNN tuned by Q-learning
#: the tiny seq2seq models' training flags (their variant, pair, epochs and folder aside)
TINY_SEQ2SEQ_ARGS = ["--limit", "6", "--hidden", "16", "--embed", "8", "--transpose", "0:2", "--threads", "1"]


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


def write_band_song(path: Path, seed: int, bars: int = 4, ticks_per_beat: int = 96) -> Path:
    """A small band file: 'Melody' (flute, one line), 'Piano' (triads each half bar), 'Bass' and
    'Drums' (channel 10), in 4/4, as the MIDI-folder pipeline expects to meet them."""
    import random

    rng = random.Random(seed)
    q = ticks_per_beat
    mf = mido.MidiFile(type=1, ticks_per_beat=q)
    mf.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000, time=0)]))

    def track(name: str, program: int | None, channel: int, notes: list[tuple[int, int, int]]) -> None:
        events = []
        for pitch, start, end in notes:
            events += [(start, 1, pitch, 90), (end, 0, pitch, 0)]
        msgs = [mido.MetaMessage("track_name", name=name, time=0)]
        if program is not None:
            msgs.append(mido.Message("program_change", program=program, channel=channel, time=0))
        now = 0
        for t, on, pitch, vel in sorted(events, key=lambda e: (e[0], e[1])):
            kind = "note_on" if on else "note_off"
            msgs.append(mido.Message(kind, note=pitch, velocity=vel, channel=channel, time=t - now))
            now = t
        mf.tracks.append(mido.MidiTrack(msgs))

    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    melody, t = [], 0
    while t < bars * 4 * q:
        length = rng.choice([q // 2, q, q, 2 * q])
        melody.append((rng.choice(scale) + 12, t, t + length))
        t += length
    roots = [rng.choice([48, 53, 55, 57]) for _ in range(bars * 2)]
    chords = [(r + k, i * 2 * q, (i + 1) * 2 * q) for i, r in enumerate(roots) for k in (0, 4, 7)]
    bass = [(r - 12, i * 2 * q, (i + 1) * 2 * q) for i, r in enumerate(roots)]
    drums = [(36 if b % 2 == 0 else 38, b * q, b * q + q // 4) for b in range(bars * 4)]
    track("Melody", 73, 0, melody)
    track("Piano", 0, 1, chords)
    track("Bass", 33, 2, bass)
    track("Drums", None, 9, drums)
    mf.save(path)
    return path


class Listener:
    """Collects what arrives at a polled MIDI input (accompanist.live.ports.MidiInput) from a
    thread of its own, as (arrival time, message)."""

    def __init__(self, port):
        import threading
        import time

        self.port, self.heard = port, []
        self._stop = threading.Event()

        def run() -> None:
            while not self._stop.is_set():
                got = port.poll(time.perf_counter())
                self.heard += got
                if not got:
                    time.sleep(0.0005)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def close(self) -> list:
        self._stop.set()
        self._thread.join(2)
        self.heard += self.port.poll(__import__("time").perf_counter())
        self.port.close()
        return self.heard
