"""Where a MIDI message enters: the engine's input thread, as a part of ``Engine`` (a mixin:
it reads the engine's port, clock, quantiser, recorder and settings)."""

from __future__ import annotations

import time

import mido

from accompanist.live.clock import ExternalClock
from accompanist.live.settings import POLL
from accompanist.live.transport import _transport


class InputThread:
    def _input_worker(self) -> None:
        """Collect the player's messages every half millisecond (see ports.MidiInput for why
        we poll), then: MIDI clock to the external clock, notes and pedal to the quantiser,
        everything to the recorder."""
        ext = self.clock if isinstance(self.clock, ExternalClock) else None
        while self._running.is_set():
            with self._port_lock:
                batch = self.in_port.poll(time.perf_counter())
            if not batch:
                time.sleep(POLL)
                continue
            for t, msg in batch:
                # what comes in was sent about as long before as our own sends go early (the
                # same JACK period lies between): notes and clock alike are read that much earlier
                t -= self.output.lead
                try:
                    kind = msg.type
                    if kind in ("clock", "start", "stop", "continue", "songpos"):
                        if ext is not None:
                            with self._qlock:
                                _transport(ext, kind, t, msg)
                                if kind in ("start", "continue", "songpos"):
                                    # here, not on the clock thread: a note in the same JACK cycle
                                    # as Start (a DAW's track playing the melody) is fed next
                                    self.quantizer.restart(max(0, ext.step_at(t + self.settings.early)) - 1)
                        continue
                    if not self._hears(msg):
                        continue
                    if self._monitor_channel is not None and kind in ("note_on", "note_off"):
                        self.synth.send(msg.copy(channel=self._monitor_channel))
                    with self._qlock:
                        self.quantizer.feed(t, msg)
                    self.recorder.played(t, msg)
                    if kind in ("note_on", "note_off"):
                        vel = msg.velocity if kind == "note_on" else 0
                        self._emit("note_in", note=msg.note, velocity=vel, t=t)
                except Exception as exc:  # a strange message is reported, never fatal
                    self._error(f"input message {msg!r} skipped: {exc}")

    def _hears(self, msg: mido.Message) -> bool:
        """Is this the player? A channel message counts only on the input channel (default:
        any but the answer's). The answer's own channel coming in is a feedback loop: said once."""
        channel = getattr(msg, "channel", None)
        if channel is None:
            return True
        s = self.settings
        heard = channel == s.in_channel if s.in_channel is not None else channel != s.channel
        if channel == s.channel and not heard and not self._feedback_warned:
            self._feedback_warned = True
            self._emit(
                "warning",
                text=f"the input carries notes on the answer's channel {s.channel + 1}: is the answer looped back "
                "(a DAW track monitoring MIDI, or accompanist-out connected to accompanist-in)? They are ignored",
            )
        return heard
