"""The melody model's cost in respond mode, on one thread: one step of the graph, and a whole
2-bar answer after a 2-bar call (read the call, draw notes until the answer is full), which must
be ready well before the bar line it starts on."""

from __future__ import annotations

import platform

import numpy as np

from accompanist.bench.stats import summary, time_calls
from accompanist.inference.cards import ModelCard
from accompanist.inference.melody_runner import MelodyRunner
from accompanist.music.events import tokens_to_events
from accompanist.music.tokens import HOLD

#: A 2-bar call in 4/4: eighths and quarters, as a player's phrase might go.
CALL = np.array([67, HOLD, 69, HOLD, 71, HOLD, HOLD, HOLD, 72, HOLD, 71, HOLD, 69, HOLD, HOLD, HOLD] * 2)


def bench_melody(card: ModelCard, runs: int = 1000, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    runner = MelodyRunner(card, threads=1)
    call = tokens_to_events(CALL)
    state = np.zeros((1, runner.state_size), np.float32)

    def one_step() -> None:
        nonlocal state
        _, _, state = runner.step(int(rng.integers(1, 60)), 3, int(rng.integers(0, 16)), state)

    notes = []

    def answer() -> None:
        notes.append(len(runner.answer(call, 32, lambda s: s % 16, rng=rng)))

    return {
        "model": card.name,
        "family": card.family,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "threads": 1,
        "ort_step": summary(time_calls(one_step, runs), "us"),
        "answer_2_bars": summary(time_calls(answer, max(runs // 10, 20)), "ms"),
        "answer_notes_median": float(np.median(notes)),
    }
