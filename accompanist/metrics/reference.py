"""Bach's own harmony figures, the yardstick for a harmoniser: what the chorales score on every
figure of :mod:`accompanist.metrics.harmony`, for soprano -> alto, tenor -> bass, and both pooled.

The figures ship as ``bach_reference.json`` so that the eval report and the tests need neither
music21 nor the corpus; ``python -m accompanist.metrics.reference`` regenerates the file from
all selected chorales (music21 needed then).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from accompanist.metrics.harmony import PairStats, pair_stats, summarize

if TYPE_CHECKING:  # the chorales module is light, but keep this module's imports to numpy and harmony
    from accompanist.data.chorales import Chorales

REFERENCE_FILE = "bach_reference.json"
#: The pairs of the reference file: the two of ``accompanist.data.pairs.PAIRS``, and both pooled.
REFERENCE_PAIRS = ("alto", "bass", "both")


@lru_cache(maxsize=1)
def _load() -> dict:
    text = resources.files("accompanist.metrics").joinpath(REFERENCE_FILE).read_text(encoding="utf-8")
    return json.loads(text)


def bach_reference(pair: str) -> dict:
    """Bach's figures for ``pair`` ("alto", "bass" or "both"): a :func:`summarize` dict, with
    ``ic_overlap`` against that pair's own interval histogram (1.0)."""
    if pair not in REFERENCE_PAIRS:
        raise KeyError(f"no Bach reference for {pair!r}; choose one of {', '.join(REFERENCE_PAIRS)}")
    return dict(_load()[pair])


def bach_reference_info() -> dict:
    """How the reference was made: chorale count, selection rule, grid, generating command."""
    return {k: v for k, v in _load().items() if k not in REFERENCE_PAIRS}


def reference_ic(pair: str) -> np.ndarray:
    """Bach's interval-class histogram for ``pair``, to pass as ``summarize(..., reference_ic=...)``."""
    return np.asarray(bach_reference(pair)["ic_hist"], dtype=np.float64)


def compute(chorales: Chorales) -> dict:
    """The reference document for a set of chorales: figures per pair and pooled, plus provenance."""
    from accompanist.data.chorales import SELECTION_RULE, VOICES
    from accompanist.data.pairs import PAIRS
    from accompanist.music.tokens import STEPS_PER_BEAT

    per_pair: dict[str, list[PairStats]] = {}
    for pair, (upper, lower) in PAIRS.items():
        ui, li = VOICES.index(upper), VOICES.index(lower)
        per_pair[pair] = [pair_stats(v[ui], v[li]) for v in chorales.voices]
    per_pair["both"] = per_pair["alto"] + per_pair["bass"]
    doc: dict = {
        "chorales": len(chorales.names),
        "chorale_files": chorales.source_files,
        "selection": SELECTION_RULE,
        "grid_steps_per_beat": STEPS_PER_BEAT,
        "pairs": {p: list(PAIRS[p]) for p in PAIRS},
        "created_by": "python -m accompanist.metrics.reference",
    }
    for pair, stats in per_pair.items():
        ic = summarize(stats)["ic_hist"]
        doc[pair] = summarize(stats, reference_ic=ic)
    return doc


def main() -> None:
    """Regenerate ``bach_reference.json`` next to this module and print the figures."""
    from accompanist.data.chorales import load_chorales

    doc = compute(load_chorales())
    path = Path(__file__).with_name(REFERENCE_FILE)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path} ({doc['chorales']} chorales)")
    for pair in REFERENCE_PAIRS:
        figs = {k: round(v, 4) for k, v in doc[pair].items() if isinstance(v, float)}
        print(pair, figs)


if __name__ == "__main__":
    main()
