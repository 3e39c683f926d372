"""Where the grid's steps fall in time: an internal tempo, or the DAW's MIDI clock.

Times are ``time.perf_counter()`` seconds. A clock answers one question, ``boundary(k)``: when
does step k begin. The engine's clock thread sleeps until those times; nothing else decides time.

Internal: a tempo in bpm and a start time; a tempo change takes effect at the next step boundary,
re-anchored there, so no step already planned moves. External: the DAW sends 24 clock ticks a
quarter note, with Start, Stop, Continue and Song Position Pointer; the clock keeps the time of
the last tick and a smoothed tick interval, and predicts step boundaries from them, so steps land
on the DAW's 16ths even when single ticks jitter.
"""

from __future__ import annotations

import itertools
import math
import statistics
import threading
from dataclasses import dataclass

from accompanist.limits import LIMITS

TICKS_PER_BEAT = 24  #: MIDI clock
#: a running clock with no tick for this long (seconds, and ticks) is taken as lost
SILENCE, SILENT_TICKS = 0.25, 8
#: seconds between ticks at the fastest tempo (halved) and the slowest (doubled): nothing outside is a tempo
TICK_RANGE = (60 / LIMITS["bpm"].hi / TICKS_PER_BEAT / 2, 60 / LIMITS["bpm"].lo / TICKS_PER_BEAT * 2)


