"""Yang & Lerch metrics: hand-computed features on tiny samples, and the set comparison's densities."""

from __future__ import annotations

import numpy as np
import pytest

from accompanist.metrics.density import kde_on_grid, kl_divergence, overlap_area
from accompanist.metrics.yang_lerch import (
    LENGTH_CLASS_NAMES,
    METRICS,
    compare_sets,
    features,
    format_comparison,
    length_class,
    normalize_transitions,
    set_features,
    summary_table,
)
from accompanist.music.notes import Note

TPB = 480


def cls(name: str) -> int:
    return LENGTH_CLASS_NAMES.index(name)


def c_e_g() -> list[Note]:
    return [Note(60, 0, 480), Note(64, 480, 960), Note(67, 960, 1440)]


def test_c_e_g_quarter_notes():
    f = features(c_e_g(), TPB)
    assert (f.pc, f.pr, f.nc) == (3, 7, 3)
    expected_pch = np.zeros(12)
    expected_pch[[0, 4, 7]] = 1 / 3
    np.testing.assert_allclose(f.pch, expected_pch)
    assert f.pctm[0, 4] == 1 and f.pctm[4, 7] == 1 and f.pctm.sum() == 2
    assert f.nlh[cls("quarter")] == 1.0 and f.nlh.sum() == 1.0
    assert f.nltm[cls("quarter"), cls("quarter")] == 2 and f.nltm.sum() == 2
    assert f.ioi == pytest.approx(1.0)
    assert f.pi == pytest.approx(3.5)


def test_pch_is_weighted_by_duration_and_order_by_onset_then_pitch():
    # C half note, then a chord G3+E4 (lowest first), then D an 8th; given out of order on purpose.
    notes = [Note(74, 1440, 1680), Note(64, 960, 1440), Note(60, 0, 960), Note(55, 960, 1440)]
    f = features(notes, TPB)
    np.testing.assert_allclose(f.pch[[0, 2, 4, 7]], np.array([2.0, 0.5, 1.0, 1.0]) / 4.5)
    # C -> G (55), G -> E (64), E -> D (74): intervals 5, 9, 10 semitones.
    assert f.pi == pytest.approx((5 + 9 + 10) / 3)
    assert f.pctm[0, 7] == 1 and f.pctm[7, 4] == 1 and f.pctm[4, 2] == 1
    # Distinct onsets 0, 2, 3 beats: IOIs 2 and 1.
    assert f.ioi == pytest.approx(1.5)
    assert (f.pc, f.pr, f.nc) == (4, 19, 4)


def test_triplets_and_dotted_notes_fall_in_their_classes():
    beats = {
        "whole": 4,
        "half": 2,
        "8th": 0.5,
        "16th": 0.25,
        "dotted half": 3,
        "dotted quarter": 1.5,
        "dotted 8th": 0.75,
        "dotted 16th": 0.375,
        "half triplet": 4 / 3,
        "quarter triplet": 2 / 3,
        "8th triplet": 1 / 3,
    }
    for name, b in beats.items():
        assert length_class(b) == cls(name), name
        assert length_class(b * 1.04) == cls(name), name  # a little off still lands there
    # In ticks: a bar of 8th triplets (160 ticks at 480 per beat) then two dotted quarters.
    notes = [Note(60, 160 * k, 160 * (k + 1)) for k in range(6)] + [Note(62, 960, 1680), Note(64, 1680, 2400)]
    f = features(notes, TPB)
    assert f.nlh[cls("8th triplet")] == pytest.approx(6 / 8)
    assert f.nlh[cls("dotted quarter")] == pytest.approx(2 / 8)
    assert f.nltm[cls("8th triplet"), cls("8th triplet")] == 5
    assert f.nltm[cls("8th triplet"), cls("dotted quarter")] == 1
    assert f.nltm[cls("dotted quarter"), cls("dotted quarter")] == 1


def test_empty_and_single_note_samples():
    f = features([], TPB)
    assert (f.pc, f.pr, f.nc) == (0, 0, 0)
    assert not f.pch.any() and not f.nlh.any() and not f.pctm.any() and not f.nltm.any()
    assert np.isnan(f.pi) and np.isnan(f.ioi)
    one = features([Note(60, 0, 480)], TPB)
    assert (one.pc, one.pr, one.nc) == (1, 0, 1) and np.isnan(one.pi) and np.isnan(one.ioi)
    s = set_features([], TPB)
    assert s["PCTM"].shape == (0, 12, 12) and s["PC"].shape == (0,)


def test_array_input_in_beats_matches_notes_and_set_shapes():
    arr = np.array([[60, 0, 1], [64, 1, 2], [67, 2, 3]], dtype=float)
    assert features(arr, 1).pi == features(c_e_g(), TPB).pi
    s = set_features([c_e_g(), c_e_g()[:2]], TPB, transitions="total")
    assert tuple(s) == METRICS
    assert s["PCH"].shape == (2, 12) and s["NLTM"].shape == (2, 12, 12) and s["NC"].tolist() == [3, 2]
    np.testing.assert_allclose(s["PCTM"].sum(axis=(1, 2)), [1.0, 1.0])


