"""`accompanist bench --json`: the figures exist and are sane. Timings themselves are never asserted."""

from __future__ import annotations

import json

import pytest
from helpers import TINY_BI, TINY_UNI

from accompanist.cli import main

ORT_KEYS = ("ort_harmonize_32", "ort_encoder_32", "ort_decoder_step")
TORCH_KEYS = ("torch_harmonize_32", "torch_decoder_step")


def bench_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main(["bench", "--json", "--runs", "5", *args]) == 0
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1, out
    return json.loads(out)


def check_summary(s: dict, runs: int) -> None:
    assert s["runs"] == runs
    assert 0 < s["median"] <= s["p90"] <= s["p99"] <= s["max"]
    assert s["unit"] in ("ms", "us")


@pytest.mark.parametrize("model", [TINY_BI, TINY_UNI])
def test_bench_without_torch(use_tiny_models, capsys, model):
    r = bench_json(capsys, "--no-torch", "--model", model)
    assert r["model"] == model and r["threads"] == 1
    for k in ORT_KEYS:
        assert {"median", "p99"} <= set(r[k]), k
    check_summary(r["ort_harmonize_32"], 5)
    check_summary(r["ort_encoder_32"], 5)  # --runs N: N timings of each, as its help says
    check_summary(r["ort_decoder_step"], 5)
    assert not any(k.startswith("torch") for k in r)


@pytest.mark.parametrize("model", [TINY_BI, TINY_UNI])
def test_bench_with_torch(use_tiny_models, capsys, model):
    r = bench_json(capsys, "--model", model)
    for k in ORT_KEYS + TORCH_KEYS:
        assert {"median", "p99"} <= set(r[k]), k
    check_summary(r["torch_harmonize_32"], 20)  # at least 20: too few for a median otherwise
    check_summary(r["torch_decoder_step"], 5)
    assert r["torch_over_ort_step"] == pytest.approx(
        r["torch_decoder_step"]["median"] / r["ort_decoder_step"]["median"], rel=0.01, abs=0.01
    )
    assert r["torch_over_ort_harmonize_32"] > 0


def test_bench_prints_a_table(use_tiny_models, capsys):
    assert main(["bench", "--runs", "5", "--no-torch", "--model", TINY_BI]) == 0
    out = capsys.readouterr().out
    assert f"model {TINY_BI}" in out
    assert "ORT decoder step" in out and "p99" in out


def test_bench_unknown_model_is_a_clean_error(use_tiny_models, capsys):
    assert main(["bench", "--json", "--runs", "5", "--no-torch", "--model", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("accompanist: error: unknown model 'nope'") and TINY_BI in err


def test_bench_recorder_reports_write_times_early_and_late():
    from accompanist.bench.recorder_bench import bench_recorder

    r = bench_recorder(minutes=1.0)
    assert r["events"] == 2400 and r["writes"] >= 29
    for part in ("write_first_tenth", "write_last_tenth"):
        assert r[part]["runs"] >= 2 and 0 < r[part]["median"] <= r[part]["max"]
    assert r["mido_whole_rewrite_ms"] > 0 and r["file_mb"] > 0
