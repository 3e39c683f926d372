"""Ports opened by name, watched: one that goes is said and released, and reopened when it
comes back (a part of ``Engine``, as a mixin)."""

from __future__ import annotations

import time


class PortWatch:
    def _port_watch(self) -> None:
        """Every half second: is each port we opened by name still there? A port that goes is
        reported and everything sounding is released; the engine plays on, and reopens the port
        when it comes back. Virtual ports are ours and cannot go."""
        from accompanist.live.ports import VIRTUAL, open_input, open_output, output_targets

        s = self.settings
        lost = {"input": False, "output": False}
        in_name = getattr(self.in_port, "name", None)
        out_name = getattr(self.out_port, "name", None)
        while self._running.is_set():
            time.sleep(0.5)
            try:
                if s.inp != VIRTUAL and in_name:
                    with self._port_lock:
                        here = in_name in self.in_port.sources()
                    if not here and not lost["input"]:
                        lost["input"] = True
                        self.panic()
                        self._emit("port", port=in_name, direction="input", state="lost")
                    elif here and lost["input"]:
                        with self._port_lock:  # closed first, so the new one keeps our client name
                            self.in_port.close()
                            self.in_port = open_input(in_name, s.api, client_name=s.client_name)
                            self.in_port.guard = self.guard
                        lost["input"] = False
                        self._emit("port", port=in_name, direction="input", state="back")
                if self.out_port is not None and s.out not in (None, VIRTUAL) and out_name:
                    here = out_name in output_targets(self.out_port)
                    if not here and not lost["output"]:
                        lost["output"] = True
                        self.panic()  # the synth, if any, still hears it; the port cannot
                        self._emit("port", port=out_name, direction="output", state="lost")
                    elif here and lost["output"]:
                        self.out_port = self.output.reopen_port(
                            self.out_port, lambda: open_output(out_name, s.api, client_name=s.client_name)
                        )
                        lost["output"] = False
                        self._emit("port", port=out_name, direction="output", state="back")
            except Exception as exc:  # a port that flickers must not end the session
                self._error(f"port watch: {exc}")

    def _close_ports(self) -> None:
        """Close what is open, once (a failed start and a stop may both ask)."""
        for p in (self.in_port, self.out_port, self.click_port):
            if p is not None:
                try:
                    p.close()
                except Exception:
                    pass
        if self.synth is not None:
            self.synth.close()
            self.synth = None
