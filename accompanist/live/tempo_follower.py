"""Following a player's tempo: Kalman filters on the times of the grid's steps.

The state is the time of the last step an onset was placed on, the step's period and the
period's change a step; an onset is placed on the step that best explains it, and moves the
state by as much as its surprise warrants (A. T. Cemgil, B. Kappen, P. Desain, H. Honing, "On
tempo tracking: Tempogram representation and Kalman filtering", Journal of New Music Research,
2000: tempo as a hidden state, performed onsets as noisy observations of it). Its gains are the
linear phase and period correction of the sensorimotor-synchronisation literature (D. Vorberg,
H.-H. Schulze, "Linear phase-correction in synchronization", 2002; B. H. Repp, "Sensorimotor
synchronization: a review of the tapping literature", 2005), each correction as large as what
the filter does not yet know: large while the tempo is a guess, small once it has heard bars.

Two trackers, on evidence (``accompanist bench follow``, validation tunes): one filter cannot both
follow 88 -> 76 -> 92 bpm without losing its place on a long note and stay still under a
player's 10 ms spread. So quick filters (``find``) decide which step each onset belongs to, a
beam of them each placing the onsets its own way (``live.onset_placing``), and are seldom lost;
the grid that is played is a bank of filters given the same placements, each
a way a player moves (a steady tempo, a ritardando or accelerando that goes on, one that turns),
mixed by how well each has foreseen the player's recent onsets: the interacting multiple model
of H. A. P. Blom and Y. Bar-Shalom ("The interacting multiple model algorithm for systems with
Markovian switching coefficients", IEEE Transactions on Automatic Control, 1988). A steady player
is heard by the steady model, whose grid does not pass their spread on; a ritardando moves the
weight to a model with a rate, and at a turn to the one that lets the rate change fast; each
model starts every onset from the mixture, so one that lost the player is not left behind. When
the beam's best way of placing changes, the grid is taken back to the last placement the two
share and hears the new way's since (at most ``BeamConfig.depth`` onsets).

Where we depart from Cemgil et al.: no tempogram to start from (``--bpm`` is the first guess,
its period known to about ``first_spread``); the step an onset belongs to is chosen with a
metrical prior (downbeats, beats, 8ths, 16ths), as in their quantisation, among the steps within
reach of the prediction. Onsets that fit no step (an ornament, a grace note, a triplet: within a
beat of the last onset and more than ``gate`` of a step off) and the later notes of a chord move
nothing; a note a beat or more after the last always counts (skipping it because the player has
drifted would only lose them further). Silence moves nothing: a held note or a rest keeps the
tempo, and after a rest of ``resume_bars`` the next onset is a restart: where the held grid expects
it, or, once the grid's place is unsure by ``lost_place`` of a beat, on the nearest bar line; the
period known again only to ``resume_spread`` (a player who comes back a little faster is found).

Pure: times in, times out; the engine's player clock (``live.player_clock``) holds one under a
lock.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from accompanist.live.beat_kalman import BeatKalman, Drift
from accompanist.live.onset_placing import BeamConfig, Placed, PlacingBeam, candidates


@dataclass(frozen=True)
class Bank:
    """The played grid's models and how they are mixed."""

    models: tuple[Drift, ...]
    stay: float = 0.99  #: per onset: how likely the player keeps moving as they did
    #: at the first note: how fast a ritardando may already be (a step's share a step; None: each
    #: model's own spread in the long run)
    rate_spread: float | None = 0.002


#: the placing filters: quick to follow, so they are seldom lost
FIND = Drift(phase=0.004, period=0.008, rate=0.0005)
BEAM = BeamConfig()
#: a steady tempo (no rate), a ritardando or accelerando that goes on, one that turns
STEADY = Drift(phase=0.0001, period=0.0001, rate=0.000001, rate_memory=0.0)
GOING = Drift(phase=0.0001, period=0.0001, rate=0.00003, rate_memory=0.999)
TURNING = Drift(phase=0.0001, period=0.0001, rate=0.0003, rate_memory=0.999)


