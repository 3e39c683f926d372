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
player's 10 ms spread. So one filter (``find``, quick) decides which step each onset belongs to,
and is seldom lost; the grid that is played is a bank of filters given the same placements, each
a way a player moves (a steady tempo, a ritardando or accelerando that goes on, one that turns),
mixed by how well each has foreseen the player's recent onsets: the interacting multiple model
of H. A. P. Blom and Y. Bar-Shalom ("The interacting multiple model algorithm for systems with
Markovian switching coefficients", IEEE Transactions on Automatic Control, 1988). A steady player
is heard by the steady model, whose grid does not pass their spread on; a ritardando moves the
weight to a model with a rate, and at a turn to the one that lets the rate change fast; each
model starts every onset from the mixture, so one that lost the player is not left behind.

Where we depart from Cemgil et al.: no tempogram to start from (``--bpm`` is the first guess,
its period known to about ``first_spread``); the step an onset belongs to is chosen with a
metrical prior (downbeats, beats, 8ths, 16ths), as in their quantisation, among the steps within
reach of the prediction. Onsets that fit no step (an ornament, a grace note, a triplet: within a
beat of the last onset and more than ``gate`` of a step off) and the later notes of a chord move
nothing; a note a beat or more after the last always counts (skipping it because the player has
drifted would only lose them further). Silence moves nothing: a held note or a rest keeps the
tempo, and after a rest of ``resume_bars`` the next onset is a restart on the nearest bar line, the
period known again only to ``resume_spread`` (a player who comes back a little faster is found).

Pure: times in, times out; the engine's player clock (``live.player_clock``) holds one under a
lock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Drift:
    """How far a player may wander a step, each as a share of a step: the filter's process noise."""

    phase: float
    period: float
    rate: float  #: a ritardando beginning or ending
    rate_memory: float = 0.97  #: per step: how long a ritardando is expected to go on
    surprise: float = math.inf  #: an onset more SDs off than this widens what the filter allows


@dataclass(frozen=True)
class Bank:
    """The played grid's models and how they are mixed."""

    models: tuple[Drift, ...]
    stay: float = 0.99  #: per onset: how likely the player keeps moving as they did
    #: at the first note: how fast a ritardando may already be (a step's share a step; None: each
    #: model's own spread in the long run)
    rate_spread: float | None = 0.002


#: a steady tempo (no rate), a ritardando or accelerando that goes on, one that turns
STEADY = Drift(phase=0.0001, period=0.0001, rate=0.000001, rate_memory=0.0)
GOING = Drift(phase=0.0001, period=0.0001, rate=0.00003, rate_memory=0.999)
TURNING = Drift(phase=0.0001, period=0.0001, rate=0.0003, rate_memory=0.999)


@dataclass(frozen=True)
class FollowerConfig:
    """Chosen on validation tunes played with human timing and a tempo curve (``bench follow``)."""

    jitter: float = 0.012  #: seconds: the player's own spread, the observation noise
    #: the filter that places onsets on steps: quick to follow, so it is seldom lost
    find: Drift = Drift(phase=0.004, period=0.008, rate=0.0005)
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


def metrical_prior(step: int, steps_per_beat: int, beats_per_bar: int) -> float:
    """Log weight of an onset on ``step`` (step 0 a downbeat): downbeats, then beats, then
    halves of a beat, then the rest."""
    if step % (steps_per_beat * beats_per_bar) == 0:
        return 0.0
    p = step % steps_per_beat
    if p == 0:
        return math.log(0.6)
    return math.log(0.3) if 2 * p == steps_per_beat else math.log(0.12)


#: steps ahead of the last placed onset the filters move the state (16 bars of 16ths); further, a
#: held note or a rest holds the tempo it reached
REACH = 256


class BeatKalman:
    """The time of the anchor step, the period and its change a step, with their covariance."""

    def __init__(self, drift: Drift, jitter: float, period: float) -> None:
        self.drift, self.jitter = drift, jitter
        self.step = 0
        self.state = np.array([0.0, period, 0.0])
        self.cov = np.zeros((3, 3))
        self._moves: list[tuple[np.ndarray, np.ndarray]] = [(np.eye(3), np.zeros((3, 3)))]

    @property
    def period(self) -> float:
        return float(self.state[1])

    def anchor(self, step: int, t: float, spread: float, rate: float | None = None) -> None:
        """Step ``step`` falls at t, the period known to ``spread`` and its change a step to
        ``rate`` (shares of the period; by default the drift's own spread in the long run)."""
        d = self.drift
        if rate is None:
            rate = d.rate / math.sqrt(1 - d.rate_memory**2)
        self.step, self.state = step, np.array([t, self.period, 0.0])
        self.cov = np.diag([self.jitter, spread * self.period, rate * self.period]) ** 2

    def _propagation(self, steps: int) -> tuple[np.ndarray, np.ndarray]:
        """The state's move over ``steps`` steps (at most REACH) and the drift it gathers (a unit
        period); each one from the one before, once: the clock thread asks a step further on at
        every step of a long rest."""
        d = self.drift
        while len(self._moves) <= steps:
            one = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, d.rate_memory]])
            move, drift = self._moves[-1]
            self._moves.append((one @ move, one @ drift @ one.T + np.diag([d.phase, d.period, d.rate]) ** 2))
        return self._moves[steps]

    def moved(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The state at step k (at or after the anchor) and its covariance; beyond REACH steps
        of silence or a held note the tempo is held."""
        steps = k - self.step
        move, drift = self._propagation(min(steps, REACH))
        state, cov = move @ self.state, move @ self.cov @ move.T + drift * self.period**2
        if steps > REACH:
            state = state + np.array([(steps - REACH) * state[1], 0.0, 0.0])
        return state, cov

    def predict(self, k: int) -> tuple[float, float]:
        """When step k falls, and the variance of an onset there (the player's spread included)."""
        state, cov = self.moved(k)
        return float(state[0]), float(cov[0, 0]) + self.jitter**2

    def boundary(self, k: float) -> float:
        if k <= self.step:
            return float(self.state[0]) + (k - self.step) * self.period
        whole = math.floor(k)
        state, _ = self.moved(whole)
        return float(state[0] + (k - whole) * state[1])

    def correct(self, k: int, t: float) -> None:
        """An onset at t on step k."""
        state, cov = self.moved(k)
        error = t - state[0]
        var = cov[0, 0] + self.jitter**2
        if error**2 > self.drift.surprise**2 * var:  # the player moved more than the model allows:
            cov = cov * min(error**2 / (self.drift.surprise**2 * var), 100.0)  # believe the onset more
        gain = cov[:, 0] / (cov[0, 0] + self.jitter**2)
        self.state = state + gain * error
        self.cov = cov - np.outer(gain, cov[0, :])
        self.step = k

    def likelihood(self, k: int, t: float) -> float:
        """Log density of an onset at t on step k, as this filter foresaw it."""
        predicted, var = self.predict(k)
        return -0.5 * (t - predicted) ** 2 / var - 0.5 * math.log(var)

    def retempo(self, period: float, spread: float) -> None:
        """A new guess at the period; the phase stays."""
        t = self.boundary(self.step)
        self.state[1] = period
        self.anchor(self.step, t, spread)


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

    def anchor(self, step: int, t: float, spread: float) -> None:
        for f in self.filters:
            f.anchor(step, t, spread, self.bank.rate_spread)
        self.weights[:] = 1.0 / len(self.filters)

    def boundary(self, k: float) -> float:
        return float(sum(w * f.boundary(k) for w, f in zip(self.weights, self.filters, strict=True)))

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
        period = 60.0 / bpm / steps_per_beat
        self._find = BeatKalman(self.cfg.find, self.cfg.jitter, period)
        self._grid = ModelBank(self.cfg.grid, self.cfg.jitter, period)
        self.started = False
        self.last_onset = -math.inf
        self.sounding = 0  #: notes held now
        self.silent_since: float | None = None  #: when the last held note was let go
        self.placed = 0  #: onsets that moved the grid
        self.skipped = 0  #: onsets that fit no step
        self.restarts = 0

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
            self._find = BeatKalman(self.cfg.find, self.cfg.jitter, period)
            self._grid = ModelBank(self.cfg.grid, self.cfg.jitter, period)
            return
        for f in (self._find, self._grid):
            f.retempo(period, self.cfg.first_spread)

    def _anchor(self, step: int, t: float, spread: float) -> None:
        self._find.anchor(step, t, spread)
        self._grid.anchor(step, t, spread)
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
        k, error, var = self._place(t)
        ornament = since < self.steps_per_beat * self.period  # a main note after a beat is never one
        if ornament and abs(error) > max(self.cfg.gate * self.period, 2.5 * math.sqrt(var)):
            self.skipped += 1
            return None
        self._find.correct(k, t)
        self._grid.correct(k, t)
        self.placed += 1
        return k

    def _place(self, t: float) -> tuple[int, float, float]:
        """The step that best explains an onset at t: (step, its error, the error's variance)."""
        f = self._find
        x = f.step + (t - f.boundary(f.step)) / f.period
        reach = 1 + math.ceil(2.5 * math.sqrt(f.predict(max(round(x), f.step))[1]) / f.period)
        best = None
        for k in range(max(f.step + 1, math.floor(x) - reach), math.ceil(x) + reach + 1):
            predicted, var = f.predict(k)
            score = -0.5 * (t - predicted) ** 2 / var - 0.5 * math.log(var)
            score += metrical_prior(k, self.steps_per_beat, self.beats_per_bar)
            if best is None or score > best[0]:
                best = (score, k, t - predicted, var)
        return best[1], best[2], best[3]

    def _restart(self, t: float) -> int:
        """After a rest: a player comes back where the held grid expects them (a tune's bar of
        rest, resumed on its third beat), unless the grid has held long enough to have drifted
        from them by beats (four bars' silence while they slowed): then on the bar line nearest
        the prediction (the next call, the loop again). Either way the period is known again
        only roughly."""
        f = self._find
        x = self.anchor + (t - self.boundary(self.anchor)) / self.period
        sure = math.sqrt(f.predict(max(round(x), f.step))[1]) < self.cfg.lost_place * self.steps_per_beat * f.period
        if sure:
            k = self._place(t)[0]
        else:
            bar = self.steps_per_beat * self.beats_per_bar
            k = max(self.anchor + 1, round(x / bar) * bar)
        self._anchor(k, t, self.cfg.resume_spread)
        self.restarts += 1
        return k
