"""A simulated player who is not a sequencer, so that offline figures predict live ones.

A melody written on the grid is played with human timing: every note's strike and release move
by a Gaussian offset, 15 ms standard deviation by default (seeded). 15 ms is the middle of the
spread the sensorimotor-synchronisation literature reports for people playing with a beat
(about 10 to 40 ms of timing deviation; Repp, "Sensorimotor synchronization: a review of the
tapping literature", 2005), and it is the size at which the listen window matters: a 16th at
120 bpm lasts 125 ms, and a note 20 ms late misses an answer that does not wait.

The played notes go through the live engine's own quantiser (``live.quantize``) at the times a
session would see them: step k is peeked at the end of its listen window,
``boundary(k) + listen - margin``, and closed at ``boundary(k + 1) - early``. What the model is
given is therefore exactly what the engine would give it.

With a tempo curve (``--tempo-curve 88:0,76:8,92:16``), the player keeps no metronome's tempo:
strikes fall where the curve puts them (plus the jitter), and the grid is the live player clock's,
the tempo follower (``live.tempo_follower``) given ``bpm`` as its first guess and every strike as
it comes, asked each step's boundary when the clock thread would ask it. Besides what the model
is given, such a performance says where each answer sounds against the player's own 16ths (the
curve's), and the lag a player feels: from each strike to the onset of the first answer that
heard it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mido
import numpy as np

from accompanist.live.quantize import InputQuantizer
from accompanist.live.timing import EARLY, LISTEN_MARGIN
from accompanist.music import roll

#: The simulated output's lead: half a JACK period of 64 frames at 48 kHz, as on the test rig.
SIM_LEAD = 64 / 48000 / 2


@dataclass
class PlayerConfig:
    jitter_ms: float = 15.0  #: standard deviation of every strike and release, in ms
    bpm: float = 120.0
    listen_ms: float = 0.0  #: the engine's listen window
    early: float = EARLY  #: seconds before a boundary that a note already counts for it
    seed: int = 0
    #: bpm at bars (``music.tempo_curve``): the player's own tempo, followed; None: ``bpm``, kept
    tempo_curve: str | None = None


@dataclass
class Performance:
    heard: np.ndarray  #: (steps, 2, 84) the melody of each step when its answer was chosen
    played: np.ndarray  #: (steps, 2, 84) each step as the engine closed it
    late_onsets: int  #: onsets not yet heard when their step's answer was chosen
    onsets: int
    #: seconds from each strike to the onset of the first answer that heard it
    lag: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: followed: each step's answer time minus the player's own time of the step, from the first note
    offsets: np.ndarray | None = None


def human_timing(
    melody: np.ndarray, cfg: PlayerConfig, steps_per_beat: int = 4, tune: int = 0, seconds=None
) -> list[tuple[float, float, int]]:
    """``(strike, release, MIDI pitch)`` in seconds from step 0 of a melody roll (steps, 2, 84),
    each moved by the player's jitter (seeded by ``cfg.seed`` and ``tune``); a note lasts 20 ms
    at least, however the jitter falls."""
    rng = np.random.default_rng([cfg.seed, tune])
    step = 60.0 / cfg.bpm / steps_per_beat
    seconds = seconds or (lambda k: k * step)  # ``seconds(step)``: the player's own time of a step
    sd = cfg.jitter_ms / 1e3
    out = []
    for n in roll.roll_to_notes(melody, 1.0):
        on = seconds(n.start) + rng.normal(0.0, sd)
        out.append((on, max(seconds(n.end) + rng.normal(0.0, sd), on + 0.02), n.pitch))
    return out


def _events(timing: list[tuple[float, float, int]]) -> list[tuple[float, int, mido.Message]]:
    """Strikes and releases in time order, a release before a strike at the same moment."""
    events: list[tuple[float, int, mido.Message]] = []
    for on, off, pitch in timing:
        events.append((on, 1, mido.Message("note_on", note=pitch, velocity=80)))
        events.append((off, 0, mido.Message("note_off", note=pitch)))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def perform(
    melody: np.ndarray, cfg: PlayerConfig, steps_per_beat: int = 4, tune: int = 0, beats_per_bar: int = 4
) -> Performance:
    """Play a melody roll (steps, 2, 84) with human timing through the engine's quantiser."""
    if cfg.tempo_curve is not None:
        return _perform_followed(melody, cfg, steps_per_beat, tune, beats_per_bar)
    step = 60.0 / cfg.bpm / steps_per_beat
    events = _events(human_timing(melody, cfg, steps_per_beat, tune))
    q = InputQuantizer(lambda t: int(np.floor(t / step)), cfg.early)
    steps = len(melody)
    heard, played = roll.empty(steps), roll.empty(steps)
    margin = LISTEN_MARGIN + SIM_LEAD
    i = 0

    def feed_until(t: float) -> None:
        nonlocal i
        while i < len(events) and events[i][0] < t:
            q.feed(events[i][0], events[i][2])
            i += 1

    for k in range(steps):
        listen_at = min(k * step + cfg.listen_ms / 1e3 - margin, (k + 1) * step - cfg.early)
        feed_until(listen_at)
        heard[k] = q.peek(k)
        feed_until((k + 1) * step - cfg.early)
        played[k] = q.close(k).roll
    onsets = played[:, roll.ONSET].any(axis=1)
    late = int((onsets & ~heard[:, roll.ONSET].any(axis=1)).sum())
    answer_at = np.arange(steps + 1) * step + cfg.listen_ms / 1e3
    return Performance(heard, played, late, int(onsets.sum()), _lag(heard, played, answer_at, events))


