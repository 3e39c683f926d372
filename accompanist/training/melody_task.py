"""Glue between the melody corpus, the pitch + duration LSTM (Conner et al. 2022) and the training loop."""

from __future__ import annotations

import shlex
import sys
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F

from accompanist.data.event_batches import EventWindows, WholeMelodies
from accompanist.data.melodies import MelodyDataConfig, MelodySet, load_melodies
from accompanist.models.melody import MelodyConfig, PitchDurationLSTM
from accompanist.training.loop import Job, RunState, score_on_test, seed_everything, train


def _heads(model: torch.nn.Module, batch: dict[str, torch.Tensor]):
    """Pitch and duration logits of every scored note, their targets, as flat rows."""
    p_logits, d_logits, _ = model(batch["pitch"][:, :-1], batch["dur"][:, :-1], batch["phase"][:, :-1])
    keep = batch["mask"][:, 1:].reshape(-1) > 0
    flat = lambda x: x.reshape(-1, x.shape[-1])[keep]  # noqa: E731
    target = lambda x: x[:, 1:].reshape(-1)[keep]  # noqa: E731
    return flat(p_logits), flat(d_logits), target(batch["pitch"]), target(batch["dur"])


def loss_fn(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int, int]:
    """Cross-entropy of the pitch head plus that of the duration head (nats per note); 'correct'
    counts notes whose pitch and duration are both the likeliest."""
    p, d, pt, dt = _heads(model, batch)
    loss = F.cross_entropy(p, pt) + F.cross_entropy(d, dt)
    correct = int(((p.argmax(-1) == pt) & (d.argmax(-1) == dt)).sum())
    return loss, correct, len(pt)


def held_out_scores(model: PitchDurationLSTM, data: WholeMelodies, batch_size: int = 64) -> dict:
    """Cross-entropy per head (nats per note) and each head's accuracy, over held-out melodies."""
    model.eval()
    tot = {"pitch": 0.0, "dur": 0.0, "pitch_ok": 0, "dur_ok": 0, "n": 0}
    with torch.no_grad():
        for b in data.batches(batch_size, None):
            p, d, pt, dt = _heads(model, b)
            tot["pitch"] += float(F.cross_entropy(p, pt, reduction="sum"))
            tot["dur"] += float(F.cross_entropy(d, dt, reduction="sum"))
            tot["pitch_ok"] += int((p.argmax(-1) == pt).sum())
            tot["dur_ok"] += int((d.argmax(-1) == dt).sum())
            tot["n"] += len(pt)
    n = max(tot["n"], 1)
    return {
        "pitch_ce": round(tot["pitch"] / n, 4),
        "duration_ce": round(tot["dur"] / n, 4),
        "ce_per_note": round((tot["pitch"] + tot["dur"]) / n, 4),
        "pitch_accuracy": round(tot["pitch_ok"] / n, 4),
        "duration_accuracy": round(tot["dur_ok"] / n, 4),
        "notes": tot["n"],
        "melodies": len(data.events),
    }


def by_source(melodies: MelodySet) -> dict[str, MelodySet]:
    out: dict[str, MelodySet] = {}
    for i, src in enumerate(melodies.sources):
        out.setdefault(src, MelodySet()).add(melodies.names[i], src, melodies.tokens[i], melodies.phases[i])
    return out


def melody_meta(name: str, family: str, model_cfg, data_cfg: MelodyDataConfig, data, train_cfg) -> dict:
    """What every melody family's checkpoints carry for its card (the corpus, its split, configs)."""
    return {
        "command": "accompanist " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "name": name,
        "family": family,
        "model": model_cfg.to_dict(),
        "data": data_cfg.describe(),
        "counts": data.counts,
        "data_hash": data.data_hash,
        "test_pieces": data.test.names,
        "val_pieces": data.val.names,
        "train": asdict(train_cfg),
    }


def begin_run(job: Job, family: str, model_class: type, model_cfg, data_cfg: MelodyDataConfig):
    """How every melody family's run begins: the corpus loaded, the seed set, a fresh model of
    ``model_class`` and the meta its checkpoints carry; (data, model, meta)."""
    data = load_melodies(data_cfg)
    seed_everything(job.train.seed)
    model = model_class(model_cfg)
    return data, model, melody_meta(job.name, family, model_cfg, data_cfg, data, job.train)


def run(job: Job, model_cfg: MelodyConfig, data_cfg: MelodyDataConfig) -> RunState:
    data, model, meta = begin_run(job, "melody", PitchDurationLSTM, model_cfg, data_cfg)
    train_src = EventWindows(data.train, data_cfg.transpositions)
    print(
        f"melodies: {len(data.train)} training ({data.train.notes} notes), {len(data.val)} validation, "
        f"{len(data.test)} test; {train_src.num_batches(job.train.batch_size)} batches an epoch",
        file=sys.stderr,
    )
    state = train(model, loss_fn, train_src, WholeMelodies(data.val), job.folder, job.train, meta, resume=job.resume)
    score_best(job.folder, model, data.test, job.train.batch_size)
    return state


def score_best(run_dir: Path, model: PitchDurationLSTM, test: MelodySet, batch_size: int) -> None:
    """Add the test melodies' scores to best.pt, measured once on the chosen weights."""
    whole = WholeMelodies(test)

    def scores(m: PitchDurationLSTM) -> dict:
        return {
            "test_scores": held_out_scores(m, whole, batch_size),
            "test_scores_by_source": {k: held_out_scores(m, WholeMelodies(v)) for k, v in by_source(test).items()},
        }

    s = score_on_test(run_dir, model, loss_fn, whole, batch_size, scores)["test_scores"]
    print(
        f"test melodies: pitch {s['pitch_ce']:.3f} + duration {s['duration_ce']:.3f} nats a note; "
        f"accuracy pitch {s['pitch_accuracy']:.3f}, duration {s['duration_accuracy']:.3f}",
        file=sys.stderr,
    )