def test_normalize_transitions():
    m = np.zeros((12, 12))
    m[0, 4], m[0, 7], m[4, 7] = 1, 3, 2
    row = normalize_transitions(m, "row")
    assert row[0, 4] == 0.25 and row[4, 7] == 1.0 and not row[1].any()
    assert normalize_transitions(m, "total").sum() == pytest.approx(1.0)
    assert not normalize_transitions(np.zeros((12, 12)), "total").any()
    with pytest.raises(ValueError):
        normalize_transitions(m, "rows")  # type: ignore[arg-type]


def test_kde_integrates_to_one_and_matches_direct_evaluation():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 0.5, 200)
    grid = np.linspace(-1, 5, 1000)
    h = 0.2
    p = kde_on_grid(x, grid, h)
    direct = np.exp(-0.5 * ((grid[:, None] - x) / h) ** 2).sum(axis=1) / (len(x) * h * np.sqrt(2 * np.pi))
    np.testing.assert_allclose(p, direct, atol=2e-3 * direct.max())
    assert np.sum(p) * (grid[1] - grid[0]) == pytest.approx(1.0, abs=1e-3)
    assert overlap_area(p, p, grid) == pytest.approx(1.0, abs=1e-3)
    assert kl_divergence(p, p) == pytest.approx(0.0, abs=1e-9)


def random_set(rng: np.random.Generator, n: int, spread: int, lengths: tuple[float, ...]) -> list[np.ndarray]:
    out = []
    for _ in range(n):
        k = 12
        d = rng.choice(lengths, k)
        s = np.concatenate([[0.0], np.cumsum(d)[:-1]])
        out.append(np.stack([60 + rng.integers(-spread, spread + 1, k), s, s + d], axis=1))
    return out


@pytest.fixture(scope="module")
def two_sets() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(7)
    a = set_features(random_set(rng, 30, 3, (1.0, 2.0)), 1)
    b = set_features(random_set(rng, 30, 12, (0.25, 1 / 3)), 1)
    return a, b


def test_compare_set_with_itself_overlaps(two_sets):
    a, _ = two_sets
    result = compare_sets(a, a, grid_points=600)
    assert list(result) == list(METRICS)
    for name, c in result.items():
        # Inter pairs include each sample with itself (distance 0), so not exactly 1.
        assert c.oa_a > 0.85, name
        assert c.oa_a == pytest.approx(c.oa_b)
        assert c.intra_a_mean == pytest.approx(c.intra_b_mean)


def test_compare_different_sets_and_densities_on_one_grid(two_sets):
    a, b = two_sets
    result = compare_sets(a, b, grid_points=600)
    for name in ("PR", "PI", "IOI", "NLH"):
        assert result[name].oa_a < 0.5, name
        assert result[name].kl_a > 0.5, name
    for c in result.values():
        step = c.grid[1] - c.grid[0]
        assert len(c.grid) == 600
        for density in (c.density_intra_a, c.density_intra_b, c.density_inter):
            assert np.sum(density) * step == pytest.approx(1.0, abs=1e-2), c.metric
        for d in (c.intra_a, c.intra_b, c.inter):
            assert c.grid[0] < d.min() and d.max() < c.grid[-1]
        assert 0.0 <= c.oa_a <= 1.0 + 1e-6 and 0.0 <= c.oa_b <= 1.0 + 1e-6
    assert len(result["PC"].intra_a) == 30 * 29 // 2 and len(result["PC"].inter) == 30 * 30
    text = format_comparison(result, "real", "generated")
    assert "OA generated" in text and all(m in text for m in METRICS)


def test_compare_subsamples_pairs_reproducibly(two_sets):
    a, b = two_sets
    one = compare_sets(a, b, max_pairs=200, seed=3, metrics=("PI",))["PI"]
    two = compare_sets(a, b, max_pairs=200, seed=3)["PI"]
    assert len(one.intra_a) == 200 and len(one.inter) == 200
    np.testing.assert_array_equal(one.inter, two.inter)


def test_undefined_values_are_left_out_and_summary_table():
    a = set_features([c_e_g(), [Note(60, 0, 480)], c_e_g()[:2]], TPB)
    assert np.isnan(a["PI"]).sum() == 1
    c = compare_sets(a, a, metrics=("PI", "PC"))
    assert c["PI"].n_a == 2 and c["PC"].n_a == 3
    too_few = compare_sets(a, set_features([[Note(60, 0, 480)]], TPB), metrics=("PI",))["PI"]
    assert np.isnan(too_few.oa_b) and len(too_few.grid) == 0
    table = summary_table({"training data": a, "model": a})
    lines = table.splitlines()
    assert lines[0].split() == ["set", "n", "PC", "PR", "NC", "PI", "IOI"]
    # PC 3, 1, 2; PR 7, 0, 4; NC 3, 1, 2; PI 3.5, -, 4; IOI 1, -, 1.
    assert lines[2].split() == ["training", "data", "3", "2.00", "3.67", "2.00", "3.75", "1.00"]


def test_plots_write_pngs(tmp_path, two_sets):
    pytest.importorskip("matplotlib")
    from accompanist.metrics.plots import plot_distances, plot_histograms

    a, b = two_sets
    paths = plot_histograms({"real": a, "generated": b}, tmp_path / "hist")
    assert [p.name for p in paths] == ["pch.png", "nlh.png", "pctm.png", "nltm.png"]
    dist = plot_distances(compare_sets(a, b, grid_points=300, metrics=("PC", "PCH", "NLTM")), tmp_path, "real", "gen")
    for p in [*paths, dist]:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
