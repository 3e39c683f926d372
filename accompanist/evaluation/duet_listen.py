"""The duet model against tunes it never saw, played by a human-timed player, as live.

Behind ``accompanist eval --model DUET --tunes validation|test``: for each collection and each
listen window, every tune is played by the simulated player (``evaluation.player``), the model
answers step by step under the engine's rule (anticipating, or hearing what was struck by the
end of the listen window), and the answer is scored against what the player played: harmony
(``metrics.harmony_poly``) and rhythm (onset steps per melody onset, onsets on a melody onset
or a beat), per collection and pooled, beside Bach's own alto, tenor and bass under the held-out
chorale sopranos, measured by the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accompanist.data.tunes import RULE, Tunes, tune_sets
from accompanist.evaluation.player import Performance, PlayerConfig, perform
from accompanist.inference.cards import ModelCard
from accompanist.inference.duet_runner import DuetRunner
from accompanist.inference.sampling_config import DuetSampling
from accompanist.metrics.bands import DUET_BANDS, outside
from accompanist.metrics.harmony_poly import poly_stats, summarize_poly
from accompanist.music import roll
from accompanist.music.roll import tokens_to_roll

COLUMNS = (
    "coverage",
    "consonance",
    "in_key",
    "crossing",
    "polyphony",
    "ic_overlap",
    "onset_ratio",
    "onsets_aligned",
    "far_notes",
    "clusters",
    "late_onsets",
    "lag_p50_ms",
    "lag_mean_ms",
    "lag_p90_ms",
    "grid_p90_ms",
)


def melody_tokens_of(played: np.ndarray) -> np.ndarray:
    from accompanist.music.melody_line import melody_tokens

    return melody_tokens(played)


@dataclass
class Timing:
    """What a collection's performances say of time: onsets heard late, the lag each strike
    felt, and (followed) each tune's answers' deviation from the player's own 16ths."""

    late: int = 0
    onsets: int = 0
    lags: list[np.ndarray] = field(default_factory=list)
    devs: list[np.ndarray] = field(default_factory=list)

    def add(self, perf: Performance) -> None:
        self.late, self.onsets = self.late + perf.late_onsets, self.onsets + perf.onsets
        self.lags.append(perf.lag)
        if perf.offsets is not None and perf.offsets.size > 48:  # followed: from bar 4, as bench follow
            self.devs.append(np.abs(perf.offsets[48:] - perf.offsets[48:].mean()))

    def figures(self) -> dict:
        out = {"late_onsets": self.late / max(self.onsets, 1)}
        lag = np.concatenate(self.lags) if self.lags else np.zeros(0)
        if lag.size:
            out |= {
                "lag_p50_ms": float(np.median(lag) * 1e3),
                "lag_mean_ms": float(np.mean(lag) * 1e3),
                "lag_p90_ms": float(np.percentile(lag, 90) * 1e3),
            }
        if self.devs:
            out["grid_p90_ms"] = float(np.median([np.percentile(d, 90) for d in self.devs]) * 1e3)
        return out


