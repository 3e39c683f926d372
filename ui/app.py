"""`accompanist ui`: the panel in a window of its own."""

from __future__ import annotations

import signal
import sys

from accompanist.live.engine import Settings


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
    panel.resize(560, 760)
    panel.show()
    try:
        return app.exec()
    finally:
        panel.stop()
