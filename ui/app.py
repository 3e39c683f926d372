"""`accompanist ui`: the panel in a window of its own."""

from __future__ import annotations

import os
import signal
import sys

from accompanist.errors import AccompanistError
from accompanist.live.engine import Settings


def check_display() -> None:
    """One line, before Qt starts, if there is no display to open a window on: Qt itself would
    abort the process (exit 134) with advice to reinstall it."""
    if not sys.platform.startswith("linux"):
        return
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith(("xcb", "wayland")):
        return  # offscreen, vnc, eglfs ...: a platform that needs no desktop
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return
    raise AccompanistError(
        "no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set): "
        "start accompanist ui from a desktop session, or play without a window with accompanist live"
    )


def make_panel(settings: Settings, preset: str | None = None):
    """The panel for these settings. ``preset`` only names what they came from: the command line
    has already put the preset under its own flags, so picking it again would undo them."""
    from accompanist.ui.panel import Panel

    panel = Panel(settings)
    if preset:
        panel.preset.blockSignals(True)
        panel.preset.setCurrentText(preset)
        panel.preset.blockSignals(False)
    return panel


def run(settings: Settings, preset: str | None = None) -> int:
    check_display()
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    panel = make_panel(settings, preset)

    def unexpected(kind, value, tb) -> None:
        # PyQt aborts the process on an exception no slot caught: say it in one line and play on
        panel.say(f"{kind.__name__}: {value}", error=True)
        print(f"accompanist: error: {kind.__name__}: {value}", file=sys.stderr)

    sys.excepthook = unexpected
    # Ctrl-C and SIGTERM close the window the ordinary way, so the engine stops and releases all
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    panel.resize(1280, 760)
    panel.show()
    try:
        return app.exec()
    finally:
        panel.stop()
