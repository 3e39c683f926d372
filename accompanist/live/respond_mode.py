"""Call and response, live: the player's phrase is the call, the melody model's phrase the answer.

A call begins with the bar of its first note. It ends at a bar line when no note was struck in the
bar before it (Magenta's MIDI interface's rule, a whole bar without a note, counted from strikes:
a note whose release was lost on the way, or the sustain pedal held down, would keep a bar that
sounds from ever being silent, and the call would swallow the next phrase to its limit), when it
reaches ``max_bars``, or when the player asks (``end_call``: a key, a button), at the next bar
line. While a call is open, each bar says so ("call: bar 3 of at most 8"). The answer is as long
as the call (whole bars from the call's first bar to its last note's) or ``answer_bars``, and
starts on the bar line where the call ended, in the key heard, on the grid. It is made a bar at a
time: at the step close before that bar line the model reads the call and writes the first bar,
then at each bar's last step the next one, so however long the answer, no step waits for more
than a bar of it (about 1-3 ms). While the answer plays, what the player plays is the next call,
and its answer follows this one.

Like every mode (``mode.py``) it never touches time or ports: it hears closed steps and hands
back the step to sound next.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from accompanist.inference.answerers import open_answerer
from accompanist.inference.cards import ModelCard
from accompanist.inference.sampling_config import MelodySampling, VrashSampling
from accompanist.live.mode import Controls, Reply
from accompanist.music import roll
from accompanist.music.events import tokens_to_events
from accompanist.music.melody_line import legato, melody_token
from accompanist.music.tokens import HOLD, REST


class RespondMode(Controls):
    def __init__(
        self,
        card: ModelCard,
        sampling: MelodySampling | VrashSampling,
        steps_per_bar: int,
        rng: np.random.Generator,
        max_bars: int = 8,
        answer_bars: int | None = None,
    ) -> None:
        self.runner = open_answerer(card)
        self.rng = rng
        self.sampling = sampling
        self.steps_per_bar, self.max_bars, self.answer_bars = steps_per_bar, max_bars, answer_bars
        self.queue: deque[np.ndarray] = deque()  #: answer steps made and still to play, in order
        self.streams: deque[list] = deque()  #: answers still being made: [token stream, steps left]
        self.reset()
        self._warm_up()

    def _warm_up(self) -> None:
        """ONNX Runtime sets itself up on its first runs: answer a scale before the session starts."""
        scale = np.array([60, HOLD, 62, HOLD, 64, HOLD, 65, HOLD] * 4)
        bar = self.steps_per_bar
        self.runner.answer(tokens_to_events(scale), 2 * bar, lambda s: s % bar, rng=np.random.default_rng(0))

    def reset(self) -> None:
        self.call: list[int] | None = None  #: tokens from the call's first bar line; None: no call
        self.call_start = 0  #: its first step (a bar line)
        self.last_sound = -1  #: the last step of the call where the player sounded
        self.last_onset = -1  #: the last step of the call where the player struck a note
        self.current = -1  #: the pitch the player holds, as a token's history needs it
        self.end_asked = False
        self.queue.clear()
        self.streams.clear()
        self.sounding_out = -1  #: the pitch the answer's last made step holds (a HOLD continues it)

    def end_call(self) -> None:
        """The player says the call is over: it ends at the next bar line."""
        self.end_asked = True

    def closed(self, k: int, index: int, phase: int, melody: np.ndarray, played: np.ndarray) -> Reply:
        """Hear the call's step; the answer's step to sound at the coming boundary."""
        got = self.hear(index, melody)
        if got is None:
            if self.call is not None and index % self.steps_per_bar == self.steps_per_bar - 1:
                bar = (index + 1 - self.call_start) // self.steps_per_bar + 1  # the call's bar now beginning
                return Reply(self.next_step(), ("call", {"step": k + 1, "bar": bar, "of": self.max_bars}))
            return Reply(self.next_step())
        bar = (k + 1) // self.steps_per_bar + 1  # the bar line it starts on, counted from 1 as a player counts
        return Reply(self.next_step(), ("response", {"step": k + 1, "bar": bar, **got}), "answer_ms")

    def hear(self, index: int, step: np.ndarray) -> dict | None:
        """Take closed step ``index`` (counted from the first downbeat). At a bar's last step, a
        call that has ended is answered: its figures are returned (the answer is queued)."""
        token, self.current = melody_token(step, self.current)
        if self.call is None and token < 128:
            self.call_start = index - index % self.steps_per_bar
            self.call = [REST] * (index - self.call_start)
        if self.call is not None:
            self.call.append(token)
            if token != REST:
                self.last_sound = index
            if token < 128:
                self.last_onset = index
        if index % self.steps_per_bar != self.steps_per_bar - 1:
            return None
        if len(self.queue) <= self.steps_per_bar:
            self._make_bar()  # keep a bar of the answer ahead of the boundary
        if self.call is None:
            return None
        bars = (index + 1 - self.call_start) // self.steps_per_bar
        quiet_bar = index - self.last_onset >= self.steps_per_bar
        if not (quiet_bar or bars >= self.max_bars or self.end_asked):
            return None
        return self._answer(index + 1)

    def _answer(self, start: int) -> dict:
        """Answer the call that ends at bar line ``start``; the next call starts empty."""
        # a note held past the bar of the last strike (a release lost, the pedal down) is cut at its
        # bar line: the call is the phrase struck, not the sound left ringing
        spb = self.steps_per_bar
        end = min(self.last_sound, self.last_onset - self.last_onset % spb + spb - 1) if self.last_onset >= 0 else -1
        call = legato(np.array(self.call[: end - self.call_start + 1], np.int64))
        call_bars = max(-(-len(call) // spb), 1)  # whole bars, from the bar line before its first note
        steps = (self.answer_bars or call_bars) * spb
        c0 = self.call_start
        phase_of = lambda s: (c0 + s) % spb  # noqa: E731  (steps from the call's first bar line)
        events = tokens_to_events(call, np.array([phase_of(s) for s in range(len(call))]))
        gap = start - (c0 + len(call))
        c = self.sampling
        family = {"variation": c.variation} if isinstance(c, VrashSampling) else {}
        if isinstance(c, VrashSampling):
            self.runner.octave_temperature = c.octave_temperature
        stream = self.runner.stream(events, phase_of, gap, c.temperature, None, c.key_lock, self.rng, **family)
        self.streams.append([stream, steps])
        made = self._make_bar()
        self.call, self.last_sound, self.last_onset, self.end_asked = None, -1, -1, False
        return {"call_bars": call_bars, "answer_bars": steps // spb, "first_bar_notes": made}

    def _make_bar(self) -> int:
        """Make the next bar of the answers under way (the rest of one and the start of the next,
        where one ends mid-bar); the notes struck in it."""
        want, struck = self.steps_per_bar, 0
        while want and self.streams:
            entry = self.streams[0]
            n = min(want, entry[1])
            for _ in range(n):
                step, on = self._to_step(next(entry[0]))
                self.queue.append(step)
                struck += on
            entry[1] -= n
            want -= n
            if entry[1] == 0:
                self.streams.popleft()
                self.sounding_out = -1  # an answer's last note ends with it
        return struck

    def _to_step(self, token: int) -> tuple[np.ndarray, bool]:
        """A grid token of the answer as a roll step: a HOLD continues the answer's sounding note."""
        step = roll.empty(1)[0]
        if token < 128:
            self.sounding_out = roll.fold_pitch(token) - roll.PITCH_LO
            step[roll.FRAME, self.sounding_out] = step[roll.ONSET, self.sounding_out] = 1
            return step, True
        if token == HOLD and self.sounding_out >= 0:
            step[roll.FRAME, self.sounding_out] = 1
        else:
            self.sounding_out = -1
        return step, False

    def next_step(self) -> np.ndarray:
        """The answer's step to sound at the coming boundary (silence when no answer is due)."""
        return self.queue.popleft() if self.queue else roll.empty(1)[0]

    @property
    def answering(self) -> bool:
        return bool(self.queue or self.streams)
