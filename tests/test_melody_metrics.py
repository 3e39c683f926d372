"""The melody metrics against muspy 0.5.0 itself, and the event form against the grid."""

import math

import numpy as np
import pytest

from accompanist.metrics import melody as mm
from accompanist.music.events import MAX_STEPS, events_to_tokens, tokens_to_events
from accompanist.music.notes import tokens_to_notes
from accompanist.music.tokens import HOLD, REST


def random_melody(rng: np.random.Generator, steps: int) -> np.ndarray:
    """A monophonic token row with notes of 1-12 steps, rests now and then, in C-ish ranges."""
    out = []
    while len(out) < steps:
        length = int(rng.integers(1, 13))
        if rng.random() < 0.2:
            out += [REST] * length
        else:
            out += [int(rng.integers(55, 80))] + [HOLD] * (length - 1)
    return np.array(out[:steps])


def as_muspy(tokens, ticks: int = 1, shorten: int = 0):
    """A muspy Music of the melody, ``ticks`` per step, each note ``shorten`` ticks short."""
    muspy = pytest.importorskip("muspy")
    notes = [
        muspy.Note(time=n.start * ticks, pitch=n.pitch, duration=(n.end - n.start) * ticks - shorten, velocity=64)
        for n in tokens_to_notes(tokens, 1.0)
    ]
    return muspy.Music(resolution=4 * ticks, tracks=[muspy.Track(notes=notes)])


@pytest.mark.parametrize("seed", range(12))
def test_melody_metrics_equal_muspys(seed):
    muspy = pytest.importorskip("muspy")
    rng = np.random.default_rng(seed)
    tokens = random_melody(rng, int(rng.integers(20, 120)))
    if tokens[-1] == REST:
        tokens[-1] = 70  # ends on a note, so the melody's length is what muspy measures
    while len(tokens) % 16 == 0 or len(tokens) % 12 == 0:
        tokens = tokens[:-1]  # off every bar line (muspy adds a bar after one: see metrics.melody)
    tokens[-1] = 70 if tokens[-1] == REST else tokens[-1]
    music = as_muspy(tokens)
    # two ticks a step and each note a tick short: muspy's beats then mean what ours do
    fine = as_muspy(tokens, ticks=2, shorten=1)
    pairs = [
        (mm.pitch_class_entropy(tokens), muspy.pitch_class_entropy(music)),
        (mm.scale_consistency(tokens), muspy.scale_consistency(music)),
        (mm.groove_consistency(tokens, 16), muspy.groove_consistency(music, 16)),
        (mm.groove_consistency(tokens, 12), muspy.groove_consistency(music, 12)),
        (mm.empty_beat_rate(tokens, 4), muspy.empty_beat_rate(fine)),
        (mm.pitch_range(tokens), muspy.pitch_range(music)),
        (mm.pitches_used(tokens), muspy.n_pitches_used(music)),
    ]
    for ours, theirs in pairs:
        if isinstance(theirs, float) and math.isnan(theirs):
            assert math.isnan(ours)
        else:
            assert ours == pytest.approx(theirs, abs=1e-9)


def test_metrics_mean_what_they_say_on_a_plain_scale():
    c_major = np.array([60, HOLD, HOLD, HOLD, 62, HOLD, HOLD, HOLD, 64, HOLD, HOLD, HOLD, 65, HOLD, HOLD, HOLD] * 2)
    assert mm.scale_consistency(c_major) == 1.0
    assert mm.groove_consistency(c_major, 16) == 1.0  # the same rhythm in both bars
    assert mm.pitch_class_entropy(c_major) == pytest.approx(2.0)  # four classes, equally often
    with_sharp = c_major.copy()
    with_sharp[4] = 61
    assert mm.scale_consistency(with_sharp) == pytest.approx(7 / 8)
    silent_bar = np.array([60] + [HOLD] * 3 + [REST] * 12 + [REST] * 16 + [60] + [HOLD] * 15)
    assert mm.empty_beat_rate(silent_bar) > 0.4


@pytest.mark.parametrize("seed", range(8))
def test_events_and_grid_carry_the_same_melody(seed):
    rng = np.random.default_rng(100 + seed)
    tokens = random_melody(rng, 200)
    phase = (np.arange(len(tokens)) + 4) % 12  # a 3/4 bar with a one-beat pickup
    ev = tokens_to_events(tokens, phase)
    assert np.array_equal(events_to_tokens(ev), tokens)
    assert ev.total_steps == len(tokens)
    starts = np.concatenate([[0], np.cumsum(ev.steps)[:-1]])
    assert np.array_equal(ev.phase, phase[starts])  # every event knows where its bar stands


def test_long_notes_and_rests_are_cut_without_moving_the_bar_lines():
    long_note = np.array([67] + [HOLD] * 39 + [REST] * 70 + [60, HOLD])
    ev = tokens_to_events(long_note)
    assert ev.steps.max() <= MAX_STEPS
    assert ev.total_steps == len(long_note)
    assert ev.pitch.tolist() == [67, -1, -1, -1, -1, 60]  # 32 + 8 rest, then 70 of rest in 32s
    back = events_to_tokens(ev)
    assert np.array_equal(back[:32], long_note[:32]) and (back[32:110] == REST).all()
