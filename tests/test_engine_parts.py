"""The engine's face and its parts without JACK: every public method on an engine never started,
and the duet's one step protocol, offline and live, giving the same answer."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import TINY_DUET, TINY_DUET_LISTEN

from accompanist.errors import AccompanistError
from accompanist.inference.cards import load_card
from accompanist.inference.duet_runner import DuetRunner
from accompanist.inference.sampling_config import DuetSampling
from accompanist.live.duet_mode import DuetMode
from accompanist.live.engine import NOT_PLAYING, Engine, Settings
from accompanist.music import roll
from accompanist.music.notes import Note


def test_every_public_method_of_an_engine_never_started_works_or_refuses_in_one_line():
    engine = Engine(Settings(mode="loop"))
    events = engine.subscribe()
    assert not engine.playing and engine.output is None and engine.clock is None
    engine.stop()  # nothing to stop: nothing happens
    engine.panic()  # nothing sounds: said, nothing else
    engine.lock(True)
    assert engine.locked
    engine.set(temperature=0.7, bars=4)
    assert engine.settings.bars == 4 and engine.temperature == pytest.approx(0.7)
    engine.set(temperature=None)
    assert engine.temperature == pytest.approx(engine.card.default("temperature"))
    engine.set(mode="duet")  # the mode's default model comes with it
    assert engine.card.family == "duet" and engine.settings.model is None
    assert engine.listen == pytest.approx(engine.card.default("listen_ms") / 1e3)
    for control in (engine.refresh, engine.clear, engine.end_call):
        with pytest.raises(AccompanistError) as err:
            control()
        assert str(err.value) == NOT_PLAYING and "\n" not in str(err.value)
    with pytest.raises(AccompanistError, match="unknown setting"):
        engine.set(tempo=90)
    figures = engine.figures()
    assert figures["steps"] == 0 and figures["missed_deadlines"] == 0 and figures["messages_out"] == 0
    assert engine.program == engine.card.default("program") and engine.steps_per_bar == 16
    kinds = []
    while not events.empty():
        kinds.append(events.get()["type"])
    assert kinds == ["panic", "lock", "settings", "settings", "settings"]


def _melody() -> np.ndarray:
    """Two bars' rest (the partner waits), a phrase, a bar and a half of silence (it falls silent
    again), and a second phrase."""
    notes = [Note(60 + (i % 7), 32 + 2 * i, 34 + 2 * i) for i in range(16)]
    notes += [Note(67 - (i % 5), 88 + 2 * i, 90 + 2 * i) for i in range(12)]
    return roll.notes_to_roll(notes, 1.0, 120)


@pytest.mark.parametrize("name", [TINY_DUET, TINY_DUET_LISTEN])
def test_offline_and_live_duet_run_one_step_protocol_and_give_the_same_answer(use_tiny_models, name):
    card = load_card(name, family="duet")
    melody, bar = _melody(), 16
    offline = DuetRunner(card).accompany(
        melody, DuetSampling.from_card(card, temperature=2.0), np.random.default_rng(5)
    )  # the wait rule: a bar

    # the live mode, driven as the engine's model worker drives it: heard (if it listens) and
    # closed for each step, what sounded handed back each time
    mode = DuetMode(card, DuetSampling.from_card(card, temperature=2.0), np.random.default_rng(5), rest_steps=bar)
    live = roll.empty(len(melody))
    played = roll.empty(1)[0]
    for k in range(len(melody)):
        if mode.listens:
            reply = mode.heard(k, k % bar, melody[k], played)
            live[k] = played = reply.step
            mode.sounded(played)
        reply = mode.closed(k, k, k % bar, melody[k], played)
        if reply is not None and k + 1 < len(melody):
            live[k + 1] = played = reply.step
            mode.sounded(played)
    assert (live == offline).all()
    # the wait rule holds offline too: silent before the first note and through the rest
    assert not offline[:32].any() and not offline[80:88].any()
    assert offline[32:80].any() and offline[88:].any()
