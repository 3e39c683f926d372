"""One step of the duet model: the ONNX graph alone, the graph plus sampling (what duet mode does
each grid step), and torch eager on the same architecture, all on one thread.

torch eager uses fresh weights of the card's sizes: an LSTM step's time does not depend on the
weights' values, and the run-time package ships no torch checkpoint.
"""

from __future__ import annotations

import platform

import numpy as np

from accompanist.bench.stats import summary, time_calls
from accompanist.inference.cards import ModelCard
from accompanist.inference.duet_runner import DuetRunner
from accompanist.inference.sampling import sample_roll_step
from accompanist.music import roll


def bench_duet(card: ModelCard, runs: int = 1000, seed: int = 0, torch_too: bool = True) -> dict:
    """Each measurement is timed ``runs`` times. A hearing model's step is what the engine does
    each step: answer the step heard (``hear``) and file it when it closes (``commit``)."""
    rng = np.random.default_rng(seed)
    runner = DuetRunner(card, threads=1)
    steps = (rng.random((64, 2, roll.N_PITCHES)) < 0.03).astype(np.uint8)
    i = 0

    def logits_now() -> np.ndarray:
        mel, acc = steps[i % 64], steps[(i + 7) % 64]
        if not runner.listens:
            return runner.step(mel, acc)
        out = runner.hear(mel, i % 16)
        runner.commit(mel, acc, i % 16)
        return out

    def graph_step() -> None:
        nonlocal i
        logits_now()
        i += 1

    spacing = card.default("spacing")  # as the model's card samples live

    def play_step() -> None:
        nonlocal i
        sample_roll_step(logits_now(), steps[(i + 7) % 64, 0], 1.0, rng, 4, spacing=spacing)
        i += 1

    result = {
        "model": card.name,
        "family": "duet",
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "threads": 1,
        "variant": card.data.get("model", {}).get("variant"),
        "ort_step": summary(time_calls(graph_step, runs), "us"),
        "ort_step_and_sample": summary(time_calls(play_step, runs), "us"),
    }
    if torch_too:
        result.update(_torch_eager(card, steps, runs))
        if "torch_step" in result:
            result["torch_over_ort_step"] = round(result["torch_step"]["median"] / result["ort_step"]["median"], 2)
    return result


def _torch_eager(card: ModelCard, steps: np.ndarray, runs: int) -> dict:
    try:
        import torch
    except ImportError:
        return {"torch": "not installed"}
    from accompanist.models.duet import DuetConfig, DuetHLSTM, DuetListen, DuetStep, DuetWindow

    fields = {k: card.data["model"][k] for k in ("variant", "window", "mel1", "mel2", "acc1", "acc2", "dropout")}
    cfg = DuetConfig(**fields)
    torch.set_num_threads(1)
    model = DuetHLSTM(cfg).eval()
    x = torch.from_numpy(roll.features(steps))
    if cfg.variant == "stateful":
        step = DuetStep(model).eval()
        state = torch.zeros(1, cfg.state_size)

        def one() -> None:
            nonlocal state
            with torch.no_grad():
                _, _, state = step(x[:1], x[1:2], state)
    elif cfg.variant == "listen":
        hear = DuetListen(model).eval()
        w = x[None, : cfg.window]
        pos, ctx = torch.zeros(1, cfg.window, 8), torch.zeros(1, 24)

        def one() -> None:
            with torch.no_grad():
                hear(w, w, pos, ctx)
    else:
        win = DuetWindow(model).eval()
        w = x[None, : cfg.window]

        def one() -> None:
            with torch.no_grad():
                win(w, w)

    return {"torch_version": torch.__version__, "torch_step": summary(time_calls(one, runs), "us")}
