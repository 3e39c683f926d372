"""The RL tuner's music-theory rules (Jaques et al., "Tuning recurrent neural networks with
reinforcement learning", 2017; Magenta's rl_tuner), as a reward per step and as the statistics the
paper reports, both computed by the same code.

Compositions are sequences of RL events (``music.rl_tokens``: 0 note off, 1 no event, 2.. notes),
32 16th steps each, scored step by step: the reward for step ``beat`` (0-based) looks at the steps
before it and the event chosen for it.

Rules and values are upstream's (Magenta's rl_tuner code, after the paper), with these departures:
- The key is the player's (``music.keys.Key``, the call's Krumhansl-Kessler key), not C major
  alone: "in key", the tonic, the fifth and the third are that key's. The tonic counts in any
  octave (upstream: MIDI 60 only), since an answer sits in the player's register.
- An in-key third is any third (3 or 4 semitones) from the tonic or the third degree to a note in
  the key (upstream: a major third from C or E, to any note, so E to G earned nothing).
- Note off and no event mean what their names say. (Upstream's rule code and its melody encoder
  disagree on which of 0 and 1 is which, so its rules may reward the opposite event.)
- The highest-note rule compares notes only (upstream also counted the two event codes).
- A no-event step is never an excessive repeat: holding a note for more than five 16ths is not
  repeating it. Upstream counted runs of its no-event code as repeats (six in a row: -100),
  which may be much of why its note RNN scores 63 % "excessively repeated".
- Autocorrelation is that of the melody's pitches (one value per note struck), paid when a note
  is struck. Upstream correlated the raw event codes, where a hold is the number 1 beside notes
  near 20: any rhythm but unbroken 16ths then reads as a strongly periodic signal (8th notes up
  and down a scale lost 223 over 32 steps to this rule alone, a tonic held for two bars lost 4),
  so the tuner learned to hold notes (our first runs: in motif 31 -> 7 %). The statistics'
  autocorrelations are of the same pitch series.
- A coefficient counts as autocorrelated above 2 / sqrt(n) for a series of n pitches, where that
  is more than upstream's 0.15: the band a series without any autocorrelation stays inside 95 %
  of the time. A 32-step phrase has a few notes to a dozen, and at that length 0.15 is noise:
  any two different pitches correlate at -0.5, so every second note of a composition paid 1.5
  whatever it was, a melody's strikes paid 0.65 a step on average (as much as the motif rule
  gave), and no horizon of Q-learning or planning we tried found a way out of holding.
- A hold or a rest earns the interval rule's "no interval" reward once, on the step right after
  its note; upstream paid it on every step, so a tonic held for two bars earned 1.5 a step (more
  than any interval, 0.4 for a step) and holding won: with the autocorrelation change alone the
  tuner still held (in motif 33 -> 1.6 %, leaps resolved 88 -> 60 % on validation calls).
- In tuning, the interval and leap rules hear the call's last note before the composition's
  first (``lead_in``): an answer is heard right after its call, and without it the first note
  could be anywhere. Tuned without it, the answers began with the tonic two octaves below the
  call's end, or leapt an octave above it, at no cost. A first step that holds or rests is
  silence after the call and earns no interval reward. The statistics leave it out, as upstream's.
Everything else, including the quirks of the windows (the motif looks at the last 8 steps, rests
and holds included; a leap resolved by an opposite leap needs 7 steps between), is upstream's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from accompanist.music.keys import Key
from accompanist.music.rl_tokens import NO_EVENT, NOTE_OFF, pitch_of

LENGTH = 32
MOTIF = 8  #: steps a motif spans ("a bar" upstream: half a 4/4 bar of 16ths)

#: interval rewards before the x5 weight (upstream's table)
_STEP, _THIRD, _FOURTH, _FIFTH, _SIXTH = 0.08, 0.09, 0.07, 0.02, 0.05
_SEVENTH, _BEYOND_OCTAVE = -0.3, -1.0
_IN_KEY_THIRD, _IN_KEY_FIFTH = 0.15, 0.1
_REST, _HOLD, _REST_AFTER, _HOLD_AFTER = 0.05, 0.075, 0.15, 0.3


@dataclass
class Leaps:
    """The leap state one composition carries (upstream's detect_leap_up_back)."""

    direction: int = 0
    origin: int = -1
    since: int = 0


@dataclass
class Verdicts:
    """What each rule found at one step (the reward and the statistics both read these)."""

    in_key: bool = True
    tonic: bool = False
    repeated: bool = False
    autocorr: float = 0.0
    motif: int = 0  #: distinct pitches in the motif window if >= 3, else 0
    repeated_motif: bool = False
    interval: float = 0.0
    leap: int = 0  #: +1 resolved, -1 a second leap the same way
    high_unique: bool = False
    low_unique: bool = False
    struck: bool = False  #: the step strikes a note


def _autocorr(x: np.ndarray, lag: int) -> float:
    n = len(x)
    if n == 0:
        return math.nan
    v = x.var()
    if v == 0:
        return math.nan
    if n <= lag:
        return 0.0
    d = x - x.mean()
    return float((d[:-lag] * d[lag:]).sum() / n / v)


def autocorr_threshold(n: int) -> float:
    """The |coefficient| above which a series of ``n`` pitches counts as autocorrelated: upstream's
    0.15, or the white-noise 95 % band 2 / sqrt(n) where that is wider (see the docstring)."""
    return max(0.15, 2.0 / math.sqrt(max(n, 1)))


def autocorr_penalty(x: np.ndarray) -> float:
    """3 x |r| summed over lags 1-3 whose coefficient passes ``autocorr_threshold``."""
    limit = autocorr_threshold(len(x))
    return sum(3.0 * abs(r) for lag in (1, 2, 3) if not math.isnan(r := _autocorr(x, lag)) and abs(r) > limit)


def _note_pitches(events: list[int]) -> np.ndarray:
    return np.array([pitch_of(e) for e in events if e >= 2], np.float64)


def _repeating(prev: list[int], a: int) -> bool:
    if a == NO_EVENT:
        return False  # a note held on (or a silence going on) is not a note repeated
    cnt, breaks, held = 0, False, False
    for e in reversed(prev):
        if e == a:
            cnt += 1
        elif e == NOTE_OFF:
            breaks = True
        elif e == NO_EVENT:
            held = True
        else:
            break
    if a == NOTE_OFF and cnt > 1:
        return True
    if not (breaks or held) and cnt > 4:
        return True
    return (breaks or held) and cnt > 6


def _interval_reward(prev: list[int], a: int, key: Key) -> float:
    last = next((e for e in reversed(prev) if e >= 2), None)
    if not prev or last is None:
        return 0.0
    lp = pitch_of(last) % 12
    tonic, fifth = key.tonic, (key.tonic + 7) % 12
    third = (key.tonic + (3 if key.minor else 4)) % 12
    anchored = lp in (tonic, fifth)
    if a < 2 and prev[-1] < 2:
        return 0.0  # a hold or rest pays once, on the step after its note (see the docstring)
    if a == NO_EVENT:
        return _HOLD_AFTER if anchored else _HOLD
    if a == NOTE_OFF:
        return _REST_AFTER if anchored else _REST
    d = abs(pitch_of(a) - pitch_of(last))
    if d == 7 and anchored:
        return _IN_KEY_FIFTH
    if d in (3, 4) and lp in (tonic, third) and pitch_of(a) % 12 in key.pitch_classes:
        return _IN_KEY_THIRD
    if d > 12:
        return _BEYOND_OCTAVE
    return {1: 0.0, 2: _STEP, 4: _THIRD, 5: _FOURTH, 7: _FIFTH, 9: _SIXTH, 11: _SEVENTH}.get(d, 0.0)


def _leap(prev: list[int], a: int, state: Leaps) -> int:
    if not prev:
        return 0
    if a < 2:
        state.since += 1
        return 0
    last = next((e for e in reversed(prev) if e >= 2), None)
    if last is None:
        state.since += 1
        return 0
    cur, before = pitch_of(a), pitch_of(last)
    d = cur - before
    if abs(d) >= 7:
        way = 1 if d > 0 else -1
        out = 0
        if state.direction and way != state.direction:
            out = 1 if state.since > 6 else 0
            state.direction, state.origin = 0, -1
        elif state.direction:
            out = -1
        else:
            state.direction, state.origin = way, before
        state.since = 0
        return out
    state.since += 1
    if (state.direction == 1 and cur <= state.origin) or (state.direction == -1 and cur >= state.origin):
        state.direction, state.origin = 0, -1
        return 1
    return 0


def judge(
    prev: list[int], a: int, key: Key, leaps: Leaps, length: int = LENGTH, lead_in: int | None = None
) -> Verdicts:
    """Every rule's verdict on choosing event ``a`` after ``prev`` (this updates ``leaps``);
    ``lead_in``, the call's last note event, is what the interval and leap rules hear before
    the composition's first note (see the docstring)."""
    beat = len(prev)
    s = prev + [a]
    v = Verdicts()
    v.struck = a >= 2
    v.in_key = a < 2 or pitch_of(a) % 12 in key.pitch_classes
    is_tonic = a >= 2 and pitch_of(a) % 12 == key.tonic
    if beat in (0, length - 4):
        v.tonic = is_tonic
    elif beat == length - 3:
        v.tonic = a == NO_EVENT
    elif beat >= length - 2:
        v.tonic = a < 2
    v.repeated = _repeating(prev, a)
    if a >= 2:
        x = _note_pitches(s)
        v.autocorr = autocorr_penalty(x)
    if len(s) >= MOTIF:
        window = s[-MOTIF:]
        distinct = len({e for e in window if e >= 2})
        if distinct >= 3:
            v.motif = distinct
            before = s[:-MOTIF]
            v.repeated_motif = any(before[i : i + MOTIF] == window for i in range(len(before) - MOTIF + 1))
    # the call's last note is heard before the first note struck; a first step that holds or
    # rests is silence after the call (the runner starts the answer silent), so it earns nothing
    heard = prev if lead_in is None or (not prev and a < 2) else [lead_in, *prev]
    v.interval = _interval_reward(heard, a, key)
    v.leap = _leap(heard, a, leaps)
    if beat == length - 1:
        notes = [e for e in s if e >= 2]
        if notes:
            v.high_unique = notes.count(max(notes)) == 1
            v.low_unique = notes.count(min(notes)) == 1
    return v


def last_note(events: np.ndarray) -> int | None:
    """The last note event of a call: what the interval and leap rules hear before the answer's
    first note (``lead_in``), or None."""
    notes = events[events >= 2]
    return int(notes[-1]) if len(notes) else None


def step_reward(prev: list[int], a: int, key: Key, leaps: Leaps, lead_in: int | None = None) -> float:
    """The music-theory reward of choosing event ``a`` after ``prev`` (this updates ``leaps``)."""
    return reward(judge(prev, a, key, leaps, lead_in=lead_in))


def reward(v: Verdicts) -> float:
    """The music-theory reward of one step (upstream's r_MT)."""
    r = 0.0 if v.in_key else -1.0
    r += 3.0 if v.tonic else 0.0
    r += -100.0 if v.repeated else 0.0
    r -= v.autocorr
    if v.motif:
        r += 3.0 + 0.3 * (v.motif - 3)
        if v.repeated_motif:
            r += 4.0 + (v.motif - 3)
    r += 5.0 * v.interval
    r += 5.0 * v.leap
    r += 3.0 * v.high_unique + 3.0 * v.low_unique
    return r


@dataclass
class Stats:
    """Counts over compositions, turned into the paper's table by ``table``."""

    steps: int = 0
    compositions: int = 0
    not_in_key: int = 0
    repeated: int = 0
    starts_tonic: int = 0
    resolved: int = 0
    doubled: int = 0
    high_unique: int = 0
    low_unique: int = 0
    in_motif: int = 0
    in_repeated_motif: int = 0
    autocorr: list[list[float]] = field(default_factory=lambda: [[], [], []])

    def add(self, composition: list[int], key: Key) -> None:
        leaps = Leaps()
        for beat, a in enumerate(composition):
            v = judge(composition[:beat], a, key, leaps, len(composition))
            self.steps += 1
            self.not_in_key += not v.in_key
            self.repeated += v.repeated
            self.starts_tonic += beat == 0 and a >= 2 and pitch_of(a) % 12 == key.tonic
            self.resolved += v.leap == 1
            self.doubled += v.leap == -1
            self.in_motif += v.motif > 0
            self.in_repeated_motif += v.repeated_motif
            self.high_unique += v.high_unique
            self.low_unique += v.low_unique
        x = _note_pitches(composition)
        for lag in (1, 2, 3):
            self.autocorr[lag - 1].append(_autocorr(x, lag))
        self.compositions += 1

    def table(self) -> dict[str, float]:
        """Percentages as the paper's table gives them (upstream's fractions x 100)."""
        pct = lambda n, d: round(100.0 * n / d, 2) if d else math.nan  # noqa: E731
        return {
            "excessively_repeated": pct(self.repeated, self.steps),
            "not_in_key": pct(self.not_in_key, self.steps),
            "starting_with_tonic": pct(self.starts_tonic, self.compositions),
            "leaps_resolved": pct(self.resolved, self.resolved + self.doubled),
            "unique_max": pct(self.high_unique, self.compositions),
            "unique_min": pct(self.low_unique, self.compositions),
            "in_motif": pct(self.in_motif, self.steps),
            "in_repeated_motif": pct(self.in_repeated_motif, self.steps),
            **{
                f"autocorrelation_{lag}": round(float(np.nanmean(self.autocorr[lag - 1])), 3)
                if np.isfinite(self.autocorr[lag - 1]).any()
                else math.nan
                for lag in (1, 2, 3)
            },
            "compositions": self.compositions,
        }


#: The paper's table (Note RNN -> Q-learning), and that of Qiu and Wang, "Classic Monophonic Melody
#: Generation with LSTM and Reinforcement Learning" (2018 or later), for reports beside ours.
PAPER = {
    "note_rnn": {
        "excessively_repeated": 63.3,
        "not_in_key": 0.1,
        "starting_with_tonic": 0.9,
        "leaps_resolved": 77.2,
        "unique_max": 64.7,
        "unique_min": 49.4,
        "in_motif": 5.9,
        "in_repeated_motif": 0.007,
        "autocorrelation_1": -0.16,
        "autocorrelation_2": 0.14,
        "autocorrelation_3": -0.13,
    },
    "q_learning": {
        "excessively_repeated": 0.0,
        "not_in_key": 1.0,
        "starting_with_tonic": 28.8,
        "leaps_resolved": 91.1,
        "unique_max": 56.4,
        "unique_min": 51.9,
        "in_motif": 75.7,
        "in_repeated_motif": 0.11,
        "autocorrelation_1": -0.11,
        "autocorrelation_2": 0.03,
        "autocorrelation_3": 0.03,
    },
}
SEED_002 = {
    "note_rnn": {"excessively_repeated": 63.3, "not_in_key": 5.0, "in_motif": 10.2},
    "tuned": {"excessively_repeated": 2.5, "not_in_key": 3.5, "in_motif": 69.5},
}
