"""The bands a model's figures are held to, written once: the eval's table (``outside``), the
panel's scorecard (green inside, amber outside) and the shipped models' tests read them here.

Each band is ``(low, high)``, both inside.
"""

from __future__ import annotations

import math

#: Bach's own alto, tenor and bass under the held-out chorale sopranos: what the duet issue asks
#: of a duet model at its default listen setting, per figure of ``metrics.harmony_poly``
DUET_BANDS: dict[str, tuple[float, float]] = {
    "coverage": (0.95, 1.0),
    "consonance": (0.68, 0.92),
    "in_key": (0.88, 1.0),
    "crossing": (0.0, 0.03),
    "polyphony": (2.0, 3.5),
    "ic_overlap": (0.85, 1.0),
    "onset_ratio": (1.0, 2.0),
    "onsets_aligned": (0.65, 1.0),
}
#: the duet figures the panel's scorecard shows for the last bars played
SCORECARD = ("consonance", "in_key", "crossing")
#: call and response: the answer's notes in the key of the call (the call and response issue's band)
RESPOND_BANDS: dict[str, tuple[float, float]] = {"in_key": (0.90, 1.0)}
#: the RL tuner's rule statistics in percent, after tuning (the paper's Q-learning row: 0.0, 1.0, 91.1, 75.7)
RL_BANDS: dict[str, tuple[float, float]] = {
    "excessively_repeated": (0.0, 1.0),
    "not_in_key": (0.0, 2.0),
    "leaps_resolved": (90.0, 100.0),
    "in_motif": (70.0, 100.0),
}


def inside(value: float | None, band: tuple[float, float]) -> bool:
    """In the band (a missing or NaN figure never is)."""
    return value is not None and not math.isnan(value) and band[0] <= value <= band[1]


def outside(row: dict, bands: dict[str, tuple[float, float]]) -> list[str]:
    """The figures of ``row`` that miss their bands (empty: all met; a figure missing misses)."""
    return [k for k, band in bands.items() if not inside(row.get(k), band)]
