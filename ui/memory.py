"""The panel remembers its last set-up: on closing, what the controls said (in a preset's form)
goes to a QSettings INI file in the user's config folder; ``accompanist ui`` starts from it, under
any preset and flags given. A remembered set-up that no longer works (a model since removed) is
said in one line and left out."""

from __future__ import annotations

import json
import os
from pathlib import Path

KEY = "last_session"


def config_file() -> Path:
    env = os.environ.get("ACCOMPANIST_CONFIG")
    if env:
        return Path(env) / "panel.ini"
    from platformdirs import user_config_dir

    return Path(user_config_dir("accompanist")) / "panel.ini"


def _store():
    from PyQt6.QtCore import QSettings

    return QSettings(str(config_file()), QSettings.Format.IniFormat)


def remember(settings) -> None:
    from accompanist.presets import settings_to_preset

    store = _store()
    store.setValue(KEY, json.dumps(settings_to_preset(settings)))
    store.sync()


def last_session() -> tuple[dict, str | None]:
    """(settings as the engine takes them, or {}; a line to say if they could not be used)."""
    from accompanist.errors import AccompanistError
    from accompanist.presets import from_preset_form

    raw = _store().value(KEY)
    if not raw:
        return {}, None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not a set-up")
        return from_preset_form(data, f"the last session's set-up ({config_file()})"), None
    except (ValueError, RecursionError) as exc:
        return {}, f"the last session's set-up in {config_file()} is unreadable ({exc}); starting afresh"
    except AccompanistError as exc:
        return {}, f"{exc}; starting afresh"
