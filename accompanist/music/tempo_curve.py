"""A tempo that moves: bpm at bar lines, in a straight line between them (a ritardando, an
accelerando), steady after the last. It says when a step of a tune falls, so a simulated player
can slow down and speed up as a person does (``--tempo-curve 88:0,76:8,92:16``)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from accompanist.limits import LIMITS

#: the --tempo-curve flag's help, for every verb that takes it
TEMPO_CURVE_HELP = (
    "play as a player who keeps no metronome's tempo: BPM:BAR,... (for example 88:0,76:5,92:10), "
    "the grid following them as --clock player does"
)


@dataclass(frozen=True)
class TempoCurve:
    points: tuple[tuple[float, float], ...]  #: (bpm, bar), bars rising from 0
    beats_per_bar: int = 4
    steps_per_beat: int = 4

    def __post_init__(self) -> None:
        if not self.points or self.points[0][1] != 0:
            raise ValueError("a tempo curve starts at bar 0 (for example 88:0,76:8)")
        bars = [bar for _, bar in self.points]
        if any(b <= a for a, b in itertools.pairwise(bars)):
            raise ValueError("a tempo curve's bars must rise (88:0,76:8,92:16)")
        for bpm, _ in self.points:
            LIMITS["bpm"].check(bpm, ValueError)

    @classmethod
    def parse(cls, text: str, beats_per_bar: int = 4, steps_per_beat: int = 4) -> TempoCurve:
        """``BPM:BAR,BPM:BAR,...``; a single bpm is a steady tempo."""
        points = []
        for part in text.split(","):
            bpm, _, bar = part.strip().partition(":")
            try:
                points.append((float(bpm), float(bar or 0)))
            except ValueError:
                raise ValueError(f"tempo curve {text!r}: write BPM:BAR pairs, for example 88:0,76:8,92:16") from None
        return cls(tuple(points), beats_per_bar, steps_per_beat)

    @classmethod
    def read(cls, text: str) -> TempoCurve:
        """``parse`` for a flag: a curve that cannot be read is one line for the user."""
        from accompanist.errors import AccompanistError

        try:
            return cls.parse(text)
        except ValueError as exc:
            raise AccompanistError(str(exc)) from None

    @property
    def _steps_per_bar(self) -> int:
        return self.beats_per_bar * self.steps_per_beat

    def bpm_at(self, step: float) -> float:
        bar = step / self._steps_per_bar
        for (b0, at0), (b1, at1) in zip(self.points, self.points[1:], strict=False):
            if bar < at1:
                return b0 + (b1 - b0) * max(bar - at0, 0.0) / (at1 - at0)
        return self.points[-1][0]

    def seconds(self, step: float) -> float:
        """When ``step`` (steps since bar 0, fractions allowed) falls, in seconds from bar 0."""
        t = 0.0
        knots = [(bpm, bar * self._steps_per_bar) for bpm, bar in self.points]
        for (b0, s0), (b1, s1) in zip(knots, [*knots[1:], (knots[-1][0], math.inf)], strict=True):
            if step <= s0:
                break
            t += self._between(b0, b1, s0, s1, min(step, s1))
        return t

    def _between(self, b0: float, b1: float, s0: float, s1: float, end: float) -> float:
        """Seconds from step s0 to ``end`` while the bpm goes linearly from b0 (at s0) to b1 (s1)."""
        per = 60.0 / self.steps_per_beat
        if math.isinf(s1) or b1 == b0:
            return per * (end - s0) / b0
        slope = (b1 - b0) / (s1 - s0)
        return per / slope * math.log((b0 + slope * (end - s0)) / b0)
