"""Harmonising a 2-bar phrase (32 steps) and one decoder step: ONNX Runtime on one thread, and
torch eager on one thread where torch is installed.

torch eager runs the same architecture (sizes from the model card) with fresh weights: the time of
an LSTM step does not depend on its weights' values, and the run-time package ships no torch
checkpoint to load.
"""

from __future__ import annotations

import platform

import numpy as np

from accompanist.bench.stats import summary, time_calls
from accompanist.inference.cards import ModelCard
from accompanist.inference.seq2seq_runner import Seq2SeqRunner
from accompanist.music.tokens import HOLD, REST, START

PHRASE = 32


def demo_phrase(rng: np.random.Generator) -> np.ndarray:
    """A plausible 2-bar melody: quarter and eighth notes around C major, with holds and a rest."""
    out = []
    while len(out) < PHRASE:
        pitch = int(rng.choice([60, 62, 64, 65, 67, 69, 71, 72]))
        length = int(rng.choice([2, 4, 4, 8]))
        out += [pitch] + [HOLD] * (length - 1)
    out = out[:PHRASE]
    out[-1] = REST
    return np.array(out, np.int64)


def bench_seq2seq(card: ModelCard, runs: int = 1000, seed: int = 0, torch_too: bool = True) -> dict:
    """Each measurement is timed ``runs`` times (torch eager's whole phrase a quarter as often:
    it is slow, and its figure is a comparison, not the product's)."""
    rng = np.random.default_rng(seed)
    runner = Seq2SeqRunner(card, threads=1)
    phrase = demo_phrase(rng)
    d = card.data["model"]["hidden"] * (2 if card.data["model"]["bidirectional"] else 1)
    feeds = {"prev": np.array([START]), "h": np.zeros((1, 1, d), np.float32), "c": np.zeros((1, 1, d), np.float32)}
    if runner.aligned:
        feeds["enc_t"] = np.zeros((1, d), np.float32)
    result = {
        "model": card.name,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "threads": 1,
        "ort_harmonize_32": summary(time_calls(lambda: runner.harmonize(phrase, 1.0, rng), runs), "ms"),
        "ort_encoder_32": summary(time_calls(lambda: runner.encoder.run(None, {"melody": phrase[None]}), runs), "us"),
        "ort_decoder_step": summary(time_calls(lambda: runner.decoder.run(None, feeds), runs), "us"),
    }
    if torch_too:
        result.update(_torch_eager(card, phrase, runs))
    return result


def _torch_eager(card: ModelCard, phrase: np.ndarray, runs: int) -> dict:
    try:
        import torch
    except ImportError:
        return {"torch": "not installed"}
    from accompanist.models.seq2seq import DecoderStep, Seq2Seq, Seq2SeqConfig

    fields = {k: card.data["model"][k] for k in ("hidden", "bidirectional", "aligned", "embed", "dropout", "vocab")}
    cfg = Seq2SeqConfig(**fields)
    torch.set_num_threads(1)
    model = Seq2Seq(cfg).eval()
    step = DecoderStep(model.decoder).eval()
    mel = torch.from_numpy(phrase[None])

    def harmonize() -> None:
        with torch.no_grad():
            enc, h, c = model.encoder(mel)
            prev = torch.tensor([START])
            for i in range(mel.shape[1]):
                logits, h, c = step(prev, enc[:, i], h, c)
                prev = torch.multinomial(torch.softmax(logits, -1), 1)[:, 0]

    prev = torch.tensor([START])
    enc_t = torch.zeros(1, cfg.enc_out)
    h0 = torch.zeros(1, 1, cfg.dec_hidden)

    def one_step() -> None:
        with torch.no_grad():
            step(prev, enc_t, h0, h0)

    out = {
        "torch_version": torch.__version__,
        "torch_harmonize_32": summary(time_calls(harmonize, max(runs // 4, 20)), "ms"),
        "torch_decoder_step": summary(time_calls(one_step, runs), "us"),
    }
    return out
