"""Which step of the grid each of a player's onsets belongs to: a beam of placing filters.

One placing filter, deciding each onset's step at once, is lost for good by a single wrong
choice it cannot take back: a dotted 8th struck while the first guess of the tempo is still
rough is placed on the beat after it, the period shrinks by a quarter, and every later onset is
placed to fit (13 of 143 validation tunes on the tempo curve, ``accompanist bench follow``). So the placements
are kept as hypotheses, as in multiple hypothesis tracking (D. B. Reid, "An algorithm for
tracking multiple targets", IEEE Transactions on Automatic Control, 1979): each onset may go on
the few steps that explain it best, each choice a filter of its own scored by how well it
foresaw the onsets (and the metrical prior of the steps chosen), the best ``width`` kept. The
grid follows the best; once ``depth`` onsets have passed, every hypothesis kept agrees on a
placement (Reid's N-scan pruning), so the grid never has to take back more than that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accompanist.live.beat_kalman import BeatKalman


def metrical_prior(step: int, steps_per_beat: int, beats_per_bar: int) -> float:
    """Log weight of an onset on ``step`` (step 0 a downbeat): downbeats, then beats, then
    halves of a beat, then the rest."""
    if step % (steps_per_beat * beats_per_bar) == 0:
        return 0.0
    p = step % steps_per_beat
    if p == 0:
        return math.log(0.6)
    return math.log(0.3) if 2 * p == steps_per_beat else math.log(0.12)


@dataclass(frozen=True)
class BeamConfig:
    """Chosen on the validation tunes (``accompanist bench follow --sweep``): a wider beam or a
    longer memory lost more tunes, not fewer (a hypothesis wrong for bars can outscore the
    right one meanwhile); four ways agreeing four onsets back lost 4 of 143 on the tempo curve,
    none steady, where one way lost 13 and 3."""

    width: int = 4  #: hypotheses kept
    branch: int = 2  #: steps tried for each onset, the likeliest first
    depth: int = 4  #: onsets back, every hypothesis kept agrees


@dataclass(frozen=True, eq=False)
class Placed:
    """An onset placed on a step, after the placements before it (its hypothesis's history)."""

    step: int
    t: float
    before: Placed | None
    depth: int


@dataclass(frozen=True)
class Candidate:
    score: float  #: log density of the onset there, with the step's metrical prior
    step: int
    error: float  #: seconds from the step's predicted time
    var: float  #: the error's variance


def candidates(f: BeatKalman, t: float, steps_per_beat: int, beats_per_bar: int) -> list[Candidate]:
    """The steps after f's last within reach of an onset at t, the likeliest first."""
    x = f.step + (t - f.boundary(f.step)) / f.period
    reach = 1 + math.ceil(2.5 * math.sqrt(f.predict(max(round(x), f.step))[1]) / f.period)
    out = []
    for k in range(max(f.step + 1, math.floor(x) - reach), math.ceil(x) + reach + 1):
        predicted, var = f.predict(k)
        score = -0.5 * (t - predicted) ** 2 / var - 0.5 * math.log(var)
        out.append(Candidate(score + metrical_prior(k, steps_per_beat, beats_per_bar), k, t - predicted, var))
    return sorted(out, key=lambda c: -c.score)


@dataclass(eq=False)
class Hypothesis:
    score: float
    filter: BeatKalman
    last: Placed | None  #: None: nothing placed since the anchor


def _ancestor(p: Placed | None, depth: int) -> Placed | None:
    while p is not None and p.depth > depth:
        p = p.before
    return p


class PlacingBeam:
    def __init__(self, filter_: BeatKalman, steps_per_beat: int, beats_per_bar: int, config: BeamConfig) -> None:
        self.cfg = config
        self.steps_per_beat, self.beats_per_bar = steps_per_beat, beats_per_bar
        self.hypotheses = [Hypothesis(0.0, filter_, None)]

    @property
    def best(self) -> Hypothesis:
        return self.hypotheses[0]

    def anchor(self, step: int, t: float, spread: float) -> None:
        """Step ``step`` falls at t: the best hypothesis goes on from there, alone."""
        f = self.best.filter
        f.anchor(step, t, spread)
        self.hypotheses = [Hypothesis(0.0, f, None)]

    def retempo(self, period: float, spread: float) -> None:
        for h in self.hypotheses:
            h.filter.retempo(period, spread)

    def place(self, t: float, gate: float | None) -> Placed | None:
        """An onset at t: the best hypothesis's placement of it, or None if it placed it nowhere
        (``gate``: for an ornament, seconds; one further than that, and than 2.5 SD, from every
        step moves nothing)."""
        children: dict[tuple[int, int], Hypothesis] = {}

        def keep(h: Hypothesis) -> None:
            # one hypothesis a step and period (to 1 %): the beam holds ways to hear the player,
            # not copies of one way
            key = (h.last.step if h.last else -1, round(100 * math.log(h.filter.period)))
            if key not in children or children[key].score < h.score:
                children[key] = h

        for h in self.hypotheses:
            found = candidates(h.filter, t, self.steps_per_beat, self.beats_per_bar)
            if gate is not None and abs(found[0].error) > max(gate, 2.5 * math.sqrt(found[0].var)):
                keep(h)  # an ornament for this hypothesis
                continue
            for c in found[: self.cfg.branch]:
                f = h.filter.copy()
                f.correct(c.step, t)
                depth = h.last.depth + 1 if h.last else 1
                keep(Hypothesis(h.score + c.score, f, Placed(c.step, t, h.last, depth)))
        kept = sorted(children.values(), key=lambda h: -h.score)[: self.cfg.width]
        best = kept[0]
        if best.last is not None:  # every hypothesis kept agrees with the best `depth` onsets back
            root = _ancestor(best.last, best.last.depth - self.cfg.depth)
            kept = [h for h in kept if _ancestor(h.last, root.depth if root else 0) is root]
        top = best.score
        for h in kept:
            h.score -= top
        moved = best.last is not None and best not in self.hypotheses
        self.hypotheses = kept
        return best.last if moved else None
