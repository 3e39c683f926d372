"""Temperature sampling from logits, as in seed 001 (softmax of z / T), with an optional nucleus.

The seed samples the whole softmax. We add nucleus (top-p) truncation: only the most likely
tokens whose probabilities sum to ``top_p`` can be drawn, so the long tail of unlikely notes (a
wrong note every few bars at T = 1) is cut while the choice among plausible notes stays free.
``top_p = 1`` is the seed's sampler.
"""

from __future__ import annotations

import numpy as np


def probabilities(logits: np.ndarray, temperature: float, top_p: float = 1.0) -> np.ndarray:
    """Row-wise sampling distribution (B, V) after temperature and nucleus truncation."""
    z = logits.astype(np.float64) / temperature
    z -= z.max(-1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(-1, keepdims=True)
    if top_p < 1.0:
        order = np.argsort(-p, axis=-1)
        sorted_p = np.take_along_axis(p, order, -1)
        # keep a token if the mass before it is below top_p: the first token is always kept
        keep_sorted = (sorted_p.cumsum(-1) - sorted_p) < top_p
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, -1)
        p = np.where(keep, p, 0.0)
        p /= p.sum(-1, keepdims=True)
    return p


def sample(logits: np.ndarray, temperature: float, rng: np.random.Generator, top_p: float = 1.0) -> np.ndarray:
    """One index per row of ``logits`` (B, V). Temperature 0 takes the most likely token."""
    if temperature <= 0:
        return logits.argmax(-1)
    p = probabilities(logits, temperature, top_p)
    u = rng.random((p.shape[0], 1))
    idx = (p.cumsum(-1) < u).sum(-1)
    return np.minimum(idx, p.shape[-1] - 1)
