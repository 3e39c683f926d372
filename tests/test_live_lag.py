"""The lag a player feels, measured by the engine itself, through a real JACK server: from each
strike to the sounding of the first answer that heard it."""

from __future__ import annotations

import time

import pytest
from helpers import TINY_BI, TINY_DUET, TINY_DUET_LISTEN
from jack_rig import Rig

from accompanist.live.lag_meter import LagMeter


def test_the_meter_counts_a_strike_heard_in_time_against_its_own_steps_answer():
    m = LagMeter()
    m.listened(0, [0.010], 0.025)
    m.closed(0, [0.010, 0.040], 0.150)  # the second came after the listen window
    m.closed(1, [0.130], 0.275)  # a step nobody listened to (an anticipating model)
    f = m.figures()
    assert f["strikes"] == 3 and f["heard_in_time"] == pytest.approx(1 / 3, abs=1e-3)
    assert f["lag_ms_median"] == pytest.approx(110.0)  # 15, 110, 145 ms
    m.reset()
    assert m.figures()["lag_ms_median"] is None


def _played(rig, notes: int, offsets) -> dict:
    rig.play(4 * notes, offsets=offsets)
    end = time.monotonic() + 1.0
    while rig.engine.figures().get("strikes", 0) < notes and time.monotonic() < end:
        time.sleep(0.01)
    lag = rig.engine.lag_felt
    rig.stop()
    return lag


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_a_hearing_duet_answers_a_strike_in_its_window_and_a_late_one_a_step_later(tmp_path):
    # 16ths of 62.5 ms; listening 25 ms, the model is asked 15 ms after the beat
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET_LISTEN, listen_ms=25)
    step = 1e3 * rig.engine.clock.step_seconds
    lag = _played(rig, 12, offsets=(0.002, 0.022))  # in the window, then past it (still its step)
    assert lag["strikes"] == 12 and lag["heard_in_time"] == pytest.approx(0.5)
    # in time: 25 - 2 ms; late: the next step's answer, a step and 25 ms after the beat, less 22
    assert lag["lag_ms_median"] == pytest.approx((23 + step + 3) / 2, abs=4)
    assert lag["lag_ms_p90"] == pytest.approx(step + 3, abs=4)


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_an_anticipating_duet_answers_every_strike_with_the_next_step(tmp_path):
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET)
    step = rig.engine.clock.step_seconds
    lag = _played(rig, 8, offsets=(0.010,))
    assert lag["strikes"] == 8 and lag["heard_in_time"] == 0.0
    assert lag["lag_ms_median"] == pytest.approx(1e3 * step - 10, abs=3)


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_a_loop_has_no_lag_felt_its_answer_comes_a_pass_later(tmp_path):
    rig = Rig(tmp_path, mode="loop", model=TINY_BI, bars=1)
    assert _played(rig, 4, offsets=(0.0,)) == {}
