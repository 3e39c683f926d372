"""Batches of phrases (``data.melodies.phrases_of``), for VRASH and its language-model baseline.

A batch holds each note's pitch class (``REST_CLASS`` for a rest), octave, length and bar
position as model indices (``music.events``) and a 0/1 mask, each (B, T), T the most notes in
the batch.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch

from accompanist.data.event_batches import shifts_that_fit
from accompanist.music.events import Events, pitch_class_octave


def phrase_rows(phrases: list[Events]) -> dict[str, np.ndarray]:
    n, length = len(phrases), max(len(p) for p in phrases)
    out = {k: np.zeros((n, length), np.int64) for k in ("pc", "octave", "dur", "phase")}
    out["mask"] = np.zeros((n, length), np.float32)
    for i, p in enumerate(phrases):
        m = len(p)
        pc, octave = pitch_class_octave(p.pitch)
        out["pc"][i, :m], out["octave"][i, :m] = pc, octave
        out["dur"][i, :m], out["phase"][i, :m] = p.duration_index(), p.phase_index()
        out["mask"][i, :m] = 1
    return out


class PhraseBatches:
    """Phrases in batches; in training each is moved by a random transposition that fits."""

    def __init__(self, phrases: list[Events], shifts: tuple[int, ...] = (0,)) -> None:
        self.phrases = phrases
        self.fits = [shifts_that_fit(p, shifts) for p in phrases]

    def num_batches(self, size: int) -> int:
        return math.ceil(len(self.phrases) / size)

    def batches(self, size: int, rng: np.random.Generator | None) -> Iterator[dict[str, torch.Tensor]]:
        order = rng.permutation(len(self.phrases)) if rng is not None else np.arange(len(self.phrases))
        for i in range(0, len(order), size):
            chunk = []
            for j in order[i : i + size]:
                p = self.phrases[j]
                if rng is not None:
                    p = p.transposed(int(rng.choice(self.fits[j])))
                chunk.append(p)
            yield {k: torch.from_numpy(v) for k, v in phrase_rows(chunk).items()}

    @property
    def notes(self) -> int:
        return sum(len(p) for p in self.phrases)
