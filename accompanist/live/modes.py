"""What the engine plays, step by step (duet) or pass by pass (loop): where the model is called.

A mode never touches time or ports. It receives closed melody steps from the engine and hands
back rolls of accompaniment to sound at given steps; the engine's scheduler turns them into
messages at the clock's boundaries.
"""

from __future__ import annotations

import copy

import numpy as np

from accompanist.inference.cards import ModelCard
from accompanist.inference.duet_runner import DuetRunner
from accompanist.music import roll
from accompanist.music.tokens import HOLD, REST


class DuetMode:
    """Streaming (seed 000). Anticipating models: as each step closes, the model hears the
    player's real step and its own last step, and answers the next one (``answer``). Hearing
    models (``listens``): step k is answered from what the player struck for it by the end of the
    listen window (``answer_now``), and filed whole when it closes (``commit``).

    A duet partner waits for the player: silent until the first note, and silent again once
    the player has been silent for ``rest_steps`` steps (a bar by default; None: never), until
    the next note."""

    family = "duet"

    def __init__(
        self,
        card: ModelCard,
        temperature: float,
        rng: np.random.Generator,
        max_notes: int | None = None,
        key_lock: float | None = None,
        two_part: float | None = None,
        rest_steps: int | None = None,
    ):
        self.runner = DuetRunner(card)
        self.rest_steps = rest_steps
        self.quiet: int | None = None  #: steps since the player last sounded; None: not yet
        self.fell_silent = False  #: the step just answered is the first the answer waits at
        self.rng = rng
        self.sampler = self.runner.sampler(temperature, max_notes, key_lock, two_part)
        self.listens = self.runner.listens
        self.last = roll.empty(1)[0]  #: what the accompaniment really played at the last step
        self._warm_up()

    def _warm_up(self, steps: int = 24) -> None:
        """ONNX Runtime sets itself up over its first runs, and the sampler's first key estimate
        and bias allocate: the first answers took 40-170 ms (measured in the soak), deadlines
        missed as the player's first notes came. So a scale is answered before the session
        starts, past the bar after which the key lock joins in, with a sampler and a generator
        of its own; then everything is forgotten."""
        sampler, rng = copy.deepcopy(self.sampler), np.random.default_rng(0)
        last = roll.empty(1)[0]
        for i in range(steps):
            step = roll.empty(1)[0]
            step[:, 60 + (0, 2, 4, 5, 7, 9, 11)[i % 7] - roll.PITCH_LO] = 1
            if self.listens:
                answer = sampler.sample(self.runner.hear(step, i % 16), step, last[roll.FRAME], rng, i % 16)
                self.runner.commit(step, answer, i % 16)
            else:
                answer = sampler.sample(self.runner.step(step, last), step, last[roll.FRAME], rng, None)
            last = answer
        self.runner.reset()

    def answer(self, melody_step: np.ndarray) -> np.ndarray:
        """Anticipating: the closed step k in, the accompaniment of step k + 1 out."""
        logits = self.runner.step(melody_step, self.last)
        return self._sample(logits, melody_step, None)

    def answer_now(self, heard: np.ndarray, phase: int) -> np.ndarray:
        """Hearing: step k's melody as heard so far and its bar phase in, step k's answer out.
        While it waits for the player the model is not run at all (hearing keeps no state)."""
        if self._waiting(heard):
            return roll.empty(1)[0]
        return self.sampler.sample(self.runner.hear(heard, phase), heard, self.last[roll.FRAME], self.rng, phase)

    @property
    def temperature(self) -> float:
        return self.sampler.temperature

    @temperature.setter
    def temperature(self, value: float) -> None:
        self.sampler.temperature = value

    def commit(self, melody_step: np.ndarray, phase: int) -> None:
        """Hearing: step k closed; file it with what the accompaniment played."""
        self.runner.commit(melody_step, self.last, phase)

    def _waiting(self, melody_step: np.ndarray) -> bool:
        """Count the player's silence; True while the answer waits for the player. ``fell_silent``
        is True at the one step where the answer stops to wait."""
        if melody_step[roll.FRAME].any():
            self.quiet = 0
        elif self.quiet is not None:
            self.quiet += 1
        self.fell_silent = self.rest_steps is not None and self.quiet == self.rest_steps
        return self.quiet is None or (self.rest_steps is not None and self.quiet >= self.rest_steps)

    def _sample(self, logits: np.ndarray, melody_step: np.ndarray, phase: int | None) -> np.ndarray:
        if self._waiting(melody_step):
            return roll.empty(1)[0]
        return self.sampler.sample(logits, melody_step, self.last[roll.FRAME], self.rng, phase)

    def played(self, step: np.ndarray) -> None:
        """What sounded (the answer, or a held continuation after a missed deadline)."""
        self.last = step

    def reset(self) -> None:
        self.runner.reset()
        self.sampler.reset()
        self.last = roll.empty(1)[0]
        self.quiet = None
        self.fell_silent = False


