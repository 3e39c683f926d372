"""One Kalman filter on the times of a player's grid steps: the time of the last step an onset was
placed on, the step's period and the period's change a step (A. T. Cemgil, B. Kappen, P. Desain,
H. Honing, "On tempo tracking: Tempogram representation and Kalman filtering", Journal of New
Music Research, 2000). ``live.tempo_follower`` places onsets with some and plays a mixture of
others; this module is the filter alone.
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

    def copy(self) -> BeatKalman:
        """The same filter, to go on differently (the propagation cache, which depends only on
        the drift, is shared)."""
        other = object.__new__(BeatKalman)
        other.__dict__.update(self.__dict__)
        other.state, other.cov = self.state.copy(), self.cov.copy()
        return other

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
