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

from pathlib import Path

import numpy as np
import torch

from accompanist.export.card import export_checked, gap, load_model, model_section, training_section
from accompanist.export.graph import to_onnx
from accompanist.inference.sampling_config import HarmonySampling
from accompanist.inference.session import open_session
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
    return load_model(run_dir, Seq2Seq, Seq2SeqConfig)


def export_graphs(model: Seq2Seq, folder: Path) -> dict:
    cfg = model.cfg
    folder.mkdir(parents=True, exist_ok=True)
    mel = torch.randint(0, VOCAB, (2, 32))
    per_step = {0: "batch", 1: "steps"}
    enc_axes = {"melody": per_step, "enc_out": per_step, "h0": {1: "batch"}, "c0": {1: "batch"}}
    to_onnx(model.encoder, (mel,), folder / "encoder.onnx", ["melody"], ["enc_out", "h0", "c0"], enc_axes)
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
    to_onnx(step, args, folder / "decoder_step.onnx", names, ["logits", "h_out", "c_out"], state_axes)
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
    enc, dec = open_session(folder / "encoder.onnx"), open_session(folder / "decoder_step.onnx")
    rng = np.random.default_rng(seed)
    worst = 0.0
    for b in PARITY_BATCHES:
        for t in PARITY_LENGTHS:
            mel = rng.integers(0, VOCAB, (b, t)).astype(np.int64)
            with torch.no_grad():
                e_out, h, c = model.encoder(torch.from_numpy(mel))
            o_out, oh, oc = enc.run(None, {"melody": mel})
            worst = max(worst, gap((o_out, e_out), (oh, h)))
            prev = np.full(b, START, np.int64)
            for i in range(min(t, steps)):
                feeds = {"prev": prev, "h": oh, "c": oc}
                if model.cfg.aligned:
                    feeds["enc_t"] = o_out[:, i]
                logits, oh, oc = dec.run(None, feeds)
                with torch.no_grad():
                    tl, h, c = DecoderStep(model.decoder)(torch.from_numpy(prev), e_out[:, i], h, c)
                worst = max(worst, gap((logits, tl)))
                # both sides continue from the same token so the comparison stays step-for-step
                prev = rng.choice([REST, HOLD, 60, 64, 67], size=b).astype(np.int64)
    return worst


def export_run(
    run_dir: Path, dest_root: Path, name: str | None = None, sampling: HarmonySampling | None = None
) -> Path:
    """Export ``run_dir``'s best weights to ``dest_root/name`` with a card; ``sampling`` becomes the
    model's default sampling (the default is the seed's plain sampler)."""
    s = sampling or HarmonySampling()
    ex = export_checked(run_dir, dest_root, name, load_run(run_dir), export_graphs, check_parity)
    cfg, best, meta = ex.model.cfg, ex.best, ex.meta
    pair = meta["data"]["pair"]
    return ex.publish(
        "seq2seq",
        DESCRIPTIONS[pair] + f" ({cfg.variant} seq2seq LSTM)",
        {"steps_per_beat": STEPS_PER_BEAT, "window": meta["data"]["window"], "prime": 8},
        {"vocabulary": {"size": VOCAB, "note_on": [0, 127], "rest": REST, "hold": HOLD, "start": START}},
        {
            "temperature": s.temperature,
            "top_p": s.top_p,
            "two_part": s.two_part,
            "key_lock": s.key_lock,
            "channel": 1,
            "program": PROGRAMS[pair],
            "voice": pair,
        },
        {
            "held_out_loss": round(best["test_loss"], 4),
            "held_out_accuracy": round(best["test_accuracy"], 4),
            "validation_loss": round(best["val_loss"], 4),
            "onnx_parity_max_abs": ex.parity,
        },
        training=training_section(
            best, ex.last, {"test_chorales": meta["test_chorales"], "val_chorales": meta.get("val_chorales", [])}
        ),
        model=model_section(ex.model, variant=cfg.variant),
    )
