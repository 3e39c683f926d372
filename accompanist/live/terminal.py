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
from accompanist.limits import CHANNEL_SETTINGS, LIMITS, channel_to_user
from accompanist.wording import count

TEMPERATURE_STEP = 0.1
#: the keys, each with the modes it serves
KEYS = (
    ("l", "lock/unlock the loop", ("loop",)),
    ("r", "refresh the loop", ("loop",)),
    ("c", "clear", ("loop", "respond")),
    ("e", "end the call", ("respond",)),
    ("p", "panic", ("duet", "loop", "respond")),
    ("space", "stop/start the accompaniment", ("duet", "loop", "respond")),
    ("t", "tap the tempo", ("duet", "loop", "respond")),
    ("[ ]", f"temperature -/+{TEMPERATURE_STEP:g}", ("duet", "loop", "respond")),
    ("q", "quit", ("duet", "loop", "respond")),
)
HELP = "keys: " + "  ".join(f"{k} {what}" for k, what, _ in KEYS)


def help_line(mode: str) -> str:
    """The keys of the mode that is running."""
    return "keys: " + "  ".join(f"{k} {what}" for k, what, modes in KEYS if mode in modes)


def key_action(engine, key: str) -> str | None:
    """Do what ``key`` asks of the engine. What the engine then did comes back as its events
    (see ``describe``); this returns only a line of its own: the help, or why a change was refused."""
    try:
        if key in "lr" and engine.settings.mode != "loop":
            return f"'{key}' is a loop-mode key; this is {engine.settings.mode} mode"
        if key == "c" and engine.settings.mode == "duet":
            return f"'{key}' is a loop-mode key (and respond's); this is duet mode"
        if key == "e":
            if engine.settings.mode != "respond":
                return f"'e' ends a call in respond mode; this is {engine.settings.mode} mode"
            engine.end_call()
        elif key == "l":
            engine.lock(not engine.locked)
        elif key == "r":
            engine.refresh()
        elif key == "c":
            engine.clear()
        elif key == "p":
            engine.panic()
        elif key == " ":
            engine.pause(not engine.paused)
        elif key == "t":
            if engine.tap() is None:
                return "tap: and again, on the beat, for a tempo"
        elif key in "[]":
            step = TEMPERATURE_STEP if key == "]" else -TEMPERATURE_STEP
            new = max(float(LIMITS["temperature"].lo), round(engine.temperature + step, 2))
            if new == engine.temperature:
                return f"temperature stays {new:g} (0 takes the likeliest notes)"
            engine.set(temperature=new)
        elif key in "?h":
            return help_line(engine.settings.mode)
    except AccompanistError as exc:
        return str(exc)
    return None


def _channel(value) -> str:
    """A channel the engine keeps 0-based, said 1-16 as every control and flag shows it."""
    return str(channel_to_user(int(value))) if str(value).isdigit() else str(value)


def call_state(event: dict) -> str:
    """A call still open, as the terminal's bar line and the panel say it."""
    return f"call: bar {event['bar']} of at most {event['of']}"


