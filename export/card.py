"""The model card: one JSON beside a model's ONNX graphs, the same shape for every family.

Fields (DESIGN.md): name, family, description, graphs, io, grid, vocabulary or pitch_range,
defaults, training, metrics, created_by. The runtime reads cards with
``accompanist.inference.cards``; this module writes them, and builds the parts every family's
card shares from a training run's checkpoints.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

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


def training_section(best: dict, last: dict, held_out: dict) -> dict:
    """The card's 'training' part: how the weights were made, from the checkpoints alone.
    ``held_out`` names the held-out pieces (test and validation) under the family's own keys."""
    meta = best["meta"]
    state = last.get("state", {})
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


def publish(folder: Path, card: dict, t0: float, parity: float) -> None:
    """Write the card beside the graphs and say so."""
    import time

    write_card(folder, card)
    took = time.perf_counter() - t0
    print(f"exported {card['name']} to {folder} in {took:.1f} s (parity {parity:.1e})", file=sys.stderr)
