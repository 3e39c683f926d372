"""How well it keeps time and harmony, on screen: a timing meter (output timing error and model
time, median and p99 of the last messages and answers, missed deadlines) and a harmony scorecard of
the last four bars (consonance, answer in key, voice crossing) against Bach's bands, green inside,
amber outside. In respond mode the answer does not sound with the call, so the one harmony figure
is the answer's notes in the key of the calls heard (the call and response issue's band: 90 %).
Both start again when the mode changes.

Timing comes from the engine's own figures: model times from its events, output errors from its
scheduler's record (the newest few hundred, read twice a second). Harmony is measured here, on the
window's thread, by ``accompanist.metrics`` on what the piano roll holds: never on the engine's.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from accompanist.metrics.bands import DUET_BANDS, RESPOND_BANDS, SCORECARD, inside
from accompanist.metrics.harmony_poly import poly_stats, summarize_poly
from accompanist.music import roll
from accompanist.music.keys import key_of_histogram
from accompanist.music.melody_line import melody_tokens
from accompanist.music.notes import Note
from accompanist.music.tokens import REST
from accompanist.ui.roll_model import RollModel

#: Bach's alto, tenor and bass against the soprano, the duet issue's bands (``metrics.bands``)
BANDS = {k: DUET_BANDS[k] for k in SCORECARD}
RECENT = 256  #: messages and answers the timing meter reads
BARS = 4
GREEN, AMBER = "#2a8a3a", "#c98a00"


class Scorecard(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.timing = QLabel("")
        self.chips = {k: QLabel("") for k in BANDS}
        row = QHBoxLayout()
        row.addWidget(QLabel(f"last {BARS} bars:"))
        for chip in self.chips.values():
            row.addWidget(chip)
        row.addStretch(1)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.timing)
        col.addLayout(row)
        self.reset()

    def reset(self, sent_so_far: int = 0, since: int = 0, mode: str = "duet") -> None:
        """A new mode (or session): figures from here on only (harmony from step ``since``)."""
        self.since, self.bands = since, RESPOND_BANDS if mode == "respond" else BANDS
        for k, chip in self.chips.items():
            chip.setVisible(k in self.bands)
        self.model_ms: list[float] = []
        self.missed, self.steps, self.mark = 0, 0, sent_so_far
        self.output_ms: list[float] = []
        self.lag: dict = {}
        self.harmony: dict[str, float | None] = {k: None for k in self.bands}
        self._show()

    def feed(self, ev: dict) -> None:
        kind = ev["type"]
        ms = ev.get("inference_ms", ev.get("harmonize_ms", ev.get("answer_ms")))
        if kind in ("answer", "pass", "response") and ms is not None:
            self.model_ms = (self.model_ms + [ms])[-RECENT:]
        elif kind == "missed":
            self.missed += 1
        elif kind == "step" and not ev.get("count_in"):
            self.steps += 1

    def poll(self, errors, sent: int, lag: dict | None = None) -> None:
        """Read the newest output timing errors (seconds; a deque the scheduler appends to) sent
        since the last reset (``sent``: messages timed in all, ``Scheduler.timed``), and the lag
        the player feels (``Engine.lag_felt``; empty outside duet)."""
        self.lag = lag or {}
        new = max(0, min(RECENT, sent - self.mark))
        # one C-level pass: no Python runs while the list is taken, so the deque cannot change under it
        latest = list(itertools.islice(reversed(errors), new))
        self.output_ms = [abs(e) * 1e3 for e in latest]
        self._show()

    def measure(self, model: RollModel) -> dict[str, float | None]:
        """Consonance, in key and crossing of the last ``BARS`` bars the roll holds."""
        end = model.current + 1
        start = max(0, self.since, end - BARS * model.steps_per_bar)
        if end - start < model.steps_per_beat:
            return self.harmony
        if self.bands is RESPOND_BANDS:
            self.harmony = {"in_key": _answer_in_calls_key(model, start, end)}
            self._show()
            return self.harmony
        melody, answer = _grid(model, start, end)
        if (melody == REST).all() or not answer[:, roll.FRAME].any():
            self.harmony = {k: None for k in BANDS}
        else:
            fig = summarize_poly([poly_stats(melody, answer)])
            self.harmony = {k: (None if _nan(fig.get(k)) else float(fig[k])) for k in BANDS}
        self._show()
        return self.harmony

    def _show(self) -> None:
        out = _pct(self.output_ms)
        mod = _pct(self.model_ms)
        lag = ""
        if self.lag.get("lag_ms_median") is not None:
            lag = (
                f"   lag you feel median {self.lag['lag_ms_median']:.0f} ms, p90 {self.lag['lag_ms_p90']:.0f} ms"
                f" ({self.lag['heard_in_time']:.0%} heard in time)"
            )
        self.timing.setText(
            f"output timing error {out}   model {mod}   missed deadlines {self.missed} of {self.steps} steps{lag}"
        )
        for k, chip in self.chips.items():
            if k not in self.bands:
                continue
            v = self.harmony.get(k)
            name = k.replace("_", " ")
            if v is None:
                chip.setText(f"{name} -")
                chip.setStyleSheet("color: gray;")
                continue
            text = f"{100 * v:.1f} %" if k == "crossing" else f"{v:.2f}"
            chip.setText(f"{name} {text}")
            color = GREEN if inside(v, self.bands[k]) else AMBER
            chip.setStyleSheet(f"color: white; background: {color}; padding: 2px 6px; border-radius: 4px;")


def _pct(ms: list[float]) -> str:
    if not ms:
        return "-"
    return f"median {np.median(ms):.2f} ms, p99 {np.percentile(ms, 99):.2f} ms"


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _answer_in_calls_key(model: RollModel, start: int, end: int) -> float | None:
    """Share of the answer's notes struck on ``start``..``end`` whose pitch class is in the key of
    the player's notes there (Krumhansl-Kessler, duration-weighted), or None if either is missing."""
    hist = np.zeros(12)
    for n in model.player:
        stop = end if n.end is None else min(n.end, end)
        if stop > start:
            hist[n.pitch % 12] += stop - max(n.start, start)
    key = key_of_histogram(hist)
    struck = [n.pitch % 12 for n in model.answer if start <= n.start < end]
    if key is None or not struck:
        return None
    return float(np.isin(struck, list(key.pitch_classes)).mean())


def _grid(model: RollModel, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """The roll's notes on steps ``start``..``end`` as the engine hears and the metrics read
    them: the player's as melody tokens (``music.melody_line.melody_tokens``), the answer as a roll."""

    def part(notes) -> np.ndarray:
        spans = [(n, end if n.end is None else n.end) for n in notes]
        inside = [Note(n.pitch, max(n.start - start, 0.0), stop - start) for n, stop in spans if stop > start]
        return roll.notes_to_roll(inside, 1.0, length=end - start)

    return melody_tokens(part(model.player)), part(model.answer)
