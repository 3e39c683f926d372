"""What the input port lets in: a bound on every kind of message, so a flood never stalls the clock.

Anything on the machine can write to our input port: a controller streaming aftertouch, a pitch
wheel, a MIDI loop, a device gone mad. Each message the input thread decodes costs tens of
microseconds with the GIL held, and the clock thread needs that GIL on time. So raw messages are
sorted by their status byte before they are decoded, and:

* kinds the engine never reads (pitch bend, aftertouch, channel pressure, system common, sysex,
  active sensing, and MIDI clock and transport unless it follows a DAW's clock) are *ignored*,
  counted by kind, at the cost of one lookup;
* kinds it reads pass while their kind is under its rate (a token bucket holding one second's
  worth), and the excess is *dropped*, counted by kind: note-ons over 1,000 a second (a trill by
  two hands is 30), control changes over 1,000 (a fast mod-wheel sweep is about 100), program
  changes over 100 (a control may pick a mode or a model with one; the recording keeps the rest),
  clock ticks over 1,000 (a DAW at 300 bpm ticks 120 times a second);
* note-offs (and note-ons of velocity 0) are never dropped: a note the player ends must end; nor
  are the pedals (sustain, sostenuto, soft: a pedal let up ends notes), channel mode messages
  (All Notes Off) and, following a DAW, Start, Stop, Continue and Song Position;
* with an input channel set (``--in-channel``), channel messages on any other channel are ignored.

Each poll also reads at most ``MAX_BATCH`` messages; the rest wait in rtmidi's own queue (4,096
messages, ``ports.open_input``) for the next poll half a millisecond later.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

#: messages taken from rtmidi's queue in one poll
MAX_BATCH = 512
#: messages a second let through, by kind (one second's worth may come at once)
RATES = {"note_on": 1000.0, "control_change": 1000.0, "program_change": 100.0, "clock": 1000.0}

#: data bytes after each status (channel messages by their high nibble; system common)
CHANNEL_DATA = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}
COMMON_DATA = {0xF1: 1, 0xF2: 2, 0xF3: 1, 0xF6: 0}

_IGNORED_BY_STATUS = {
    0xA0: "polytouch",
    0xD0: "aftertouch",
    0xE0: "pitchwheel",
}
_CLOCK = {0xF8: "clock", 0xFA: "start", 0xFB: "continue", 0xFC: "stop", 0xF2: "songpos"}


def _length(status: int) -> int | None:
    if status < 0xF0:
        return 1 + CHANNEL_DATA[status & 0xF0]
    if status >= 0xF8:
        return 1
    size = COMMON_DATA.get(status)
    return None if size is None else 1 + size


@dataclass
class _Bucket:
    rate: float
    tokens: float
    at: float | None = None

    def take(self, t: float) -> bool:
        if self.at is not None:
            self.tokens = min(self.rate, self.tokens + (t - self.at) * self.rate)
        self.at = t if self.at is None else max(self.at, t)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class InputGuard:
    """``admit(data, t)``: may raw message ``data``, arrived at ``t`` seconds, be decoded?"""

    follow_clock: bool = False
    channel: int | None = None  #: the player's channel; None: any
    rates: dict[str, float] = field(default_factory=lambda: dict(RATES))
    ignored: Counter = field(default_factory=Counter)  #: kinds the engine never reads
    dropped: Counter = field(default_factory=Counter)  #: kinds it reads, over their rate

    def __post_init__(self) -> None:
        self._buckets = {k: _Bucket(r, r) for k, r in self.rates.items()}

    def admit(self, data, t: float) -> bool:
        """False: not worth decoding (counted). A packet that is not exactly one whole message
        (running status, several messages, a fragment) is always decoded: it may end a note."""
        if not data:
            return False
        status = data[0]
        if status < 0x80 or len(data) != _length(status):
            return True
        if status >= 0xF0:
            kind = _CLOCK.get(status)
            if kind is None or not self.follow_clock:
                self.ignored[kind or "system"] += 1
                return False
            return kind != "clock" or self._take("clock", kind, t)  # Start, Stop and Song Position always pass
        high = status & 0xF0
        if self.channel is not None and status & 0x0F != self.channel:
            self.ignored["other_channel"] += 1
            return False
        if high in _IGNORED_BY_STATUS:
            self.ignored[_IGNORED_BY_STATUS[high]] += 1
            return False
        if high == 0x80 or (high == 0x90 and len(data) > 2 and data[2] == 0):
            return True  # a note ends: never dropped
        if high == 0x90:
            return self._take("note_on", "note_on", t)
        if high == 0xC0:
            return self._take("program_change", "program_change", t)
        if data[1] in (64, 66, 67) or data[1] >= 120:
            return True  # the pedals (a pedal up ends notes) and channel mode messages: never dropped
        return self._take("control_change", "control_change", t)

    def _take(self, bucket: str, kind: str, t: float) -> bool:
        if self._buckets[bucket].take(t):
            return True
        self.dropped[kind] += 1
        return False

    def counts(self) -> dict[str, dict[str, int]]:
        return {"ignored": dict(self.ignored), "dropped": dict(self.dropped)}
