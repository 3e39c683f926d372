"""Export a trained pitch + duration melody run as one ONNX step graph, check parity, write the card.

Graph ``melody_step.onnx``: pitch (B,), dur (B,), phase (B,) int64 model indices of one note,
state (B, S) -> pitch_logits (B, N_PITCH), dur_logits (B, N_DUR) of the next note, state_out
(B, S). The state is h then c of every LSTM layer, flattened, so a runner keeps one array.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from accompanist.export.card import export_checked, gap, held_out_scores, load_model, pitch_range
from accompanist.export.graph import to_onnx
from accompanist.inference.sampling_config import MelodySampling
from accompanist.inference.session import open_session
from accompanist.models.melody import MelodyConfig, MelodyStep, PitchDurationLSTM
from accompanist.music.events import MAX_PHASE, MAX_STEPS, N_DUR, N_PITCH, PITCH_HI, PITCH_LO

PARITY_NOTES = 300
ROLE = "melody_step"


def load_run(run_dir: Path) -> tuple[PitchDurationLSTM, dict, dict]:
    return load_model(run_dir, PitchDurationLSTM, MelodyConfig)


def export_graph(model: PitchDurationLSTM, folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    s = model.cfg.state_size
    args = (torch.zeros(2, dtype=torch.long), torch.zeros(2, dtype=torch.long), torch.zeros(2, dtype=torch.long))
    names = ["pitch", "dur", "phase", "state"]
    outs = ["pitch_logits", "dur_logits", "state_out"]
    to_onnx(MelodyStep(model), (*args, torch.zeros(2, s)), folder / f"{ROLE}.onnx", names, outs)
    return {
        ROLE: {
            "file": f"{ROLE}.onnx",
            "inputs": {"pitch": ["batch"], "dur": ["batch"], "phase": ["batch"], "state": ["batch", s]},
            "outputs": {
                "pitch_logits": ["batch", N_PITCH],
                "dur_logits": ["batch", N_DUR],
                "state_out": ["batch", s],
            },
            "state": {"state": "state_out"},
            "state_size": s,
        }
    }


def check_parity(model: PitchDurationLSTM, folder: Path, notes: int = PARITY_NOTES, seed: int = 0) -> float:
    """Largest |logit difference| between ORT and torch over ``notes`` random notes fed one at a
    time (batch 1 and 3), each side carrying its own state."""
    sess = open_session(folder / f"{ROLE}.onnx")
    step = MelodyStep(model).eval()
    rng = np.random.default_rng(seed)
    worst = 0.0
    for b in (1, 3):
        state = np.zeros((b, model.cfg.state_size), np.float32)
        t_state = torch.zeros(b, model.cfg.state_size)
        for _ in range(notes):
            feed = {
                "pitch": rng.integers(0, N_PITCH, b),
                "dur": rng.integers(0, N_DUR, b),
                "phase": rng.integers(0, MAX_PHASE, b),
            }
            p, d, state = sess.run(None, {**feed, "state": state})
            with torch.no_grad():
                tp, td, t_state = step(*(torch.from_numpy(v) for v in feed.values()), t_state)
            worst = max(worst, gap((p, tp), (d, td)))
    return worst


def export_run(run_dir: Path, dest_root: Path, name: str | None = None, sampling: MelodySampling | None = None) -> Path:
    """Export ``run_dir``'s best weights to ``dest_root/name`` with a card."""
    s = sampling or MelodySampling()
    ex = export_checked(run_dir, dest_root, name, load_run(run_dir), export_graph, check_parity)
    best = ex.best
    return ex.publish(
        "melody",
        "Answers your phrase with a melody that continues it (pitch + duration LSTM)",
        {"steps_per_beat": 4, "events": True, "max_steps": MAX_STEPS, "max_phase": MAX_PHASE},
        pitch_range(PITCH_LO, PITCH_HI),
        {
            "temperature": s.temperature,
            "duration_temperature": 1.0,
            "key_lock": s.key_lock,
            "channel": 2,
            "program": 73,
        },
        {
            **held_out_scores(best),
            "held_out": best.get("test_scores", {}),
            "held_out_by_source": best.get("test_scores_by_source", {}),
            "validation_loss": round(best["val_loss"], 4),
            "onnx_parity_max_abs": ex.parity,
            "onnx_parity_notes": PARITY_NOTES,
        },
    )
