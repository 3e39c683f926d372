"""Export a note RNN or an RL-tuned run as one ONNX step graph, check parity, write the card.

Graph ``note_step.onnx``: event (B,) int64 (``music.rl_tokens``), state (B, 2H: h then c) ->
logits (B, 38) of the next event (the tuned model's Q-values), state_out (B, 2H).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from accompanist.export.card import (
    export_checked,
    gap,
    held_out_scores,
    load_model,
    model_section,
    pitch_range,
    training_section,
)
from accompanist.export.graph import to_onnx
from accompanist.inference.sampling_config import MelodySampling
from accompanist.inference.session import open_session
from accompanist.models.rl_tuner import NoteRNN, NoteRNNConfig, NoteStep
from accompanist.music.rl_tokens import HIGH, LOW, N_CLASSES

ROLE = "note_step"
PARITY_STEPS = 300


def load_run(run_dir: Path) -> tuple[NoteRNN, dict, dict]:
    return load_model(run_dir, NoteRNN, NoteRNNConfig)


def export_graph(model: NoteRNN, folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    s = model.cfg.state_size
    names, outs = ["event", "state"], ["logits", "state_out"]
    to_onnx(
        NoteStep(model), (torch.zeros(2, dtype=torch.long), torch.zeros(2, s)), folder / f"{ROLE}.onnx", names, outs
    )
    return {
        ROLE: {
            "file": f"{ROLE}.onnx",
            "inputs": {"event": ["batch"], "state": ["batch", s]},
            "outputs": {"logits": ["batch", N_CLASSES], "state_out": ["batch", s]},
            "state": {"state": "state_out"},
            "state_size": s,
        }
    }


def check_parity(model: NoteRNN, folder: Path, steps: int = PARITY_STEPS, seed: int = 0) -> float:
    """Largest |difference| of logits and state between ORT and torch, each step from the same
    state (ORT's, carried over ``steps`` random events). Not two chains each carrying its own
    state: a Q-network's cells, driven by random events, grow far past anything a melody does and
    the chains then part by float32 rounding alone (seen: 17.8 after 300 steps)."""
    sess = open_session(folder / f"{ROLE}.onnx")
    rng = np.random.default_rng(seed)
    step = NoteStep(model).eval()
    worst = 0.0
    for b in (1, 3):
        state = np.zeros((b, model.cfg.state_size), np.float32)
        for _ in range(steps):
            ev = rng.integers(0, N_CLASSES, b)
            with torch.no_grad():
                t_logits, t_state = step(torch.from_numpy(ev), torch.from_numpy(state))
            logits, state = sess.run(None, {"event": ev, "state": state})
            worst = max(worst, gap((logits, t_logits), (state, t_state)))
    return worst


def export_run(run_dir: Path, dest_root: Path, name: str | None = None, sampling: MelodySampling | None = None) -> Path:
    s = sampling or MelodySampling()
    ex = export_checked(run_dir, dest_root, name, load_run(run_dir), export_graph, check_parity)
    best, meta = ex.best, ex.meta
    tuned = meta.get("stage") == "tuned"
    in_c = bool(tuned and meta["tune"].get("in_c", False))  # hears every call moved to C
    metrics = {"onnx_parity_max_abs": ex.parity}
    if tuned:
        metrics |= {"rl_table": best["tables"], "tune_history": best.get("history", [])}
    else:
        metrics |= {**held_out_scores(best), "validation_loss": round(best["val_loss"], 4)}
    training = training_section(best, ex.last)
    if tuned:
        training |= {"tune": meta["tune"], "note_rnn_run": meta["note_rnn_run"], "wall_seconds": best["seconds"]}
    return ex.publish(
        "rl",
        (
            "Answers your phrase with a melody tuned by music-theory rewards (RL tuner, deep Q-learning)"
            if tuned
            else "Answers your phrase with a melody of the plain note RNN (the RL tuner's starting point)"
        ),
        {"steps_per_beat": 4, "vocabulary": {"note_off": 0, "no_event": 1, "notes": [2, N_CLASSES - 1]}},
        pitch_range(LOW, HIGH),
        {"temperature": s.temperature, "key_lock": s.key_lock, "channel": 2, "program": 68},
        metrics,
        training=training,
        model=model_section(ex.model, stage=meta.get("stage")) | {"in_c": in_c},
    )
