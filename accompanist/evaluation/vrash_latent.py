"""Does VRASH's latent vector steer what it plays? Two measurements on held-out phrases.

Both decode greedily (temperature 0), so the latent vector is the only thing that changes.
Distance between two phrases is note-level: the edit distance between their (pitch, length)
sequences (insert, delete or change one note: cost 1), divided by the longer sequence's length,
so 0 is the same phrase and 1 shares nothing.

- Interpolation: for pairs of held-out phrases (a, b), decode at z = (1 - t) mu_a + t mu_b for t
  from 0 to 1; report the mean distance of each decoded phrase from the decodes at each end.
  A smooth latent space moves away from a's end and towards b's step by step.
- Variation: for held-out phrases, decode at z = mu + v sigma noise for amounts v, and from the
  prior ("free"); report the mean distance from the phrase itself. A latent that controls the
  output goes from near-copy at v = 0 to unrelated for free draws.
"""

from __future__ import annotations

import numpy as np

from accompanist.inference.answerers import Draw
from accompanist.music.events import Events


def note_distance(a: Events, b: Events) -> float:
    """Normalised edit distance between two phrases' (pitch, length) sequences."""
    x = list(zip(a.pitch.tolist(), a.steps.tolist(), strict=True))
    y = list(zip(b.pitch.tolist(), b.steps.tolist(), strict=True))
    if not x and not y:
        return 0.0
    prev = list(range(len(y) + 1))
    for i, xi in enumerate(x, 1):
        cur = [i] + [0] * len(y)
        for j, yj in enumerate(y, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (xi != yj))
        prev = cur
    return prev[-1] / max(len(x), len(y))


def _decode(runner, z: np.ndarray, phrase: Events, rng: np.random.Generator) -> Events:
    meter = lambda s: _phase(phrase, s)  # noqa: E731
    return runner.decode(z.astype(np.float32), phrase.total_steps, meter, 0, Draw(0.0, 0.0, 0.0, rng), None)


def _phase(phrase: Events, step: int) -> int:
    """Bar phase of a step of the phrase (its own onsets say the meter; 4/4 after its end)."""
    starts = np.concatenate([[0], np.cumsum(phrase.steps)[:-1]])
    k = int(np.searchsorted(starts, step, side="right")) - 1
    if k < 0:
        return step % 16
    return int(phrase.phase[k] + step - starts[k])


def interpolation(runner, phrases: list[Events], pairs: int = 50, points: int = 9, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    ts = np.linspace(0, 1, points)
    from_a = np.zeros(points)
    from_b = np.zeros(points)
    used = 0
    for _ in range(pairs):
        i, j = rng.choice(len(phrases), 2, replace=False)
        a, b = phrases[i], phrases[j]
        mu_a, _ = runner.encode(a)
        mu_b, _ = runner.encode(b)
        decodes = [_decode(runner, (1 - t) * mu_a + t * mu_b, a, rng) for t in ts]
        from_a += [note_distance(d, decodes[0]) for d in decodes]
        from_b += [note_distance(d, decodes[-1]) for d in decodes]
        used += 1
    return {
        "t": [round(float(t), 3) for t in ts],
        "distance_from_a": [round(float(v / used), 4) for v in from_a],
        "distance_from_b": [round(float(v / used), 4) for v in from_b],
        "pairs": used,
    }


def variation(runner, phrases: list[Events], amounts=(0.0, 0.5, 1.0, 2.0, 3.0), n: int = 100, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(phrases), min(n, len(phrases)), replace=False)
    rows = {f"{v:g}": [] for v in amounts} | {"free": []}
    for i in pick:
        p = phrases[i]
        mu, logvar = runner.encode(p)
        sigma = np.exp(0.5 * logvar)
        for v in amounts:
            z = mu + v * sigma * rng.standard_normal(mu.shape)
            rows[f"{v:g}"].append(note_distance(_decode(runner, z, p, rng), p))
        rows["free"].append(note_distance(_decode(runner, rng.standard_normal(mu.shape), p, rng), p))
    return {"distance_from_call": {k: round(float(np.mean(v)), 4) for k, v in rows.items()}, "phrases": len(pick)}


def plot(interp: dict, var: dict, path) -> None:
    """Two panels: distance along the interpolation path, and distance from the call by amount."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(interp["t"], interp["distance_from_a"], "o-", label="from phrase a's decode")
    ax1.plot(interp["t"], interp["distance_from_b"], "s-", label="from phrase b's decode")
    ax1.set_xlabel("t along z = (1 - t) mu_a + t mu_b")
    ax1.set_ylabel("note edit distance (0 same, 1 unrelated)")
    ax1.set_title(f"Interpolation, {interp['pairs']} held-out pairs")
    ax1.set_ylim(0, 1)
    ax1.legend()
    d = var["distance_from_call"]
    ax2.bar(list(d), list(d.values()), color="#4a7")
    ax2.set_xlabel("variation (latent noise, in posterior SDs)")
    ax2.set_ylabel("note edit distance from the call")
    ax2.set_title(f"Variation, {var['phrases']} held-out phrases")
    ax2.set_ylim(0, 1)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
