"""Temperature sampling from logits, as in the harmoniser's paper (Faitas et al., "Generating
Convincing Harmony Parts with Bidirectional Long Short-Term Memory Networks", NIME 2019: softmax
of z / T), with an optional nucleus.

The paper samples the whole softmax. We add nucleus (top-p) truncation: only the most likely
tokens whose probabilities sum to ``top_p`` can be drawn, so the long tail of unlikely notes (a
wrong note every few bars at T = 1) is cut while the choice among plausible notes stays free.
``top_p = 1`` is the paper's sampler.
"""

from __future__ import annotations

import math

import numpy as np

from accompanist.errors import AccompanistError
from accompanist.music.keys import in_key


def check_sampling(temperature: float | None = None, top_p: float | None = None, **penalties: float | None) -> None:
    """One clear error for settings that would sample nonsense (NaN, no token left, rewards for
    dissonance); None means "the model's default" and passes."""
    if temperature is not None and not (math.isfinite(temperature) and temperature >= 0):
        raise AccompanistError(f"temperature {temperature} must be a number >= 0 (0 takes the likeliest note)")
    if top_p is not None and not (math.isfinite(top_p) and 0 < top_p <= 1):
        raise AccompanistError(f"top-p {top_p} must lie in (0, 1]; 1 samples from every note")
    for name, value in penalties.items():
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise AccompanistError(f"{name.replace('_', '-')} {value} must be a number >= 0 (0 turns it off)")


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
    c = p.cumsum(-1)
    # scale u by the row's total so rounding can never draw past the last token with mass
    u = rng.random(p.shape[0]) * c[:, -1]
    return np.array([np.searchsorted(row, x, side="right") for row, x in zip(c, u, strict=True)])


def draw(logits: np.ndarray, temperature: float, rng: np.random.Generator, bias: np.ndarray | None = None) -> int:
    """One index from one row of logits, ``bias`` added first: how every head of the melody
    families (a note, a length, an octave, an event) is drawn."""
    return int(sample((logits if bias is None else logits + bias)[None], temperature, rng)[0])


def key_bias(pitches: np.ndarray, key, lock: float) -> np.ndarray | None:
    """The key lock: ``-lock`` in logits on each index whose pitch (``pitches``, one for each
    index, read as ``in_key`` reads them) is outside ``key``; None with no key or no lock."""
    if key is None or lock <= 0:
        return None
    return np.where(in_key(pitches, key), 0.0, -lock)


def sample_roll_step(
    logits: np.ndarray,
    prev_frame: np.ndarray,
    temperature: float,
    rng: np.random.Generator,
    max_notes: int = 4,
    bias: np.ndarray | None = None,
    min_notes: int = 0,
    spacing: int = 0,
) -> np.ndarray:
    """One polyphonic step (2, 84) uint8 from the duet model's 168 logits (sounding, onset).
    ``bias`` is added to the logits first: (84,) to the sounding plane, (168,) to both (see
    duet_priors).

    Each pitch sounds with probability sigmoid(z / T), the same temperature on the logits as the
    harmoniser's softmax, so a panel's temperature means one thing for both families; T = 0
    takes every pitch above even odds. If more than ``max_notes`` pitches come up, the likeliest
    stay; if fewer than ``min_notes`` come up, the likeliest others join them. With ``spacing``
    > 0, no two pitches closer than that many semitones sound together: the likelier stays
    (``spacing`` 3 allows thirds and wider, never a second). A pitch that
    sounded the step before and sounds again is re-struck only if its onset is drawn too; a
    pitch that was silent always starts with an onset.
    """
    n = len(prev_frame)
    z_frame, z_onset = logits[:n].astype(np.float64), logits[n:].astype(np.float64)
    if bias is not None:
        z_frame = z_frame + bias[:n]
        if len(bias) > n:
            z_onset = z_onset + bias[n:]
    if temperature <= 0:
        frame, onset = z_frame > 0, z_onset > 0
    else:
        p_frame = 1.0 / (1.0 + np.exp(-z_frame / temperature))
        p_onset = 1.0 / (1.0 + np.exp(-z_onset / temperature))
        frame, onset = rng.random(n) < p_frame, rng.random(n) < p_onset
    frame = _spaced(frame, z_frame, spacing, max_notes if max_notes > 0 else n)
    if frame.sum() < min_notes:  # too few came up: the likeliest of the rest join them
        frame = _spaced(frame, z_frame, spacing, min_notes, fill=True)
    was = np.asarray(prev_frame).astype(bool)
    out = np.zeros((2, n), np.uint8)
    out[0] = frame
    out[1] = frame & (~was | onset)
    return out


def _spaced(frame: np.ndarray, z: np.ndarray, spacing: int, most: int, fill: bool = False) -> np.ndarray:
    """At most ``most`` pitches, likeliest first, none within ``spacing`` - 1 semitones of a
    likelier one; ``fill``: keep every drawn pitch and add the likeliest others that fit."""
    order = np.argsort(-np.where(frame, z, -np.inf))[: int(frame.sum())]  # the drawn, likeliest first
    if fill:
        order = np.concatenate([order, np.argsort(-np.where(frame, -np.inf, z))[: len(z) - len(order)]])
    kept = np.zeros(len(z), dtype=bool)
    near, count = max(int(spacing), 1), 0
    for p in order:
        if count >= most:
            break
        if not kept[max(0, p - near + 1) : p + near].any():
            kept[p] = True
            count += 1
    return kept
