"""Taps to a tempo (a pad, a pedal or the terminal's ``t``): the median of the last few
intervals, so one tap off the beat does not throw it; a pause longer than ``RESET`` starts a
new count."""

from __future__ import annotations

import statistics

RESET = 2.0  #: seconds: a gap this long is not a beat (30 bpm), the next tap starts anew
KEEP = 4  #: intervals the tempo is the median of


class TapTempo:
    def __init__(self) -> None:
        self._taps: list[float] = []

    def tap(self, t: float) -> float | None:
        """A tap at t (seconds): the tempo it and the taps before it say, or None after the
        first tap of a count."""
        if self._taps and t - self._taps[-1] > RESET:
            self._taps.clear()
        self._taps = [*self._taps[-KEEP:], t]
        if len(self._taps) < 2:
            return None
        gaps = [b - a for a, b in zip(self._taps, self._taps[1:], strict=False)]
        return 60.0 / statistics.median(gaps)
