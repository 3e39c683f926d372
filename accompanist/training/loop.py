"""A plain epoch loop: shuffled batches, validation loss and accuracy each epoch, early stopping,
a JSON-lines log, and checkpoints that let a run stopped at any epoch go on where it left off.

It runs alone or under ``torchrun`` as DistributedDataParallel: every rank takes its own share of
each epoch's batches (the same seeded order on every rank, dealt out by rank), gradients are
averaged by DDP, validation sums are all-reduced, and only rank 0 writes files. gloo serves CPUs,
NCCL GPUs.

Files in the run folder:
    last.pt        everything to resume (model, optimiser, epoch, best, RNG states)
    best.pt        the weights with the lowest validation loss, and the configs that made them
    metrics.jsonl  one line per epoch
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import distributed as dist
from torch import nn

from accompanist.training.checkpoints import load_checkpoint

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


@dataclass(frozen=True)
class Job:
    """What a training run is asked besides its model and data: its name, its folder, the loop's
    config, and whether it goes on from the folder's last.pt."""

    name: str
    folder: Path
    train: TrainConfig
    resume: bool = False


@dataclass
class RunState:
    epoch: int = 0
    best_loss: float = math.inf
    best_epoch: int = 0
    bad_epochs: int = 0
    seconds: float = 0.0
    history: list[dict] = field(default_factory=list)
    stopped: str = ""


class BatchSource(Protocol):
    """Where a family's batches come from: the loop only asks for an epoch's batches."""

    def num_batches(self, size: int) -> int: ...

    def batches(self, size: int, rng: np.random.Generator | None) -> Iterator[dict[str, torch.Tensor]]: ...


@dataclass
class ArrayBatches:
    """Batches of rows of equal-length arrays held in memory (the seq2seq windows)."""

    arrays: dict[str, np.ndarray]

    def num_batches(self, size: int) -> int:
        return math.ceil(len(next(iter(self.arrays.values()))) / size)

    def batches(self, size: int, rng: np.random.Generator | None) -> Iterator[dict[str, torch.Tensor]]:
        return batches(self.arrays, size, rng)


@dataclass(frozen=True)
class Dist:
    """This process's place in a distributed run (rank 0 of 1 when alone)."""

    rank: int = 0
    world: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed() -> Dist:
    """Join the process group when launched by torchrun (WORLD_SIZE > 1), else run alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    rank = dist.get_rank()
    device = torch.device("cpu")
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    return Dist(rank, dist.get_world_size(), device)


def leave_distributed(d: Dist) -> None:
    """Leave the process group together: a rank that exits while another still works (rank 0
    scoring the test pieces) can abort in gloo's teardown and fail the whole torchrun."""
    if d.world > 1 and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


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


def _source(data: BatchSource | dict[str, np.ndarray]) -> BatchSource:
    return ArrayBatches(data) if isinstance(data, dict) else data