@dataclass(frozen=True)
class FollowerConfig:
    """Chosen on validation tunes played with human timing and a tempo curve (``bench follow``)."""

    jitter: float = 0.012  #: seconds: the player's own spread, the observation noise
    #: the filter that places onsets on steps: quick to follow, so it is seldom lost
    find: Drift = FIND
    beam: BeamConfig = BEAM  #: how many ways of placing the onsets are kept
    #: the models whose mixture is the grid that is played
    grid: Bank = Bank((STEADY, GOING, TURNING))
    first_spread: float = 0.15  #: how far the first guess may be off (a share of the period)
    resume_spread: float = 0.10  #: the same, after a rest of resume_bars
    resume_bars: float = 1.0
    #: beats: after such a rest, a held grid whose place is less sure than this (an SD) puts the
    #: restart on the nearest bar line; surer, on the step that best explains it
    lost_place: float = 0.5
    gate: float = 0.3  #: steps: an ornament further from every step than this corrects nothing
    chord: float = 0.35  #: steps: onsets closer than this to the last one used are one strike


class ModelBank:
    """The played grid: a mixture of BeatKalman filters, each a way a player moves (Blom and
    Bar-Shalom's interacting multiple model); all are corrected at the same steps."""

    def __init__(self, bank: Bank, jitter: float, period: float) -> None:
        self.bank = bank
        self.filters = [BeatKalman(d, jitter, period) for d in bank.models]
        n = len(self.filters)
        self.weights = np.full(n, 1.0 / n)
        switch = (1.0 - bank.stay) / max(n - 1, 1)
        self.switching = np.full((n, n), switch) + np.eye(n) * (bank.stay - switch)

    @property
    def step(self) -> int:
        return self.filters[0].step

    @property
    def period(self) -> float:
        return float(sum(w * f.period for w, f in zip(self.weights, self.filters, strict=True)))

    def copy(self) -> ModelBank:
        other = object.__new__(ModelBank)
        other.__dict__.update(self.__dict__)
        other.filters, other.weights = [f.copy() for f in self.filters], self.weights.copy()
        return other

    def anchor(self, step: int, t: float, spread: float) -> None:
        for f in self.filters:
            f.anchor(step, t, spread, self.bank.rate_spread)
        self.weights[:] = 1.0 / len(self.filters)

    def boundary(self, k: float) -> float:
        return float(sum(w * f.boundary(k) for w, f in zip(self.weights, self.filters, strict=True)))

    def spread(self, k: int) -> float:
        """The SD of where step k falls, as the mixture foresees it (seconds)."""
        at = [f.predict(k) for f in self.filters]
        mean = sum(w * m for w, (m, _) in zip(self.weights, at, strict=True))
        return math.sqrt(sum(w * (v + (m - mean) ** 2) for w, (m, v) in zip(self.weights, at, strict=True)))

    def retempo(self, period: float, spread: float) -> None:
        for f in self.filters:
            f.retempo(period, spread)

    def correct(self, k: int, t: float) -> None:
        """An onset at t on step k: each filter starts from the mixture it would have switched
        from, hears the onset, and is weighed by how well it foresaw it."""
        before = self.switching.T @ self.weights
        mixing = self.switching * self.weights[:, None] / before[None, :]  # [i, j]: from i, now j
        states = [f.state for f in self.filters]
        covs = [f.cov for f in self.filters]
        for j, f in enumerate(self.filters):
            x = sum(mixing[i, j] * states[i] for i in range(len(states)))
            f.state = x
            f.cov = sum(mixing[i, j] * (covs[i] + np.outer(states[i] - x, states[i] - x)) for i in range(len(covs)))
        heard = np.array([f.likelihood(k, t) for f in self.filters])
        for f in self.filters:
            f.correct(k, t)
        w = before * np.exp(heard - heard.max())
        self.weights = w / w.sum()


