"""Batches of note events for the melody models: training windows, freshly transposed each
epoch, and held-out melodies read whole.

A batch holds ``pitch``, ``dur``, ``phase`` (model indices, ``music.events``) and ``mask``
(1 where a note is real, 0 for padding), each (B, T). A model reads notes 0..T-2 and is scored on
notes 1..T-1 where the mask says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch

from accompanist.data.melodies import MelodySet
from accompanist.music.events import PITCH_HI, PITCH_LO, Events

#: Notes a training window holds (the model reads 64 and predicts 64).
WINDOW = 65


def _rows(events: list[Events], length: int) -> dict[str, np.ndarray]:
    n = len(events)
    out = {k: np.zeros((n, length), np.int64) for k in ("pitch", "dur", "phase")}
    out["mask"] = np.zeros((n, length), np.float32)
    for i, ev in enumerate(events):
        m = min(len(ev), length)
        out["pitch"][i, :m] = ev.pitch_index()[:m]
        out["dur"][i, :m] = ev.duration_index()[:m]
        out["phase"][i, :m] = ev.phase_index()[:m]
        out["mask"][i, :m] = 1
    return out


def _batches(rows: dict[str, np.ndarray], size: int, rng: np.random.Generator | None) -> Iterator[dict]:
    n = len(rows["mask"])
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for i in range(0, n, size):
        idx = order[i : i + size]
        yield {k: torch.from_numpy(v[idx]) for k, v in rows.items()}


def shifts_that_fit(ev: Events, shifts: tuple[int, ...]) -> list[int]:
    """The transpositions that keep every note inside the models' pitch range."""
    notes = ev.pitch[ev.pitch >= 0]
    if not len(notes):
        return [0]
    lo, hi = int(notes.min()), int(notes.max())
    return [s for s in shifts if lo + s >= PITCH_LO and hi + s <= PITCH_HI]


class EventWindows:
    """Training: every melody transposed by a random shift that fits, cut into windows of
    WINDOW notes from a random offset (so the cuts move from epoch to epoch)."""

    def __init__(self, melodies: MelodySet, shifts: tuple[int, ...], window: int = WINDOW) -> None:
        self.events = [melodies.events(i) for i in range(len(melodies))]
        self.shifts = shifts
        self.window = window
        self.fits = [shifts_that_fit(ev, shifts) for ev in self.events]
        self._count = sum(max(1, math.ceil(len(ev) / (window - 1))) for ev in self.events)

    def num_batches(self, size: int) -> int:
        return math.ceil(self._count / size)

    def _windows(self, rng: np.random.Generator | None) -> list[Events]:
        out = []
        step = self.window - 1
        for ev, fits in zip(self.events, self.fits, strict=True):
            if rng is not None:
                ev = ev.transposed(int(rng.choice(fits)))
                first = -int(rng.integers(0, step)) if len(ev) > self.window else 0
            else:
                ev = ev.transposed(0 if 0 in fits else fits[0])
                first = 0
            for lo in range(first, len(ev) - 1, step):
                window = ev.slice(max(lo, 0), lo + self.window)
                if len(window) >= 2:
                    out.append(window)
        return out

    def batches(self, size: int, rng: np.random.Generator | None) -> Iterator[dict]:
        return _batches(_rows(self._windows(rng), self.window), size, rng)


class WholeMelodies:
    """Held out: each melody whole, as written (no transposition), padded to the longest in its
    batch; every note after the first is scored once."""

    def __init__(self, melodies: MelodySet) -> None:
        self.events = [melodies.events(i) for i in range(len(melodies))]
        # longest first, so padding stays small within each batch
        self.events.sort(key=len, reverse=True)

    def num_batches(self, size: int) -> int:
        return math.ceil(len(self.events) / size)

    def batches(self, size: int, rng: np.random.Generator | None) -> Iterator[dict]:
        for i in range(0, len(self.events), size):
            chunk = self.events[i : i + size]
            yield {k: torch.from_numpy(v) for k, v in _rows(chunk, max(len(e) for e in chunk)).items()}

    @property
    def notes_scored(self) -> int:
        return sum(max(len(e) - 1, 0) for e in self.events)
