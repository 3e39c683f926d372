"""The sampler and the runner's optional priors: nucleus, two-part bias, key lock."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import TINY_BI, TINY_UNI

from accompanist.inference.cards import load_card
from accompanist.inference.sampling import probabilities, sample
from accompanist.inference.seq2seq_runner import Seq2SeqRunner, key_penalty
from accompanist.music.keys import find_key
from accompanist.music.tokens import HOLD, sounding_pitches

C_MAJOR_TUNE = np.array(
    [60, HOLD, 62, HOLD, 64, HOLD, 65, HOLD, 67, HOLD, HOLD, HOLD, 69, HOLD, 67, HOLD]
    + [65, HOLD, 64, HOLD, 62, HOLD, 64, HOLD, 60, HOLD, HOLD, HOLD, 67, HOLD, 72, HOLD] * 3
)


def test_temperature_sharpens_and_flattens():
    logits = np.array([[2.0, 1.0, 0.0]])
    cold, warm = probabilities(logits, 0.5), probabilities(logits, 2.0)
    assert cold[0, 0] > probabilities(logits, 1.0)[0, 0] > warm[0, 0]
    np.testing.assert_allclose(cold.sum(), 1.0)


def test_nucleus_keeps_the_smallest_set_holding_top_p():
    logits = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]))
    p = probabilities(logits, 1.0, top_p=0.75)
    np.testing.assert_allclose(p[0], [0.5 / 0.8, 0.3 / 0.8, 0, 0])
    # the most likely token survives even a tiny top_p
    assert probabilities(logits, 1.0, top_p=1e-6)[0, 0] == 1.0


def test_sample_follows_the_distribution_and_zero_temperature_is_argmax():
    rng = np.random.default_rng(0)
    logits = np.log(np.array([[0.7, 0.2, 0.1]]).repeat(20000, 0))
    counts = np.bincount(sample(logits, 1.0, rng), minlength=3) / 20000
    np.testing.assert_allclose(counts, [0.7, 0.2, 0.1], atol=0.02)
    assert (sample(logits, 0.0, rng) == 0).all()


def test_key_penalty_marks_only_out_of_key_note_ons():
    key = find_key(C_MAJOR_TUNE)
    assert key.name == "C major"
    pen = key_penalty(C_MAJOR_TUNE, 2.0)
    assert pen[60] == pen[62] == pen[71] == 0 and pen[61] == pen[70] == 2.0
    assert pen[128] == pen[129] == 0


@pytest.mark.parametrize("name", [TINY_BI, TINY_UNI])
def test_strong_key_lock_keeps_every_note_in_key(name, use_tiny_models):
    runner = Seq2SeqRunner(load_card(name))
    acc = runner.harmonize(C_MAJOR_TUNE, 1.5, np.random.default_rng(1), key_lock=60.0)
    notes = acc[acc < 128]
    assert len(notes) > 0
    assert set(notes % 12) <= set(find_key(C_MAJOR_TUNE).pitch_classes)
    # and without it, an untrained tiny model at high temperature does stray
    free = runner.harmonize(C_MAJOR_TUNE, 1.5, np.random.default_rng(1), key_lock=0.0, two_part=0.0)
    assert not set(free[free < 128] % 12) <= set(find_key(C_MAJOR_TUNE).pitch_classes)


def test_strong_two_part_bias_leaves_no_dissonant_onset(use_tiny_models):
    runner = Seq2SeqRunner(load_card(TINY_BI))
    acc = runner.harmonize(C_MAJOR_TUNE, 1.5, np.random.default_rng(2), two_part=60.0)
    mel = sounding_pitches(C_MAJOR_TUNE)
    onsets = np.flatnonzero(acc < 128)
    assert len(onsets) > 0
    intervals = (mel[onsets] - acc[onsets]) % 12
    assert set(intervals) <= {0, 3, 4, 7, 8, 9}
