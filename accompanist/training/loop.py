"""A plain epoch loop: shuffled batches, validation loss and accuracy each epoch, early stopping,
a JSON-lines log, and checkpoints that let a run stopped at any epoch go on where it left off.

Files in the run folder:
    last.pt        everything to resume (model, optimiser, epoch, best, RNG states)
    best.pt        the weights with the lowest validation loss, and the configs that made them
    metrics.jsonl  one line per epoch
"""

from __future__ import annotations

import json
import math
import platform
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

#: loss_fn(model, batch) -> (mean loss, number correct, number counted)
LossFn = Callable[[nn.Module, dict[str, torch.Tensor]], tuple[torch.Tensor, int, int]]


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    patience: int = 3  #: epochs without a better validation loss before stopping
    clip: float = 5.0
    seed: int = 0
    threads: int = 2
    max_minutes: float | None = None  #: stop after the epoch that passes this; resume later


@dataclass
class RunState:
    epoch: int = 0
    best_loss: float = math.inf
    best_epoch: int = 0
    bad_epochs: int = 0
    seconds: float = 0.0
    history: list[dict] = field(default_factory=list)
    stopped: str = ""


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def batches(arrays: dict[str, np.ndarray], size: int, rng: np.random.Generator | None):
    n = len(next(iter(arrays.values())))
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for i in range(0, n, size):
        idx = order[i : i + size]
        yield {k: torch.from_numpy(v[idx]) for k, v in arrays.items()}


def evaluate(model: nn.Module, loss_fn: LossFn, arrays: dict[str, np.ndarray], batch_size: int) -> tuple[float, float]:
    """Mean loss per counted token, and token accuracy, over a held-out set."""
    model.eval()
    total = correct = count = 0.0
    with torch.no_grad():
        for b in batches(arrays, batch_size, None):
            loss, c, n = loss_fn(model, b)
            total += float(loss) * n
            correct += c
            count += n
    model.train()
    return total / max(count, 1), correct / max(count, 1)


def train(
    model: nn.Module,
    loss_fn: LossFn,
    train_arrays: dict[str, np.ndarray],
    val_arrays: dict[str, np.ndarray],
    run_dir: Path,
    cfg: TrainConfig,
    meta: dict,
    resume: bool = False,
    progress: bool = True,
) -> RunState:
    """Train until early stopping, the epoch limit or the time limit; return the run state.

    ``meta`` (model and data configs, data hash, counts) is saved in every checkpoint, so the
    export step can write the model card from the checkpoint alone.
    """
    from tqdm import tqdm

    run_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    state = RunState()
    rng = np.random.default_rng(cfg.seed)
    last = run_dir / "last.pt"
    if resume and last.exists():
        ck = torch.load(last, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state = RunState(**ck["state"])
        rng.bit_generator.state = ck["numpy_rng"]
        torch.set_rng_state(ck["torch_rng"])
        print(
            f"resuming {run_dir} after epoch {state.epoch} (best validation loss {state.best_loss:.4f})",
            file=sys.stderr,
        )
    elif not resume:
        (run_dir / "metrics.jsonl").unlink(missing_ok=True)
    state.stopped = ""
    started = time.perf_counter()
    show = progress and sys.stderr.isatty()
    while state.epoch < cfg.epochs:
        t0 = time.perf_counter()
        n_batches = math.ceil(len(next(iter(train_arrays.values()))) / cfg.batch_size)
        bar = tqdm(
            batches(train_arrays, cfg.batch_size, rng),
            total=n_batches,
            disable=not show,
            desc=f"epoch {state.epoch + 1}/{cfg.epochs}",
            unit="batch",
            leave=False,
        )
        run_loss = seen = 0.0
        for b in bar:
            loss, _, n = loss_fn(model, b)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            run_loss += loss.item() * n
            seen += n
            bar.set_postfix(loss=f"{run_loss / seen:.3f}")
        val_loss, val_acc = evaluate(model, loss_fn, val_arrays, cfg.batch_size)
        state.epoch += 1
        dt = time.perf_counter() - t0
        state.seconds += dt
        row = {
            "epoch": state.epoch,
            "train_loss": round(run_loss / max(seen, 1), 5),
            "val_loss": round(val_loss, 5),
            "val_accuracy": round(val_acc, 5),
            "seconds": round(dt, 1),
        }
        state.history.append(row)
        with open(run_dir / "metrics.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")
        improved = val_loss < state.best_loss - 1e-4
        if improved:
            state.best_loss, state.best_epoch, state.bad_epochs = val_loss, state.epoch, 0
            torch.save(
                {
                    "model": model.state_dict(),
                    "meta": meta,
                    "epoch": state.epoch,
                    "val_loss": val_loss,
                    "val_accuracy": val_acc,
                },
                run_dir / "best.pt",
            )
        else:
            state.bad_epochs += 1
        print(
            f"epoch {state.epoch}: train loss {row['train_loss']:.4f}  validation loss {val_loss:.4f}  "
            f"accuracy {val_acc:.3f}  {dt:.0f} s{'  *' if improved else ''}",
            file=sys.stderr,
            flush=True,
        )
        if state.bad_epochs >= cfg.patience:
            state.stopped = f"early stop: no better validation loss for {cfg.patience} epochs"
        elif cfg.max_minutes and (time.perf_counter() - started) / 60 >= cfg.max_minutes:
            state.stopped = f"time limit of {cfg.max_minutes} min reached; run again with --resume to go on"
        _save_last(last, model, opt, state, rng, meta, cfg)
        if state.stopped:
            break
    if not state.stopped:
        state.stopped = f"epoch limit {cfg.epochs} reached"
    print(state.stopped, file=sys.stderr)
    _save_last(last, model, opt, state, rng, meta, cfg)
    return state


def _save_last(path: Path, model, opt, state: RunState, rng, meta: dict, cfg: TrainConfig) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "state": asdict(state),
            "numpy_rng": rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "meta": meta,
            "train_config": asdict(cfg),
            "machine": machine(),
        },
        tmp,
    )
    tmp.replace(path)


def machine() -> str:
    import os

    return f"{platform.machine()} {os.cpu_count()} cores, {platform.system()}, torch {torch.__version__}"
