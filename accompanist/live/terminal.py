"""Single keys from the terminal while `accompanist live` plays: lock, refresh and clear the loop,
panic, nudge the temperature, quit.

The terminal is put in cbreak mode (keys arrive one at a time, unechoed; Ctrl-C still interrupts)
and restored on stop. Where stdin is not a terminal (a pipe, CI, a service) or on Windows, there
are no keys: the session runs the same, and Ctrl-C stops it.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable

from accompanist.errors import AccompanistError

HELP = "keys: l lock/unlock loop  r refresh loop  c clear  p panic  [ ] temperature -/+0.1  q quit"
TEMPERATURE_STEP = 0.1


def key_action(engine, key: str) -> str | None:
    """Do what ``key`` asks of the engine; the line to show, or None for a key that means nothing."""
    if key == "l":
        engine.lock(not engine.locked)
        return "loop locked: the answer repeats" if engine.locked else "loop unlocked: each pass is harmonised anew"
    if key == "r":
        engine.refresh()
        return "refresh: the pass now playing is harmonised afresh when it closes"
    if key == "c":
        engine.clear()
        return "cleared: the loop starts over, nothing sounding"
    if key == "p":
        engine.panic()
        return "panic: every note released"
    if key in "[]":
        t = round(engine.temperature + (TEMPERATURE_STEP if key == "]" else -TEMPERATURE_STEP), 2)
        try:
            engine.set(temperature=t)
        except AccompanistError as exc:
            return str(exc)
        return f"temperature {t:g}"
    if key in "?h":
        return HELP
    return None


class TerminalKeys:
    """Reads keys on a thread of its own and hands each to ``on_key``; ``q`` calls ``on_quit``."""

    def __init__(self, on_key: Callable[[str], None], on_quit: Callable[[], None]):
        self.on_key, self.on_quit = on_key, on_quit
        self._saved = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """True if keys will be read (stdin is a terminal, not on Windows)."""
        if os.name == "nt" or not sys.stdin.isatty():
            return False
        import termios
        import tty

        fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        self._thread = threading.Thread(target=self._run, args=(fd,), name="accompanist-keys", daemon=True)
        self._thread.start()
        return True

    def _run(self, fd: int) -> None:
        import select

        while not self._stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            data = os.read(fd, 32)
            if not data:
                return  # the terminal went away
            for key in data.decode(errors="ignore").lower():
                if key == "q":
                    self.on_quit()
                    return
                self.on_key(key)

    def stop(self) -> None:
        self._stop.set()
        if self._saved is not None:
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None
