"""Named set-ups a musician picks: mode, model, temperature, channel, program, tempo, loop length.

A preset is a JSON file: ``{"description": "...", "settings": {...}}``, where ``settings`` holds
any of ``PRESET_KEYS`` with the command line's meaning (``channel`` counts 1-16, as on a
keyboard). Shipped presets sit beside this file (installed as ``accompanist.presets``); a
musician's own go in the user data folder (``accompanist presets`` prints where), or are named by
path. Everything is checked on loading: a preset that cannot work says so in one line.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from accompanist.errors import AccompanistError

SHIPPED = Path(__file__).resolve().parent
#: what a preset may set, with the type each takes
PRESET_KEYS: dict[str, type | tuple[type, ...]] = {
    "mode": str,
    "model": str,
    "temperature": (int, float),
    "max_notes": int,
    "key_lock": (int, float),
    "two_part": (int, float),
    "listen_ms": (int, float),
    "rest_after": (int, float),
    "call_bars": int,
    "answer_bars": int,
    "variation": (int, float),
    "bars": int,
    "beats_per_bar": int,
    "bpm": (int, float),
    "clock": str,
    "send_clock": bool,
    "channel": int,
    "in_channel": int,
    "click_channel": int,
    "program": int,
    "metronome": bool,
    "count_in": int,
    "synth": bool,
}


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    settings: dict  #: Settings fields, channel 0-based as the engine takes it
    path: Path


def user_folder() -> Path:
    env = os.environ.get("ACCOMPANIST_PRESETS")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("accompanist")) / "presets"


def list_presets() -> dict[str, Path]:
    """Name -> file, the musician's own shadowing shipped ones of the same name."""
    found: dict[str, Path] = {}
    for folder in (SHIPPED, user_folder()):
        if folder.is_dir():
            for path in sorted(folder.glob("*.json")):
                found[path.stem] = path
    return found


def load_preset(name_or_path: str) -> Preset:
    """A preset by name, or by the path of its file; checked against the engine's own rules."""
    path = Path(name_or_path)
    if path.suffix != ".json" or not path.exists():
        known = list_presets()
        if name_or_path not in known:
            have = ", ".join(sorted(known)) or "none"
            raise AccompanistError(f"no preset named '{name_or_path}'; presets: {have} (see: accompanist presets)")
        path = known[name_or_path]
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise AccompanistError(f"{path}: cannot read the preset ({exc})") from None
    except json.JSONDecodeError as exc:
        raise AccompanistError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise AccompanistError(f"{path}: JSON nested too deep to be a preset") from None
    if not isinstance(data, dict) or not isinstance(data.get("settings"), dict):
        raise AccompanistError(f'{path}: a preset is {{"description": "...", "settings": {{...}}}}')
    settings = dict(data["settings"])
    unknown = sorted(set(settings) - set(PRESET_KEYS))
    if unknown:
        raise AccompanistError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; a preset may set {', '.join(PRESET_KEYS)}"
        )
    for key, value in settings.items():
        kind = PRESET_KEYS[key]
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            want = kind.__name__ if isinstance(kind, type) else "a number"
            raise AccompanistError(f"{path}: '{key}' is {value!r}; it takes {want}")
    for key in ("channel", "in_channel", "click_channel"):  # counted 1-16 as on a keyboard
        if key in settings:
            if not 1 <= settings[key] <= 16:
                raise AccompanistError(f"{path}: {key.replace('_', ' ')} {settings[key]} must be 1..16")
            settings[key] -= 1
    _check(path, settings)
    return Preset(path.stem, str(data.get("description", "")), settings, path)


def _check(path: Path, settings: dict) -> None:
    from accompanist.live.engine import Settings, card_for, check_settings

    try:
        s = Settings(**settings)
        check_settings(s)
        card_for(s.mode, s.model)
    except AccompanistError as exc:
        raise AccompanistError(f"{path}: {exc}") from None