def play_collection(
    runner: DuetRunner, tunes: Tunes, player: PlayerConfig, sampling: DuetSampling, seed: int = 0
) -> tuple[list, list[np.ndarray], Timing]:
    """Poly stats of every tune of a collection, (melody as played, answer) of each, and what
    the performances say of time."""
    rng = np.random.default_rng(seed)
    stats, answers, played, timing = [], [], [], Timing()
    for i, (tokens, phases) in enumerate(zip(tunes.melodies, tunes.phases, strict=True)):
        bar = int(phases.max()) + 1 if len(phases) else 4 * runner.steps_per_beat
        # the tune's own meter: a followed grid's bars and downbeats are the player's
        perf = perform(tokens_to_roll(tokens), player, runner.steps_per_beat, i, max(bar // runner.steps_per_beat, 1))
        acc = runner.accompany(perf.played, sampling, rng, heard=perf.heard, phases=phases)
        stats.append(poly_stats(melody_tokens_of(perf.played), acc, phases=phases))
        answers.append(acc)
        played.append(perf.played)
        timing.add(perf)
    return stats, list(zip(played, answers, strict=True)), timing


def bach_row(card: ModelCard) -> tuple[dict, np.ndarray, Tunes]:
    """Bach's alto, tenor and bass under the held-out chorale sopranos, the interval-class
    histogram of the training chorales (the reference of ``ic_overlap``), and the held-out
    sopranos as tunes."""
    from accompanist.data.chorales import load_chorales

    tr = card.data["training"]
    test = set(tr["test_pieces"])
    held = test | set(tr.get("val_pieces", []))
    ch = load_chorales()
    rows: dict[str, list] = {"test": [], "train": []}
    sopranos = Tunes("held-out chorales", [], [])
    for i, (name, v) in enumerate(zip(ch.names, ch.voices, strict=True)):
        side = "test" if name in test else None if name in held else "train"
        if side:
            atb = roll.merge(*(tokens_to_roll(v[k]) for k in (1, 2, 3)))
            rows[side].append(poly_stats(v[0], atb, phases=ch.phase(i)))
        if side == "test":
            sopranos.melodies.append(v[0])
            sopranos.phases.append(ch.phase(i))
    ref = np.asarray(summarize_poly(rows["train"])["ic_hist"])
    return summarize_poly(rows["test"], ref), ref, sopranos


def evaluate_listen(
    card: ModelCard,
    which: str,
    listen_ms: list[float],
    player: PlayerConfig,
    sampling: DuetSampling,
    n: int = 100,
    rolls: str | None = None,
) -> list[dict]:
    """One row per (listen window, collection) and a pooled row per listen window, and Bach's;
    with ``rolls``, a piano-roll PNG there of the first tune of each of the first three
    collections at the first listen window."""
    runner = DuetRunner(card)
    bach, ref, sopranos = bach_row(card)
    rows = [{"model": "Bach A+T+B", "set": "held-out chorales", "listen_ms": None, **bach}]
    sets = tune_sets(which, n)
    if which == "test":  # scored beside the folk tunes, not pooled with them
        sets.append(sopranos)
    windows = listen_ms if runner.listens else [0.0]  # an anticipating model has no window
    for lm in windows:
        cfg = PlayerConfig(player.jitter_ms, player.bpm, lm, player.early, player.seed, player.tempo_curve)
        pooled, late, timing = [], [], Timing()
        for i, t in enumerate(sets):
            stats, pairs, got = play_collection(runner, t, cfg, sampling, player.seed)
            extra = got.figures()
            rows.append({"model": card.name, "set": t.name, "listen_ms": lm, **summarize_poly(stats, ref), **extra})
            if t is sopranos:
                continue
            if rolls and lm == windows[0] and i < 3:
                from accompanist.evaluation.pianoroll import draw_duet

                name = f"{card.name}-{t.name.replace('/', '-')}-tune1.png"
                title = f"{card.name}, {t.name} tune 1, listen {lm:g} ms, T={sampling.temperature:g}"
                draw_duet(*pairs[0], t.phases[0], f"{rolls}/{name}", title, runner.steps_per_beat, steps=128)
            pooled += stats
            late.append(extra["late_onsets"])
            timing.lags += got.lags
            timing.devs += got.devs
        rows.append(
            {
                "model": card.name,
                "set": f"pooled {which} ({len(pooled)} tunes)",
                "listen_ms": lm,
                **summarize_poly(pooled, ref),
                **timing.figures(),
                # the mean of the collections' shares (as the tables before this one), not of all onsets
                "late_onsets": float(np.mean(late)),
            }
        )
    return rows


def card_figures(rows: list[dict], which: str, player: PlayerConfig, sampling: DuetSampling) -> dict:
    """The rows of one evaluation as a model card keeps them: the rule, the whole sampling
    configuration they were measured under (so a later change of default shows), then per listen
    window and collection the figures of ``COLUMNS`` (rounded)."""
    out: dict = {
        "rule": f"{RULE}; player jitter {player.jitter_ms:g} ms SD at {player.bpm:g} bpm, seed {player.seed}",
        "sampling": {**sampling.to_card(), "seed": player.seed},
    }
    for r in rows:
        key = "Bach A+T+B" if r.get("listen_ms") is None else f"listen {r['listen_ms']:g} ms"
        out.setdefault(key, {})[r["set"]] = {
            c: (round(float(r[c]), 4) if r.get(c) is not None else None) for c in COLUMNS if c in r
        }
    return out


def format_rows(rows: list[dict]) -> list[str]:
    head = "| model | tunes | listen ms | " + " | ".join(COLUMNS) + " |"
    lines = [head, "|" + "---|" * (len(COLUMNS) + 3)]
    for r in rows:
        cells = []
        for c in COLUMNS:
            v = r.get(c)
            if v is None or (isinstance(v, float) and np.isnan(v)):
                cells.append("-")
            elif c in ("crossing", "late_onsets", "far_notes", "clusters"):
                cells.append(f"{100 * v:.1f} %")
            elif c.endswith("_ms"):
                cells.append(f"{v:.1f}")
            elif c in ("polyphony", "onset_ratio"):
                cells.append(f"{v:.2f}")
            else:
                cells.append(f"{v:.3f}")
        lm = "-" if r.get("listen_ms") is None else f"{r['listen_ms']:g}"
        lines.append(f"| {r['model']} | {r['set']} | {lm} | " + " | ".join(cells) + " |")
    return lines


def outside_bands(row: dict) -> list[str]:
    """The figures of a row that miss the duet issue's bands (``metrics.bands``; empty: all met)."""
    return outside(row, DUET_BANDS)
