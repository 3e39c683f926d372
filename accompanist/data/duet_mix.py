"""Several duet sources trained as one: ``--data chorales,music21:palestrina@150,music21:monteverdi``
(``@N``: the first N pieces of that source only).

Each source is loaded and split on its own (``duet_data.load_duet_data``), so the chorales keep
the harmoniser's held-out chorales and every other collection its seeded split by name; then the
training, validation and test pieces of all sources are read as one collection each. The test
pieces stay labelled by source, so held-out figures are reported per source as well as pooled.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np

SEPARATOR = ","


class ConcatPieces:
    """The pieces face (names, length, read, phase, subset, steps) over several collections."""

    def __init__(self, parts: list, labels: list[str]):
        self.parts, self.labels = parts, labels
        self._where = [(p, i) for p, part in enumerate(parts) for i in range(len(part))]
        self.names = [f"{labels[p]}:{parts[p].names[i]}" for p, i in self._where]

    def __len__(self) -> int:
        return len(self._where)

    def length(self, i: int) -> int:
        p, j = self._where[i]
        return self.parts[p].length(j)

    def read(self, i: int, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        p, j = self._where[i]
        return self.parts[p].read(j, start, stop)

    def phase(self, i: int, steps_per_beat: int = 4) -> np.ndarray:
        p, j = self._where[i]
        return self.parts[p].phase(j, steps_per_beat)

    def subset(self, keep: list[int]) -> ConcatPieces:
        chosen: dict[int, list[int]] = {}
        for i in keep:
            p, j = self._where[i]
            chosen.setdefault(p, []).append(j)
        ps = sorted(chosen)
        return ConcatPieces([self.parts[p].subset(chosen[p]) for p in ps], [self.labels[p] for p in ps])

    @property
    def steps(self) -> int:
        return sum(p.steps for p in self.parts)

    def by_source(self) -> dict:
        return dict(zip(self.labels, self.parts, strict=True))


def load_mixed(cfg):
    """A ``DuetData`` of every source named in ``cfg.source``, each split on its own."""
    from accompanist.data.duet_data import DuetData, load_duet_data

    sources = [s.strip() for s in cfg.source.split(SEPARATOR) if s.strip()]
    each = [load_duet_data(replace(cfg, source=src, limit=n or cfg.limit)) for src, n in map(_limited, sources)]
    split = {
        k: ConcatPieces([getattr(d, k) for d in each], sources) for k in ("train", "val", "test")
    }  # fmt: skip
    counts = {"sources": {s: d.counts for s, d in zip(sources, each, strict=True)}}
    for k in ("train", "val", "test"):
        counts[f"{k}_pieces"] = len(split[k])
        counts[f"{k}_steps"] = split[k].steps
    digest = hashlib.sha256("".join(d.data_hash for d in each).encode()).hexdigest()
    rule = " | ".join(f"{s}: {d.rule}" for s, d in zip(sources, each, strict=True))
    return DuetData(split["train"], split["val"], split["test"], counts, digest, rule)


def _limited(source: str) -> tuple[str, int | None]:
    """``SOURCE@N``: only the first N pieces of that source (a collection far larger than the
    others would drown them). Pieces are split by a hash of their names, so each piece kept is
    on the side of the split it would be on without the cut."""
    name, at, n = source.rpartition("@")
    if at and n.isdigit() and int(n) > 0:
        return name, int(n)
    return source, None
