"""Named set-ups a musician picks: mode, model, temperature, channel, program, tempo, loop length.

A preset is a JSON file: ``{"description": "...", "settings": {...}}``, where ``settings`` holds
any of ``PRESET_KEYS`` with the command line's meaning (``channel`` counts 1-16, as on a
keyboard). Shipped presets sit beside this file (installed as ``accompanist.presets``); a
musician's own go in the user data folder (``accompanist presets`` prints where), or are named by
path. Everything is checked on loading: a preset that cannot work says so in one line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from accompanist.errors import AccompanistError
from accompanist.limits import CHANNEL_SETTINGS, channel_from_user, channel_to_user

SHIPPED = Path(__file__).resolve().parent
#: the ``Settings`` a preset may not set: where this machine keeps things, and the run's own
NOT_IN_PRESETS = frozenset(
    {"api", "synth_ports", "monitor", "soundfont", "record", "early", "latency", "click_out", "seed"}
)


def _preset_keys() -> dict[str, type | tuple[type, ...]]:
    """Every other ``Settings`` field, with the JSON type it takes (a float field takes any
    number; "or None" is left out: a preset leaves such a setting out instead)."""
    import typing

    from accompanist.live.settings import Settings

    keys: dict[str, type | tuple[type, ...]] = {}
    for name, hint in typing.get_type_hints(Settings).items():
        if name in NOT_IN_PRESETS:
            continue
        kind = next((a for a in typing.get_args(hint) if a is not type(None)), hint)
        kind = typing.get_origin(kind) or kind  # list[str]: a list (its items are the engine's to check)
        keys[name] = (int, float) if kind is float else kind
    return keys


#: what a preset may set, with the type each takes (``inp`` and ``out``: ports by name, or
#: "virtual", as --in and --out take them)
PRESET_KEYS: dict[str, type | tuple[type, ...]] = _preset_keys()
#: a name a musician may give a preset: a file name on every system
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    settings: dict  #: Settings fields, channel 0-based as the engine takes it
    path: Path


def user_folder() -> Path:
    from accompanist.user_data import user_folder as folder

    return folder("presets", "ACCOMPANIST_PRESETS")


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
    settings = from_preset_form(data["settings"], str(path))
    return Preset(path.stem, str(data.get("description", "")), settings, path)


def from_preset_form(settings: dict, where: str) -> dict:
    """A preset's settings, checked (keys, types, what the engine accepts), channels made 0-based;
    ``where`` names the source in the one-line error."""
    settings = dict(settings)
    unknown = sorted(set(settings) - set(PRESET_KEYS))
    if unknown:
        raise AccompanistError(
            f"{where}: unknown setting(s) {', '.join(unknown)}; a preset may set {', '.join(PRESET_KEYS)}"
        )
    for key, value in settings.items():
        kind = PRESET_KEYS[key]
        if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
            want = kind.__name__ if isinstance(kind, type) else "a number"
            raise AccompanistError(f"{where}: '{key}' is {value!r}; it takes {want}")
    for key in CHANNEL_SETTINGS:  # counted 1-16 as on a keyboard; ranges are checked as the engine's
        if key in settings:
            settings[key] = channel_from_user(settings[key])
    _check(where, settings)
    return settings


def _check(path: Path | str, settings: dict) -> None:
    from accompanist.live.settings import Settings, card_for, check_settings

    try:
        s = Settings(**settings)
        check_settings(s)
        card_for(s.mode, s.model)
    except AccompanistError as exc:
        raise AccompanistError(f"{path}: {exc}") from None


def settings_to_preset(settings) -> dict:
    """The preset form of a ``Settings``: every key a preset may set that is not left to its
    default of "none" (the model card's), channels counted 1-16."""
    out = {}
    for key in PRESET_KEYS:
        value = getattr(settings, key)
        if value is None:
            continue
        out[key] = channel_to_user(value) if key in CHANNEL_SETTINGS else value
    return out


def _user_path(name: str, verb: str) -> Path:
    if not NAME.match(name):
        raise AccompanistError(
            f"'{name}' cannot name a preset: use letters, digits, spaces, '-', '_' or '.', at most 64, "
            "starting with a letter or digit"
        )
    if (SHIPPED / f"{name}.json").exists():
        raise AccompanistError(f"'{name}' is a preset that ships with accompanist; {verb} one of another name")
    return user_folder() / f"{name}.json"


def save_preset(name: str, description: str, settings: dict, replace: bool = False) -> Path:
    """Write a preset (``settings`` in preset form: ``settings_to_preset``) to the user's folder;
    checked as loading would check it, never over a shipped preset, and over a user's own only
    with ``replace``. Written beside, then renamed: a crash leaves the old file or the new."""
    path = _user_path(name, "save it as")
    if path.exists() and not replace:
        raise AccompanistError(f"a preset named '{name}' exists ({path}); choose another name or replace it")
    body = {"description": description, "settings": settings}
    folder = path.parent
    tmp = folder / f".{name}.saving.json"  # checked as a file, as loading reads it, then renamed
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(body, indent=2) + "\n")
        load_preset(str(tmp))
        tmp.replace(path)
    except AccompanistError as exc:
        tmp.unlink(missing_ok=True)
        raise AccompanistError(f"preset '{name}' not saved: {str(exc).split(': ', 1)[-1]}") from None
    except OSError as exc:
        raise AccompanistError(f"cannot write the preset to {folder} ({exc.strerror or exc})") from None
    return path


def delete_preset(name: str) -> None:
    path = _user_path(name, "delete")
    try:
        path.unlink()
    except FileNotFoundError:
        raise AccompanistError(f"no preset of yours named '{name}' in {path.parent}") from None


def rename_preset(old: str, new: str) -> Path:
    src, dst = _user_path(old, "rename"), _user_path(new, "rename to")
    if not src.exists():
        raise AccompanistError(f"no preset of yours named '{old}' in {src.parent}")
    if dst.exists():
        raise AccompanistError(f"a preset named '{new}' exists; choose another name")
    src.rename(dst)
    return dst

