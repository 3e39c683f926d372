"""The melody model's cost in respond mode, on one thread: one step of the graph, and a whole
2-bar answer after a 2-bar call (read the call, draw notes until the answer is full), which must
be ready well before the bar line it starts on."""

from __future__ import annotations

import platform
import time

import numpy as np

from accompanist.bench.stats import summary, time_calls
from accompanist.inference.answerers import open_answerer
from accompanist.inference.cards import ModelCard
from accompanist.music.events import tokens_to_events
from accompanist.music.tokens import HOLD

#: A 2-bar call in 4/4: eighths and quarters, as a player's phrase might go.
CALL = np.array([67, HOLD, 69, HOLD, 71, HOLD, HOLD, HOLD, 72, HOLD, 71, HOLD, 69, HOLD, HOLD, HOLD] * 2)


def bench_melody(card: ModelCard, runs: int = 1000, seed: int = 0) -> dict:
    """For any melody family (pitch + duration LSTM, VRASH, RL tuner)."""
    rng = np.random.default_rng(seed)
    runner = open_answerer(card, threads=1)
    call = tokens_to_events(CALL)
    state = np.zeros((1, runner.state_size), np.float32)
    z = np.zeros((1, max(getattr(runner, "latent", 0), 1)), np.float32) if getattr(runner, "latent", 0) else None

    def one_step() -> None:
        nonlocal state
        if card.family == "melody":
            state = runner.step(int(rng.integers(1, 60)), 3, int(rng.integers(0, 16)), state)[2]
        elif card.family == "vrash":
            state = runner.step((int(rng.integers(0, 13)), 2, 3, 0), int(rng.integers(0, 16)), z, state)[3]
        else:
            state = runner.step(int(rng.integers(0, 38)), state)[1]

    notes = []

    def answer() -> None:
        notes.append(len(runner.answer(call, 32, lambda s: s % 16, rng=rng)))

    # respond mode makes an answer a bar at a time: what a step close must wait for is reading the
    # call and making the first bar, then one bar at each bar's end
    first_bar, later_bar = {}, {}
    for bars in (2, 8, 16):
        long_call = tokens_to_events(np.tile(CALL, bars // 2))
        later = []

        def first(call=long_call, out=later) -> None:
            stream = runner.stream(call, lambda s: s % 16, 0, rng=rng)
            for _ in range(16):
                next(stream)
            t0 = time.perf_counter()
            for _ in range(16):
                next(stream)
            out.append(time.perf_counter() - t0)

        first_bar[bars] = summary(time_calls(first, max(runs // 20, 20)), "ms")
        later_bar[bars] = summary(np.array(later), "ms")
    return {
        "first_bar_after_call": first_bar,
        "next_bar": later_bar,
        "model": card.name,
        "family": card.family,
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "threads": 1,
        "ort_step": summary(time_calls(one_step, runs), "us"),
        "answer_2_bars": summary(time_calls(answer, max(runs // 10, 20)), "ms"),
        "answer_notes_median": float(np.median(notes)),
    }
