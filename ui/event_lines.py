"""The lines the panel's log shows for the engine's events, as the terminal says them
(``live.terminal.describe``), with what only the panel knows:

- a panic the player asked for (the button, Esc) is said as a panic; the release a change of
  mode, model, channel or program makes (the engine says it with a ``panic`` event too) is said
  with that change, and a lost port's with the port's line, never as a panic nobody asked for;
- the loop's passes are counted from where the loop began (a clear, a change of mode or model,
  the DAW's Start), not from the session's start: the count ``WhereAmI`` keeps.
"""

from __future__ import annotations

from collections.abc import Callable

#: events the log shows, as the terminal does
LOGGED = {
    "pass",
    "missed",
    "transport",
    "port",
    "error",
    "panic",
    "lock",
    "refresh",
    "clear",
    "settings",
    "response",
    "end_call",
    "control",
    "learning",
    "learned",
    "paused",
}
RELEASED = "what was sounding is released"


class EventLines:
    def __init__(self, passes: Callable[[], int]):
        self._passes = passes  #: passes closed in the current loop (``WhereAmI.passes``)
        self.asked = 0  #: panics asked for whose events are still to come
        self._released = False  #: a release nobody asked for, said with the change that made it

    def asked_panic(self) -> None:
        """The player asked for a panic: its event is said as one."""
        self.asked += 1

    def reset(self) -> None:
        self.asked, self._released = 0, False

    def line(self, ev: dict) -> str | None:
        """The log's line for ``ev``, or None."""
        from accompanist.live.terminal import describe

        kind = ev["type"]
        if kind not in LOGGED:
            return None
        if kind == "panic":
            if self.asked:
                self.asked -= 1
                return describe(ev)
            self._released = True  # a change's (or a lost port's): said with it
            return None
        if kind == "pass":
            ev = {**ev, "index": self._passes() - 1}
        line = describe(ev) or ", ".join(f"{k}={v}" for k, v in ev.items() if k not in ("type", "time"))
        if kind == "settings":
            if "mode" in ev:
                model = ev.get("model")
                named = f"model {model}" if model not in (None, "None") else "its default model"
                rest = describe({k: v for k, v in ev.items() if k not in ("mode", "model")})
                line = ", ".join(p for p in (f"{ev['mode']} mode, {named}", rest) if p)
            if self._released:
                line += f"; {RELEASED}"
        if kind in ("settings", "port"):
            self._released = False
        return f"{kind}: {line}" if kind in ("error", "missed", "port") else line
