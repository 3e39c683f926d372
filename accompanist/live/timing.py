"""Every margin the live engine keeps time by, in one place, and the budget each step is planned to.

A step k of the grid runs from ``boundary(k)`` to ``boundary(k + 1)``. Around those boundaries:

* a note up to ``EARLY`` seconds before a boundary counts for the step beginning there (a player
  anticipating the beat), so step k closes at ``boundary(k + 1) - EARLY``: the model has those
  ``EARLY`` seconds to answer step k + 1;
* the output sends ``lead`` seconds early, what the way out adds on average (half a JACK period);
* a hearing duet model answers step k at ``boundary(k) + listen``, and is asked ``LISTEN_MARGIN``
  before that (besides the lead), the time inference may take inside a busy engine;
* an answer must be planned ``SEND_MARGIN`` before it leaves to be sent on time.
"""

from __future__ import annotations

from dataclasses import dataclass

#: seconds before a boundary that a note already counts for the step beginning there
EARLY = 0.03
#: A hearing duet model looks at step k this long before its answer must leave (besides the
#: output's own lead): the time inference may take inside a busy engine. Measured on 2 cores
#: (bench live, hearing model): median 2.2 ms, p99 5.0-5.3 ms, worst 10-14 ms; with 5 ms here 4 %
#: of the deadlines were missed.
LISTEN_MARGIN = 0.010
#: an answer must be planned at least this long before it leaves to be sent on time
SEND_MARGIN = 0.0005
#: seconds between looks at the input port
POLL = 0.0005
#: the scheduler stops sleeping this long before a message is due, and spins
SPIN = 0.0012
#: from start to the first boundary: the threads start before the first step, click or MIDI Start
FIRST_BOUNDARY = 0.2


@dataclass(frozen=True)
class StepBudget:
    """When each step's work is due, for one session's margins: made once when the mode or the
    listen window changes, read by the clock thread and the model worker."""

    early: float = EARLY  #: step k closes this long before boundary(k + 1)
    lead: float = 0.0  #: the output sends this long early
    listen: float = 0.0  #: a hearing answer sounds this long after its boundary (0: it anticipates)
    #: the mode answers each step's strikes with a step (duet): the lag a player feels is measured
    answers_steps: bool = False

    def close_at(self, next_boundary: float) -> float:
        """When the step that ends at ``next_boundary`` closes."""
        return next_boundary - self.early

    def listen_at(self, boundary: float, next_boundary: float) -> float:
        """When a hearing model is asked for the step that begins at ``boundary``: its listen
        window less the time inference and the way out need; never after the step closes (a
        listen window longer than a fast step)."""
        return min(boundary + self.listen - LISTEN_MARGIN - self.lead, self.close_at(next_boundary))

    def late_by(self, now: float, deadline: float) -> float | None:
        """Seconds an answer due to sound at ``deadline`` is late if planned ``now``; None when
        it can still leave on time."""
        leave = deadline - self.lead
        return now - leave if now > leave - SEND_MARGIN else None

    def left(self, now: float, deadline: float) -> float:
        """Seconds to spare before an answer due at ``deadline`` must leave."""
        return deadline - self.lead - now
