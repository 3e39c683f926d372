"""Export a trained duet run as one ONNX graph, check parity over 500 recurrent steps, write the card.

Graphs:
    stateful: duet_step.onnx    mel (B, 168), acc (B, 168), state (B, S) -> acc_logits (B, 168),
                                mel_logits (B, 168), state_out (B, S)
    window:   duet_window.onnx  mel (B, W, 168), acc (B, W, 168) -> acc_logits (B, 168), mel_logits (B, 168)
    listen:   duet_listen.onnx  mel (B, W, 168) steps k-W+1..k, acc (B, W, 168) steps k-W..k-1,
                                pos (B, W, 8), ctx (B, 24) -> acc_logits (B, 168) of step k,
                                mel_logits (B, 168) of step k + 1
Each 168 is the sounding plane then the onset plane of 84 pitches (MIDI 24..107). The state is one
flat vector, (h, c) of the four LSTMs, so a runner only keeps and passes one array. Sampling
stays outside the graph, as for the harmoniser.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import torch

from accompanist.export.card import created_by, load_checkpoints, publish, require_parity, training_section
from accompanist.models.duet import STEP, DuetConfig, DuetHLSTM, DuetListen, DuetStep, DuetWindow
from accompanist.music.meter import CONTEXT, CONTEXT_STEPS, POSITION
from accompanist.music.roll import N_PITCHES, PITCH_HI, PITCH_LO

PARITY_STEPS = 500
GRAPH = {"stateful": "duet_step", "window": "duet_window", "listen": "duet_listen"}


def load_run(run_dir: Path) -> tuple[DuetHLSTM, dict, dict]:
    best, last = load_checkpoints(run_dir)
    model = DuetHLSTM(DuetConfig(**best["meta"]["model"]))
    model.load_state_dict(best["model"])
    model.eval()
    return model, best, last


def export_graph(model: DuetHLSTM, folder: Path) -> dict:
    cfg = model.cfg
    folder.mkdir(parents=True, exist_ok=True)
    role = GRAPH[cfg.variant]
    out_names = ["acc_logits", "mel_logits"]
    axes = {n: {0: "batch"} for n in ("mel", "acc", *out_names)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if cfg.variant == "stateful":
            args = (torch.zeros(2, STEP), torch.zeros(2, STEP), torch.zeros(2, cfg.state_size))
            names, out_names = ["mel", "acc", "state"], [*out_names, "state_out"]
            axes |= {"state": {0: "batch"}, "state_out": {0: "batch"}}
            module = DuetStep(model).eval()
        elif cfg.variant == "listen":
            w = cfg.window
            args = (
                torch.zeros(2, w, STEP),
                torch.zeros(2, w, STEP),
                torch.zeros(2, w, POSITION),
                torch.zeros(2, CONTEXT),
            )
            names = ["mel", "acc", "pos", "ctx"]
            axes |= {"pos": {0: "batch"}, "ctx": {0: "batch"}}
            module = DuetListen(model).eval()
        else:
            args = (torch.zeros(2, cfg.window, STEP), torch.zeros(2, cfg.window, STEP))
            names = ["mel", "acc"]
            module = DuetWindow(model).eval()
        torch.onnx.export(
            module,
            args,
            folder / f"{role}.onnx",
            input_names=names,
            output_names=out_names,
            dynamo=False,
            opset_version=17,
            dynamic_axes=axes,
        )
    if cfg.variant == "stateful":
        spec = {
            "inputs": {"mel": ["batch", STEP], "acc": ["batch", STEP], "state": ["batch", cfg.state_size]},
            "outputs": {
                "acc_logits": ["batch", STEP],
                "mel_logits": ["batch", STEP],
                "state_out": ["batch", cfg.state_size],
            },
            "state": {"state": "state_out"},
            "state_size": cfg.state_size,
        }
    elif cfg.variant == "listen":
        w = cfg.window
        spec = {
            "inputs": {
                "mel": ["batch", w, STEP],
                "acc": ["batch", w, STEP],
                "pos": ["batch", w, POSITION],
                "ctx": ["batch", CONTEXT],
            },
            "outputs": {"acc_logits": ["batch", STEP], "mel_logits": ["batch", STEP]},
            "window": w,
            "listens": True,
            "context_steps": CONTEXT_STEPS,
        }
    else:
        w = cfg.window
        spec = {
            "inputs": {"mel": ["batch", w, STEP], "acc": ["batch", w, STEP]},
            "outputs": {"acc_logits": ["batch", STEP], "mel_logits": ["batch", STEP]},
            "window": w,
        }
    return {role: {"file": f"{role}.onnx", **spec}}


def check_parity(model: DuetHLSTM, folder: Path, steps: int = PARITY_STEPS, seed: int = 0) -> float:
    """Largest |logit difference| between ORT and torch over ``steps`` recurrent steps (batch 1
    and 3), both sides fed the same random sparse rolls and their own carried state, so any
    drift of the state shows in the logits. (The state itself is not compared in absolute
    terms: random input drives some cells far past anything music does, to |c| in the hundreds,
    where float32 rounding alone differs by 1e-4.)"""
    import onnxruntime as ort

    cfg = model.cfg
    role = GRAPH[cfg.variant]
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(folder / f"{role}.onnx"), opts, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    worst = 0.0
    for b in (1, 3):
        x = (rng.random((steps, 2, b, STEP)) < 0.03).astype(np.float32)
        if cfg.variant == "stateful":
            state = np.zeros((b, cfg.state_size), np.float32)
            t_state = torch.zeros(b, cfg.state_size)
            step = DuetStep(model).eval()
            for t in range(steps):
                acc_l, mel_l, state = sess.run(None, {"mel": x[t, 0], "acc": x[t, 1], "state": state})
                with torch.no_grad():
                    ta, tm, t_state = step(torch.from_numpy(x[t, 0]), torch.from_numpy(x[t, 1]), t_state)
                worst = max(worst, float(np.abs(acc_l - ta.numpy()).max()), float(np.abs(mel_l - tm.numpy()).max()))
        elif cfg.variant == "listen":
            w = cfg.window
            for t in range(0, steps - w, 7):
                mel = np.ascontiguousarray(x[t : t + w, 0].transpose(1, 0, 2))
                acc = np.ascontiguousarray(x[t : t + w, 1].transpose(1, 0, 2))
                pos = rng.random((b, w, POSITION)).astype(np.float32)
                ctx = rng.random((b, CONTEXT)).astype(np.float32)
                acc_l, mel_l = sess.run(None, {"mel": mel, "acc": acc, "pos": pos, "ctx": ctx})
                with torch.no_grad():
                    ta, tm = DuetListen(model)(*(torch.from_numpy(v) for v in (mel, acc, pos, ctx)))
                worst = max(worst, float(np.abs(acc_l - ta.numpy()).max()), float(np.abs(mel_l - tm.numpy()).max()))
        else:
            w = cfg.window
            for t in range(0, steps - w, 7):
                mel = np.ascontiguousarray(x[t : t + w, 0].transpose(1, 0, 2))
                acc = np.ascontiguousarray(x[t : t + w, 1].transpose(1, 0, 2))
                acc_l, mel_l = sess.run(None, {"mel": mel, "acc": acc})
                with torch.no_grad():
                    ta, tm = DuetWindow(model)(torch.from_numpy(mel), torch.from_numpy(acc))
                worst = max(worst, float(np.abs(acc_l - ta.numpy()).max()), float(np.abs(mel_l - tm.numpy()).max()))
    return worst


DESCRIPTION = "Chorale harmony that answers your melody step by step, in three voices (duet LSTM)"


def export_run(
    run_dir: Path,
    dest_root: Path,
    name: str | None = None,
    max_notes: int = 4,
    program: int = 48,
    key_lock: float = 0.0,
    two_part: float = 0.0,
    hold: float = 0.0,
    listen_ms: float = 0.0,
    cover: int = 0,
    spacing: int = 0,
    pulse: float = 0.0,
) -> Path:
    """Export ``run_dir``'s best weights to ``dest_root/name`` with a card; ``max_notes``,
    ``key_lock`` and ``two_part`` become the model's default sampling (see duet_priors)."""
    model, best, last = load_run(run_dir)
    meta = best["meta"]
    name = name or meta["name"]
    folder = dest_root / name
    t0 = time.perf_counter()
    io = export_graph(model, folder)
    parity = check_parity(model, folder)
    require_parity(parity)
    cfg = model.cfg
    card = {
        "name": name,
        "family": "duet",
        "description": (
            f"Chorale harmony that hears each note you play and answers it {listen_ms:g} ms later, in up to "
            f"{max_notes} voices (duet LSTM, listen variant)"
            if cfg.variant == "listen"
            else DESCRIPTION + f", {cfg.variant} variant"
        ),
        "graphs": {role: spec["file"] for role, spec in io.items()},
        "io": io,
        "grid": {"steps_per_beat": meta["data"]["steps_per_beat"], "planes": ["sounding", "onset"]},
        "pitch_range": {"low": PITCH_LO, "high": PITCH_HI, "size": N_PITCHES},
        "model": {**cfg.to_dict(), "parameters": sum(p.numel() for p in model.parameters())},
        "defaults": {
            "temperature": 1.0,
            "max_notes": max_notes,
            "key_lock": key_lock,
            "two_part": two_part,
            "cover": cover,
            "spacing": spacing,
            **({"hold": hold, "pulse": pulse, "listen_ms": listen_ms} if cfg.variant == "listen" else {}),
            "channel": 1,
            "program": program,
        },
        "training": training_section(
            best, last, {"test_pieces": meta["test_pieces"], "val_pieces": meta.get("val_pieces", [])}
        ),
        "metrics": {
            # a run still training has not been scored on its test pieces yet
            "held_out_loss": round(best["test_loss"], 4) if "test_loss" in best else None,
            "held_out_accuracy": round(best["test_accuracy"], 4) if "test_accuracy" in best else None,
            "held_out": best.get("test_scores", {}),
            **({"held_out_by_source": best["test_scores_by_source"]} if "test_scores_by_source" in best else {}),
            "validation_loss": round(best["val_loss"], 4),
            "onnx_parity_max_abs": parity,
            "onnx_parity_steps": PARITY_STEPS,
        },
        "created_by": created_by(run_dir),
    }
    publish(folder, card, t0, parity)
    return folder
