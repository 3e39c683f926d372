"""Where the answer is planned: what it sounds now, kept once, and the messages that take it to
the next step, handed to the scheduler (``output.py``) with their times."""

from __future__ import annotations

import mido
import numpy as np

from accompanist.live.events import EventBus
from accompanist.live.output import Scheduler
from accompanist.live.quantize import InputQuantizer
from accompanist.music import roll
from accompanist.music.notes import answer_velocity


class AnswerPlanner:
    """The answer's side of the output: ``last`` is the step it sounds now as planned (the
    scheduler's ``sounding`` is what really went out, for releasing it)."""

    def __init__(self, output: Scheduler, quantizer: InputQuantizer, bus: EventBus, channel: int) -> None:
        self.output, self.quantizer, self.bus = output, quantizer, bus
        self.channel = channel  #: 0-based; changed only with everything released
        self.last = roll.empty(1)[0]  #: (2, 84): what the answer sounds now, as planned

    @property
    def sounding(self) -> set[int]:
        """The answer's pitches (roll index) sounding, as planned."""
        return set(np.flatnonzero(self.last[roll.FRAME]).tolist())

    def plan(self, t: float, step: np.ndarray, k: int) -> None:
        """Messages at time t that take the answer from what sounds to ``step`` (the clock's
        step ``k``): releases first, then strikes (the scheduler keeps their order at equal times)."""
        ch, velocity, sounding = self.channel, self.velocity(), self.sounding
        frame = set(np.flatnonzero(step[roll.FRAME]).tolist())
        onset = set(np.flatnonzero(step[roll.ONSET] & step[roll.FRAME]).tolist())
        for p in sorted(sounding - frame | (onset & sounding)):
            self.output.at(t, mido.Message("note_off", channel=ch, note=p + roll.PITCH_LO, velocity=0))
        struck = sorted(onset | (frame - sounding))
        for p in struck:
            self.output.at(t, mido.Message("note_on", channel=ch, note=p + roll.PITCH_LO, velocity=velocity))
        self.last = step
        self.bus.emit("planned", at=t, step=k, struck=[p + roll.PITCH_LO for p in struck], sounding=len(frame))

    def hold(self) -> np.ndarray:
        """A deadline was missed: the answer holds what it sounds (no new strike); that step."""
        held = roll.empty(1)[0]
        held[roll.FRAME] = self.last[roll.FRAME]
        self.last = held
        return held

    def all_notes_off(self, t: float) -> None:
        """CC 123 at time t: the answer has released everything to wait for the player. A note-off
        lost on the way (a JACK cycle that failed: thousands a minute on a stalled VM) would leave
        a note sounding through the rest; All Notes Off here costs nothing and ends it."""
        self.output.at(t, mido.Message("control_change", channel=self.channel, control=123, value=0))

    def release(self) -> None:
        """Now: everything sounding is released (and CC 123 sent); nothing is planned."""
        self.output.panic()
        self.last = roll.empty(1)[0]

    def program_change(self, program: int) -> None:
        self.output.soon(mido.Message("program_change", channel=self.channel, program=program))

    def velocity(self) -> int:
        """The answer follows the player's dynamics, a little softer."""
        return answer_velocity(self.quantizer.velocity)
