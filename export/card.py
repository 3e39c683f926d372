"""The model card: one JSON beside a model's ONNX graphs, the same shape for every family; and
the steps every family's export shares.

Fields: name, family, description, graphs, io, grid, vocabulary or pitch_range, model, defaults,
training, metrics, created_by. The runtime reads cards with ``accompanist.inference.cards``; this
module writes them, and builds the parts every family's card shares from a training run's
checkpoints. An export is: ``load_model`` (the run's best weights), ``export_checked`` (the
family's graphs written and compared with PyTorch by the family's parity check, refused past
``PARITY_LIMIT``), then ``Export.publish`` (the card, with the family's own parts).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CARD_FILE = "card.json"


def write_card(folder: Path, card: dict) -> Path:
    path = folder / CARD_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path


def load_checkpoints(run_dir: Path) -> tuple[dict, dict]:
    """best.pt (weights, meta, held-out scores) and last.pt (run state), of a training run."""
    from accompanist.training.checkpoints import load_checkpoint

    best = run_dir / "best.pt"
    if not best.exists():
        raise FileNotFoundError(f"{best} not found: train first (accompanist train ...)")
    last = run_dir / "last.pt"
    return load_checkpoint(best), load_checkpoint(last) if last.exists() else {}


def load_model(run_dir: Path, model_class: type, config_class: type):
    """The run's best weights in a model of ``model_class`` (built from the checkpoint's
    ``config_class``), in eval mode, and the two checkpoints: (model, best, last)."""
    best, last = load_checkpoints(run_dir)
    model = model_class(config_class(**best["meta"]["model"]))
    model.load_state_dict(best["model"])
    model.eval()
    return model, best, last


def training_section(best: dict, last: dict, held_out: dict | None = None) -> dict:
    """The card's 'training' part: how the weights were made, from the checkpoints alone.
    ``held_out`` names the held-out pieces (test and validation) under the family's own keys
    (default: the run's test_pieces and val_pieces)."""
    meta = best["meta"]
    state = last.get("state", {})
    if held_out is None:
        held_out = {"test_pieces": meta["test_pieces"], "val_pieces": meta.get("val_pieces", [])}
    return {
        "command": meta.get("command", ""),
        "data": meta["data"],
        "counts": meta["counts"],
        "data_hash": meta["data_hash"],
        **held_out,
        "config": meta["train"],
        "epochs_run": state.get("epoch"),
        "best_epoch": best["epoch"],
        "stopped": state.get("stopped"),
        "wall_seconds": round(state.get("seconds", 0.0), 1),
        "machine": last.get("machine", ""),
        "history": state.get("history", []),
    }


def created_by(run_dir: Path) -> str:
    """The command line that made this export, as the user typed it where we can tell."""
    if sys.argv[1:2] == ["export"]:
        return "accompanist " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    return f"accompanist export {run_dir}"


#: the largest |difference| between ONNX Runtime and PyTorch an export accepts
PARITY_LIMIT = 1e-4


def require_parity(parity: float) -> None:
    if parity > PARITY_LIMIT:
        raise RuntimeError(f"ONNX parity failed: max |difference| {parity:.2e} > {PARITY_LIMIT:g}")


def gap(*pairs) -> float:
    """The largest |a - b| over pairs of ONNX Runtime and PyTorch outputs (arrays or tensors)."""
    return max(float(np.abs(np.asarray(a) - np.asarray(b)).max()) for a, b in pairs)


def model_section(model, **extra) -> dict:
    """The card's 'model' part: the config, what the family adds, and the parameter count."""
    return {**model.cfg.to_dict(), **extra, "parameters": sum(p.numel() for p in model.parameters())}


def pitch_range(low: int, high: int) -> dict:
    """The card's 'pitch_range' part, for a model that plays MIDI ``low``..``high``."""
    return {"pitch_range": {"low": low, "high": high, "size": high - low + 1}}


def held_out_scores(best: dict) -> dict:
    """The test pieces' loss and accuracy of the best checkpoint (None where the run is still
    training and has not been scored on them yet)."""
    return {
        "held_out_loss": round(best["test_loss"], 4) if "test_loss" in best else None,
        "held_out_accuracy": round(best["test_accuracy"], 4) if "test_accuracy" in best else None,
    }


@dataclass
class Export:
    """A run's weights written as ONNX graphs to ``folder`` and checked against PyTorch: what the
    family's card then describes."""

    run_dir: Path
    name: str
    folder: Path
    model: object
    best: dict
    last: dict
    io: dict
    parity: float
    started: float

    @property
    def meta(self) -> dict:
        return self.best["meta"]

    def publish(
        self,
        family: str,
        description: str,
        grid: dict,
        pitches: dict,
        defaults: dict,
        metrics: dict,
        training: dict | None = None,
        model: dict | None = None,
    ) -> Path:
        """Write the card, with the family's ``grid``, ``pitches`` (its pitch_range or
        vocabulary part), ``defaults`` and ``metrics``; ``training`` and ``model`` default to
        ``training_section`` and ``model_section`` of the run."""
        card = {
            "name": self.name,
            "family": family,
            "description": description,
            "graphs": {role: spec["file"] for role, spec in self.io.items()},
            "io": self.io,
            "grid": grid,
            **pitches,
            "model": model_section(self.model) if model is None else model,
            "defaults": defaults,
            "training": training_section(self.best, self.last) if training is None else training,
            "metrics": metrics,
            "created_by": created_by(self.run_dir),
        }
        publish(self.folder, card, self.started, self.parity)
        return self.folder


def export_checked(
    run_dir: Path,
    dest_root: Path,
    name: str | None,
    loaded: tuple,
    export_graphs: Callable[[object, Path], dict],
    check_parity: Callable[[object, Path], float],
) -> Export:
    """Write the graphs of ``loaded`` (model, best, last) to ``dest_root/name`` (default: the
    run's name) and check them against PyTorch; refused past ``PARITY_LIMIT``."""
    model, best, last = loaded
    name = name or best["meta"]["name"]
    folder = dest_root / name
    started = time.perf_counter()
    io = export_graphs(model, folder)
    parity = check_parity(model, folder)
    require_parity(parity)
    return Export(run_dir, name, folder, model, best, last, io, parity, started)


def publish(folder: Path, card: dict, t0: float, parity: float) -> None:
    """Write the card beside the graphs and say so."""
    write_card(folder, card)
    took = time.perf_counter() - t0
    print(f"exported {card['name']} to {folder} in {took:.1f} s (parity {parity:.1e})", file=sys.stderr)
