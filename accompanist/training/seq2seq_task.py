"""Glue between the chorale pairs, the seq2seq model and the training loop."""

from __future__ import annotations

import shlex
import sys
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F

from accompanist.data.chorales import load_chorales
from accompanist.data.pairs import PairDataConfig, build_pairs
from accompanist.models.seq2seq import Seq2Seq, Seq2SeqConfig
from accompanist.training.loop import Job, RunState, score_on_test, seed_everything, train


def loss_fn(model: Seq2Seq, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int, int]:
    logits = model(batch["src"], batch["tgt_in"])
    target = batch["tgt_out"]
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
    correct = int((logits.argmax(-1) == target).sum())
    return loss, correct, target.numel()


def run(job: Job, model_cfg: Seq2SeqConfig, data_cfg: PairDataConfig) -> RunState:
    chorales = load_chorales(limit=data_cfg.limit)
    data = build_pairs(chorales, data_cfg)
    seed_everything(job.train.seed)
    model = Seq2Seq(model_cfg)
    meta = {
        "command": "accompanist " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "name": job.name,
        "family": "seq2seq",
        "model": model_cfg.to_dict(),
        "data": data_cfg.describe(),
        "counts": data.counts,
        "data_hash": data.data_hash,
        "test_chorales": data.test_names,
        "val_chorales": data.val_names,
        "train": asdict(job.train),
    }
    arrays = lambda p: {"src": p.src, "tgt_in": p.tgt_in, "tgt_out": p.tgt_out}  # noqa: E731
    # early stopping watches the validation chorales; the test chorales only report, at the end
    select = data.val if len(data.val) else data.test
    state = train(model, loss_fn, arrays(data.train), arrays(select), job.folder, job.train, meta, resume=job.resume)
    score_best(job.folder, model, arrays(data.test), job.train.batch_size)
    return state


def score_best(run_dir: Path, model: Seq2Seq, test_arrays: dict, batch_size: int) -> None:
    """Add the test chorales' loss and accuracy to best.pt, measured once on the chosen weights."""
    best = score_on_test(run_dir, model, loss_fn, test_arrays, batch_size)
    print(f"test chorales: loss {best['test_loss']:.4f}, accuracy {best['test_accuracy']:.3f}", file=sys.stderr)
