"""Checkpoints are read with PyTorch's weights-only loader: one that would run code is refused,
and what it would have run does not run."""

from __future__ import annotations

import torch
from helpers import TINY_DUET_LISTEN, assert_clean_error, run_cli


class _Opens:
    """Unpickled, this calls ``open(path, "w")``: a stand-in for any code a file could run."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _hostile_run(folder, marker, name: str = "best.pt"):
    folder.mkdir()
    torch.save({"model": {}, "meta": {"family": "duet"}, "payload": _Opens(marker)}, folder / name)
    return folder


def test_export_refuses_a_checkpoint_that_would_run_code(tmp_path):
    marker = tmp_path / "ran.txt"
    run = _hostile_run(tmp_path / "run", marker)
    proc = run_cli("export", run, "--dest", tmp_path / "models")
    assert_clean_error(proc, "best.pt", "refused")
    assert not marker.exists()


def test_resume_refuses_a_checkpoint_that_would_run_code(tmp_path):
    marker = tmp_path / "ran.txt"
    run = _hostile_run(tmp_path / "run", marker, "last.pt")
    proc = run_cli("train", "duet", "--name", "x", "--limit", "4", "--epochs", "1", "--out", run, "--resume")
    assert_clean_error(proc, "last.pt", "refused")
    assert not marker.exists()


def test_checkpoints_this_version_writes_load_and_export(tiny_runs, tmp_path):
    """What training writes (weights, optimiser, random states, meta) passes the weights-only
    loader, and export works from it."""
    from accompanist.training.checkpoints import load_checkpoint

    run = tiny_runs[TINY_DUET_LISTEN]
    for name in ("best.pt", "last.pt"):
        assert "model" in load_checkpoint(run / name)
    proc = run_cli("export", run, "--name", "again", "--dest", tmp_path / "models")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "models" / "again" / "card.json").is_file()


def test_a_broken_checkpoint_is_one_line(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "best.pt").write_bytes(b"PK\x03\x04 not really a zip")
    assert_clean_error(run_cli("export", run, "--dest", tmp_path / "m"), "best.pt", "not a readable checkpoint")