def _to(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return batch if device.type == "cpu" else {k: v.to(device) for k, v in batch.items()}


def _shard(it: Iterator, total: int, d: Dist) -> Iterator:
    """Every rank's share of an epoch: batch i goes to rank i mod world, and all ranks take the
    same number of steps (the remainder is dropped), or DDP would wait forever on the last one."""
    usable = total - total % d.world if d.world > 1 else total
    for i, b in enumerate(it):
        if i >= usable:
            break
        if i % d.world == d.rank:
            yield b


def evaluate(
    model: nn.Module,
    loss_fn: LossFn,
    data: BatchSource | dict[str, np.ndarray],
    batch_size: int,
    d: Dist | None = None,
) -> tuple[float, float]:
    """Mean loss per counted item, and accuracy, over a held-out set (summed over all ranks)."""
    d = d or Dist()
    src = _source(data)
    model.eval()
    sums = torch.zeros(3, dtype=torch.float64)
    with torch.no_grad():
        for i, b in enumerate(src.batches(batch_size, None)):
            if i % d.world != d.rank:
                continue
            loss, c, n = loss_fn(model, _to(b, d.device))
            sums += torch.tensor([float(loss) * n, c, n], dtype=torch.float64)
    if d.world > 1:
        sums = sums.to(d.device)
        dist.all_reduce(sums)
        sums = sums.cpu()
    model.train()
    total, correct, count = sums.tolist()
    return total / max(count, 1), correct / max(count, 1)


def score_on_test(
    run_dir: Path,
    model: nn.Module,
    loss_fn: LossFn,
    test: BatchSource | dict[str, np.ndarray],
    batch_size: int,
    scores: Callable[[nn.Module], dict] | None = None,
) -> dict:
    """Add the test set's loss and accuracy (and what ``scores`` measures of the model) to the
    run's best.pt, measured once on the chosen weights, which ``model`` is left holding; the
    checkpoint as saved."""
    path = run_dir / "best.pt"
    best = load_checkpoint(path)
    model.load_state_dict(best["model"])
    best["test_loss"], best["test_accuracy"] = evaluate(model, loss_fn, test, batch_size)
    if scores is not None:
        best |= scores(model)
    torch.save(best, path)
    return best


def train(
    model: nn.Module,
    loss_fn: LossFn,
    train_data: BatchSource | dict[str, np.ndarray],
    val_data: BatchSource | dict[str, np.ndarray],
    run_dir: Path,
    cfg: TrainConfig,
    meta: dict,
    resume: bool = False,
    progress: bool = True,
    d: Dist | None = None,
) -> RunState:
    """Train until early stopping, the epoch limit or the time limit; return the run state.

    ``meta`` (model and data configs, data hash, counts) is saved in every checkpoint, so the
    export step can write the model card from the checkpoint alone.
    """
    from tqdm import tqdm

    d = d or Dist()
    train_src, val_src = _source(train_data), _source(val_data)
    if d.main:
        run_dir.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    model.to(d.device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    state = RunState()
    rng = np.random.default_rng(cfg.seed)
    last = run_dir / "last.pt"
    if resume and last.exists():
        ck = load_checkpoint(last, map_location=d.device)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state = RunState(**ck["state"])
        rng.bit_generator.state = ck["numpy_rng"]
        torch.set_rng_state(ck["torch_rng"])
        if d.main:
            print(
                f"resuming {run_dir} after epoch {state.epoch} (best validation loss {state.best_loss:.4f})",
                file=sys.stderr,
            )
    elif not resume and d.main:
        (run_dir / "metrics.jsonl").unlink(missing_ok=True)
    net: nn.Module = model
    if d.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[d.device.index] if d.device.type == "cuda" else None)
    state.stopped = ""
    started = time.perf_counter()
    show = progress and d.main and sys.stderr.isatty()
    while state.epoch < cfg.epochs:
        t0 = time.perf_counter()
        total = train_src.num_batches(cfg.batch_size)
        bar = tqdm(
            _shard(train_src.batches(cfg.batch_size, rng), total, d),
            total=total // d.world,
            disable=not show,
            desc=f"epoch {state.epoch + 1}/{cfg.epochs}",
            unit="batch",
            leave=False,
        )
        run_loss = seen = 0.0
        for b in bar:
            loss, _, n = loss_fn(net, _to(b, d.device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
            opt.step()
            run_loss += loss.item() * n
            seen += n
            bar.set_postfix(loss=f"{run_loss / seen:.3f}")
        val_loss, val_acc = evaluate(model, loss_fn, val_src, cfg.batch_size, d)
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
        improved = val_loss < state.best_loss - 1e-4
        if improved:
            state.best_loss, state.best_epoch, state.bad_epochs = val_loss, state.epoch, 0
        else:
            state.bad_epochs += 1
        out_of_time = bool(cfg.max_minutes and (time.perf_counter() - started) / 60 >= cfg.max_minutes)
        if d.world > 1:  # ranks must agree on stopping, and clocks differ a little
            flag = torch.tensor([float(out_of_time)], device=d.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            out_of_time = bool(flag.item())
        if state.bad_epochs >= cfg.patience:
            state.stopped = f"early stop: no better validation loss for {cfg.patience} epochs"
        elif out_of_time:
            state.stopped = f"time limit of {cfg.max_minutes} min reached; run again with --resume to go on"
        if d.main:
            with open(run_dir / "metrics.jsonl", "a") as f:
                f.write(json.dumps(row) + "\n")
            if improved:
                best = {"model": model.state_dict(), "meta": meta, "epoch": state.epoch}
                torch.save({**best, "val_loss": val_loss, "val_accuracy": val_acc}, run_dir / "best.pt")
            print(
                f"epoch {state.epoch}: train loss {row['train_loss']:.4f}  validation loss {val_loss:.4f}  "
                f"accuracy {val_acc:.3f}  {dt:.0f} s{'  *' if improved else ''}",
                file=sys.stderr,
                flush=True,
            )
            _save_last(last, model, opt, state, rng, meta, cfg)
        if state.stopped:
            break
    if not state.stopped:
        state.stopped = f"epoch limit {cfg.epochs} reached"
    ranks = rank_weights(model, d)
    if d.main:
        print(state.stopped, file=sys.stderr)
        if d.world > 1:
            agree = "agree" if len(set(ranks)) == 1 else "DIFFER"
            print(f"{d.world} ranks: final weights {agree}", file=sys.stderr)
        _save_last(last, model, opt, state, rng, meta, cfg, ranks)
    if d.world > 1:
        dist.barrier()  # nobody reads last.pt before rank 0 has written it
    return state


def weights_digest(model: nn.Module) -> str:
    """sha256 of every parameter and buffer, in state-dict order."""
    h = hashlib.sha256()
    for k, v in model.state_dict().items():
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def rank_weights(model: nn.Module, d: Dist) -> list[str]:
    """Each rank's weight digest, gathered on all ranks: DDP promises they are identical."""
    mine = weights_digest(model)
    if d.world <= 1:
        return [mine]
    out: list[str] = [""] * d.world
    dist.all_gather_object(out, mine)
    return out


def _save_last(
    path: Path, model, opt, state: RunState, rng, meta: dict, cfg: TrainConfig, ranks: list[str] | None = None
) -> None:
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
            "rank_weights": ranks or [],
        },
        tmp,
    )
    tmp.replace(path)


def machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cores, {platform.system()}, torch {torch.__version__}"
