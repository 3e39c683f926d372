"""`accompanist ui`: the panel in a window of its own."""

from __future__ import annotations

import sys

from accompanist.live.engine import Settings


def run(settings: Settings, preset: str | None = None) -> int:
    from PyQt6.QtWidgets import QApplication

    from accompanist.ui.panel import Panel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    panel = Panel(settings)
    if preset:
        panel.preset.setCurrentText(preset)
    panel.resize(560, 720)
    panel.show()
    try:
        return app.exec()
    finally:
        panel.stop()
