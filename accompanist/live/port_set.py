"""The session's ports, opened together and closed once: the player's input, the answer's MIDI
output, the clicks' port, and the synth. Ports opened by name are watched: one that goes is said
and everything sounding released; the engine plays on, and reopens the port when it comes back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import mido

from accompanist.errors import AccompanistError
from accompanist.live.events import EventBus
from accompanist.live.input_guard import InputGuard
from accompanist.live.output import PortSink, Sink
from accompanist.live.settings import Settings


def name_free(name: str, api: str) -> None:
    """Refuse, in one line, a client name another program (a second accompanist) holds on JACK:
    JACK would rename ours ``NAME-in-01`` and notes meant for one would reach the other."""
    from accompanist.live.ports import list_ports, resolve_api

    try:
        if resolve_api(api) != "jack":
            return
        ports = list_ports("jack", own="")
    except Exception:  # no server, or it went: opening the ports says so in its own words
        return
    clients = {p.split(":", 1)[0] for p in ports.inputs + ports.outputs}
    taken = sorted(c for c in clients if c in (f"{name}-in", f"{name}-out", f"{name}-click-out", f"{name}-synth"))
    if taken:
        raise AccompanistError(
            f"JACK has a client named {taken[0]} already (another accompanist?): "
            f"give this one a name of its own, e.g. --name {name}2"
        )


class PortSet:
    def __init__(self, s: Settings, guard: InputGuard, extra_sinks: list[Sink]) -> None:
        """Open every port the settings name; if one fails, those already open are closed again."""
        from accompanist.live.ports import open_input, open_output

        self.settings, self.guard = s, guard
        self.in_port = self.out_port = self.click_port = None
        self.synth = None
        self.monitor_channel: int | None = None  #: the synth's channel for the player's own notes
        self.lock = threading.Lock()  #: held while the input port is polled or swapped
        self.sinks: list[Sink] = list(extra_sinks)
        name_free(s.client_name, s.api)
        try:
            self.in_port = open_input(s.inp, s.api, client_name=s.client_name)
            self.in_port.guard = guard
            if s.out is not None:
                self.out_port = open_output(s.out, s.api, client_name=s.client_name)
                self.sinks.append(PortSink(self.out_port, never=s.click_channel if s.click_out else None))
            if s.click_out:
                self.click_port = open_output(s.click_out, s.api, client_name=f"{s.client_name}-click")
                self.sinks.append(PortSink(self.click_port, only=s.click_channel))
            if s.synth:
                self._open_synth(s)
        except BaseException:
            self.close()
            raise

    def _open_synth(self, s: Settings) -> None:
        from accompanist.live.synth import LiveSynth

        self.synth = LiveSynth(s.soundfont, client=s.client_name, ports=s.synth_ports)
        self.synth.volume(s.synth_volume)
        self.sinks.append(self.synth)
        monitor = s.monitor if s.monitor is not None else s.out is None
        if monitor:  # the player's own notes on a channel of their own, piano
            self.monitor_channel = 0 if s.channel != 0 else 2
            self.synth.send(mido.Message("program_change", channel=self.monitor_channel, program=0))

    @property
    def in_name(self) -> str:
        return getattr(self.in_port, "name", self.settings.inp)

    @property
    def out_name(self) -> str | None:
        if self.out_port is None:
            return None
        if self.settings.out == "virtual":  # mido names it "out"; others see it by its full name
            return f"{self.settings.client_name}-out:out"
        return getattr(self.out_port, "name", None)

    @property
    def click_name(self) -> str | None:
        if self.click_port is None:
            return None
        if self.settings.click_out == "virtual":
            return f"{self.settings.client_name}-click-out:out"
        return getattr(self.click_port, "name", None)

    def poll(self, now: float) -> list[tuple[float, mido.Message]]:
        with self.lock:
            return self.in_port.poll(now)

    def monitor(self, msg: mido.Message) -> None:
        """The player's note, to the synth when it sounds them."""
        if self.monitor_channel is not None:
            self.synth.send(msg.copy(channel=self.monitor_channel))

    def latency(self) -> float:
        """Seconds to send early: the setting, else half a JACK period (and at most half the
        model's deadline: a long period, a big JACK buffer, must not eat all of it)."""
        s = self.settings
        if s.latency is not None:
            return s.latency
        if getattr(self.out_port, "name", None) is None:
            return 0.0
        from accompanist.live.ports import jack_period, resolve_api

        period = jack_period() if resolve_api(s.api) == "jack" else None
        return min(period / 2, s.early / 2) if period else 0.0

    def watch(self, running: threading.Event, on_lost: Callable[[], None], reopen_output, bus: EventBus) -> None:
        """Every half second: is each port we opened by name still there? A port that goes is
        said and ``on_lost`` releases everything sounding; a port that comes back is reopened
        (the output through ``reopen_output``, the scheduler's, so nothing is sent in between).
        Virtual ports are ours and cannot go."""
        from accompanist.live.ports import VIRTUAL, open_input, open_output, output_targets

        s = self.settings
        lost = {"input": False, "output": False}
        in_name = getattr(self.in_port, "name", None)
        out_name = getattr(self.out_port, "name", None)
        while running.is_set():
            time.sleep(0.5)
            try:
                if s.inp != VIRTUAL and in_name:
                    with self.lock:
                        here = in_name in self.in_port.sources()
                    if not here and not lost["input"]:
                        lost["input"] = True
                        on_lost()
                        bus.emit("port", port=in_name, direction="input", state="lost")
                    elif here and lost["input"]:
                        with self.lock:  # closed first, so the new one keeps our client name
                            self.in_port.close()
                            self.in_port = open_input(in_name, s.api, client_name=s.client_name)
                            self.in_port.guard = self.guard
                        lost["input"] = False
                        bus.emit("port", port=in_name, direction="input", state="back")
                if self.out_port is not None and s.out not in (None, VIRTUAL) and out_name:
                    here = out_name in output_targets(self.out_port)
                    if not here and not lost["output"]:
                        lost["output"] = True
                        on_lost()  # the synth, if any, still hears it; the port cannot
                        bus.emit("port", port=out_name, direction="output", state="lost")
                    elif here and lost["output"]:
                        self.out_port = reopen_output(
                            self.out_port, lambda: open_output(out_name, s.api, client_name=s.client_name)
                        )
                        lost["output"] = False
                        bus.emit("port", port=out_name, direction="output", state="back")
            except Exception as exc:  # a port that flickers must not end the session
                bus.error(f"port watch: {exc}")

    def close(self) -> None:
        """Close what is open, once (a failed start and a stop may both ask)."""
        for p in (self.in_port, self.out_port, self.click_port):
            if p is not None:
                try:
                    p.close()
                except Exception:
                    pass
        self.in_port = self.out_port = self.click_port = None
        if self.synth is not None:
            self.synth.close()
            self.synth = None
