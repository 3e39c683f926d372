"""Export of the tiny models: the model card, ONNX Runtime against PyTorch, and resuming a run."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnxruntime as ort
import pytest
import torch
from helpers import TINY_BI, TINY_SEQ2SEQ_ARGS, TINY_UNI, TINY_VARIANTS

from accompanist.cli import main
from accompanist.export.seq2seq_onnx import check_parity, load_run
from accompanist.inference.cards import read_card
from accompanist.music.tokens import HOLD, REST, START, VOCAB

NAMES = [TINY_BI, TINY_UNI]


def session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name", NAMES)
def test_card_has_every_field(tiny_models, tiny_runs, name):
    card = json.loads((tiny_models / name / "card.json").read_text())
    for key in (
        "name",
        "family",
        "description",
        "graphs",
        "io",
        "grid",
        "vocabulary",
        "defaults",
        "training",
        "metrics",
        "created_by",
    ):
        assert key in card, key
    variant, pair = TINY_VARIANTS[name]
    assert card["name"] == name and card["family"] == "seq2seq"
    assert variant in card["description"] and len(card["description"].splitlines()) == 1
    assert card["graphs"] == {"encoder": "encoder.onnx", "decoder_step": "decoder_step.onnx"}
    for f in card["graphs"].values():
        assert (tiny_models / name / f).is_file()
    aligned = variant.endswith("aligned")
    assert ("enc_t" in card["io"]["decoder_step"]["inputs"]) is aligned
    assert card["io"]["decoder_step"]["state"] == {"h": "h_out", "c": "c_out"}
    width = 16 * (2 if variant.startswith("bi") else 1)
    assert card["io"]["encoder"]["outputs"]["h0"] == [1, "batch", width]
    assert card["grid"]["steps_per_beat"] == 4 and card["grid"]["window"] == 32
    assert card["vocabulary"] == {"size": VOCAB, "note_on": [0, 127], "rest": REST, "hold": HOLD, "start": START}
    assert card["defaults"]["voice"] == pair
    assert {"temperature", "channel", "program"} <= set(card["defaults"])
    assert card["model"]["hidden"] == 16 and card["model"]["embed"] == 8

    training = card["training"]
    assert len(training["data_hash"]) == 64 and int(training["data_hash"], 16) >= 0
    assert training["config"]["seed"] == 0 and training["epochs_run"] == 1 and training["best_epoch"] == 1
    assert training["data"]["limit"] == 6 and training["data"]["transpositions"] == [0, 1]
    assert training["data"]["pair"] == pair and "selection" in training["data"]
    counts = training["counts"]
    assert counts["chorale_files"] == 6
    assert counts["train_chorales"] + counts["val_chorales"] + counts["test_chorales"] == counts["chorales"]
    assert counts["train_windows"] > 0 and counts["val_windows"] > 0 and counts["test_windows"] > 0
    assert not set(training["val_chorales"]) & set(training["test_chorales"])
    assert training["test_chorales"] and len(training["test_chorales"]) == counts["test_chorales"]

    # the card's figures are the run's own, not made up at export time
    rows = [json.loads(line) for line in (tiny_runs[name] / "metrics.jsonl").read_text().splitlines()]
    metrics = card["metrics"]
    assert metrics["validation_loss"] == pytest.approx(min(r["val_loss"] for r in rows), abs=1e-4)
    # the test chorales are scored once, on the weights the validation chorales chose
    best = torch.load(tiny_runs[name] / "best.pt", weights_only=False)
    assert best["val_loss"] == pytest.approx(min(r["val_loss"] for r in rows), abs=1e-4)
    assert metrics["held_out_loss"] == pytest.approx(best["test_loss"], abs=1e-4)
    assert metrics["held_out_accuracy"] == pytest.approx(best["test_accuracy"], abs=1e-4)
    assert 0 < metrics["held_out_loss"] < 10 and 0 <= metrics["held_out_accuracy"] <= 1
    assert metrics["onnx_parity_max_abs"] <= 1e-4
    assert card["created_by"].startswith("accompanist export ")

    assert read_card(tiny_models / name / "card.json").name == name  # the runtime accepts it


@pytest.mark.parametrize("name", NAMES)
def test_check_parity_of_the_exported_graphs(tiny_models, tiny_runs, name):
    model, _, _ = load_run(tiny_runs[name])
    assert check_parity(model, tiny_models / name, seed=1) <= 1e-4


@pytest.mark.parametrize("name", NAMES)
def test_encoder_parity_at_any_length_and_batch(tiny_models, tiny_runs, name):
    model, _, _ = load_run(tiny_runs[name])
    enc = session(tiny_models / name / "encoder.onnx")
    rng = np.random.default_rng(7)
    for batch in (1, 4):
        for length in (1, 5, 33, 100):
            mel = rng.integers(0, VOCAB, (batch, length)).astype(np.int64)
            with torch.no_grad():
                want = [t.numpy() for t in model.encoder(torch.from_numpy(mel))]
            got = enc.run(None, {"melody": mel})
            assert [g.shape for g in got] == [w.shape for w in want], (batch, length)
            for g, w in zip(got, want, strict=True):
                assert np.abs(g - w).max() <= 1e-4, (batch, length)


@pytest.mark.parametrize("name", NAMES)
def test_teacher_forced_logits_match_torch(tiny_models, tiny_runs, name):
    """The encoder graph plus the looped decoder-step graph give the logits of the whole torch model."""
    model, _, _ = load_run(tiny_runs[name])
    enc = session(tiny_models / name / "encoder.onnx")
    dec = session(tiny_models / name / "decoder_step.onnx")
    aligned = model.cfg.aligned
    rng = np.random.default_rng(11)
    for batch in (1, 4):
        for length in (1, 5, 33, 100):
            mel = rng.integers(0, VOCAB, (batch, length)).astype(np.int64)
            prev = np.concatenate([np.full((batch, 1), START), rng.integers(0, VOCAB, (batch, length - 1))], axis=1)
            with torch.no_grad():
                want = model(torch.from_numpy(mel), torch.from_numpy(prev)).numpy()
            enc_out, h, c = enc.run(None, {"melody": mel})
            got = np.empty_like(want)
            for i in range(length):
                feeds = {"prev": prev[:, i], "h": h, "c": c}
                if aligned:
                    feeds["enc_t"] = enc_out[:, i]
                got[:, i], h, c = dec.run(None, feeds)
            assert np.abs(got - want).max() <= 1e-4, (batch, length)


def test_resume_continues_where_the_run_stopped(tiny_runs, tmp_path, capfd):
    """One epoch, then --resume to two, equals two epochs straight, figure for figure."""
    args = ["train", "seq2seq", "--name", TINY_BI, *TINY_SEQ2SEQ_ARGS]
    resumed = tmp_path / "resumed"
    shutil.copytree(tiny_runs[TINY_BI], resumed)
    first = (resumed / "metrics.jsonl").read_text().splitlines()
    assert len(first) == 1
    capfd.readouterr()
    assert main([*args, "--epochs", "2", "--out", str(resumed), "--resume"]) == 0
    assert "resuming" in capfd.readouterr().err
    rows = (resumed / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == 2 and rows[0] == first[0]
    assert [json.loads(r)["epoch"] for r in rows] == [1, 2]
    state = torch.load(resumed / "last.pt", weights_only=False)["state"]
    assert state["epoch"] == 2 and len(state["history"]) == 2

    straight = tmp_path / "straight"
    assert main([*args, "--epochs", "2", "--out", str(straight)]) == 0

    def figures(run):
        return [
            {k: v for k, v in json.loads(r).items() if k != "seconds"}
            for r in (run / "metrics.jsonl").read_text().splitlines()
        ]

    assert figures(resumed) == figures(straight)
    a = torch.load(resumed / "last.pt", weights_only=False)["model"]
    b = torch.load(straight / "last.pt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)

    # running the finished run again with --resume trains no further epoch
    assert main([*args, "--epochs", "2", "--out", str(resumed), "--resume"]) == 0
    assert len((resumed / "metrics.jsonl").read_text().splitlines()) == 2
