"""Export a trained VRASH run as three ONNX graphs, check parity, write the card.

Graphs:
    vrash_encoder.onnx  pc, octave, dur, phase (1, T) int64 of a phrase -> mu, logvar (1, L)
    vrash_start.onnx    z (B, L) -> state (B, 2H): the decoder's first state
    vrash_step.onnx     the previous note pc, octave, dur, phase (B,), the next note's phase (B,),
                        z (B, L), state (B, 2H) -> pitch_class_logits (B, 13), octave_logits
                        (B, OCTAVES), dur_logits (B, N_DUR), state_out (B, 2H)
The runner draws z = mu + scale x sigma x noise itself, so the variation amount is a setting, not a
graph. A language-model run (latent 0) exports only the step graph, without z.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from accompanist.export.card import export_checked, gap, held_out_scores, load_model, pitch_range, training_section
from accompanist.export.graph import to_onnx
from accompanist.inference.sampling_config import VrashSampling
from accompanist.inference.session import open_session
from accompanist.models.vrash import Vrash, VrashConfig, VrashEncoder, VrashStart, VrashStep
from accompanist.music.events import MAX_PHASE, N_DUR, OCTAVES, PITCH_HI, PITCH_LO, REST_CLASS

PARITY_STEPS = 200
LONG = torch.long


def load_run(run_dir: Path) -> tuple[Vrash, dict, dict]:
    return load_model(run_dir, Vrash, VrashConfig)


def export_graphs(model: Vrash, folder: Path) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    cfg = model.cfg
    width, s = max(cfg.latent, 1), 2 * cfg.hidden
    io = {}
    note = ["pc", "octave", "dur", "phase"]
    if cfg.latent:
        seq = tuple(torch.zeros(1, 5, dtype=LONG) for _ in note)
        to_onnx(
            VrashEncoder(model),
            seq,
            folder / "vrash_encoder.onnx",
            note,
            ["mu", "logvar"],
            {n: {1: "notes"} for n in note},
        )
        io["encoder"] = {
            "file": "vrash_encoder.onnx",
            "inputs": {n: [1, "notes"] for n in note},
            "outputs": {"mu": [1, cfg.latent], "logvar": [1, cfg.latent]},
        }
        to_onnx(
            VrashStart(model),
            (torch.zeros(2, cfg.latent),),
            folder / "vrash_start.onnx",
            ["z"],
            ["state"],
        )
        io["start"] = {
            "file": "vrash_start.onnx",
            "inputs": {"z": ["batch", cfg.latent]},
            "outputs": {"state": ["batch", s]},
        }
    names = [*note, "next_phase", "z", "state"]
    outs = ["pitch_class_logits", "octave_logits", "dur_logits", "state_out"]
    args = (*(torch.zeros(2, dtype=LONG) for _ in range(5)), torch.zeros(2, width), torch.zeros(2, s))
    to_onnx(VrashStep(model), args, folder / "vrash_step.onnx", names, outs)
    io["decoder_step"] = {
        "file": "vrash_step.onnx",
        "inputs": {
            **{n: ["batch"] for n in [*note, "next_phase"]},
            **({"z": ["batch", width]} if cfg.latent else {}),
            "state": ["batch", s],
        },
        "outputs": {
            "pitch_class_logits": ["batch", REST_CLASS + 1],
            "octave_logits": ["batch", OCTAVES],
            "dur_logits": ["batch", N_DUR],
            "state_out": ["batch", s],
        },
        "state": {"state": "state_out"},
        "state_size": s,
        "latent": cfg.latent,
    }
    return io


def check_parity(model: Vrash, folder: Path, steps: int = PARITY_STEPS, seed: int = 0) -> float:
    """Largest |difference| between ORT and torch: mu and logvar of random phrases, the first
    state, and the logits of ``steps`` decoder steps each side carrying its own state."""
    cfg = model.cfg
    rng = np.random.default_rng(seed)
    worst = 0.0
    step = open_session(folder / "vrash_step.onnx")
    width = max(cfg.latent, 1)
    with torch.no_grad():
        if cfg.latent:
            enc, start = open_session(folder / "vrash_encoder.onnx"), open_session(folder / "vrash_start.onnx")
            for t in (1, 7, 30):
                feed = {
                    "pc": rng.integers(0, REST_CLASS + 1, (1, t)),
                    "octave": rng.integers(0, OCTAVES, (1, t)),
                    "dur": rng.integers(0, N_DUR, (1, t)),
                    "phase": rng.integers(0, MAX_PHASE, (1, t)),
                }
                mu, lv = enc.run(None, feed)
                tmu, tlv = VrashEncoder(model)(*(torch.from_numpy(v) for v in feed.values()))
                worst = max(worst, gap((mu, tmu), (lv, tlv)))
            z = rng.standard_normal((3, cfg.latent)).astype(np.float32)
            (st,) = start.run(None, {"z": z})
            worst = max(worst, gap((st, VrashStart(model)(torch.from_numpy(z)))))
        else:
            z = np.zeros((3, width), np.float32)
            st = np.zeros((3, 2 * cfg.hidden), np.float32)
        t_state = torch.from_numpy(st.copy())
        for _ in range(steps):
            feed = {
                "pc": rng.integers(0, REST_CLASS + 2, 3),
                "octave": rng.integers(0, OCTAVES, 3),
                "dur": rng.integers(0, N_DUR, 3),
                "phase": rng.integers(0, MAX_PHASE, 3),
                "next_phase": rng.integers(0, MAX_PHASE, 3),
            }
            wanted = {i.name for i in step.get_inputs()}  # a language model's graph has no z
            *logits, st = step.run(None, {k: v for k, v in {**feed, "z": z, "state": st}.items() if k in wanted})
            *t_logits, t_state = VrashStep(model)(
                *(torch.from_numpy(v) for v in feed.values()), torch.from_numpy(z), t_state
            )
            worst = max(worst, gap(*zip(logits, t_logits, strict=True)))
    return worst


def export_run(run_dir: Path, dest_root: Path, name: str | None = None, sampling: VrashSampling | None = None) -> Path:
    s = sampling or VrashSampling()
    ex = export_checked(run_dir, dest_root, name, load_run(run_dir), export_graphs, check_parity)
    best, meta = ex.best, ex.meta
    return ex.publish(
        "vrash",
        (
            "Answers your phrase with a melody of its own (LSTM language model, VRASH's baseline)"
            if ex.model.cfg.latent == 0
            else "Answers your phrase with a variation of it, near or free as you set (VRASH)"
        ),
        {"steps_per_beat": 4, "events": True, "phrase_bars": meta["vrash"]["bars"], "max_phase": MAX_PHASE},
        pitch_range(PITCH_LO, PITCH_HI),
        {
            "temperature": s.temperature,
            "duration_temperature": 1.0,
            "variation": s.variation,
            "octave_temperature": s.octave_temperature,
            "key_lock": s.key_lock,
            "channel": 2,
            "program": 71,
        },
        {
            **held_out_scores(best),
            "held_out": best.get("test_scores", {}),
            "validation_loss": round(best["val_loss"], 4),
            "onnx_parity_max_abs": ex.parity,
        },
        training=training_section(best, ex.last) | {"vrash": meta["vrash"]},
    )
