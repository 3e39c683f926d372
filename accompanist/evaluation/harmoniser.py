"""The evaluation behind `accompanist eval`: accompany a set of melodies with a model and measure
the harmony against Bach's own pairs, or measure two-track files someone already made."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accompanist.errors import AccompanistError
from accompanist.inference.cards import ModelCard
from accompanist.inference.seq2seq_runner import Seq2SeqRunner
from accompanist.metrics.harmony import pair_stats, summarize
from accompanist.metrics.reference import bach_reference, reference_ic
from accompanist.music.midi_io import read_midi
from accompanist.music.notes import notes_to_tokens
from accompanist.offline.two_track import check_length

#: The figures a report table shows, in order, with the Bach reference beside them.
COLUMNS = (
    "coverage",
    "consonance",
    "in_key",
    "crossing",
    "onset_ratio",
    "range",
    "distinct_pitches",
    "repetition",
    "ic_overlap",
)


@dataclass
class EvalSet:
    name: str
    melodies: list[np.ndarray]
    rule: str
    #: the true accompaniment, where the set has one (held-out chorales)
    truth: list[np.ndarray] | None = None


def chorale_set(card: ModelCard) -> EvalSet:
    """The model's own held-out chorales (named in its card), melody voice and true accompaniment."""
    from accompanist.data.chorales import VOICES, load_chorales
    from accompanist.data.pairs import PAIRS

    test = set(card.data["training"]["test_chorales"])
    chorales = load_chorales()
    mi, ai = (VOICES.index(v) for v in PAIRS[card.defaults["voice"]])
    rows = [v for n, v in zip(chorales.names, chorales.voices, strict=True) if n in test]
    return EvalSet(
        f"held-out chorales ({len(rows)})",
        [r[mi] for r in rows],
        "the chorales the model's card lists as held out",
        [r[ai] for r in rows],
    )


def folk_set(card: ModelCard, n: int = 100, validation: bool = False) -> EvalSet:
    """Folk tunes the model never saw: the test file, or with ``validation`` the tuning file."""
    from accompanist.data.chorales import VOICES, load_chorales
    from accompanist.data.folk import RULE, SOURCE, VALIDATION_SOURCE, load_folk, to_octave_of
    from accompanist.data.pairs import PAIRS

    chorales = load_chorales()
    mi = VOICES.index(PAIRS[card.defaults["voice"]][0])
    mean = float(np.mean(np.concatenate([v[mi][v[mi] < 128] for v in chorales.voices])))
    source = VALIDATION_SOURCE if validation else SOURCE
    tunes = [to_octave_of(t, mean) for t in load_folk(n, source)]
    label = "folk validation melodies" if validation else "folk melodies"
    return EvalSet(f"{label} ({len(tunes)})", tunes, RULE.replace(SOURCE, source))


def accompany_set(
    runner: Seq2SeqRunner, melodies: list[np.ndarray], temperature: float, seed: int, **sampling: float | None
) -> tuple[list[np.ndarray], float]:
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    out = [runner.harmonize(m, temperature, rng, **sampling) for m in melodies]
    return out, time.perf_counter() - t0


def measure(melodies: list[np.ndarray], accs: list[np.ndarray], voice: str) -> dict:
    stats = [pair_stats(m, a) for m, a in zip(melodies, accs, strict=True)]
    return summarize(stats, reference_ic(voice))


def measure_files(paths: list[Path], voice: str = "both") -> dict:
    """Figures for two-track files written by `accompanist harmonize` or `duet` (tracks melody and
    accompaniment) or recorded by `accompanist live` (tracks player and accompaniment)."""
    mels, accs = [], []
    for p in paths:
        song = read_midi(p)
        named = {t.name: t for t in song.tracks}
        melody = named.get("melody") or named.get("player")
        if melody is None or "accompaniment" not in named:
            raise AccompanistError(
                f"{p}: needs tracks named 'melody' (or 'player') and 'accompaniment', or 'call' and 'answer', "
                "as accompanist writes them"
            )
        check_length(song, melody.notes, 4, f"track '{melody.name}'")
        step = song.ticks_per_beat / 4
        m, _ = notes_to_tokens(melody.notes, step)
        a, _ = notes_to_tokens(named["accompaniment"].notes, step, length=len(m))
        mels.append(m)
        accs.append(a)
    return measure(mels, accs, voice)


def format_row(label: str, figures: dict) -> str:
    cells = []
    for c in COLUMNS:
        v = figures.get(c)
        cells.append(
            "-"
            if v is None or (isinstance(v, float) and np.isnan(v))
            else (
                f"{100 * v:.1f} %"
                if c == "crossing"
                else f"{v:.3g}"
                if c in ("range", "distinct_pitches")
                else f"{v:.3f}"
            )
        )
    return f"| {label} | " + " | ".join(cells) + " |"


def table_header() -> str:
    return "| | " + " | ".join(COLUMNS) + " |\n|" + "---|" * (len(COLUMNS) + 1)


def bach_row(voice: str) -> str:
    ref = dict(bach_reference(voice))
    ref["ic_overlap"] = 1.0
    return format_row(f"Bach ({voice})", ref)
