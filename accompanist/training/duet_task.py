"""Glue between the two-track rolls, DuetHLSTM and the training loop (alone or under torchrun)."""

from __future__ import annotations

import shlex
import sys
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F

from accompanist.data.duet_data import DuetBatches, DuetData, DuetDataConfig, StreamBatches, load_duet_data
from accompanist.data.listen_batches import ListenBatches
from accompanist.errors import AccompanistError
from accompanist.models.duet import DuetConfig, DuetHLSTM
from accompanist.training.checkpoints import load_checkpoint
from accompanist.training.loop import (
    Dist,
    Job,
    RunState,
    init_distributed,
    leave_distributed,
    score_on_test,
    seed_everything,
    train,
)

#: Weight of the melody head's loss: the seed trains both tracks' heads as equals.
MELODY_WEIGHT = 1.0


def _split(model: torch.nn.Module, batch: dict[str, torch.Tensor], state=None):
    """Logits, targets and mask of the steps the model is scored on, as (N, 168) rows, and the
    state after the chunk."""
    cfg = model.module.cfg if hasattr(model, "module") else model.cfg
    if cfg.variant == "listen":
        mel_logits, acc_logits, _ = model(batch["mel"], batch["acc"], None, batch["pos"], batch["ctx"])
        return mel_logits, acc_logits, batch["mel_t"], batch["acc_t"], batch["mel_mask"], None
    mel, acc, mask = batch["mel"], batch["acc"], batch["mask"]
    mel_logits, acc_logits, new = model(mel[:, :-1], acc[:, :-1], state)
    if cfg.variant == "window":
        return mel_logits, acc_logits, mel[:, -1], acc[:, -1], mask[:, -1], new
    keep = mask[:, 1:].reshape(-1) > 0
    flat = lambda x: x.reshape(-1, x.shape[-1])[keep]  # noqa: E731
    return flat(mel_logits), flat(acc_logits), flat(mel[:, 1:]), flat(acc[:, 1:]), mask[:, 1:].reshape(-1)[keep], new


class DuetLoss:
    """Binary cross-entropy summed over a step's 168 outputs per track, averaged over steps;
    'correct' counts steps whose thresholded accompaniment chord is exactly right.

    In training on streams it carries the LSTM state from one chunk to the next (detached, so
    gradients stop at the chunk's start) while a batch says ``carry``."""

    def __init__(self) -> None:
        self.state = None

    def __call__(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int, int]:
        carry = "carry" in batch and bool(batch["carry"])
        mel_logits, acc_logits, mel_t, acc_t, mel_mask, new = _split(model, batch, self.state if carry else None)
        self.state = tuple((h.detach(), c.detach()) for h, c in new) if "carry" in batch else None
        n = len(acc_t)
        bce = lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="sum") / max(n, 1)  # noqa: E731
        if "mel_mask" in batch:  # listen: a piece's last step has no next melody step to predict
            m = mel_mask[:, None]
            mel_loss = F.binary_cross_entropy_with_logits(mel_logits, mel_t, weight=m, reduction="sum") / max(n, 1)
        else:
            mel_loss = bce(mel_logits, mel_t)
        loss = bce(acc_logits, acc_t) + MELODY_WEIGHT * mel_loss
        frames = acc_logits[:, :84] > 0
        correct = int((frames == (acc_t[:, :84] > 0.5)).all(dim=1).sum())
        return loss, correct, n


def held_out_scores(model: DuetHLSTM, data: DuetBatches, batch_size: int = 256) -> dict:
    """Accompaniment BCE per step (nats over 168 outputs), sounding-note F1 and onset F1 at a
    0.5 threshold, and exact-chord accuracy, on a held-out set."""
    model.eval()
    tot = {"bce": 0.0, "n": 0, "exact": 0, "tp": 0, "fp": 0, "fn": 0, "otp": 0, "ofp": 0, "ofn": 0}
    with torch.no_grad():
        for b in data.batches(batch_size, None):
            _, acc_logits, _, acc_t, _, _ = _split(model, b)
            n = len(acc_t)
            tot["bce"] += float(F.binary_cross_entropy_with_logits(acc_logits, acc_t, reduction="sum"))
            tot["n"] += n
            pred, true = acc_logits > 0, acc_t > 0.5
            tot["exact"] += int((pred[:, :84] == true[:, :84]).all(dim=1).sum())
            for pre, sl in (("", slice(0, 84)), ("o", slice(84, 168))):
                p, t = pred[:, sl], true[:, sl]
                tot[pre + "tp"] += int((p & t).sum())
                tot[pre + "fp"] += int((p & ~t).sum())
                tot[pre + "fn"] += int((~p & t).sum())
    f1 = lambda tp, fp, fn: 2 * tp / max(2 * tp + fp + fn, 1)  # noqa: E731
    n = max(tot["n"], 1)
    return {
        "accompaniment_bce_per_step": round(tot["bce"] / n, 4),
        "frame_f1": round(f1(tot["tp"], tot["fp"], tot["fn"]), 4),
        "onset_f1": round(f1(tot["otp"], tot["ofp"], tot["ofn"]), 4),
        "exact_chord_accuracy": round(tot["exact"] / n, 4),
        "steps": tot["n"],
    }


