"""Chorales -> training pairs: the split by chorale, augmentation, windows for teacher forcing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accompanist.data.chorales import Chorales
from accompanist.data.pairs import PairDataConfig, build_pairs, invert_pair, split_names, windows
from accompanist.music.tokens import HOLD, REST, START

N_CHORALES = 11


def signature_chorales(n: int = N_CHORALES) -> Chorales:
    """Chorales whose soprano alternates two pitches k + 1 semitones apart (k = the chorale's index),
    so any transposition or inversion of a window still tells which chorale it came from. Notes
    last three steps, so windows often open on a held note."""
    voices = []
    for k in range(n):
        length = 70 + 9 * k
        sop = np.full(length, HOLD, np.int64)
        alto = np.full(length, HOLD, np.int64)
        tenor = np.full(length, HOLD, np.int64)
        bass = np.full(length, HOLD, np.int64)
        for j, s in enumerate(range(0, length, 3)):
            sop[s] = 62 + (k + 1) * (j % 2)
            alto[s] = 57 - (j % 3)
            tenor[s] = 52 + (j % 2)
            bass[s] = 43 + (j % 4)
        sop[-1] = alto[-1] = tenor[-1] = bass[-1] = REST
        voices.append(np.stack([sop, alto, tenor, bass]))
    return Chorales([f"bwv{100 + k}" for k in range(n)], voices, source_files=n + 2)


def signatures(src: np.ndarray) -> set[int]:
    """The set of |intervals| between successive notes of a window."""
    p = src[src < 128]
    return {int(abs(d)) for d in np.diff(p)}


def test_split_names_is_deterministic_and_ignores_input_order():
    names = [f"bwv{i:03d}" for i in range(365)]
    a = split_names(names, 0.1, 0)
    assert a == split_names(list(reversed(names)), 0.1, 0)
    assert len(a) == 36 and a <= set(names)
    assert a != split_names(names, 0.1, 1)
    assert split_names(names[:3], 0.1, 0) <= set(names[:3]) and len(split_names(names[:3], 0.1, 0)) == 1
    tunes = [np.array([60 + i % 20, HOLD, 62 + i % 7, REST]) for i in range(365)]
    b = split_names(names, 0.1, 0, tunes)
    assert b == split_names(names[::-1], 0.1, 0, tunes[::-1])


def test_split_keeps_chorales_with_the_same_tune_together():
    """Bach set some tunes several times: a harmonisation of a held-out tune, even in another key,
    must not be trained on."""
    rng = np.random.default_rng(0)
    base = [rng.integers(60, 72, 12) for _ in range(40)]
    names, tunes = [], []
    for i, t in enumerate(base):
        names.append(f"a{i:02d}")
        tunes.append(t)
        if i % 4 == 0:  # every fourth tune comes again, transposed, under another name
            names.append(f"b{i:02d}")
            tunes.append(t + 2)
    for seed in range(20):
        held = split_names(names, 0.2, seed, tunes)
        assert 0.2 * len(names) - 2 <= len(held) <= 0.2 * len(names) + 2
        for i in range(0, 40, 4):
            assert (f"a{i:02d}" in held) == (f"b{i:02d}" in held), (seed, i)


@pytest.mark.parametrize("invert", [False, True])
def test_no_variant_of_a_held_out_chorale_is_trained_on(invert):
    chorales = signature_chorales()
    cfg = PairDataConfig(
        pair="alto", test_fraction=0.25, split_seed=3, transpositions=list(range(-6, 6)), invert=invert
    )
    data = build_pairs(chorales, cfg)
    held = set(data.test_names)
    assert held == split_names(chorales.names, 0.25, 3, [v[0] for v in chorales.voices])
    val = set(data.val_names)
    kept = [n for n in chorales.names if n not in held and n not in val]
    assert held and val and kept and held.isdisjoint(kept) and val.isdisjoint(held) and val.isdisjoint(kept)
    sig = {name: k + 1 for k, name in enumerate(chorales.names)}

    train_sigs = [signatures(s) for s in data.train.src]
    assert all(len(s) == 1 for s in train_sigs), "each window comes from one chorale"
    trained = {next(iter(s)) for s in train_sigs}
    assert trained == {sig[n] for n in kept}
    assert trained.isdisjoint(sig[n] for n in held)
    assert trained.isdisjoint(sig[n] for n in val)

    # held-out windows are the untouched originals, cut without overlap, plus one ending on the last step
    allowed = {62 + sig[n] for n in held} | {62}
    assert set(data.test.src[data.test.src < 128].tolist()) <= allowed
    by_name = dict(zip(chorales.names, chorales.voices, strict=True))

    def n_windows(length: int, stride: int) -> int:
        return (length - 32) // stride + 1 + (1 if (length - 32) % stride else 0)

    assert len(data.test) == sum(n_windows(by_name[n].shape[1], cfg.window) for n in held)

    counts = data.counts
    assert counts["test_chorales"] == len(held) and counts["train_chorales"] == len(kept)
    assert counts["chorales"] == N_CHORALES and counts["chorale_files"] == N_CHORALES + 2
    assert counts["train_windows"] == len(data.train) and counts["test_windows"] == len(data.test)
    expected_train = sum(n_windows(by_name[n].shape[1], 16) for n in kept) * 12 * (2 if invert else 1)
    assert len(data.train) == expected_train


def test_windows_have_the_teacher_forcing_layout():
    data = build_pairs(signature_chorales(), PairDataConfig(pair="bass", transpositions=[-2, 0, 3]))
    for arrays in (data.train, data.test):
        assert arrays.src.shape == arrays.tgt_in.shape == arrays.tgt_out.shape
        assert arrays.src.shape[1] == 32 and len(arrays) > 0
        assert (arrays.tgt_in[:, 0] == START).all()
        assert (arrays.tgt_in[:, 1:] == arrays.tgt_out[:, :-1]).all()
        for a in (arrays.src, arrays.tgt_out):
            assert a.min() >= 0 and a.max() <= HOLD
            assert (a[:, 0] != HOLD).all(), "a window never opens on a hold"
    # the bass pair reads the tenor and writes the bass
    assert set(data.test.src[data.test.src < 128].tolist()) <= {52, 53}
    assert set(data.test.tgt_out[data.test.tgt_out < 128].tolist()) <= {43, 44, 45, 46}


def test_the_data_hash_follows_the_data():
    chorales = signature_chorales()
    a = build_pairs(chorales, PairDataConfig(transpositions=[0, 1]))
    b = build_pairs(chorales, PairDataConfig(transpositions=[0, 1]))
    c = build_pairs(chorales, PairDataConfig(transpositions=[0, 2]))
    assert a.data_hash == b.data_hash != c.data_hash
    assert len(a.data_hash) == 64


def test_transpositions_out_of_range_are_skipped_and_counted():
    chorales = signature_chorales(4)
    chorales.voices[1][0][0] = 125  # the soprano of one chorale reaches near the top
    data = build_pairs(chorales, PairDataConfig(test_fraction=0.25, split_seed=0, transpositions=[0, 3]))
    assert "bwv101" not in data.test_names  # else the test proves nothing
    assert data.counts["variants_out_of_range"] == 1


def test_short_pieces_give_no_windows():
    w = windows(np.array([60, HOLD, REST]), np.array([55, HOLD, REST]), 32, 16)
    assert w.src.shape == (0, 32) and len(w) == 0


def mean_pitch(tokens: np.ndarray) -> float:
    return float(tokens[tokens < 128].mean())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(60, 76), st.integers(-2, 14)), min_size=2, max_size=40))
def test_invert_pair_keeps_the_accompaniment_under_the_melody_on_average(steps):
    mel = np.array([p for p, _ in steps], np.int64)
    acc = np.array([p - d for p, d in steps], np.int64)
    gap = mean_pitch(mel) - mean_pitch(acc)
    if gap <= 0:
        return
    mel_i, acc_i = invert_pair(mel, acc)
    assert mean_pitch(mel_i) - mean_pitch(acc_i) > 0
    # inversion: the melody is mirrored about (about) its own mean, the intervals flip
    assert abs(mean_pitch(mel_i) - mean_pitch(mel)) <= 0.5
    assert ((mel_i + mel) == (mel_i + mel)[0]).all()
    assert ((acc_i + acc - (mel_i + mel)[0]) % 12 == 0).all()
    # and the accompaniment lands less than an octave further from the melody than it was
    assert mean_pitch(mel_i) - mean_pitch(acc_i) < gap + 12


def test_invert_pair_on_real_chorales(tiny_chorales):
    for v in tiny_chorales.voices:
        for mi, ai in ((0, 1), (2, 3)):
            mel_i, acc_i = invert_pair(v[mi], v[ai])
            assert mean_pitch(mel_i) > mean_pitch(acc_i)
            assert np.array_equal(mel_i >= 128, v[mi] >= 128)  # rests and holds stay where they were


def test_invert_pair_leaves_silent_voices_alone():
    mel = np.array([60, HOLD, 62])
    rest = np.array([REST, REST, REST])
    m, a = invert_pair(mel, rest)
    assert m is mel and a is rest


@pytest.fixture(scope="module")
def tiny_chorales():
    """The first six chorale files, parsed by music21 into the session's own cache."""
    from accompanist.data.chorales import VOICES, load_chorales

    ch = load_chorales(limit=6, progress=False)
    assert ch.source_files == 6 and 1 <= len(ch.names) <= 6
    for name, v in zip(ch.names, ch.voices, strict=True):
        assert v.shape[0] == len(VOICES) and v.shape[1] > 16, name
        assert v.min() >= 0 and v.max() <= HOLD
    # a second load is a cache hit with the same arrays
    again = load_chorales(limit=6, progress=False)
    assert again.names == ch.names and all(np.array_equal(a, b) for a, b in zip(again.voices, ch.voices, strict=True))
    return ch
