"""Find models by their cards: the ones shipped in the package, then the user's own.

A model is a folder holding ``card.json`` and the ONNX graphs it names. Shipped models live in
``accompanist/assets/models``; the user's in ``<user data dir>/accompanist/models`` (or the
folders listed in ACCOMPANIST_MODELS, separated by the OS path separator). A user's model with a
shipped model's name takes its place.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from accompanist.errors import AccompanistError

SHIPPED = Path(__file__).resolve().parent.parent / "assets" / "models"
REQUIRED = ("name", "family", "description", "graphs", "io", "grid", "defaults")
#: the type each required field must have
SHAPES = {"name": str, "family": str, "description": str, "graphs": dict, "io": dict, "grid": dict, "defaults": dict}
FAMILIES = ("seq2seq", "duet", "melody", "rl", "vrash")
#: what a card's ``defaults`` stands for when it leaves a setting out: the one fallback table
#: (``ModelCard.default``); each value's type is the setting's
FALLBACKS: dict[str, float | int] = {
    "temperature": 1.0,
    "top_p": 1.0,  #: the whole softmax (the seed's sampler)
    "key_lock": 0.0,  #: penalties and bonuses: off
    "two_part": 0.0,
    "max_notes": 4,
    "hold": 0.0,
    "cover": 0,
    "spacing": 0,
    "pulse": 0.0,
    "listen_ms": 0.0,  #: answer on the beat, unheard
    "variation": 1.0,  #: as trained
    "octave_temperature": 1.0,
    "channel": 1,  #: 0-based: MIDI channel 2
    "program": 0,
}


def fallback(key: str) -> float | int:
    """The value a setting takes when no card says otherwise."""
    try:
        return FALLBACKS[key]
    except KeyError:
        raise KeyError(f"no fallback for the card default '{key}'; known: {', '.join(FALLBACKS)}") from None


@dataclass(frozen=True)
class ModelCard:
    """A parsed card and the folder its graphs live in."""

    folder: Path
    data: dict

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def family(self) -> str:
        return self.data["family"]

    @property
    def description(self) -> str:
        return self.data["description"]

    @property
    def defaults(self) -> dict:
        return self.data["defaults"]

    def default(self, key: str) -> float | int:
        """The card's default for setting ``key``, else the one fallback (``FALLBACKS``), as
        the fallback's type (a card's 1 is the temperature 1.0)."""
        if key not in FALLBACKS:  # a setting with no fallback (a seq2seq card's voice): the card's own
            return self.defaults[key]
        value = self.defaults.get(key)
        return type(FALLBACKS[key])(FALLBACKS[key] if value is None else value)

    @property
    def steps_per_beat(self) -> int:
        return int(self.data["grid"]["steps_per_beat"])

    def graph(self, role: str) -> Path:
        path = self.folder / self.data["graphs"][role]  # a plain name inside the folder (read_card)
        if not path.is_file():
            raise AccompanistError(
                f"model '{self.name}': graph file {path} is missing; reinstall or re-export the model"
            )
        return path


def read_card(path: Path) -> ModelCard:
    """Parse and check one card; a malformed card is an AccompanistError naming the file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AccompanistError(f"{path}: not a readable model card ({exc}); re-export the model") from None
    except RecursionError:
        raise AccompanistError(f"{path}: JSON nested too deep to be a model card; re-export the model") from None
    if not isinstance(data, dict):
        raise AccompanistError(f"{path}: a model card must be a JSON object; re-export the model")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise AccompanistError(f"{path}: model card lacks {', '.join(missing)}; re-export the model")
    for key, kind in SHAPES.items():
        if not isinstance(data[key], kind):
            raise AccompanistError(f"{path}: '{key}' in the card is {type(data[key]).__name__}; re-export the model")
    if data["family"] not in FAMILIES:
        raise AccompanistError(f"{path}: unknown model family '{data['family']}' (known: {', '.join(FAMILIES)})")
    for role, name in data["graphs"].items():
        # a graph is a file in the card's own folder: never a path that leads elsewhere
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
            raise AccompanistError(
                f"{path}: graph '{role}' must be a file name in the model's folder, not {name!r}; re-export the model"
            )
    return ModelCard(path.parent, data)


def search_path() -> list[Path]:
    env = os.environ.get("ACCOMPANIST_MODELS")
    if env:
        user = [Path(p) for p in env.split(os.pathsep) if p]
    else:
        from accompanist.user_data import data_root

        user = [data_root() / "models"]
    return [SHIPPED, *user]


def scan_models() -> tuple[dict[str, ModelCard], dict[str, AccompanistError]]:
    """All models on the search path by name (later folders override earlier ones), and the
    cards that could not be read, by folder name, so one broken model hides no other."""
    found: dict[str, ModelCard] = {}
    broken: dict[str, AccompanistError] = {}
    for root in search_path():
        if not root.is_dir():
            continue
        for card in sorted(root.glob("*/card.json")):
            try:
                c = read_card(card)
            except AccompanistError as exc:
                broken[card.parent.name] = exc
                continue
            found[c.name] = c
    return found, broken


def find_models() -> dict[str, ModelCard]:
    """All readable models on the search path, by name."""
    return scan_models()[0]


def load_card(name: str, family: str | None = None) -> ModelCard:
    """The card of a model by name (or a path to a model folder or card)."""
    p = Path(name)
    if p.suffix == ".json" and p.is_file():
        card = read_card(p)
    elif (p / "card.json").is_file():
        card = read_card(p / "card.json")
    else:
        models, broken = scan_models()
        if name not in models and name in broken:
            raise broken[name]
        if name not in models:
            known = ", ".join(sorted(m for m, c in models.items() if family is None or c.family == family)) or "none"
            raise AccompanistError(
                f"unknown model '{name}'; known models: {known} (list them with: accompanist models)"
            )
        card = models[name]
    if family is not None and card.family != family:
        raise AccompanistError(f"model '{card.name}' is a {card.family} model; this needs a {family} model")
    return card
