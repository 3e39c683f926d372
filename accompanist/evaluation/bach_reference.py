"""Make ``metrics/bach_reference.json``, Bach's own harmony figures (``accompanist.metrics.reference``
reads them): every figure of :mod:`accompanist.metrics.harmony` over all selected chorales, for
soprano -> alto, tenor -> bass, and both pooled. Needs music21 and its corpus:

    python -m accompanist.evaluation.bach_reference
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from accompanist.metrics import reference
from accompanist.metrics.harmony import PairStats, pair_stats, summarize
from accompanist.metrics.reference import REFERENCE_FILE, REFERENCE_PAIRS

if TYPE_CHECKING:
    from accompanist.data.chorales import Chorales


def compute(chorales: Chorales) -> dict:
    """The reference document for a set of chorales: figures per pair and pooled, plus provenance."""
    from accompanist.data.chorales import SELECTION_RULE, VOICES
    from accompanist.data.pairs import PAIRS
    from accompanist.music.tokens import STEPS_PER_BEAT

    per_pair: dict[str, list[PairStats]] = {}
    for pair, (upper, lower) in PAIRS.items():
        ui, li = VOICES.index(upper), VOICES.index(lower)
        per_pair[pair] = [pair_stats(v[ui], v[li]) for v in chorales.voices]
    per_pair["both"] = per_pair["alto"] + per_pair["bass"]
    doc: dict = {
        "chorales": len(chorales.names),
        "chorale_files": chorales.source_files,
        "selection": SELECTION_RULE,
        "grid_steps_per_beat": STEPS_PER_BEAT,
        "pairs": {p: list(PAIRS[p]) for p in PAIRS},
        "created_by": "python -m accompanist.evaluation.bach_reference",
    }
    for pair, stats in per_pair.items():
        ic = summarize(stats)["ic_hist"]
        doc[pair] = summarize(stats, reference_ic=ic)
    return doc


def main() -> None:
    """Regenerate ``bach_reference.json`` beside ``accompanist.metrics.reference`` and print the figures."""
    from accompanist.data.chorales import load_chorales

    doc = compute(load_chorales())
    path = Path(reference.__file__).with_name(REFERENCE_FILE)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path} ({doc['chorales']} chorales)")
    for pair in REFERENCE_PAIRS:
        figs = {k: round(v, 4) for k, v in doc[pair].items() if isinstance(v, float)}
        print(pair, figs)


if __name__ == "__main__":
    main()
