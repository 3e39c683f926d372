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

from pathlib import Path

import numpy as np
import torch

from accompanist.export.card import export_checked, gap, held_out_scores, load_model, pitch_range
from accompanist.export.graph import to_onnx
from accompanist.inference.sampling_config import DuetSampling
from accompanist.inference.session import open_session
from accompanist.models.duet import STEP, DuetConfig, DuetHLSTM, DuetListen, DuetStep, DuetWindow
from accompanist.music.meter import CONTEXT, CONTEXT_STEPS, POSITION
from accompanist.music.roll import PITCH_HI, PITCH_LO

PARITY_STEPS = 500
GRAPH = {"stateful": "duet_step", "window": "duet_window", "listen": "duet_listen"}


def load_run(run_dir: Path) -> tuple[DuetHLSTM, dict, dict]:
    return load_model(run_dir, DuetHLSTM, DuetConfig)


def export_graph(model: DuetHLSTM, folder: Path) -> dict:
    cfg = model.cfg
    folder.mkdir(parents=True, exist_ok=True)
    role, w = GRAPH[cfg.variant], cfg.window
    outputs = {"acc_logits": ["batch", STEP], "mel_logits": ["batch", STEP]}
    if cfg.variant == "stateful":
        args = (torch.zeros(2, STEP), torch.zeros(2, STEP), torch.zeros(2, cfg.state_size))
        module = DuetStep(model)
        spec = {
            "inputs": {"mel": ["batch", STEP], "acc": ["batch", STEP], "state": ["batch", cfg.state_size]},
            "outputs": {**outputs, "state_out": ["batch", cfg.state_size]},
            "state": {"state": "state_out"},
            "state_size": cfg.state_size,
        }
    elif cfg.variant == "listen":
        args = (torch.zeros(2, w, STEP), torch.zeros(2, w, STEP), torch.zeros(2, w, POSITION), torch.zeros(2, CONTEXT))
        module = DuetListen(model)
        spec = {
            "inputs": {
                "mel": ["batch", w, STEP],
                "acc": ["batch", w, STEP],
                "pos": ["batch", w, POSITION],
                "ctx": ["batch", CONTEXT],
            },
            "outputs": outputs,
            "window": w,
            "listens": True,
            "context_steps": CONTEXT_STEPS,
        }
    else:
        args = (torch.zeros(2, w, STEP), torch.zeros(2, w, STEP))
        module = DuetWindow(model)
        spec = {"inputs": {"mel": ["batch", w, STEP], "acc": ["batch", w, STEP]}, "outputs": outputs, "window": w}
    to_onnx(module, args, folder / f"{role}.onnx", list(spec["inputs"]), list(spec["outputs"]))
    return {role: {"file": f"{role}.onnx", **spec}}


def check_parity(model: DuetHLSTM, folder: Path, steps: int = PARITY_STEPS, seed: int = 0) -> float:
    """Largest |logit difference| between ORT and torch over ``steps`` recurrent steps (batch 1
    and 3), both sides fed the same random sparse rolls and their own carried state, so any
    drift of the state shows in the logits. (The state itself is not compared in absolute
    terms: random input drives some cells far past anything music does, to |c| in the hundreds,
    where float32 rounding alone differs by 1e-4.)"""
    cfg = model.cfg
    sess = open_session(folder / f"{GRAPH[cfg.variant]}.onnx")
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
                worst = max(worst, gap((acc_l, ta), (mel_l, tm)))
            continue
        w = cfg.window
        for t in range(0, steps - w, 7):
            feed = {
                "mel": np.ascontiguousarray(x[t : t + w, 0].transpose(1, 0, 2)),
                "acc": np.ascontiguousarray(x[t : t + w, 1].transpose(1, 0, 2)),
            }
            if cfg.variant == "listen":
                feed["pos"] = rng.random((b, w, POSITION)).astype(np.float32)
                feed["ctx"] = rng.random((b, CONTEXT)).astype(np.float32)
            acc_l, mel_l = sess.run(None, feed)
            graph = DuetListen(model) if cfg.variant == "listen" else DuetWindow(model)
            with torch.no_grad():
                ta, tm = graph(*(torch.from_numpy(v) for v in feed.values()))
            worst = max(worst, gap((acc_l, ta), (mel_l, tm)))
    return worst


DESCRIPTION = "Chorale harmony that answers your melody step by step, in three voices (duet LSTM)"


def export_run(
    run_dir: Path,
    dest_root: Path,
    name: str | None = None,
    sampling: DuetSampling | None = None,
    listen_ms: float = 0.0,
    program: int = 48,
) -> Path:
    """Export ``run_dir``'s best weights to ``dest_root/name`` with a card; ``sampling`` (every
    prior, see duet_priors) and a hearing model's ``listen_ms`` become the model's defaults."""
    s = sampling or DuetSampling()
    ex = export_checked(run_dir, dest_root, name, load_run(run_dir), export_graph, check_parity)
    cfg, best = ex.model.cfg, ex.best
    return ex.publish(
        "duet",
        (
            f"Chorale harmony that hears each note you play and answers it {listen_ms:g} ms later, in up to "
            f"{s.max_notes} voices (duet LSTM, listen variant)"
            if cfg.variant == "listen"
            else DESCRIPTION + f", {cfg.variant} variant"
        ),
        {"steps_per_beat": ex.meta["data"]["steps_per_beat"], "planes": ["sounding", "onset"]},
        pitch_range(PITCH_LO, PITCH_HI),
        {
            "temperature": s.temperature,
            "max_notes": s.max_notes,
            "key_lock": s.key_lock,
            "two_part": s.two_part,
            "cover": s.cover,
            "spacing": s.spacing,
            **({"hold": s.hold, "pulse": s.pulse, "listen_ms": listen_ms} if cfg.variant == "listen" else {}),
            "channel": 1,
            "program": program,
        },
        {
            # a run still training has not been scored on its test pieces yet
            **held_out_scores(best),
            "held_out": best.get("test_scores", {}),
            **({"held_out_by_source": best["test_scores_by_source"]} if "test_scores_by_source" in best else {}),
            "validation_loss": round(best["val_loss"], 4),
            "onnx_parity_max_abs": ex.parity,
            "onnx_parity_steps": PARITY_STEPS,
        },
    )
