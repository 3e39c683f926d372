"""A clock that follows the player (``--clock player``): the grid's steps fall where the player's
own 16ths do, learned from the onsets by ``live.tempo_follower``.

``--bpm`` is the first guess. Without a metronome or a count-in to play to, the grid waits for
the player: the first note is step 0, the downbeat of bar 1 (a player who starts a loop, a call
or a tune starts it on a downbeat far more often than on a pickup; a pickup is heard as a
downbeat, and the bars count from there). With a metronome or a count-in, those set the phase
at the start, as ever, and the player is followed from there. The input thread feeds strikes and
releases; the clock thread and the quantiser ask boundaries, under the clock's own lock.
"""

from __future__ import annotations

import threading

from accompanist.live.tempo_follower import FollowerConfig, TempoFollower


class PlayerClock:
    def __init__(
        self,
        bpm: float,
        steps_per_beat: int,
        beats_per_bar: int,
        start: float | None = None,
        config: FollowerConfig | None = None,
    ) -> None:
        self.steps_per_beat = steps_per_beat
        self._follower = TempoFollower(bpm, steps_per_beat, beats_per_bar, config)
        self._lock = threading.Lock()
        if start is not None:
            self._follower.start(start)

    @property
    def started(self) -> bool:
        return self._follower.started

    @property
    def bpm(self) -> float:
        with self._lock:
            return self._follower.bpm

    @property
    def step_seconds(self) -> float:
        with self._lock:
            return self._follower.period

    def boundary(self, k: int) -> float:
        """When step k begins, as the player's tempo is known now (infinity before the first note)."""
        with self._lock:
            return self._follower.boundary(k)

    def began(self, k: int) -> float:
        """When step k began, as the start of a take: the grid's time for it."""
        return self.boundary(k)

    def step_at(self, t: float) -> int:
        with self._lock:
            return self._follower.step_at(t)

    def onset(self, t: float) -> None:
        with self._lock:
            self._follower.onset(t)

    def release(self, t: float) -> None:
        with self._lock:
            self._follower.release(t)

    def set_tempo(self, bpm: float, from_step: int) -> None:
        """A new first guess (the panel's tempo, a tap): taken as the player's tempo from now on;
        the grid's phase stays where it is."""
        with self._lock:
            self._follower.guess(bpm)