def describe(event: dict) -> str | None:
    """The line a terminal shows for an engine event a musician cares about, or None."""
    kind = event["type"]
    if kind == "lock":
        return "loop locked: the answer repeats" if event["on"] else "loop unlocked: each pass is harmonised anew"
    if kind == "refresh":
        return "refresh: the pass now playing is harmonised afresh when it closes"
    if kind == "clear":
        return "cleared: starting over (the loop, or the call and its answer), nothing sounding"
    if kind == "panic":
        return "panic: every note released"
    if kind == "settings":
        return ", ".join(
            f"{k.replace('_', ' ')} {_channel(v) if k in CHANNEL_SETTINGS else v}"
            for k, v in event.items()
            if k not in ("type", "time")
        )
    if kind == "paused":
        if event["on"]:
            return (
                "the accompaniment stopped, every note released; the session listens on "
                "(start it again: space, or your start_stop control)"
            )
        return "the accompaniment starts again"
    if kind == "control":
        return event["said"]
    if kind == "learning":
        return f"learning {event['action']}: move the knob or press the pad or button now"
    if kind == "learned":
        return f"{event['source']} is now {event['action']} (--control {event['text']})"
    if kind == "end_call":
        return "call ended: the answer starts at the next bar line"
    if kind == "call":
        return call_state(event)
    if kind == "response":
        return (
            f"answering a call of {count(event['call_bars'], 'bar')} with {count(event['answer_bars'], 'bar')}"
            + (f" from bar {event['bar']}" if "bar" in event else "")
            + f" (its first bar made in {event['answer_ms']:.1f} ms)"
        )
    if kind == "pass":
        notes = count(event["notes"], "note")
        return f"pass {event['index'] + 1}: {event['source']}, {notes}, {event['harmonize_ms']:.1f} ms"
    if kind == "port":
        if event["state"] == "lost":
            return f"{event['direction']} {event['port']} is gone; every note released, waiting for it to come back"
        return f"{event['direction']} {event['port']} is back; playing on"
    if kind == "missed":
        return (
            f"the answer for step {event['step']} was {event['late_ms']:.1f} ms too late and was skipped "
            "(the machine is busy: close other programs, or try a smaller model)"
        )
    if kind == "error":
        return f"error: {event['text']}"
    if kind == "tempo":
        return f"DAW tempo: {event['bpm']:g} bpm"
    if kind == "transport":
        where = f" at step {event['step']}" if "step" in event else ""
        where += f", {event['bpm']:g} bpm" if "bpm" in event else ""
        return f"DAW {event['state']}{where}"
    return None


class BarLines:
    """A line a bar in duet mode, so a player in a terminal sees that it is alive: the bar's
    number, the notes heard and answered in it, and the median inference time; following the
    player (``steps_per_beat`` given), the tempo followed at the bar's end."""

    def __init__(self, steps_per_bar: int, steps_per_beat: int | None = None):
        self.steps_per_bar, self.steps_per_beat = steps_per_bar, steps_per_beat
        self.bar, self.heard, self.answered, self.inference = 0, 0, 0, []
        self.ignored: dict[int, int] = {}  #: note-ons this bar not heard, by their (0-based) channel

    def feed(self, event: dict) -> str | None:
        kind = event["type"]
        if kind == "note_in" and event["velocity"]:
            self.heard += 1
        elif kind == "note_out" and event["velocity"]:
            self.answered += 1
        elif kind == "note_ignored":
            self.ignored[event["channel"]] = self.ignored.get(event["channel"], 0) + 1
        elif kind == "answer":
            self.inference.append(event["inference_ms"])
        elif kind == "step" and not event.get("count_in") and (event["step"] + 1) % self.steps_per_bar == 0:
            self.bar += 1
            ms = sorted(self.inference)[len(self.inference) // 2] if self.inference else 0.0
            line = f"bar {self.bar}: heard {self.heard}, answered {self.answered}, inference {ms:.2f} ms"
            if self.steps_per_beat:
                line += f", your tempo {60.0 / event['seconds'] / self.steps_per_beat:.1f} bpm"
            if self.ignored:
                chans = ", ".join(
                    f"{count(n, 'note')} on channel {channel_to_user(c)}" for c, n in self.ignored.items()
                )
                line += f" (not heard: {chans}; see --channel and --in-channel)"
            self.heard, self.answered, self.inference, self.ignored = 0, 0, [], {}
            return line
        return None


def keys_of(text: str, escape: int = 0) -> tuple[list[str], int]:
    """The keys in ``text``, without terminal escape sequences (arrows, function keys: ESC, then
    ``[`` or ``O``, then parameters up to a final byte), and the parser's state to carry into the
    next read: 0 outside a sequence, 1 after ESC, 2 inside one."""
    keys = []
    for ch in text:
        if escape == 1:
            escape = 2 if ch in "[O" else 0  # ESC + a key is Alt + that key: not ours either
        elif escape == 2:
            if "@" <= ch <= "~":
                escape = 0
        elif ch == "\x1b":
            escape = 1
        else:
            keys.append(ch.lower())
    return keys, escape


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

        escape = 0
        while not self._stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            data = os.read(fd, 64)
            if not data:
                return  # the terminal went away
            keys, escape = keys_of(data.decode(errors="ignore"), escape)
            if escape == 1 and not select.select([fd], [], [], 0.05)[0]:
                escape = 0  # ESC and nothing after it: the key itself, not a sequence cut in two
            for key in keys:
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
