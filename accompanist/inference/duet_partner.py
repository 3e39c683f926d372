"""The duet's step protocol, one for the live engine and the offline verbs: hear, sample, commit,
and wait for the player.

A duet partner waits for the player: silent until the first note, and silent again once the
player has been silent for ``rest_steps`` steps (a bar in the live engine's default; None: never),
until the next note. Anticipating models (after Huang, Ji and Martin, "DuetHLSTM: A Hierarchical
LSTM Model for Two-Track Music Generation", about 2018): as step k closes, the model reads the
player's real step and its own, and answers step k + 1 (``anticipate``). Hearing models (our
variant): step k is answered from what the player struck for it by the end of the listen window
(``hear``), and filed whole when it closes (``commit``).

Every call takes ``played``, what the accompaniment really sounded at the last step (the answer,
or what it held through a missed deadline): the live engine's planner keeps that once, and
``accompany`` keeps it as the roll it writes.
"""

from __future__ import annotations

import numpy as np

from accompanist.inference.duet_priors import StepSampler
from accompanist.inference.duet_runner import DuetRunner
from accompanist.music import roll

#: bars of the player's silence after which the answer falls silent too, unless told (0: plays on)
REST_AFTER = 1.0


def rest_steps(rest_after: float, steps_per_bar: int) -> int | None:
    """The wait rule's silence in steps (None: the answer never rests)."""
    return round(rest_after * steps_per_bar) if rest_after > 0 else None


class DuetPartner:
    def __init__(
        self,
        runner: DuetRunner,
        sampler: StepSampler,
        rng: np.random.Generator,
        rest_steps: int | None = None,
        waits: bool = True,
    ) -> None:
        self.runner, self.sampler, self.rng = runner, sampler, rng
        self.rest_steps = rest_steps
        self.waits = waits  #: False: answer from the first step, whatever the player does
        self.listens = runner.listens
        self.quiet: int | None = None  #: steps since the player last sounded; None: not yet
        self.fell_silent = False  #: the step just answered is the first the answer waits at

    def anticipate(self, melody_step: np.ndarray, played: np.ndarray) -> np.ndarray:
        """Anticipating: the closed step k and what sounded at it in; the answer of step k + 1 out."""
        logits = self.runner.step(melody_step, played)
        if self._waiting(melody_step):
            return roll.empty(1)[0]
        return self.sampler.sample(logits, melody_step, played[roll.FRAME], self.rng, None)

    def hear(self, heard: np.ndarray, played: np.ndarray, phase: int) -> np.ndarray:
        """Hearing: step k's melody as heard so far and its bar phase in, step k's answer out.
        While it waits for the player the model is not run at all (hearing keeps no state)."""
        if self._waiting(heard):
            return roll.empty(1)[0]
        return self.sampler.sample(self.runner.hear(heard, phase), heard, played[roll.FRAME], self.rng, phase)

    def commit(self, melody_step: np.ndarray, played: np.ndarray, phase: int) -> None:
        """Hearing: step k closed; file it with what the accompaniment played at it."""
        self.runner.commit(melody_step, played, phase)

    def _waiting(self, melody_step: np.ndarray) -> bool:
        """Count the player's silence; True while the answer waits for the player. ``fell_silent``
        is True at the one step where the answer stops to wait."""
        if not self.waits:
            return False
        if melody_step[roll.FRAME].any():
            self.quiet = 0
        elif self.quiet is not None:
            self.quiet += 1
        self.fell_silent = self.rest_steps is not None and self.quiet == self.rest_steps
        return self.quiet is None or (self.rest_steps is not None and self.quiet >= self.rest_steps)

    def reset(self) -> None:
        self.runner.reset()
        self.sampler.reset()
        self.quiet = None
        self.fell_silent = False

    def accompany(
        self, melody: np.ndarray, heard: np.ndarray | None = None, phases: np.ndarray | None = None
    ) -> np.ndarray:
        """Play against a whole melody roll (steps, 2, 84) by the same calls the live engine
        makes. Anticipating: the first step is silent. Hearing: the answer for step k hears
        ``heard[k]``, the melody of step k as the engine had it when it had to answer (see
        ``evaluation.player``; default: all of it), and ``phases[k]`` (default: 4/4 from step 0)."""
        self.reset()
        out = roll.empty(len(melody))
        if not self.listens:
            for t in range(len(melody) - 1):
                out[t + 1] = self.anticipate(melody[t], out[t])
            return out
        heard = melody if heard is None else heard
        bar = 4 * self.runner.steps_per_beat
        phases = np.arange(len(melody)) % bar if phases is None else phases
        before = roll.empty(1)[0]
        for t in range(len(melody)):
            phase = int(phases[t])
            out[t] = self.hear(heard[t], before, phase)
            self.commit(melody[t], out[t], phase)
            before = out[t]
        return out
