"""Export a trained seq2seq run as two ONNX graphs, check parity, and write the model card.

Graphs:
    encoder.onnx       melody (B, T) int64 -> enc_out (B, T, D), h0 (1, B, D), c0 (1, B, D)
    decoder_step.onnx  prev (B,) int64, [enc_t (B, D) if aligned], h (1, B, D), c (1, B, D)
                       -> logits (B, 130), h_out, c_out
The runtime loops the decoder step itself, so the live engine can decode step by step and stop,
and so sampling (temperature) stays outside the graph.

We use the TorchScript-based exporter (``dynamo=False``): in our trials the dynamo exporter fixed
a bidirectional LSTM to the example length. Parity is checked at several lengths and batches.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import torch

from accompanist.export.card import created_by, load_checkpoints, publish, require_parity, training_section
from accompanist.models.seq2seq import DecoderStep, Seq2Seq, Seq2SeqConfig
from accompanist.music.tokens import HOLD, REST, START, STEPS_PER_BEAT, VOCAB

DESCRIPTIONS = {
    "alto": "Bach-chorale alto under your melody (soprano -> alto), a line one voice below",
    "bass": "Bach-chorale bass under your tenor line (tenor -> bass), a bass line an octave or more below",
}
PROGRAMS = {"alto": 52, "bass": 32}  # choir aahs; acoustic bass
PARITY_LENGTHS = (1, 7, 32, 77)
PARITY_BATCHES = (1, 3)


class _FaithfulStep(torch.nn.Module):
    """The faithful decoder reads no encoder output, so its step graph has no enc_t input."""

    def __init__(self, step: DecoderStep):
        super().__init__()
        self.step = step

    def forward(self, prev, h, c):
        return self.step(prev, torch.zeros(prev.shape[0], 0), h, c)


def load_run(run_dir: Path) -> tuple[Seq2Seq, dict, dict]:
    best, last = load_checkpoints(run_dir)
    meta = best["meta"]
    model = Seq2Seq(Seq2SeqConfig(**meta["model"]))
    model.load_state_dict(best["model"])
    model.eval()
    return model, meta, {"best": best, "last": last}


def export_graphs(model: Seq2Seq, folder: Path) -> dict:
    cfg = model.cfg
    folder.mkdir(parents=True, exist_ok=True)
    mel = torch.randint(0, VOCAB, (2, 32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model.encoder,
            (mel,),
            folder / "encoder.onnx",
            input_names=["melody"],
            output_names=["enc_out", "h0", "c0"],
            dynamo=False,
            opset_version=17,
            dynamic_axes={
                "melody": {0: "batch", 1: "steps"},
                "enc_out": {0: "batch", 1: "steps"},
                "h0": {1: "batch"},
                "c0": {1: "batch"},
            },
        )
        step = DecoderStep(model.decoder).eval()
        d = cfg.dec_hidden
        prev = torch.full((2,), START, dtype=torch.long)
        h = torch.zeros(1, 2, d)
        state_axes = {
            "h": {1: "batch"},
            "c": {1: "batch"},
            "h_out": {1: "batch"},
            "c_out": {1: "batch"},
            "prev": {0: "batch"},
            "logits": {0: "batch"},
        }
        if cfg.aligned:
            args, names = (prev, torch.zeros(2, cfg.enc_out), h, h.clone()), ["prev", "enc_t", "h", "c"]
            state_axes["enc_t"] = {0: "batch"}
        else:
            step, args, names = _FaithfulStep(step).eval(), (prev, h, h.clone()), ["prev", "h", "c"]
        torch.onnx.export(
            step,
            args,
            folder / "decoder_step.onnx",
            input_names=names,
            output_names=["logits", "h_out", "c_out"],
            dynamo=False,
            opset_version=17,
            dynamic_axes=state_axes,
        )
    return {
        "encoder": {
            "file": "encoder.onnx",
            "inputs": {"melody": ["batch", "steps", "int64"]},
            "outputs": {"enc_out": ["batch", "steps", cfg.enc_out], "h0": [1, "batch", d], "c0": [1, "batch", d]},
        },
        "decoder_step": {
            "file": "decoder_step.onnx",
            "inputs": {
                n: s
                for n, s in {
                    "prev": ["batch", "int64"],
                    "enc_t": ["batch", cfg.enc_out] if cfg.aligned else None,
                    "h": [1, "batch", d],
                    "c": [1, "batch", d],
                }.items()
                if s
            },
            "outputs": {"logits": ["batch", VOCAB], "h_out": [1, "batch", d], "c_out": [1, "batch", d]},
            "state": {"h": "h_out", "c": "c_out"},
        },
    }


def check_parity(model: Seq2Seq, folder: Path, steps: int = 40, seed: int = 0) -> float:
    """Largest |logit difference| between ORT and torch over lengths, batches and decoded steps."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    enc = ort.InferenceSession(str(folder / "encoder.onnx"), opts, providers=["CPUExecutionProvider"])
    dec = ort.InferenceSession(str(folder / "decoder_step.onnx"), opts, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    worst = 0.0
    for b in PARITY_BATCHES:
        for t in PARITY_LENGTHS:
            mel = rng.integers(0, VOCAB, (b, t)).astype(np.int64)
            with torch.no_grad():
                e_out, h, c = model.encoder(torch.from_numpy(mel))
            o_out, oh, oc = enc.run(None, {"melody": mel})
            worst = max(worst, float(np.abs(o_out - e_out.numpy()).max()), float(np.abs(oh - h.numpy()).max()))
            prev = np.full(b, START, np.int64)
            for i in range(min(t, steps)):
                feeds = {"prev": prev, "h": oh, "c": oc}
                if model.cfg.aligned:
                    feeds["enc_t"] = o_out[:, i]
                logits, oh, oc = dec.run(None, feeds)
                with torch.no_grad():
                    tl, h, c = DecoderStep(model.decoder)(torch.from_numpy(prev), e_out[:, i], h, c)
                worst = max(worst, float(np.abs(logits - tl.numpy()).max()))
                # both sides continue from the same token so the comparison stays step-for-step
                prev = rng.choice([REST, HOLD, 60, 64, 67], size=b).astype(np.int64)
    return worst


def export_run(
    run_dir: Path,
    dest_root: Path,
    name: str | None = None,
    top_p: float = 1.0,
    two_part: float = 0.0,
    key_lock: float = 0.0,
) -> Path:
    """Export ``run_dir``'s best weights to ``dest_root/name`` with a card; ``top_p`` and
    ``two_part`` and ``key_lock`` become the model's default sampling (1, 0 and 0 are the seed's
    plain sampler)."""
    model, meta, ck = load_run(run_dir)
    name = name or meta["name"]
    folder = dest_root / name
    t0 = time.perf_counter()
    io = export_graphs(model, folder)
    parity = check_parity(model, folder)
    require_parity(parity)
    cfg = model.cfg
    pair = meta["data"]["pair"]
    best = ck["best"]
    card = {
        "name": name,
        "family": "seq2seq",
        "description": DESCRIPTIONS[pair] + f" ({cfg.variant} seq2seq LSTM)",
        "graphs": {role: spec["file"] for role, spec in io.items()},
        "io": io,
        "grid": {"steps_per_beat": STEPS_PER_BEAT, "window": meta["data"]["window"], "prime": 8},
        "vocabulary": {"size": VOCAB, "note_on": [0, 127], "rest": REST, "hold": HOLD, "start": START},
        "model": {**cfg.to_dict(), "variant": cfg.variant, "parameters": sum(p.numel() for p in model.parameters())},
        "defaults": {
            "temperature": 1.0,
            "top_p": top_p,
            "two_part": two_part,
            "key_lock": key_lock,
            "channel": 1,
            "program": PROGRAMS[pair],
            "voice": pair,
        },
        "training": training_section(
            best,
            ck["last"],
            {"test_chorales": meta["test_chorales"], "val_chorales": meta.get("val_chorales", [])},
        ),
        "metrics": {
            "held_out_loss": round(best["test_loss"], 4),
            "held_out_accuracy": round(best["test_accuracy"], 4),
            "validation_loss": round(best["val_loss"], 4),
            "onnx_parity_max_abs": parity,
        },
        "created_by": created_by(run_dir),
    }
    publish(folder, card, t0, parity)
    return folder
