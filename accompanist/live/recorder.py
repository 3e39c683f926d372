"""Every session on disk as it happens: the player's part and the accompaniment on named tracks of
a standard MIDI file, with the tempo map, rewritten atomically (write beside, then rename) at least
once a bar. A crash or a pulled plug loses at most the bar being played.

Times are the session's perf_counter seconds. They become ticks through the tempo map the
engine keeps here (the starting tempo, each change of the internal tempo, the DAW's tempo as it
drifts), so the file reads back on the grid it was played on and at the speed it was played.

A session can last hours: each event is encoded once, appended to its track's bytes, and a write
is then a header and three byte strings. Rewriting every event each bar (as mido would) costs a
second of CPU per bar after an hour, taken from the threads that keep time.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import mido

from accompanist.errors import AccompanistError

TICKS_PER_BEAT = 480
#: events younger than this wait for the next write: the input poller may still hold older ones
SETTLE = 0.1
KEPT = ("note_on", "note_off", "control_change", "program_change")  #: a DAW plays the session in its instruments
MIN_BPM, MAX_BPM = 4.0, 1000.0
#: seconds of tempo map kept for placing events (see ``Recorder._forget_tempi``)
TEMPO_MEMORY = 60.0


def vlq(n: int) -> bytes:
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


class _Track:
    """A track's encoded events so far, and the tick of the last one."""

    def __init__(self, head: list[mido.BaseMessage]):
        self.data = bytearray()
        self.tick = 0
        for m in head:
            self.add(0, m)

    def add(self, tick: int, msg: mido.BaseMessage) -> None:
        tick = max(tick, self.tick)  # a straggler older than the last event sounds with it
        self.data += vlq(tick - self.tick) + bytes(msg.bytes())
        self.tick = tick

    def chunk(self) -> bytes:
        body = bytes(self.data) + b"\x00\xff\x2f\x00"
        return b"MTrk" + len(body).to_bytes(4, "big") + body