class TempoFollower:
    """Where step k of a player's grid falls, learned from the player's onsets."""

    def __init__(
        self,
        bpm: float,
        steps_per_beat: int,
        beats_per_bar: int,
        config: FollowerConfig | None = None,
        first_step: int = 0,
    ) -> None:
        """``first_step``: the step the first note is on (live: 0, the downbeat of bar 1; a
        tune played offline: its own first note's)."""
        self.cfg = config or FollowerConfig()
        self.first_step = first_step
        self.steps_per_beat, self.beats_per_bar = steps_per_beat, beats_per_bar
        self._fresh(60.0 / bpm / steps_per_beat)
        self.started = False
        self.last_onset = -math.inf
        self.sounding = 0  #: notes held now
        self.silent_since: float | None = None  #: when the last held note was let go
        self.placed = 0  #: onsets that moved the grid
        self.skipped = 0  #: onsets that fit no step
        self.restarts = 0

    def _fresh(self, period: float) -> None:
        self._beam = PlacingBeam(
            BeatKalman(self.cfg.find, self.cfg.jitter, period), self.steps_per_beat, self.beats_per_bar, self.cfg.beam
        )
        self._grid = ModelBank(self.cfg.grid, self.cfg.jitter, period)
        self._settled()

    def _settled(self) -> None:
        """The grid as it is now is where every hypothesis starts from (an anchor, a new tempo)."""
        self._root = self._grid.copy()
        self._fed: Placed | None = None  #: the placement the grid has heard last
        self._after: OrderedDict[Placed, ModelBank] = OrderedDict()  #: the grid after recent placements

    @property
    def period(self) -> float:
        """Seconds a step, now."""
        return self._grid.period

    @property
    def bpm(self) -> float:
        return 60.0 / (self.period * self.steps_per_beat)

    @property
    def anchor(self) -> int:
        """The last step an onset was placed on."""
        return self._grid.step

    def start(self, t: float, step: int = 0) -> None:
        """The grid's phase is known: step ``step`` begins at t (a first note, a count-in)."""
        self._anchor(step, t, self.cfg.first_spread)

    def guess(self, bpm: float) -> None:
        """A new guess at the tempo (the panel's, a tap): the phase stays, the period is the
        guess, known to ``first_spread``."""
        period = 60.0 / bpm / self.steps_per_beat
        if not self.started:
            self._fresh(period)
            return
        for f in (self._beam, self._grid):
            f.retempo(period, self.cfg.first_spread)
        self._settled()

    def _anchor(self, step: int, t: float, spread: float) -> None:
        self._beam.anchor(step, t, spread)
        self._grid.anchor(step, t, spread)
        self._settled()
        self.started = True

    def boundary(self, k: float) -> float:
        return self._grid.boundary(k) if self.started else math.inf

    def step_at(self, t: float) -> int:
        if not self.started:
            return -1
        k = self.anchor + math.floor((t - self.boundary(self.anchor)) / self.period)
        while self.boundary(k + 1) <= t:
            k += 1
        while self.boundary(k) > t:
            k -= 1
        return k

    def release(self, t: float) -> None:
        """A note let go at t (the sustain pedal's release counts as the notes it held)."""
        self.sounding = max(self.sounding - 1, 0)
        if self.sounding == 0:
            self.silent_since = t

    def onset(self, t: float) -> int | None:
        """A player's strike at t: the step it was placed on, or None if it moved nothing."""
        silent = self.silent_since if self.sounding == 0 else None
        self.sounding += 1
        if not self.started:
            self.start(t, self.first_step)
            self.last_onset = t
            return self.first_step
        if t - self.last_onset < self.cfg.chord * self.period:
            return None
        bar = self.beats_per_bar * self.steps_per_beat * self.period
        since = t - self.last_onset
        self.last_onset = t
        if silent is not None and t - silent >= self.cfg.resume_bars * bar:
            return self._restart(t)
        ornament = since < self.steps_per_beat * self.period  # a main note after a beat is never one
        placed = self._beam.place(t, self.cfg.gate * self.period if ornament else None)
        if placed is None:
            self.skipped += 1
            return None
        self._follow(placed)
        self.placed += 1
        return placed.step

    def _follow(self, placed: Placed) -> None:
        """The grid hears the best hypothesis's placements: the new one, or, when the best is
        now another, its own since the last placement the two share."""
        path, q = [], placed
        while q is not None and q not in self._after:
            path.append(q)
            q = q.before
        if q is not self._fed:
            self._grid = (self._after[q] if q is not None else self._root).copy()
        for p in reversed(path):
            self._grid.correct(p.step, p.t)
            self._after[p] = self._grid.copy()
        self._fed = placed
        while len(self._after) > 2 * (self.cfg.beam.depth + 2):
            self._after.popitem(last=False)

    def _restart(self, t: float) -> int:
        """After a rest: a player comes back where the held grid expects them (a tune's bar of
        rest, resumed on its third beat), unless the grid has held long enough to have drifted
        from them by beats (four bars' silence while they slowed): then on the bar line nearest
        the prediction (the next call, the loop again). Either way the period is known again
        only roughly."""
        f = self._beam.best.filter
        x = self.anchor + (t - self.boundary(self.anchor)) / self.period
        sure = self._grid.spread(max(round(x), self.anchor)) < self.cfg.lost_place * self.steps_per_beat * self.period
        if sure:
            k = candidates(f, t, self.steps_per_beat, self.beats_per_bar)[0].step
        else:
            bar = self.steps_per_beat * self.beats_per_bar
            k = max(self.anchor + 1, round(x / bar) * bar)
        self._anchor(k, t, self.cfg.resume_spread)
        self.restarts += 1
        return k
