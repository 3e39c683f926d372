"""Timing a callable many times and reducing the samples to the figures we quote."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def time_calls(fn: Callable[[], object], runs: int, warmup: int = 10) -> np.ndarray:
    """Seconds per call for ``runs`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    out = np.empty(runs)
    for i in range(runs):
        t0 = time.perf_counter()
        fn()
        out[i] = time.perf_counter() - t0
    return out


def summary(seconds: np.ndarray, unit: str = "ms") -> dict:
    """median, p90, p99 and max in the given unit (ms or us), and the number of runs."""
    scale = {"ms": 1e3, "us": 1e6}[unit]
    s = np.asarray(seconds) * scale
    return {
        "unit": unit,
        "runs": len(s),
        "median": round(float(np.median(s)), 4),
        "p90": round(float(np.percentile(s, 90)), 4),
        "p99": round(float(np.percentile(s, 99)), 4),
        "max": round(float(s.max()), 4),
    }
