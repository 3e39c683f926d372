"""Training at scale: two processes under torchrun (gloo on CPU) on shards built from a MIDI
folder end with identical weights, and the run's checkpoint records both ranks' digests."""

from __future__ import annotations

import os
import subprocess
import sys

import torch
from helpers import write_band_song


def test_two_ranks_end_with_identical_weights(tmp_path):
    folder = tmp_path / "band"
    folder.mkdir()
    for i in range(10):
        write_band_song(folder / f"song{i:02d}.mid", seed=i, bars=6)
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    cmd += ["-m", "accompanist.cli", "train", "duet", "--name", "ddp", "--data", str(folder)]
    cmd += ["--epochs", "2", "--sizes", "8,4,8,8", "--chunk", "16", "--repeats", "2", "--batch-size", "4"]
    cmd += ["--val-fraction", "0.2", "--threads", "1", "--out", str(run)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 ranks: final weights agree" in proc.stderr
    last = torch.load(run / "last.pt", weights_only=False)
    ranks = last["rank_weights"]
    assert len(ranks) == 2 and ranks[0] == ranks[1]
    assert last["meta"]["world_size"] == 2
    assert last["state"]["epoch"] == 2
    counts = last["meta"]["counts"]["source_counts"]
    assert counts["files_found"] == 11 and counts["files_used"] == 10  # the broken file is skipped, not fatal