def _lag(heard: np.ndarray, played: np.ndarray, answer_at: np.ndarray, events: list) -> np.ndarray:
    """For each strike, the time to the first answer that heard it: its own step's if it came in
    the listen window, else the next step's (which hears the closed step)."""
    strikes = [t for t, on, _ in events if on]
    lag, i = [], 0
    for k in range(len(played)):
        for _ in range(int(np.count_nonzero(played[k, roll.ONSET]))):
            if i < len(strikes):
                in_time = heard[k, roll.ONSET].any()
                lag.append(answer_at[k if in_time else k + 1] - strikes[i])
                i += 1
    return np.asarray(lag)


def _perform_followed(
    melody: np.ndarray, cfg: PlayerConfig, steps_per_beat: int, tune: int, beats_per_bar: int
) -> Performance:
    """The player on a tempo curve, the grid the tempo follower's (see the module's docstring)."""
    from accompanist.live.tempo_follower import TempoFollower
    from accompanist.music.tempo_curve import TempoCurve

    curve = TempoCurve.parse(cfg.tempo_curve, beats_per_bar, steps_per_beat)
    events = _events(human_timing(melody, cfg, steps_per_beat, tune, seconds=curve.seconds))
    steps = len(melody)
    heard, played = roll.empty(steps), roll.empty(steps)
    if not events:
        return Performance(heard, played, 0, 0, offsets=np.zeros(0))
    first = roll.roll_to_notes(melody, 1.0)[0].start
    follower = TempoFollower(cfg.bpm, steps_per_beat, beats_per_bar, first_step=first)
    q = InputQuantizer(follower.step_at, cfg.early)
    margin, listen = LISTEN_MARGIN + SIM_LEAD, cfg.listen_ms / 1e3
    i = 0

    def feed_while(until) -> None:  # ``until()``: asked again after each event, as the grid moves
        nonlocal i
        while i < len(events) and (not follower.started or events[i][0] < until()):
            t, on, msg = events[i]
            follower.onset(t) if on else follower.release(t)
            q.feed(t, msg)
            i += 1

    feed_while(lambda: events[0][0] + 1e-9)  # the first strike starts the grid, on its own step
    answer_at = np.full(steps + 1, np.inf)
    for k in range(first, steps):
        feed_while(lambda k=k: min(follower.boundary(k) + listen - margin, follower.boundary(k + 1) - cfg.early))
        heard[k] = q.peek(k)
        answer_at[k] = follower.boundary(k) + listen
        feed_while(lambda k=k: follower.boundary(k + 1) - cfg.early)
        played[k] = q.close(k).roll
    answer_at[steps] = follower.boundary(steps) + listen
    onsets = played[:, roll.ONSET].any(axis=1)
    late = int((onsets & ~heard[:, roll.ONSET].any(axis=1)).sum())
    own = np.array([curve.seconds(k) for k in range(first, steps)])
    return Performance(
        heard, played, late, int(onsets.sum()), _lag(heard, played, answer_at, events), answer_at[first:steps] - own
    )
