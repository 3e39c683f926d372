"""The lag a player feels: from each strike to the sounding of the first answer that heard it.

A hearing duet answers step k a listen window after its boundary, from what was struck for it by
then; a strike that came later (a player behind the beat, a window too short) is heard when the
step closes and answered with step k + 1, a step later. An anticipating model answers each step
from the steps before it, so every strike waits for the next step. The clock thread tells the
meter both moments, so the figure is the engine's own, measured where it is decided. Only a mode
that answers step by step has such a lag (duet): a loop's answer or a call's comes bars later by
design.
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

#: strikes the figures are taken over (the panel's meter: the last minute or so of playing)
RECENT = 400


class LagMeter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recent: deque[tuple[float, bool]] = deque(maxlen=RECENT)  #: (lag, heard by its own step)
        self._heard: dict[int, tuple[frozenset[float], float]] = {}
        self.strikes = 0  #: strikes measured in all

    def listened(self, k: int, strikes: list[float], answer_at: float) -> None:
        """Step k's answer, sounding at ``answer_at``, was chosen hearing these strikes."""
        self._heard[k] = (frozenset(strikes), answer_at)

    def closed(self, k: int, strikes: list[float], next_answer_at: float) -> None:
        """Step k closed with these strikes; the next step's answer sounds at ``next_answer_at``."""
        heard, at = self._heard.pop(k, (frozenset(), next_answer_at))
        with self._lock:
            for t in strikes:
                self._recent.append((at - t, True) if t in heard else (next_answer_at - t, False))
            self.strikes += len(strikes)
        for old in [j for j in self._heard if j < k]:  # steps skipped by a DAW's jump
            del self._heard[old]

    def reset(self) -> None:
        """A new mode or listen window: figures from here on."""
        with self._lock:
            self._recent.clear()
            self._heard.clear()
            self.strikes = 0

    def figures(self) -> dict:
        """Over the recent strikes: the lag's median and p90 (ms) and the share heard in time."""
        with self._lock:
            recent, strikes = list(self._recent), self.strikes
        if not recent:
            return {"lag_ms_median": None, "lag_ms_p90": None, "heard_in_time": None, "strikes": strikes}
        lags = np.array([lag for lag, _ in recent]) * 1e3
        return {
            "lag_ms_median": round(float(np.median(lags)), 2),
            "lag_ms_p90": round(float(np.percentile(lags, 90)), 2),
            "heard_in_time": round(sum(early for _, early in recent) / len(recent), 3),
            "strikes": strikes,
        }
