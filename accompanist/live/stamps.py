"""When each incoming message arrived, on the engine's clock (``time.perf_counter``).

rtmidi stamps every message on its own (JACK's or ALSA's) thread with the time since the
message before it; it gives no absolute time. Taking the newest message of a poll to have
arrived at the poll puts the whole batch late by however long the poller waited: half a
millisecond usually, but 4-8 ms a few times a minute on a virtual machine whose hypervisor
stalls the guest (measured on the development machine: a real-time thread sleeping 1 ms woke
more than 4 ms late 14 times in 30 s, idle). A DAW's clock ticks stamped that late move the
followed grid, and a note stamped late misses the listen window it was played in.

Adding up rtmidi's deltas gives each message's time on rtmidi's own clock, exactly; the
offset to ours is a constant, and each poll bounds it from above (a message cannot arrive after
it is polled). The least bound over the last ``WINDOW`` seconds is the estimate: a stalled poll
is simply not the least, and if rtmidi ever drops time (a message it could not queue takes its
delta with it) the estimate follows within the window.
"""

from __future__ import annotations

from collections import deque

#: seconds of polls over which the least bound is taken
WINDOW = 2.0


class ArrivalClock:
    def __init__(self, window: float = WINDOW):
        self.window = window
        self._t: float | None = None  #: the newest message's time on rtmidi's clock
        #: (poll time, bound) pairs with rising bounds: the front is the least in the window
        self._bounds: deque[tuple[float, float]] = deque()

    def stamp(self, deltas: list[float], now: float) -> list[float]:
        """Our times for a poll's messages, oldest first, given rtmidi's deltas and the poll's
        time ``now``."""
        times = []
        for d in deltas:
            self._t = 0.0 if self._t is None else self._t + d
            times.append(self._t)
        if not times:
            return []
        bound = now - times[-1]
        while self._bounds and self._bounds[-1][1] >= bound:
            self._bounds.pop()
        self._bounds.append((now, bound))
        while self._bounds[0][0] < now - self.window:
            self._bounds.popleft()
        offset = self._bounds[0][1]
        return [t + offset for t in times]