def melody_tokens(rolls: np.ndarray) -> np.ndarray:
    """The player's steps as the harmoniser's monophonic tokens: the top note struck at a step,
    else the top note still held (a hold if it was already the melody), else a rest."""
    out = np.full(len(rolls), REST, np.int64)
    current = -1
    for i, step in enumerate(rolls):
        out[i], current = melody_token(step, current)
    return out


def melody_token(step: np.ndarray, current: int) -> tuple[int, int]:
    """One roll step as a monophonic token, given the pitch the melody held before (-1: none);
    and the pitch it holds after."""
    struck = np.flatnonzero(step[roll.ONSET])
    held = np.flatnonzero(step[roll.FRAME])
    if len(struck):
        current = int(struck.max()) + roll.PITCH_LO
        return current, current
    if len(held) and int(held.max()) + roll.PITCH_LO == current:
        return HOLD, current
    if len(held):
        current = int(held.max()) + roll.PITCH_LO
        return current, current
    return REST, -1


def tokens_to_steps(tokens: np.ndarray) -> np.ndarray:
    """Accompaniment tokens as roll steps (steps, 2, 84)."""
    from accompanist.music.notes import tokens_to_notes

    return roll.notes_to_roll(tokens_to_notes(tokens, 1.0), 1.0, len(tokens))


class LoopMode:
    """Loop (seed 001): the player loops a pass of N steps; when a pass closes, the model
    harmonises the whole pass and its answer plays during the next pass, while that one is
    recorded. Locked, the answer stays; refresh re-samples the last pass; clear starts over."""

    family = "seq2seq"

    def __init__(self, card: ModelCard, temperature: float, pass_steps: int, rng: np.random.Generator):
        from accompanist.inference.seq2seq_runner import Seq2SeqRunner

        self.runner = Seq2SeqRunner(card)
        self.temperature, self.pass_steps, self.rng = temperature, pass_steps, rng
        self.melody = roll.empty(pass_steps)
        self.last_pass: np.ndarray | None = None
        self.answer_steps: np.ndarray | None = None
        self.locked = False
        # ONNX Runtime sets itself up on the first run (tens of milliseconds): not at a deadline
        self.runner.harmonize(np.full(pass_steps, 67, np.int64), temperature, np.random.default_rng(0))

    def hear(self, index: int, melody_step: np.ndarray) -> None:
        self.melody[index] = melody_step

    def close_pass(self, fresh: bool = False) -> np.ndarray | None:
        """The accompaniment (pass_steps, 2, 84) for the next pass, or None if there is nothing
        to play (an empty first pass). Locked, the last answer plays again unless ``fresh``."""
        self.last_pass = self.melody.copy()
        self.melody = roll.empty(self.pass_steps)
        if self.locked and not fresh and self.answer_steps is not None:
            return self.answer_steps
        return self._harmonise()

    def _harmonise(self) -> np.ndarray | None:
        if self.last_pass is None or not self.last_pass[:, roll.FRAME].any():
            self.answer_steps = None
            return None
        tokens = melody_tokens(self.last_pass)
        acc = self.runner.harmonize(tokens, self.temperature, self.rng)
        self.answer_steps = tokens_to_steps(acc)
        return self.answer_steps

    def reset(self) -> None:
        self.melody = roll.empty(self.pass_steps)
        self.last_pass = self.answer_steps = None
