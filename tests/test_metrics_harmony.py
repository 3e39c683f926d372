"""Harmony metrics on hand-made token arrays with known answers, and the shipped Bach reference."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from accompanist.metrics.harmony import (
    Key,
    find_key,
    harmony,
    pair_stats,
    repeated_notes,
    summarize,
)
from accompanist.metrics.reference import bach_reference, bach_reference_info, reference_ic
from accompanist.music.tokens import HOLD, REST

KEYS = {
    "pieces",
    "steps",
    "coverage",
    "consonance",
    "in_key",
    "crossing",
    "onset_ratio",
    "range",
    "distinct_pitches",
    "repetition",
    "ic_hist",
    "ic_overlap",
}


def seq(*notes: tuple[int | None, int]) -> np.ndarray:
    """Tokens from (pitch, steps) pairs; pitch None is a rest."""
    out: list[int] = []
    for pitch, steps in notes:
        out += [REST] * steps if pitch is None else [pitch] + [HOLD] * (steps - 1)
    return np.array(out, dtype=np.int64)


C_MAJOR = [60, 62, 64, 65, 67, 69, 71]
# "Ode to joy", a folk-like C major tune, in quarter notes: its phrase twice, with two endings.
_ODE_PHRASE = [64, 64, 65, 67, 67, 65, 64, 62, 60, 60, 62, 64]
ODE = _ODE_PHRASE + [64, 62, 62] + _ODE_PHRASE + [62, 60, 60]


def third_below(pitch: int) -> int:
    """The diatonic third below a C major pitch."""
    octave, pc = divmod(pitch, 12)
    degree = [p % 12 for p in C_MAJOR].index(pc)
    lower = C_MAJOR[(degree - 2) % 7] % 12 + 12 * octave
    return lower if lower < pitch else lower - 12


def test_keys_are_exactly_the_documented_ones():
    fig = harmony(seq((60, 4)), seq((57, 4)))
    assert set(fig) == KEYS
    assert fig["pieces"] == 1 and fig["steps"] == 4
    assert fig["ic_overlap"] is None


def test_coverage_counts_melody_steps_the_accompaniment_shares():
    mel = seq((60, 4), (None, 4))
    acc = seq((None, 1), (55, 1), (None, 2), (48, 4))  # sounds on 1 of 4 melody steps... and 4 silent ones
    assert harmony(mel, acc)["coverage"] == pytest.approx(1 / 4)
    assert harmony(mel, seq((52, 8)))["coverage"] == 1.0


def test_consonance_and_ic_hist():
    mel = seq((72, 1), (72, 1), (72, 1), (72, 1), (72, 1), (72, 1), (72, 1), (72, 1))
    # intervals 0 (octave), 3, 4, 7, 8, 9 consonant; 5 and 6 not
    acc = seq((60, 1), (69, 1), (68, 1), (65, 1), (64, 1), (63, 1), (67, 1), (66, 1))
    fig = harmony(mel, acc)
    assert fig["consonance"] == pytest.approx(6 / 8)
    hist = np.array(fig["ic_hist"])
    assert hist.sum() == pytest.approx(1.0)
    assert hist[[0, 3, 4, 5, 6, 7, 8, 9]] == pytest.approx([1 / 8] * 8)
    assert hist[[1, 2, 10, 11]] == pytest.approx([0] * 4)


def test_consonance_is_frame_weighted():
    # One long dissonant fourth, one short third: 1 consonant step of 8 shared steps.
    fig = harmony(seq((65, 7), (64, 1)), seq((60, 8)))
    assert fig["consonance"] == pytest.approx(1 / 8)


def test_interval_is_melody_minus_accompaniment():
    # A sixth below the melody is ic 9; the same pitches with the voices swapped are ic 3.
    assert np.argmax(harmony(seq((69, 4)), seq((60, 4)))["ic_hist"]) == 9
    assert np.argmax(harmony(seq((60, 4)), seq((69, 4)))["ic_hist"]) == 3


def test_crossing_counts_accompaniment_strictly_above():
    mel = seq((64, 4), (64, 4), (None, 4))
    acc = seq((67, 2), (64, 2), (60, 4), (72, 4))  # above for 2 shared steps, unison 2, below 4
    assert harmony(mel, acc)["crossing"] == pytest.approx(2 / 8)


def test_in_key_is_note_weighted_against_the_melody_key():
    mel = seq(*[(p, 4) for p in [*C_MAJOR, 72, 67, 64, 60]])
    acc = seq((48, 1), (54, 1), (55, 42))  # C in key, F# out, G in key (long, but one note)
    assert find_key(mel) == Key(0, False)
    assert harmony(mel, acc)["in_key"] == pytest.approx(2 / 3)


def test_in_key_minor_counts_the_leading_tone():
    a_minor = [57, 59, 60, 62, 64, 65, 68, 69, 64, 57]
    mel = seq(*[(p, 4) for p in a_minor])
    acc = seq((56, 10), (55, 10), (50, 10), (45, 10))  # G# in key, G (natural 7th) in key, D, A
    assert find_key(mel) == Key(9, True)
    assert harmony(mel, acc)["in_key"] == 1.0
    acc_out = seq((58, 20), (51, 20))  # Bb and Eb are not in A minor
    assert harmony(mel, acc_out)["in_key"] == 0.0


def test_onset_ratio_is_pooled():
    a = pair_stats(seq((60, 4), (62, 4)), seq((48, 2), (50, 2), (52, 2), (53, 2)))  # 4 / 2
    b = pair_stats(seq((60, 1), (62, 1), (64, 1), (65, 1), (67, 4)), seq((48, 8)))  # 1 / 5
    fig = summarize([a, b])
    assert fig["onset_ratio"] == pytest.approx(5 / 7)  # not the mean of 2.0 and 0.2
    assert fig["pieces"] == 2 and fig["steps"] == 16


def test_range_and_distinct_pitches_average_over_pieces():
    a = pair_stats(seq((60, 8)), seq((48, 2), (55, 2), (48, 2), (60, 2)))  # range 12, 3 distinct
    b = pair_stats(seq((60, 8)), seq((50, 4), (52, 4)))  # range 2, 2 distinct
    fig = summarize([a, b])
    assert fig["range"] == pytest.approx(7.0)
    assert fig["distinct_pitches"] == pytest.approx(2.5)


def test_silent_accompaniment_has_no_range_and_zero_distinct_pitches():
    fig = summarize([pair_stats(seq((60, 8)), seq((None, 8))), pair_stats(seq((60, 8)), seq((50, 4), (53, 4)))])
    assert fig["range"] == pytest.approx(3.0)
    assert fig["distinct_pitches"] == pytest.approx(1.0)
    assert fig["coverage"] == pytest.approx(0.5)


def test_repetition_counts_runs_longer_than_four():
    five = seq(*[(60, 2)] * 5, (62, 2), (64, 2), (65, 2), (67, 2), (69, 2))
    assert repeated_notes(five) == 5
    four = seq(*[(60, 2)] * 4, (62, 2))
    assert repeated_notes(four) == 0
    broken = seq(*[(60, 2)] * 3, (None, 1), *[(60, 2)] * 3)  # a rest splits the run
    assert repeated_notes(broken) == 0
    tail = seq((62, 1), *[(60, 1)] * 6)  # a run that ends the piece
    assert repeated_notes(tail) == 6
    fig = harmony(np.full(len(five), 72), five)
    assert fig["repetition"] == pytest.approx(5 / 10)


def test_hold_after_rest_is_silence():
    mel = seq((60, 4))
    acc = np.array([REST, HOLD, HOLD, 57])
    fig = harmony(mel, acc)
    assert fig["coverage"] == pytest.approx(1 / 4)
    assert repeated_notes(np.array([60, REST, HOLD, 60, 60, 60, 60])) == 0


def test_stats_add_up():
    a = pair_stats(seq((60, 4)), seq((57, 4)))
    b = pair_stats(seq((64, 2), (65, 2)), seq((60, 4)))
    total = sum([a, b])
    assert total == a + b
    assert total.pieces == 2 and total.steps == 8
    assert total.ic_counts[3] == 4 and total.ic_counts[4] == 2 and total.ic_counts[5] == 2
    assert summarize([a, b]) == summarize([total])


def test_empty_denominators_are_nan_not_perfect():
    fig = harmony(seq((None, 4)), seq((None, 4)))
    for k in ("coverage", "consonance", "in_key", "crossing", "onset_ratio", "range", "repetition"):
        assert math.isnan(fig[k]), k
    assert fig["distinct_pitches"] == 0.0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="length"):
        pair_stats(seq((60, 4)), seq((60, 3)))
    with pytest.raises(ValueError):
        pair_stats(np.array([60, 131]), np.array([60, 60]))
    with pytest.raises(ValueError):
        summarize([pair_stats(seq((60, 4)), seq((57, 4)))], reference_ic=np.ones(11))


def test_key_of_c_major_scale():
    assert find_key(seq(*[(p, 4) for p in [*C_MAJOR, 72]])) == Key(0, False)
    assert str(Key(0, False)) == "C major"


def test_key_of_a_harmonic_minor_melody():
    a_harmonic = [57, 59, 60, 62, 64, 65, 68, 69]
    key = find_key(seq(*[(p, 4) for p in a_harmonic]))
    assert key == Key(9, True)
    assert key.name == "A minor"
    assert {9, 11, 0, 2, 4, 5, 7, 8} == set(key.pitch_classes)


def test_key_of_too_few_pitch_classes_is_none():
    assert find_key(seq((60, 8))) is None
    assert find_key(seq((None, 8))) is None


def test_parallel_third_below_is_a_toy():
    mel = seq(*[(p, 4) for p in ODE])
    acc = seq(*[(third_below(p), 4) for p in ODE])
    fig = harmony(mel, acc, reference_ic=reference_ic("alto"))
    assert fig["consonance"] == 1.0
    assert fig["crossing"] == 0.0
    assert fig["in_key"] == 1.0
    assert set(np.flatnonzero(fig["ic_hist"])) == {3, 4}
    assert 0.2 < fig["ic_overlap"] < 0.5


def test_reference_overlaps_itself_fully():
    for pair in ("alto", "bass", "both"):
        ref = bach_reference(pair)
        assert ref["ic_overlap"] == pytest.approx(1.0)
        assert sum(ref["ic_hist"]) == pytest.approx(1.0)
        assert set(ref) == KEYS
    assert bach_reference("alto")["ic_hist"] != bach_reference("bass")["ic_hist"]
    with pytest.raises(KeyError):
        bach_reference("tenor")


def test_bach_reference_sits_near_the_published_figures():
    both = bach_reference("both")
    assert 0.72 <= both["consonance"] <= 0.80  # 0.76
    assert 0.87 <= both["in_key"] <= 0.93  # 0.90
    assert both["crossing"] < 0.01  # 0.4 %
    assert 1.0 <= both["onset_ratio"] <= 1.2  # 1.11
    assert 13 <= both["range"] <= 17  # 15
    assert 10 <= both["distinct_pitches"] <= 14  # about 12
    assert both["coverage"] > 0.99
    assert both["repetition"] < 0.05
    # The pooled pair weighs the two pairs' frames alike.
    alto, bass = bach_reference("alto"), bach_reference("bass")
    assert both["steps"] == alto["steps"] + bass["steps"]
    assert (
        min(alto["consonance"], bass["consonance"]) <= both["consonance"] <= max(alto["consonance"], bass["consonance"])
    )


def test_reference_records_its_provenance():
    from accompanist.data.chorales import SELECTION_RULE

    info = bach_reference_info()
    assert info["selection"] == SELECTION_RULE
    assert info["chorales"] >= 300
    assert info["chorales"] == bach_reference("both")["pieces"] // 2


def test_metrics_import_neither_torch_nor_music21():
    assert "accompanist.metrics.harmony" in sys.modules
    # Importing the package must not drag in the heavy extras (another test may have loaded them).
    import subprocess

    code = (
        "import sys, accompanist.metrics.harmony, accompanist.metrics.reference as r; r.bach_reference('alto');"
        "print('torch' in sys.modules, 'music21' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"
