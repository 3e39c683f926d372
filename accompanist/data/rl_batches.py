"""Melodies as the RL tuner's 38 events a 16th step, in training windows, and the calls its
Q-learning episodes start from.

Each melody is moved by a transposition that keeps it inside MIDI 48..83 (upstream's range; a
melody wider than that has its outside notes moved by octaves), then cut into windows of
``window`` steps from a random offset. A batch holds ``events`` (B, T) and ``mask``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch

from accompanist.data.melodies import MelodySet
from accompanist.music.keys import find_key
from accompanist.music.rl_tokens import HIGH, LOW, to_rl
from accompanist.music.tokens import transpose

WINDOW = 129


def fitting_shifts(tokens: np.ndarray, shifts: tuple[int, ...]) -> list[int]:
    p = tokens[tokens < 128]
    lo, hi = int(p.min()), int(p.max())
    fit = [s for s in shifts if lo + s >= LOW and hi + s <= HIGH]
    if fit:
        return fit
    # no shift of the set fits: the octave move nearest the middle of the range, then folding
    centre = (LOW + HIGH) / 2 - (lo + hi) / 2
    return [int(round(centre / 12)) * 12]


class EventRows:
    """Training windows (random shift and offset per epoch) or held-out melodies whole (no rng)."""

    def __init__(self, melodies: MelodySet, shifts: tuple[int, ...], window: int = WINDOW) -> None:
        self.tokens = melodies.tokens
        self.fits = [fitting_shifts(t, shifts) for t in self.tokens]
        self.window = window

    def num_batches(self, size: int) -> int:
        return math.ceil(sum(max(1, math.ceil(len(t) / (self.window - 1))) for t in self.tokens) / size)

    def _rows(self, rng: np.random.Generator | None) -> list[np.ndarray]:
        rows = []
        step = self.window - 1
        for t, fits in zip(self.tokens, self.fits, strict=True):
            shift = int(rng.choice(fits)) if rng is not None else (0 if 0 in fits else fits[0])
            ev = to_rl(transpose(t, shift) if shift else t)
            first = -int(rng.integers(0, step)) if rng is not None and len(ev) > self.window else 0
            for lo in range(first, len(ev) - 1, step):
                w = ev[max(lo, 0) : lo + self.window]
                if len(w) >= 2:
                    rows.append(w)
        return rows

    def batches(self, size: int, rng: np.random.Generator | None) -> Iterator[dict[str, torch.Tensor]]:
        rows = self._rows(rng)
        order = rng.permutation(len(rows)) if rng is not None else np.arange(len(rows))
        for i in range(0, len(rows), size):
            chunk = [rows[j] for j in order[i : i + size]]
            length = max(len(r) for r in chunk)
            ev = np.zeros((len(chunk), length), np.int64)
            mask = np.zeros((len(chunk), length), np.float32)
            for k, r in enumerate(chunk):
                ev[k, : len(r)], mask[k, : len(r)] = r, 1
            yield {"events": torch.from_numpy(ev), "mask": torch.from_numpy(mask)}


def calls(melodies: MelodySet, bars: int = 2) -> list[np.ndarray]:
    """The first ``bars`` bars (from the first downbeat) of every melody long enough, with at least
    two pitch classes: the grid tokens of the calls Q-learning episodes are primed with."""
    out = []
    for t, ph in zip(melodies.tokens, melodies.phases, strict=True):
        down = np.flatnonzero(ph == 0)
        if len(down) > bars:
            call = t[down[0] : down[bars]]
            # the rules need a key: a call of one pitch class has none (Krumhansl-Kessler)
            if (call < 128).sum() >= 4 and find_key(call) is not None:
                out.append(call)
    return out