@dataclass
class InternalClock:
    """A steady grid: ``steps_per_beat`` steps a beat at ``bpm``, step 0 at ``start``.

    A tempo change starts a new segment at a step; the steps before it keep the tempo they were
    planned at (a boundary already planned never moves)."""

    bpm: float
    steps_per_beat: int
    start: float = 0.0

    def __post_init__(self) -> None:
        LIMITS["bpm"].check(self.bpm, ValueError)
        self._segments: list[tuple[int, float, float]] = [(0, self.start, self.bpm)]  #: (step, time, bpm)
        self._lock = threading.Lock()

    @property
    def step_seconds(self) -> float:
        return 60.0 / self.bpm / self.steps_per_beat

    def _seconds(self, bpm: float) -> float:
        return 60.0 / bpm / self.steps_per_beat

    def _segment(self, at: int | float, by_time: bool) -> tuple[int, float, float]:
        """The segment that holds a step (or a time): the last one starting at or before it."""
        found = self._segments[0]
        for seg in self._segments[1:]:
            if (seg[1] if by_time else seg[0]) <= at:
                found = seg
        return found

    def boundary(self, k: int) -> float:
        with self._lock:
            step, t, bpm = self._segment(k, by_time=False)
            return t + (k - step) * self._seconds(bpm)

    def set_tempo(self, bpm: float, from_step: int) -> None:
        """Change tempo from step ``from_step`` on (the engine passes the next unplanned step)."""
        LIMITS["bpm"].check(bpm, ValueError)
        from_step = max(from_step, 0)
        t = self.boundary(from_step)
        with self._lock:
            self._segments = [seg for seg in self._segments if seg[0] < from_step]
            self._segments.append((from_step, t, bpm))
            self.bpm = bpm

    def step_at(self, t: float) -> int:
        """The step sounding at time t (floor)."""
        with self._lock:
            step, t0, bpm = self._segment(t, by_time=True)
            return step + int((t - t0) // self._seconds(bpm))


class ExternalClock:
    """Follows MIDI clock. ``tick(t)`` for every 0xF8 at time t; ``start(t)``, ``stop()``,
    ``resume(t)`` and ``song_position(beats16)`` for the transport messages.

    A tick's stamp is when we saw it, which is late by however long the input thread waited
    for its turn (usually under a millisecond, now and then several), and a late JACK cycle can
    drop a tick on the way. So the tempo is first learned from the stamps of ``WARM`` intervals
    (in a third of a beat, not drawn slowly from the starting guess): a least-squares line over
    their tick numbers, where an interval of two or more followed by a whole one is a lost tick
    and counted. Then tick times and the interval are filtered by a delay-locked loop of
    ``bandwidth`` Hz (F. Adriaensen, "Using a DLL to filter time", LAC 2005): each stamp moves
    the estimate by a fraction of its error, so one late stamp barely moves the grid, and a stall
    and its burst (late, then early) are neither a tempo nor a loss. When the error stays over
    half an interval, the same way, for ``RELEARN`` ticks running, either ticks were lost (each
    stamp an interval after the last, its least stalled ones late by the same whole number of
    intervals: they are counted, ``lost``) or the DAW changed its tempo faster than the loop
    follows (late by parts of an interval, later and later: a jump, a steep ramp: the tempo is
    learned again); while stalls leave it unclear, up to ``DECIDE`` stamps are waited for. A
    boundary is the filtered time of the last tick plus the ticks still to come times the
    filtered interval: where the DAW's tick for it will fall."""

    WARM = 8
    RELEARN = 3
    DECIDE = 8  #: late stamps in a row after which a trend that stalls cannot explain is a tempo

    def __init__(self, steps_per_beat: int, bandwidth: float = 0.5, initial_bpm: float = 120.0):
        if TICKS_PER_BEAT % steps_per_beat:
            raise ValueError(f"{steps_per_beat} steps a beat do not divide MIDI clock's 24 ticks")
        self.steps_per_beat = steps_per_beat
        self.ticks_per_step = TICKS_PER_BEAT // steps_per_beat
        self.bandwidth = bandwidth
        self.interval = 60.0 / initial_bpm / TICKS_PER_BEAT
        self.running = False
        self.ticks = 0  #: ticks since song position 0
        self.last_tick: float | None = None
        #: counts Start, Continue and Song Position Pointer: each puts the grid somewhere new,
        #: and the engine re-finds its step when this changes
        self.generation = 0
        self.lost = 0  #: ticks found lost on the way and counted in
        #: (tick number, stamp) of the first tick since Start, Continue or a song position
        self.first_tick: tuple[int, float] | None = None
        #: stamps since learning the tempo began ([]: from the next tick; None: learned)
        self._learning: list[float] | None = []
        self._learned_from = 0  #: the tick number of the first of them
        self._late: list[tuple[int, float, float]] = []  #: (tick, stamp, error) late in a row
        self._late_from = (0, 0.0, 0.0)  #: (tick, time, interval) before they began
        self._start_time = 0.0
        self._heard = 0.0  #: when the last tick itself came (for silence)
        self._lock = threading.Lock()

    @property
    def bpm(self) -> float:
        return 60.0 / (self.interval * TICKS_PER_BEAT)

    @property
    def learned(self) -> bool:
        """The tempo is the DAW's, learned from its ticks since the last Start or Continue (a
        guess, or the last one learned, until then)."""
        return self._learning is None

    def start(self, t: float) -> None:
        with self._lock:
            self.ticks, self.running, self.last_tick = 0, True, None
            self._start_time = t
            self.generation += 1
            self._late, self._learning = [], []  # the DAW's tempo may have changed while it was stopped

    def resume(self, t: float) -> None:
        """Continue: the next tick is the one after the last (or the Song Position's)."""
        with self._lock:
            if self.last_tick is not None:
                self.ticks += 1
            self.running, self.last_tick = True, None
            self._start_time = t
            self.generation += 1
            self._late, self._learning = [], []

    def stop(self) -> None:
        with self._lock:
            self.running = False

    def song_position(self, sixteenths: int, t: float) -> None:
        """Song Position Pointer at time t: MIDI beats (16ths) since the song's start."""
        with self._lock:
            self.ticks = sixteenths * 6
            self.last_tick = None  # the tempo stands: a song position moves the grid, not its pace
            self._late = []
            if self._learning is not None:
                self._learning = []
            self._start_time = t
            self.generation += 1

    def tick(self, t: float) -> None:
        with self._lock:
            if not self.running:
                return
            self._heard = t
            if self.last_tick is None:  # the first tick after Start, Continue or a song position
                self.last_tick = t  # is the position itself
                self.first_tick = (self.ticks, t)
                if self._learning is not None:
                    self._learning, self._learned_from = [t], self.ticks
                return
            self.ticks += 1
            if self._learning is not None:
                self._learn(t)
                return
            error = t - self.last_tick - self.interval
            if abs(error) > self.interval / 2:  # held, not believed, until it is explained
                if self._late and (error > 0) != (self._late[0][2] > 0):
                    self._late = []  # a stall and its burst (late, then early): neither tempo nor loss
                if not self._late:
                    self._late_from = (self.ticks - 1, self.last_tick, self.interval)
                self._late.append((self.ticks, t, error))
                self.last_tick += self.interval
                if len(self._late) >= self.RELEARN:
                    verdict = self._lost_or_moved()
                    if verdict == "moved" or (verdict is None and len(self._late) >= self.DECIDE):
                        # the DAW's tempo moved: learn it again from here
                        self._learning, self._learned_from, self.last_tick = [t], self.ticks, t
                    if verdict is not None or len(self._late) >= self.DECIDE:
                        self._late = []
                return
            self._late = []
            w = 2 * math.pi * self.bandwidth * self.interval
            self.last_tick += self.interval + math.sqrt(2) * w * error
            self.interval += w * w * error

    def _lost_or_moved(self) -> str | None:
        """Stamps late in a row: "lost" when ticks were lost on the way (each stamp late by a
        whole number of intervals from where the grid was, the newest two alike: counted, and
        on from there), "moved" when the DAW's tempo moved (a stamp
        sooner than whole ticks allow: a slower tempo makes each later by a part of an interval),
        None while the stamps cannot yet say (a stall makes stamps later still, by any amount,
        until its burst; a second tick lost inside the run raises the number by one).
        A stamp is never early, so the number is read from the newest, least stalled, stamps."""
        ticks, base, interval = self._late_from
        late = [(t - base) / interval - (k - ticks) for k, t, _ in self._late]
        # the ticks lost by each stamp (never early, by more than jitter), no more than any later
        # stamp shows (a stall only delays a stamp, by any amount)
        whole = list(itertools.accumulate(reversed([math.floor(x + 0.25) for x in late]), min))[::-1]
        least = sorted(late[-4:])[:2]  # the newest stamps least delayed by a stall
        growing = all(b - a > 0.02 for a, b in itertools.pairwise(late))
        if whole[-1] < 1 or (late[0] < 0.75 and growing):
            return "moved"  # late by a part of an interval, later and later: a slower tempo
        if least[1] - least[0] > 0.1 or least[0] - whole[-1] > 0.3:
            return None
        missing = whole[-1]
        self.ticks += missing
        self.lost += missing
        self.interval = interval  # the loop took the gap for a slower tempo: it was not
        self.last_tick = base + (self.ticks - ticks) * interval
        return "lost"

    def _learn(self, t: float) -> None:
        """The tempo from the stamps since learning began: the median interval finds the scale,
        an interval of two or more (followed by a whole one, so not a stall and its burst) is
        ticks lost on the way, and the least-squares line through the stamps over their tick
        numbers gives the interval and the last tick's time (jitter spread over all of them,
        not borne by the first and the last)."""
        stamps = self._learning
        stamps.append(t)
        gaps = [b - a for a, b in itertools.pairwise(stamps)]
        typical = statistics.median(gaps)
        numbers = [0]
        for i, gap in enumerate(gaps):
            whole = round(gap / typical)
            followed = i + 1 < len(gaps) and gaps[i + 1] > 0.6 * typical
            lost = whole >= 2 and abs(gap / typical - whole) < 0.3 and followed
            numbers.append(numbers[-1] + (whole if lost else 1))
        self.ticks = self._learned_from + numbers[-1]
        if len(gaps) == 1:
            if TICK_RANGE[0] <= gaps[0] <= TICK_RANGE[1]:
                self.interval = gaps[0]
            self.last_tick = t
            return
        mean_n, mean_t = statistics.fmean(numbers), statistics.fmean(stamps)
        spread = sum((k - mean_n) ** 2 for k in numbers)
        slope = sum((k - mean_n) * (s - mean_t) for k, s in zip(numbers, stamps, strict=True)) / spread
        if TICK_RANGE[0] <= slope <= TICK_RANGE[1]:
            self.interval = slope
        self.last_tick = mean_t + (numbers[-1] - mean_n) * self.interval
        if len(gaps) >= self.WARM:
            self.lost += numbers[-1] - len(gaps)
            self._learning = None

    def silent(self, now: float) -> bool:
        """Running, but no tick for a while (the DAW crashed, a cable came out): steps
        predicted now would be guesses, not the DAW's 16ths."""
        with self._lock:
            last = max(self._heard, self._start_time)
            return self.running and now - last > max(SILENCE, SILENT_TICKS * self.interval)

    def began(self, k: int) -> float:
        """When step k began, as the start of a take: the DAW's first tick since it started or
        moved, if that tick opened step k, or else the grid's time for it. The grid's time is a
        fit, a hair after the tick's own stamp now and then; a note the DAW sent with that tick
        (in the same JACK cycle) must not fall before its take begins."""
        at = self.boundary(k)
        with self._lock:
            if self.first_tick is not None and self.first_tick[0] == k * self.ticks_per_step:
                at = min(at, self.first_tick[1])
        return at

    def boundary(self, k: int) -> float:
        """Predicted start of step k (steps since song position 0)."""
        with self._lock:
            base = self.last_tick if self.last_tick is not None else self._start_time
            return base + (k * self.ticks_per_step - self.ticks) * self.interval

    def step_at(self, t: float) -> int:
        with self._lock:
            base = self.last_tick if self.last_tick is not None else self._start_time
            return int((self.ticks + (t - base) / self.interval) // self.ticks_per_step)
