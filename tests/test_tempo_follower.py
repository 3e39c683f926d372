"""The tempo follower alone (pure: times in, steps out) and the tempo curves it is measured on."""

from __future__ import annotations

import numpy as np
import pytest

from accompanist.evaluation.follow_player import follow
from accompanist.live.tempo_follower import TempoFollower
from accompanist.music.tempo_curve import TempoCurve

#: quarters and 8ths, a dotted quarter and a half note: (first step, end step), two bars
BARS = [(0, 4), (4, 6), (6, 8), (8, 14), (14, 16), (16, 20), (20, 24), (24, 32)]


def tune(bars: int) -> list[tuple[int, int]]:
    return [(s + 32 * i, e + 32 * i) for i in range(bars // 2) for s, e in BARS]


def test_a_tempo_curve_says_when_each_step_falls():
    steady = TempoCurve.parse("120")
    assert steady.seconds(16) == pytest.approx(2.0)  # a bar of 4 beats at 120
    ramp = TempoCurve.parse("120:0,60:1")
    assert ramp.bpm_at(8) == pytest.approx(90)
    # a linear fall in bpm over a bar: 60/4 * ln(2) / (60/16) ... longer than at 120, shorter than at 60
    assert 2.0 < ramp.seconds(16) < 4.0
    assert ramp.seconds(32) - ramp.seconds(16) == pytest.approx(4.0)  # steady at 60 after
    for bad in ("88:2", "88:0,76:0", "x:0", "0:0"):
        with pytest.raises(ValueError):
            TempoCurve.parse(bad)


def test_a_steady_player_with_human_spread_gets_a_steady_grid():
    r = follow(tune(16), TempoCurve.parse("100"), guess=100, jitter=0.010, seed=1)
    assert r.p90 < 0.015 and r.near > 0.9  # the spread is not passed on as a wobbling grid


def test_a_first_guess_12_percent_off_is_corrected_within_bars():
    f = TempoFollower(100, 4, 4)
    curve = TempoCurve.parse("88")
    rng = np.random.default_rng(0)
    for start, _ in tune(4):
        assert f.onset(curve.seconds(start) + rng.normal(0, 0.01)) == start
    assert f.bpm == pytest.approx(88, abs=1.5)


def test_ornaments_grace_notes_and_chords_do_not_throw_it():
    f = TempoFollower(100, 4, 4)
    step = 60 / 100 / 4
    placed = []
    for start, _ in tune(8):
        t = start * step
        if start % 32 == 8:
            f.onset(t - 0.04)  # a grace note just before
            f.release(t - 0.01)
        k = f.onset(t)
        f.onset(t + 0.004)  # and a chord: its second note
        f.release(t + 0.1)
        f.release(t + 0.1)
        placed.append(k)
        if start % 32 == 16:  # a triplet of 8ths over the next beat
            for i in (1, 2):
                f.onset(t + i * 4 * step / 3)
                f.release(t + i * 4 * step / 3 + 0.05)
    # every note lands on its step; one after a grace note may count as the grace's strike
    expected = [s for s, _ in tune(8)]
    assert all(k == s or (k is None and s % 32 == 8) for k, s in zip(placed, expected, strict=True))
    assert f.bpm == pytest.approx(100, rel=0.01)


def test_a_long_rest_holds_the_tempo_and_a_faster_restart_is_found_again():
    notes = tune(16)
    r = follow(notes, TempoCurve.parse("100"), guess=100, seed=2, pause=(6 * 16, 32, 1.1))
    assert r.found_again_bars is not None and r.found_again_bars <= 2.0
    f = TempoFollower(100, 4, 4)
    step = 60 / 100 / 4
    f.onset(0.0)
    f.release(0.1)
    assert f.onset(16 * step) == 16  # a whole bar's rest: the same grid, the same tempo
    assert f.bpm == pytest.approx(100, abs=0.5)


def test_before_the_first_note_there_is_no_grid():
    f = TempoFollower(100, 4, 4)
    assert f.boundary(0) == float("inf") and f.step_at(1.0) == -1
    assert f.onset(5.0) == 0 and f.boundary(0) == 5.0 and f.step_at(5.01) == 0


def test_a_rest_of_many_bars_holds_the_tempo_it_reached():
    f = TempoFollower(100, 4, 4)
    step = 60 / 100 / 4
    for start, _ in tune(4):
        f.onset(start * step)
    f.release(64 * step)
    gaps = [f.boundary(k + 1) - f.boundary(k) for k in (100, 400, 5000)]
    assert gaps == pytest.approx([step] * 3, rel=0.01)


def test_the_follow_table_and_its_sweep_measure_each_player():
    from accompanist.evaluation.follow_player import SWEEP, follow_table
    from accompanist.live.tempo_follower import FollowerConfig

    tunes = [tune(16), tune(12)]
    table = follow_table(tunes)
    assert set(table) == {"curve", "steady", "pause"} and table["steady"]["tunes"] == 2
    assert table["steady"]["p90_ms"] < table["curve"]["p90_ms"]  # a tempo that moves is harder to follow
    assert table["pause"]["found_again_bars_median"] <= 2
    quick = follow_table(tunes, config=FollowerConfig(grid=SWEEP[1][1]), runs=("steady",))
    assert (
        set(quick) == {"steady"} and quick["steady"]["p90_ms"] > table["steady"]["p90_ms"]
    )  # one quick filter wobbles


def test_the_bank_hears_a_steady_player_as_steady_and_a_ritardando_as_one():
    from accompanist.live.tempo_follower import STEADY

    def weights(curve: TempoCurve) -> dict:
        f = TempoFollower(100, 4, 4)
        rng = np.random.default_rng(3)
        for start, _ in tune(12):
            f.onset(curve.seconds(start) + rng.normal(0, 0.01))
        return dict(zip(f.cfg.grid.models, f._grid.weights, strict=True))

    assert weights(TempoCurve.parse("100"))[STEADY] > 0.5
    assert weights(TempoCurve.parse("100:0,70:12"))[STEADY] < 0.2  # the weight went to a model with a rate
    ramp = TempoCurve.parse("100:0,80:8,96:16")
    from accompanist.evaluation.follow_player import SWEEP
    from accompanist.live.tempo_follower import FollowerConfig

    bank = follow(tune(16), ramp, guess=100, seed=4)
    one = follow(tune(16), ramp, guess=100, seed=4, config=FollowerConfig(grid=SWEEP[0][1]))
    assert bank.p90 < one.p90  # what a single steady filter lags, the bank follows


def test_a_tune_played_offline_on_a_tempo_curve_is_followed_and_its_lag_measured():
    from accompanist.evaluation.player import PlayerConfig, perform
    from accompanist.music import roll

    melody = roll.notes_to_roll([roll.Note(60 + i % 5, 4 * i, 4 * i + 3) for i in range(48)], 1.0)
    steady = perform(melody, PlayerConfig(jitter_ms=10, bpm=100, listen_ms=25, seed=1))
    same = perform(melody, PlayerConfig(jitter_ms=10, bpm=100, listen_ms=25, seed=1, tempo_curve="100"))
    assert (same.played == steady.played).all()  # a player at --bpm: the followed grid hears the same steps
    curved = perform(melody, PlayerConfig(jitter_ms=10, bpm=100, listen_ms=25, seed=1, tempo_curve="88:0,76:5,92:10"))
    assert curved.onsets == 48 and curved.offsets is not None and curved.offsets.size == len(melody)
    dev = np.abs(curved.offsets[48:] - curved.offsets[48:].mean())
    assert np.percentile(dev, 90) < 0.040  # the grid stays with a player 12 % slower than --bpm
    assert curved.lag.size == 48 and 0.0 < np.median(curved.lag) < 0.1  # strike to the answer that heard it


def test_a_bars_rest_resumed_on_the_third_beat_keeps_the_grid():
    # a tune's bar of rest, the player back on beat 3 where the held grid expects them: not
    # pulled to a bar line (which would shift every answer after by half a bar)
    f = TempoFollower(100, 4, 4)
    step = 60 / 100 / 4
    for start in range(0, 40, 4):
        f.onset(start * step)
        f.release(start * step + 0.1)
    assert f.onset(56 * step) == 56 and f.restarts == 1
    # four bars held after a ritardando: the held grid's place is a guess, the restart is on the
    # bar line (the next call), though the player comes back three 16ths off it
    slowing, held = TempoCurve.parse("100:0,80:4"), TempoFollower(100, 4, 4)
    for start in range(0, 64, 2):
        held.onset(slowing.seconds(start))
        held.release(slowing.seconds(start) + 0.1)
    assert held.onset(slowing.seconds(131)) == 128 and held.restarts == 1


def test_a_dotted_rhythm_from_the_first_bar_is_not_heard_on_the_beats():
    # a dotted 8th and a 16th while the tempo is still a guess: one way of placing puts the 16th
    # on the beat, the period shrinks by a quarter and every later onset is fitted to that;
    # the beam keeps the way that turns out right
    from accompanist.live.onset_placing import BeamConfig
    from accompanist.live.tempo_follower import FollowerConfig

    bar = [(0, 3), (3, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 13), (13, 16)]
    notes = [(s + 16 * i, e + 16 * i) for i in range(12) for s, e in bar]
    one_way = FollowerConfig(beam=BeamConfig(1, 1, 1))
    for bpm in ("100", "88"):
        for seed in (0, 4, 5):
            assert follow(notes, TempoCurve.parse(bpm), seed=seed).p90 < 0.010
    assert follow(notes, TempoCurve.parse("88"), seed=0, config=one_way).p90 > 1.0  # lost by seconds
