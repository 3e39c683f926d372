"""The model card: one JSON beside a model's ONNX graphs, the same shape for every family.

Fields (DESIGN.md): name, family, description, graphs, io, grid, vocabulary, defaults, training,
metrics, created_by. The runtime reads cards with ``accompanist.inference.cards``; this module
only writes them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

CARD_FILE = "card.json"


def write_card(folder: Path, card: dict) -> Path:
    path = folder / CARD_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path
