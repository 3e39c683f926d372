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
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass
class Performance:
    heard: np.ndarray  #: (steps, 2, 84) the melody of each step when its answer was chosen
    played: np.ndarray  #: (steps, 2, 84) each step as the engine closed it
    late_onsets: int  #: onsets not yet heard when their step's answer was chosen
    onsets: int


def human_timing(
    melody: np.ndarray, cfg: PlayerConfig, steps_per_beat: int = 4, tune: int = 0
) -> list[tuple[float, float, int]]:
    """``(strike, release, MIDI pitch)`` in seconds from step 0 of a melody roll (steps, 2, 84),
    each moved by the player's jitter (seeded by ``cfg.seed`` and ``tune``); a note lasts 20 ms
    at least, however the jitter falls."""
    rng = np.random.default_rng([cfg.seed, tune])
    step = 60.0 / cfg.bpm / steps_per_beat
    sd = cfg.jitter_ms / 1e3
    out = []
    for n in roll.roll_to_notes(melody, 1.0):
        on = n.start * step + rng.normal(0.0, sd)
        out.append((on, max(n.end * step + rng.normal(0.0, sd), on + 0.02), n.pitch))
    return out


def perform(melody: np.ndarray, cfg: PlayerConfig, steps_per_beat: int = 4, tune: int = 0) -> Performance:
    """Play a melody roll (steps, 2, 84) with human timing through the engine's quantiser."""
    step = 60.0 / cfg.bpm / steps_per_beat
    events: list[tuple[float, int, mido.Message]] = []
    for on, off, pitch in human_timing(melody, cfg, steps_per_beat, tune):
        events.append((on, 1, mido.Message("note_on", note=pitch, velocity=80)))
        events.append((off, 0, mido.Message("note_off", note=pitch)))
    events.sort(key=lambda e: (e[0], e[1]))  # a release before a strike at the same moment
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
    return Performance(heard, played, late, int(onsets.sum()))
