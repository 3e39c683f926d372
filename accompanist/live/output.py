"""Where the answer leaves: a scheduler thread that sends each planned message at its time, to a
MIDI port and/or FluidSynth, and remembers what sounds so that every note it starts, it stops.

Waiting is a sleep to about a millisecond before the due time, then a short spin on
``perf_counter``: a plain sleep on a busy 2-core machine wakes late by a millisecond or more.
The spin yields the GIL at every turn: rtmidi's input callback runs on JACK's process thread and
needs the GIL, and a JACK cycle held up by it was seen to drop and repeat MIDI events on other
clients' ports (eight copies of one note-off where eight different messages were sent).
Every send records its error against the due time; the engine reports their percentiles.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable

import mido

from accompanist.live.timing import SPIN

ALL_NOTES_OFF = 123
#: timing errors kept for the figures: the last few hours of messages, not the whole session
KEEP_ERRORS = 200_000
#: MIDI clock and transport: a panic must not drop them, or a DAW following us would stumble
REALTIME = frozenset({"clock", "start", "stop", "continue", "songpos"})


class Sink:
    """Somewhere messages go: a mido output port, a FluidSynth, or a test's list."""

    def send(self, msg: mido.Message) -> None: ...


class PortSink(Sink):
    """A MIDI port; ``only`` / ``never``: the one channel it carries, or one it leaves out (the
    metronome on a port of its own: a DAW recording the answer must not record the clicks)."""

    def __init__(self, port, only: int | None = None, never: int | None = None):
        self.port, self.only, self.never = port, only, never

    def send(self, msg: mido.Message) -> None:
        channel = getattr(msg, "channel", None)
        if channel is not None and (
            (self.only is not None and channel != self.only) or (self.never is not None and channel == self.never)
        ):
            return
        self.port.send(msg)


class Scheduler:
    """Planned messages in time order; ``sinks`` get each at its due time, ``lead`` seconds early.

    ``lead`` is what the way out adds on average: JACK carries a message out at the start of
    its next period, half a period later on average, so sending that much early centres the
    arrival on the grid. ``on_sent`` and the recording see the grid time itself."""

    def __init__(
        self,
        sinks: list[Sink],
        on_error: Callable[[str], None] | None = None,
        on_sent: Callable[[float, mido.Message], None] | None = None,
        lead: float = 0.0,
    ):
        self.lead = lead
        self.sinks = sinks
        self.on_error = on_error or (lambda s: None)
        self.on_sent = on_sent or (lambda t, m: None)
        #: (send time, order, message, timed: False for ``soon``'s, which have no grid time)
        self._heap: list[tuple[float, int, mido.Message, bool]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        #: held while a message goes out and ``sounding`` follows it, so a panic from another
        #: thread never reads ``sounding`` between a note-on leaving and its being counted
        self._send_lock = threading.RLock()
        self._stop = False
        self._panics = 0  #: bumped by each panic, under the send lock
        self.sounding: dict[tuple[int, int], int] = {}  #: (channel, note) -> times struck
        self.channels: set[int] = set()
        self.errors: deque[float] = deque(maxlen=KEEP_ERRORS)  #: seconds late (negative: early) per message
        self.sent = 0
        self.timed = 0  #: messages timed against their due time (``errors`` holds the newest)
        self._thread = threading.Thread(target=self._run, name="accompanist-output", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def at(self, t: float, msg: mido.Message) -> None:
        with self._cv:
            heapq.heappush(self._heap, (t - self.lead, next(self._seq), msg, True))
            self._cv.notify()

    def soon(self, msg: mido.Message) -> None:
        """Send as soon as the output thread can, in order with what is planned, and untimed: a
        program change has no grid time to be late against (timed, the one sent at start counted
        as the session's worst lateness: 14 ms of a silent session's p99)."""
        with self._cv:
            heapq.heappush(self._heap, (time.perf_counter() - self.lead, next(self._seq), msg, False))
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stop and not self._heap:
                    self._cv.wait()
                if self._stop:
                    return
                due = self._heap[0][0]
                wait = due - time.perf_counter() - SPIN
                if wait > 0:
                    self._cv.wait(wait)
                    continue  # something earlier may have arrived
            while time.perf_counter() < due:
                time.sleep(0)  # spin, but hand the GIL over: JACK's process thread may be waiting for it
            with self._cv:
                if not self._heap or self._heap[0][0] != due:
                    continue
                _, _, msg, timed = heapq.heappop(self._heap)
                panics = self._panics
            with self._send_lock:
                # a panic between the pop and here has released everything: a note taken off the
                # heap before it must not sound after it (nobody would release it)
                if panics != self._panics and msg.type not in REALTIME and timed:
                    continue
                self._send_locked(msg, due if timed else None, self.lead)

    def now(self, msg: mido.Message) -> None:
        """Send at once, from the calling thread (a Stop as the session ends)."""
        self._send(msg)

    def _send(self, msg: mido.Message, due: float | None = None) -> None:
        with self._send_lock:
            self._send_locked(msg, due)

    def _send_locked(self, msg: mido.Message, due: float | None, lead: float = 0.0) -> None:
        """Send now; ``due`` is when it was to leave, ``due + lead`` its grid time."""
        for s in self.sinks:
            try:
                s.send(msg)
            except Exception as exc:  # a port that went away must not kill the output thread
                self.on_error(f"sending to {type(s).__name__} failed: {exc}")
        now = time.perf_counter()
        if due is not None:
            self.errors.append(now - due)
            self.timed += 1
        self.sent += 1
        # the time it sounds on the grid's terms: a panic's release, sent now, arrives as late as
        # a planned note sent ``lead`` early arrives on time (the recording must not put it first)
        self.on_sent(due + lead if due is not None else now + self.lead, msg)
        if msg.type == "note_on" and msg.velocity > 0:
            key = (msg.channel, msg.note)
            self.sounding[key] = self.sounding.get(key, 0) + 1
            self.channels.add(msg.channel)
        elif msg.type in ("note_on", "note_off"):
            key = (msg.channel, msg.note)
            if self.sounding.get(key, 0) > 1:
                self.sounding[key] -= 1
            else:
                self.sounding.pop(key, None)

    def reopen_port(self, old, opener: Callable[[], object]) -> object:
        """A port that came back: close ``old``, open its successor with ``opener`` and send to it
        from now on. Closing first lets the new port take the old one's client name (JACK would
        add "-01" beside a client of the same name); nothing is sent in between."""
        with self._send_lock:
            old.close()
            new = opener()
            for sink in self.sinks:
                if isinstance(sink, PortSink) and sink.port is old:
                    sink.port = new
        return new

    def panic(self) -> None:
        """Now: forget every planned note, release every sounding note, and send All Notes Off
        (CC 123) on every channel used. Planned MIDI clock stays."""
        with self._cv:
            self._heap = [e for e in self._heap if e[2].type in REALTIME or not e[3]]  # a program change stays
            heapq.heapify(self._heap)
        with self._send_lock:
            self._panics += 1
            for ch, note in list(self.sounding):
                self._send_locked(mido.Message("note_off", channel=ch, note=note, velocity=0), None)
            self.sounding.clear()
            for ch in sorted(self.channels):
                self._send_locked(mido.Message("control_change", channel=ch, control=ALL_NOTES_OFF, value=0), None)

    def stop(self) -> None:
        """Stop the output thread, then release everything (nothing can go out after that)."""
        with self._cv:
            self._stop = True
            self._heap.clear()
            self._cv.notify()
        if self._thread.is_alive():
            self._thread.join(2)
        self.panic()