class Recorder:
    def __init__(
        self, path: Path, bpm: float, start: float, program: int, channel: int, answer_name: str = "accompaniment"
    ):
        self.path = Path(path)
        self.start = start
        self.program, self.channel = program, channel
        #: tempo map: (seconds, ticks, bpm) at each change, in time order
        self._tempi: list[tuple[float, float, float]] = [(start, 0.0, bpm)]
        self._conductor = _Track([mido.MetaMessage("track_name", name="conductor"), _tempo(bpm)])
        self._written_bpm = bpm
        self._anchor: float | None = None  #: time of the last anchor, once there is one
        self._rebase = False  #: the first anchor is set: the next one says the file's first tempo
        self._player = _Track([mido.MetaMessage("track_name", name="player")])
        self._answer = _Track(
            [
                mido.MetaMessage("track_name", name=answer_name),
                mido.Message("program_change", channel=channel, program=program),
            ]
        )
        self._pending: list[tuple[float, int, _Track, mido.Message]] = []
        self._order = 0
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self.writes = 0
        self.events = 0  #: events written so far

    def begin_at(self, start: float) -> None:
        """The file's tick 0 is at ``start`` (before anything is played or planned)."""
        with self._lock:
            self.start = start
            self._tempi = [(start, 0.0, self._tempi[0][2])]

    def ticks(self, t: float) -> int:
        return _ticks(self._tempi, t)

    def tempo(self, t: float, bpm: float, tick: float | None = None) -> None:
        """From time t on, the music runs at ``bpm`` (t later than the last change).

        With ``tick`` (following a DAW), time t is exactly that tick of the file, from the DAW's
        song position: an anchor. The stretch since the last anchor then gets its true tempo, the
        one that puts both anchors where they belong, and events between are placed by it; so a
        tempo estimate's small errors never add up, and the file replays in the time it was
        played. Events after the last anchor wait for the next one (a beat), or for the end."""
        with self._lock:
            t0, tick0, old = self._tempi[-1]
            if t < t0 or (t == t0 and tick is not None):
                return
            if t == t0:  # a second change for the same step (a slider dragged): it replaces the first
                self._tempi[-1] = (t0, tick0, bpm)
                self._write_tempo(tick0, bpm)
                return
            if tick is None:
                if abs(bpm - old) < 1e-6:
                    return
                at = tick0 + (t - t0) * old / 60.0 * TICKS_PER_BEAT
                self._tempi.append((t, at, bpm))
                self._write_tempo(at, bpm)
                self._forget_tempi(t)
                return
            if self._anchor is None and len(self._tempi) == 1:
                # the first anchor: the stretch before it is no tempo anyone played (the guess,
                # then the wait for a whole bar); the first beat after it will say the file's
                self._rebase = True
            elif tick > tick0:
                # kept within what a tempo event can hold (mido: at most 2^24 - 1 us a beat, 3.6
                # bpm), whatever the anchors say (a DAW paused between two of them)
                real = min(max((tick - tick0) / TICKS_PER_BEAT / (t - t0) * 60.0, MIN_BPM), MAX_BPM)
                if self._rebase:
                    self._start_at(t0, tick0, real)
                self._tempi[-1] = (t0, tick0, real)
                self._write_tempo(tick0, real)
            self._rebase = self._rebase and len(self._tempi) == 1
            self._tempi.append((t, float(max(tick, tick0)), bpm))
            self._anchor = t
            self._forget_tempi(t)

    def _start_at(self, t: float, tick: float, bpm: float) -> None:
        """The file's tempo map starts at ``bpm``: its tick 0 is where that tempo puts it before
        the anchor (t, tick), and the conductor's first tempo is it (a DAW reads the file's
        tempo from its first event)."""
        self._tempi[0] = (t - tick / TICKS_PER_BEAT * 60.0 / bpm, 0.0, bpm)
        self._conductor = _Track([mido.MetaMessage("track_name", name="conductor"), _tempo(bpm)])
        self._written_bpm = bpm
        self._rebase = False

    def _forget_tempi(self, t: float) -> None:
        """Keep the tempo map's last ``TEMPO_MEMORY`` seconds (and the change in effect before
        them): following a DAW adds an anchor every step, 28,800 an hour, and every write copied
        them all. No event waits that long to be placed (``SETTLE``, then a bar)."""
        # and never past an event still waiting to be placed: a DAW stopped for minutes writes
        # nothing meanwhile, and the bar before its Stop is placed by anchors older than that
        cut = min([t - TEMPO_MEMORY, *(e[0] for e in self._pending)])
        drop = 0
        while drop + 1 < len(self._tempi) and self._tempi[drop + 1][0] <= cut:
            drop += 1
        if drop:
            del self._tempi[:drop]

    def _write_tempo(self, tick: float, bpm: float) -> None:
        if abs(bpm - self._written_bpm) > 0.005:
            self._conductor.add(int(round(tick)), _tempo(bpm))
            self._written_bpm = bpm

    def end_tick(self, t: float) -> int:
        """The file's tick at time t, and no earlier than any anchor already set."""
        with self._lock:
            return max(self.ticks(t), int(round(self._tempi[-1][1])))

    def played(self, t: float, msg: mido.Message) -> None:
        self._keep(t, self._player, msg)

    def answered(self, t: float, msg: mido.Message) -> None:
        self._keep(t, self._answer, msg)

    def _keep(self, t: float, track: _Track, msg: mido.Message) -> None:
        if msg.type in KEPT:
            with self._lock:
                self._order += 1
                self._pending.append((t, self._order, track, msg))

    def write(self, now: float | None = None) -> Path:
        """Encode the events older than ``now - SETTLE`` (all of them when ``now`` is None, at the
        end of a session) and write the file."""
        with self._write_lock:
            # the input and output threads take _lock for every message: hold it only to take
            # what is ready; the encoding (player and answer tracks are the writer's alone) and
            # the copying of a session's bytes happen outside it
            with self._lock:
                cut = float("inf") if now is None else now - SETTLE
                if self._anchor is not None and now is not None:
                    cut = min(cut, self._anchor)
                ready = sorted((e for e in self._pending if e[0] < cut), key=lambda e: (e[0], e[1]))
                self._pending = [e for e in self._pending if e[0] >= cut]
                tempi = list(self._tempi)
                conductor = self._conductor.chunk()
            for t, _, track, msg in ready:
                track.add(_ticks(tempi, t), msg)
            self.events += len(ready)
            tracks = [conductor, self._player.chunk(), self._answer.chunk()]
            head = b"MThd" + (6).to_bytes(4, "big") + (1).to_bytes(2, "big")
            head += len(tracks).to_bytes(2, "big") + TICKS_PER_BEAT.to_bytes(2, "big")
            _replace(self.path, head + b"".join(tracks))
            self.writes += 1
        return self.path


def _ticks(tempi: list[tuple[float, float, float]], t: float) -> int:
    """Time t as a tick of the file, through the tempo map (seconds, ticks, bpm)."""
    for t0, tick0, bpm in reversed(tempi):
        if t >= t0:
            return int(round(tick0 + (t - t0) * bpm / 60.0 * TICKS_PER_BEAT))
    return 0


def _tempo(bpm: float) -> mido.MetaMessage:
    return mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # a pulled plug: the rename must not land before the bytes
        os.replace(tmp, path)
    except OSError as exc:
        raise AccompanistError(f"{path}: cannot write the recording ({exc.strerror})") from None
    finally:
        tmp.unlink(missing_ok=True)


class RecordingWriter:
    """The one thread that writes the recording: woken once a bar (``soon``), it writes what
    has settled; ``close`` writes everything a last time. A write that fails is said, and the
    session goes on."""

    def __init__(self, recorder: Recorder, on_error: Callable[[str], None]) -> None:
        self.recorder, self.on_error = recorder, on_error
        self._wake = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, name="accompanist-recorder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def soon(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._done:
                return
            self._write(time.perf_counter())

    def _write(self, now: float | None) -> None:
        try:
            self.recorder.write(now)
        except Exception as exc:
            self.on_error(f"recording not written: {exc}")

    def close(self) -> None:
        """Stop the thread, then write everything."""
        self._done = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._write(None)
