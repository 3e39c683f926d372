"""The RL tuner's rule statistics for any RL-family model, measured through its ONNX graph:
``n`` compositions of 32 steps, each after a held-out call (its first two bars), sampled from
softmax(logits / T), with their mean log-likelihood under a reference note RNN (what tuning
gave up). The same rules and counts as training's table (``metrics.rl_rules``)."""

from __future__ import annotations

import numpy as np

from accompanist.metrics.rl_rules import LENGTH, Stats
from accompanist.music.keys import find_key
from accompanist.music.rl_tokens import to_rl


def _primed(runner, call_events: np.ndarray):
    state = np.zeros((1, runner.state_size), np.float32)
    for e in call_events[:-1]:
        _, state = runner.step(int(e), state)
    return int(call_events[-1]), state


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


def rl_table(
    runner, reference, calls: list[np.ndarray], n: int = 1000, seed: int = 0, temperature: float = 1.0
) -> dict:
    rng = np.random.default_rng(seed)
    stats, total = Stats(), 0.0
    for _ in range(n):
        call = calls[int(rng.integers(0, len(calls)))]
        call, key, _ = runner.hear(call, find_key(call))  # as in respond mode (in_c: in its home key)
        events = to_rl(call)
        obs, state = _primed(runner, events)
        comp = []
        for _ in range(LENGTH):
            logits, state = runner.step(obs, state)
            p = np.exp(_log_softmax(logits / max(temperature, 1e-3)))
            obs = int(rng.choice(len(p), p=p / p.sum()))
            comp.append(obs)
        stats.add(comp, key)
        obs, state = _primed(reference, events)
        for a in comp:
            logits, state = reference.step(obs, state)
            total += float(_log_softmax(logits)[a])
            obs = a
    return stats.table() | {"log_likelihood_per_step": round(total / (n * LENGTH), 4)}
