"""Where a MIDI message enters: the input thread. Every half millisecond it collects the player's
messages (see ports.MidiInput for why we poll), then: a DAW's clock and transport to the
external clock, notes to the player clock when it follows the player, notes and the pedal to
the quantiser (``quantize.py``: where a message becomes a grid step), everything the player
plays to the recorder."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import mido

from accompanist.limits import channel_to_user
from accompanist.live.clock import ExternalClock, InternalClock
from accompanist.live.control_input import ControlInput
from accompanist.live.events import EventBus
from accompanist.live.player_clock import PlayerClock
from accompanist.live.port_set import PortSet
from accompanist.live.quantize import InputQuantizer
from accompanist.live.recorder import Recorder
from accompanist.live.settings import Settings, is_players
from accompanist.live.timing import POLL
from accompanist.live.transport import TRANSPORT, apply_transport


class InputThread:
    def __init__(
        self,
        settings: Callable[[], Settings],
        ports: PortSet,
        clock: InternalClock | ExternalClock | PlayerClock,
        quantizer: InputQuantizer,
        qlock: threading.Lock,
        recorder: Recorder,
        bus: EventBus,
        lead: float,
        controls: ControlInput | None = None,
    ) -> None:
        self.settings, self.ports, self.quantizer, self.qlock = settings, ports, quantizer, qlock
        self.recorder, self.bus, self.lead, self.controls = recorder, bus, lead, controls
        self.ext = clock if isinstance(clock, ExternalClock) else None
        self.follower = clock if isinstance(clock, PlayerClock) else None  #: hears every strike first
        self.early = settings().early
        self.feedback_warned = False

    def run(self, running: threading.Event) -> None:
        while running.is_set():
            batch = self.ports.poll(time.perf_counter())
            if not batch:
                time.sleep(POLL)
                continue
            for t, msg in batch:
                # what comes in was sent about as long before as our own sends go early (the
                # same JACK period lies between): notes and clock alike are read that much earlier
                try:
                    self._take(t - self.lead, msg)
                except Exception as exc:  # a strange message is reported, never fatal
                    self.bus.error(f"input message {msg!r} skipped: {exc}")

    def _take(self, t: float, msg: mido.Message) -> None:
        kind = msg.type
        if kind in TRANSPORT:
            if self.ext is not None:
                with self.qlock:
                    apply_transport(self.ext, kind, t, msg)
                    if kind in ("start", "continue", "songpos"):
                        # here, not on the clock thread: a note in the same JACK cycle as Start
                        # (a DAW's track playing the melody) is fed next
                        # notes struck up to ``early`` before it count for its first step, as ever
                        self.quantizer.restart(max(0, self.ext.step_at(t + self.early)) - 1, since=t - self.early)
            return
        if self.controls is not None and self.controls.take(msg):
            return  # an action: never a note of the melody, nor of the recording
        if not self._hears(msg):
            return
        if kind in ("note_on", "note_off"):
            self.ports.monitor(msg)
            if self.follower is not None and kind == "note_on" and msg.velocity:
                self.follower.onset(t)  # before the quantiser: the first note is step 0
            elif self.follower is not None:
                self.follower.release(t)
        with self.qlock:
            self.quantizer.feed(t, msg)
        self.recorder.played(t, msg)
        if kind in ("note_on", "note_off"):
            self.bus.emit("note_in", note=msg.note, velocity=msg.velocity if kind == "note_on" else 0, t=t)

    def _hears(self, msg: mido.Message) -> bool:
        """Is this the player? A channel message counts only on the input channel (default:
        any but the answer's). The answer's own channel coming in is a feedback loop: said once."""
        channel = getattr(msg, "channel", None)
        if channel is None:
            return True
        s = self.settings()
        heard = is_players(s, channel)
        # only notes mean a loop: a DAW sends CC 64 and CC 123 on all 16 channels at stop and locate
        if channel == s.channel and not heard and msg.type == "note_on" and not self.feedback_warned:
            self.feedback_warned = True
            ch = channel_to_user(s.channel)
            self.bus.emit(
                "warning",
                text=f"notes come in on the answer's own channel {ch} and are ignored: either the answer is looped "
                "back (a DAW track monitoring MIDI, or accompanist-out connected to accompanist-in: disconnect it), "
                f"or your keyboard plays on channel {ch} (give the answer another: --channel N, or hear only "
                f"your keyboard's: --in-channel {ch})",
            )
        if not heard and msg.type == "note_on" and msg.velocity:
            self.bus.emit("note_ignored", note=msg.note, channel=channel)  # the bar line counts them
        return heard
