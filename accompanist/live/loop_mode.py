"""Loop mode (after "Sequence-to-sequence LSTM vs bidirectional LSTM for generating an
accompaniment to a given melody", the harmoniser's paper; see docs/RESULTS.md): the player loops
a pass of N steps; when a pass closes, the model harmonises the whole pass and its answer plays
during the next pass, while that one is recorded.
Locked, the answer stays; refresh re-samples the last pass; clear starts over.

The answer is planned one step at a time like every mode's, which keeps it on the grid through
tempo changes and a DAW's drifting clock."""

from __future__ import annotations

import numpy as np

from accompanist.inference.cards import ModelCard
from accompanist.inference.sampling_config import HarmonySampling
from accompanist.live.mode import Controls, Reply
from accompanist.music import roll
from accompanist.music.melody_line import melody_tokens
from accompanist.music.tokens import HOLD


class LoopMode(Controls):
    def __init__(self, card: ModelCard, sampling: HarmonySampling, pass_steps: int, rng: np.random.Generator):
        from accompanist.inference.seq2seq_runner import Seq2SeqRunner

        self.runner = Seq2SeqRunner(card)
        self.sampling, self.pass_steps, self.rng = sampling, pass_steps, rng
        self.melody = roll.empty(pass_steps)
        self.last_pass: np.ndarray | None = None
        self.answer_steps: np.ndarray | None = None
        self.locked = False
        self.fresh = False  #: refresh asked: the pass now playing is harmonised afresh when it closes
        # ONNX Runtime sets itself up on the first runs (tens of milliseconds), and each prior's
        # code its first time: not at a deadline. Passes of the session's length, with its priors
        # and a tune that has a key, so the first real pass is as fast as the later ones.
        scale = np.resize(np.array([60, HOLD, 64, HOLD, 67, HOLD, 65, 62], np.int64), pass_steps)
        c = sampling
        for _ in range(2):
            self.runner.harmonize(scale, c.temperature, np.random.default_rng(0), c.top_p, c.two_part, c.key_lock)

    def closed(self, k: int, index: int, phase: int, melody: np.ndarray, played: np.ndarray) -> Reply:
        """Hear step ``index`` of the pass; at the pass's last step, harmonise the pass; then the
        answer's next step."""
        n = self.pass_steps
        self.hear(index % n, melody)
        say = timed = None
        if index % n == n - 1:
            fresh, was = self.fresh, self.answer_steps
            steps = self.close_pass(fresh=fresh)
            self.fresh = False
            source = "silent" if steps is None else "locked" if steps is was else "refreshed" if fresh else "harmonised"
            notes = 0 if steps is None else int(steps[:, roll.ONSET].sum())
            # plan: (steps, 2, 84) or None, read by a panel, never changed after this
            say = ("pass", {"index": index // n, "source": source, "notes": notes, "next_step": k + 1, "plan": steps})
            timed = "harmonize_ms"
        steps = self.answer_steps
        nxt = roll.empty(1)[0] if steps is None else steps[(index + 1) % n]
        return Reply(nxt, say, timed)

    def hear(self, index: int, melody_step: np.ndarray) -> None:
        self.melody[index] = melody_step

    def close_pass(self, fresh: bool = False) -> np.ndarray | None:
        """The accompaniment (pass_steps, 2, 84) for the next pass, or None if there is nothing
        to play (an empty first pass). Locked, the last answer plays again unless ``fresh``."""
        self.last_pass = self.melody.copy()
        self.melody = roll.empty(self.pass_steps)
        if self.locked and not fresh and self.answer_steps is not None:
            return self.answer_steps
        return self._harmonize()

    def _harmonize(self) -> np.ndarray | None:
        if self.last_pass is None or not self.last_pass[:, roll.FRAME].any():
            self.answer_steps = None
            return None
        tokens = melody_tokens(self.last_pass)
        c = self.sampling  # read at each pass: a change turned mid-pass is heard from the next
        acc = self.runner.harmonize(tokens, c.temperature, self.rng, c.top_p, c.two_part, c.key_lock)
        self.answer_steps = roll.tokens_to_roll(acc)
        return self.answer_steps

    def lock(self, on: bool) -> None:
        self.locked = on

    def refresh(self) -> None:
        self.fresh = True

    def moved(self, restart: bool) -> None:
        if restart:
            self.reset()

    def reset(self) -> None:
        self.melody = roll.empty(self.pass_steps)
        self.last_pass = self.answer_steps = None
        self.fresh = False