def batches_of(data: DuetData, model_cfg: DuetConfig, data_cfg: DuetDataConfig, world: int = 1) -> dict:
    """Training batches (streams for the stateful variant, windows for the seed's), and
    validation and test batches that read every held-out piece whole from a zero state."""
    if model_cfg.variant == "listen":
        w, spb = model_cfg.window, data_cfg.steps_per_beat
        train = ListenBatches(data.train, w, data_cfg.transpositions, data_cfg.repeats, data_cfg.late, spb)
    elif model_cfg.variant == "stateful":
        train = StreamBatches(data.train, data_cfg.chunk, data_cfg.transpositions, data_cfg.repeats, world)
    else:
        train = DuetBatches(data.train, "window", model_cfg.window, 0, data_cfg.transpositions, data_cfg.repeats)
    held = lambda p: held_batches(p, model_cfg, data_cfg)  # noqa: E731
    out = {"train": train, "val": held(data.val if len(data.val) else data.test), "test": held(data.test)}
    if hasattr(data.test, "by_source"):  # several sources: each one's test pieces on their own too
        out["test_by_source"] = {k: held(p) for k, p in data.test.by_source().items() if len(p)}
    return out


def held_batches(pieces, model_cfg: DuetConfig, data_cfg: DuetDataConfig):
    """Held-out pieces as they are (no transposition, nothing hidden), every step once."""
    if model_cfg.variant == "listen":
        return ListenBatches(pieces, model_cfg.window, [0], 1, 0.0, data_cfg.steps_per_beat)
    longest = max((pieces.length(i) for i in range(len(pieces))), default=1)
    return DuetBatches(pieces, model_cfg.variant, model_cfg.window, longest, [0], 1)


def run(job: Job, model_cfg: DuetConfig, data_cfg: DuetDataConfig, init: Path | None = None) -> RunState:
    """Train the duet model on ``data_cfg``'s pieces; ``init``: start from the weights of another
    run's checkpoint of the same shape (go on learning from it on other music), not at random."""
    d = init_distributed()
    # rank 0 builds any missing cache (chorales, MIDI-folder shards) while the others wait
    if not d.main:
        torch.distributed.barrier()
    data = load_duet_data(data_cfg)
    if d.main and d.world > 1:
        torch.distributed.barrier()
    seed_everything(job.train.seed)  # the same initial weights on every rank
    model = DuetHLSTM(model_cfg)
    if init is not None:
        _load_init(model, init)
    meta = {
        "command": "accompanist " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "name": job.name,
        "family": "duet",
        "model": model_cfg.to_dict(),
        "data": data_cfg.describe() | {"rule": data.rule},
        "counts": data.counts,
        "data_hash": data.data_hash,
        "test_pieces": data.test.names,
        "val_pieces": data.val.names,
        "train": asdict(job.train),
        "world_size": d.world,
        **({"init": str(init)} if init is not None else {}),
    }
    b = batches_of(data, model_cfg, data_cfg, d.world)
    if d.main:
        print(
            f"duet data: {len(data.train)} training pieces ({data.train.steps} steps), {len(data.val)} validation, "
            f"{len(data.test)} test; {b['train'].num_batches(job.train.batch_size)} batches an epoch",
            file=sys.stderr,
        )
    state = train(model, DuetLoss(), b["train"], b["val"], job.folder, job.train, meta, resume=job.resume, d=d)
    if d.main:
        score_best(job.folder, model, b, job.train.batch_size, d)
    leave_distributed(d)
    return state


def _load_init(model: DuetHLSTM, path: Path) -> None:
    ckpt = load_checkpoint(path)
    try:
        model.load_state_dict(ckpt["model"])
    except (RuntimeError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AccompanistError(f"{path}: not a duet checkpoint of this shape ({first[:160]})") from None


def score_best(run_dir: Path, model: DuetHLSTM, b: dict[str, DuetBatches], batch_size: int, d: Dist) -> None:
    """Add the test pieces' scores to best.pt, measured once on the chosen weights."""

    def scores(m: DuetHLSTM) -> dict:
        out = {"test_scores": held_out_scores(m, b["test"], batch_size)}
        if "test_by_source" in b:
            out["test_scores_by_source"] = {
                k: held_out_scores(m, v, batch_size) for k, v in b["test_by_source"].items()
            }
        return out

    model.to("cpu")
    best = score_on_test(run_dir, model, DuetLoss(), b["test"], batch_size, scores)
    s = best["test_scores"]
    print(
        f"test pieces: accompaniment BCE {s['accompaniment_bce_per_step']:.3f} a step, frame F1 {s['frame_f1']:.3f}, "
        f"onset F1 {s['onset_f1']:.3f}, exact chords {s['exact_chord_accuracy']:.3f}",
        file=sys.stderr,
    )
    for k, s in best.get("test_scores_by_source", {}).items():
        print(f"  {k}: BCE {s['accompaniment_bce_per_step']:.3f}, frame F1 {s['frame_f1']:.3f}", file=sys.stderr)
