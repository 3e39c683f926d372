"""The Mode protocol: what the engine asks of a mode, and what a mode answers.

A mode never touches time or ports. The engine's model worker hands it the player's steps as
the clock closes them (``closed``), and, if the mode ``listens``, each step while it is still
open (``heard``); the mode answers with a ``Reply``: the accompaniment's step to sound next,
which the answer planner turns into messages at the clock's boundary. Loop, duet and respond
implement it (``loop_mode.py``, ``duet_mode.py``, ``respond_mode.py``); a new mode is one file
of this shape and a line in ``modes.make_mode``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from accompanist.inference.sampling_config import Sampling


@dataclass(frozen=True, slots=True)
class Reply:
    """A mode's answer to one step."""

    step: np.ndarray  #: (2, 84): the accompaniment's step to sound
    #: what to say about it: an event kind and its fields (the worker adds the time it took)
    say: tuple[str, dict] | None = None
    #: the event field that gets the milliseconds the mode took, which also count in the
    #: session's inference figures; None: nothing was inferred worth counting
    timed_as: str | None = None
    silence: bool = False  #: the answer falls silent here to wait for the player: All Notes Off


class Mode(Protocol):
    #: True: the engine asks for each step while it is open (``heard``), and the answer sounds
    #: a listen window after the step's boundary; fixed for the mode's life
    listens: bool
    #: the mode's sampling configuration (``inference.sampling_config``): read, and set whole
    #: live, taking effect from the next step (or pass, or answer)
    sampling: Sampling

    def heard(self, k: int, phase: int, melody: np.ndarray, played: np.ndarray) -> Reply | None:
        """Clock step ``k`` as played so far; the answer for step k. Only a mode that listens."""

    def closed(self, k: int, index: int, phase: int, melody: np.ndarray, played: np.ndarray) -> Reply | None:
        """Clock step ``k`` closed (``index``: counted from the end of the count-in; ``phase``
        its place in the bar; ``played``: what the answer sounded at it); the answer for step
        k + 1, or None if the mode sounds nothing new there (a listening mode)."""

    def sounded(self, step: np.ndarray) -> None:
        """What really sounds now: the answer, or what was held through a missed deadline."""

    def moved(self, restart: bool) -> None:
        """Everything was released (a panic, a DAW that moved); ``restart``: the song starts over."""

    def reset(self) -> None:
        """Forget the music so far (clear)."""

    def lock(self, on: bool) -> None: ...

    def refresh(self) -> None: ...

    def end_call(self) -> None: ...


class Controls:
    """The controls of the protocol that a mode without them ignores."""

    listens = False

    def heard(self, k: int, phase: int, melody: np.ndarray, played: np.ndarray) -> Reply | None:
        return None

    def sounded(self, step: np.ndarray) -> None:
        pass

    def moved(self, restart: bool) -> None:
        pass

    def lock(self, on: bool) -> None:
        pass

    def refresh(self) -> None:
        pass

    def end_call(self) -> None:
        pass
