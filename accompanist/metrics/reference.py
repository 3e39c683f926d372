"""Bach's own harmony figures, the yardstick for a harmoniser: what the chorales score on every
figure of :mod:`accompanist.metrics.harmony`, for soprano -> alto, tenor -> bass, and both pooled.

The figures ship as ``bach_reference.json`` so that the eval report and the tests need neither
music21 nor the corpus; ``python -m accompanist.evaluation.bach_reference`` regenerates the file
from all selected chorales (music21 needed then).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import numpy as np

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
