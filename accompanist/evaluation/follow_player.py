"""How well the grid follows a player who keeps no metronome's tempo: figures for the tempo
follower (``live.tempo_follower``) on tunes played with human timing and a tempo curve.

A player plays a tune's onsets at the times a tempo curve gives them, each moved by a Gaussian
jitter (10 ms SD by default); the follower, given ``--bpm`` as its first guess, places them.
The figure a player hears is where our grid's steps fall against the player's own 16ths (the
curve's, without the jitter): after a settling time, the spread of that offset around its
mean (median, p90 of the deviation) and the share within 20 ms of it. A pause of two bars and a
restart 10 % faster is measured by the bars until a whole bar is within 20 ms again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from accompanist.live.onset_placing import BeamConfig
from accompanist.live.tempo_follower import GOING, STEADY, TURNING, Bank, Drift, FollowerConfig, TempoFollower
from accompanist.music.notes import tokens_to_notes
from accompanist.music.tempo_curve import TempoCurve

#: the issue's player: starts at 88 while --bpm 100 is set, 76 five bars on, 92 five more
CURVE = "88:0,76:5,92:10"
GUESS = 100.0
SETTLE_BARS = 3
NEAR = 0.020  #: seconds: an answer this close to the mean offset is heard as in time
#: seconds: a tune whose p90 deviation passes this has lost the player (a grid a 16th or more off
#: for a tenth of it), whatever its median says
LOST = 0.040


@dataclass
class Follow:
    deviations: np.ndarray  #: |offset - mean offset| of every step after settling, seconds
    offset: float  #: the mean offset, seconds (our grid later than the player's: positive)
    found_again_bars: float | None = None  #: after a pause, bars until within NEAR again

    @property
    def p50(self) -> float:
        return float(np.median(self.deviations)) if self.deviations.size else float("nan")

    @property
    def p90(self) -> float:
        return float(np.percentile(self.deviations, 90)) if self.deviations.size else float("nan")

    @property
    def near(self) -> float:
        return float(np.mean(self.deviations <= NEAR)) if self.deviations.size else float("nan")


def note_steps(melody: np.ndarray) -> list[tuple[int, int]]:
    """(first step, end step) of each note of a monophonic token melody."""
    return [(n.start, n.end) for n in tokens_to_notes(melody, 1.0)]


def play(
    notes: list[tuple[int, int]],
    curve: TempoCurve,
    jitter: float,
    seed: int,
    pause: tuple[int, int, float] | None = None,
) -> tuple[list[tuple[float, bool]], Callable[[float], float]]:
    """A player's strikes and releases, ``(time, is_strike)`` in time order, and the player's
    own time of any step. ``pause``: (from step, rest steps, tempo factor after): the player
    stops, then resumes that much faster, counting the rest at the old tempo."""
    rng = np.random.default_rng(seed)

    def own(step: float) -> float:
        if pause is None or step < pause[0]:
            return curve.seconds(step)
        at, rest, faster = pause
        resumed = curve.seconds(at + rest)
        return resumed + (curve.seconds(step) - resumed) / faster

    events = []
    for start, end in notes:
        if pause is not None and start < pause[0] < end:
            end = pause[0]
        if pause is not None and pause[0] <= start < pause[0] + pause[1]:
            continue
        on = own(start) + rng.normal(0.0, jitter)
        events.append((on, True))
        events.append((max(own(end) - 0.03 + rng.normal(0.0, jitter), on + 0.02), False))
    return sorted(events), own


def follow(
    notes: list[tuple[int, int]],
    curve: TempoCurve,
    guess: float = GUESS,
    jitter: float = 0.010,
    seed: int = 0,
    config: FollowerConfig | None = None,
    pause: tuple[int, int, float] | None = None,
) -> Follow:
    """Plays ``notes`` (first step, end step) to a follower and measures its grid against the
    player's own, from the first note (step 0 of the follower's grid)."""
    events, own = play(notes, curve, jitter, seed, pause)
    f = TempoFollower(guess, curve.steps_per_beat, curve.beats_per_bar, config)
    first, last = notes[0][0], notes[-1][0]
    # where the follower says each step falls, asked when the step comes (as the engine's clock
    # thread does), with everything played before then heard
    grid, i = [], 0
    for k in range(first, last + 1):
        while i < len(events) and (not f.started or events[i][0] <= f.boundary(k - first)):
            t, strike = events[i]
            f.onset(t) if strike else f.release(t)
            i += 1
        grid.append((k, f.boundary(k - first) - own(k) + own(first)))
    bar = curve.beats_per_bar * curve.steps_per_beat
    settled = [(k, o) for k, o in grid if k - first >= SETTLE_BARS * bar and (pause is None or k < pause[0])]
    offsets = np.array([o for _, o in settled])
    mean = float(np.mean(offsets)) if offsets.size else 0.0
    result = Follow(np.abs(offsets - mean), mean)
    if pause is not None:
        start = pause[0] + pause[1]
        after = [(k, o) for k, o in grid if k >= start]
        if after:
            base = float(np.median([o for _, o in after[len(after) // 2 :]]))
            near = [abs(o - base) <= NEAR for _, o in after]
            # found: from the first step after which a whole bar stays within NEAR
            found = next((i for i in range(len(near)) if all(near[i : i + bar])), len(near))
            result.found_again_bars = found / bar
    return result


def validation_notes(n: int = 100, bars: int = 12) -> list[list[tuple[int, int]]]:
    """The notes of the validation tunes of ``bars`` bars or more (the follower's settings are
    chosen on these; the test tunes are played once)."""
    from accompanist.data.tunes import VALIDATION, load_tunes

    out = []
    for source in VALIDATION:
        for melody in load_tunes(source, n).melodies:
            notes = note_steps(melody)
            if notes and notes[-1][0] - notes[0][0] >= bars * 16:
                out.append(notes)
    return out


def follow_table(
    tunes: list[list[tuple[int, int]]],
    curve: str = CURVE,
    guess: float = GUESS,
    jitter: float = 0.010,
    config: FollowerConfig | None = None,
    runs: tuple[str, ...] = ("curve", "steady", "pause"),
) -> dict[str, dict[str, float]]:
    """Medians over tunes of each one's deviation (p50, p90, ms) and share within NEAR: a player
    on the tempo curve, one at a steady ``guess``, and one who pauses two bars after bar 6 and
    comes back 10 % faster (and the bars until the grid is on them again)."""
    steady = TempoCurve.parse(f"{guess:g}")
    players = {
        "curve": (TempoCurve.parse(curve), None),
        "steady": (steady, None),
        "pause": (steady, "pause"),
    }
    table = {}
    for name in runs:
        c, pause = players[name]
        rows = []
        for i, notes in enumerate(tunes):
            at = notes[0][0] + 6 * 16
            r = follow(notes, c, guess, jitter, i, config, pause=(at, 32, 1.1) if pause else None)
            rows.append(r)
        table[name] = {
            "p50_ms": round(1e3 * float(np.median([r.p50 for r in rows])), 1),
            "p90_ms": round(1e3 * float(np.median([r.p90 for r in rows])), 1),
            "worst_p90_ms": round(1e3 * float(np.max([r.p90 for r in rows])), 1),
            "lost": int(sum(r.p90 > LOST for r in rows)),
            "within_20ms": round(float(np.median([r.near for r in rows])), 3),
            "tunes": len(rows),
        }
        found = [r.found_again_bars for r in rows if r.found_again_bars is not None]
        if found:
            table[name]["found_again_bars_median"] = round(float(np.median(found)), 2)
            table[name]["found_again_bars_p90"] = round(float(np.percentile(found, 90)), 2)
    return table


#: the played grid's settings tried against each other (``bench follow --sweep``): one filter,
#: steady or quick (the placing filter's own), then banks of models; the shipped one is
#: FollowerConfig's own
SWEEP = (
    ("one filter, widened by surprise", Bank((Drift(0.0005, 0.001, 0.00005, 0.97, surprise=1.5),), rate_spread=None)),
    ("one quick filter (the placing one's)", Bank((FollowerConfig().find,), rate_spread=None)),
    ("steady and going on", Bank((STEADY, GOING))),
    ("steady, going on and turning (shipped)", FollowerConfig().grid),
    ("... turning faster", Bank((STEADY, GOING, Drift(0.0001, 0.0001, 0.001, 0.999)))),
    ("... switching more often", Bank((STEADY, GOING, TURNING), stay=0.97)),
)


#: how many ways of placing the onsets are kept, tried against each other the same way
BEAM_SWEEP = (
    ("one way of placing (no beam)", BeamConfig(1, 1, 1)),
    ("2 ways, 2 steps each, agreeing 4 back", BeamConfig(2, 2, 4)),
    ("4 ways, 2 steps each, agreeing 4 back (shipped)", FollowerConfig().beam),
    ("8 ways, 3 steps each, agreeing 8 back", BeamConfig(8, 3, 8)),
    ("8 ways, 3 steps each, agreeing 16 back", BeamConfig(8, 3, 16)),
)


def sweep(tunes: list[list[tuple[int, int]]]) -> list[tuple[str, dict[str, dict[str, float]]]]:
    """Each SWEEP setting of the played grid, then each BEAM_SWEEP setting of the placing, on a
    steady player and one on the tempo curve."""
    configs = [(n, FollowerConfig(grid=b)) for n, b in SWEEP] + [(n, FollowerConfig(beam=b)) for n, b in BEAM_SWEEP]
    return [(name, follow_table(tunes, config=c, runs=("curve", "steady"))) for name, c in configs]
