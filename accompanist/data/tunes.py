"""Tunes the duet model never saw, with their meter, for choosing settings and for testing.

Collections of music21's corpus, in file order, tunes with at least 16 notes, the first ``n``
(100 by default) of each; every tune is moved by whole octaves so that its mean pitch lies
nearest the chorale sopranos' (the melody range the model learned), as a player would choose
the octave. Each step's bar phase comes from the tune's own measures (pickups included).

Settings are chosen on the validation collections only; the test collections are played once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accompanist.data import cache
from accompanist.music.tokens import STEPS_PER_BEAT

VALIDATION = ("essenFolksong/altdeu20", "essenFolksong/ballad10", "oneills1850/0051-0100")
TEST = ("essenFolksong/altdeu10", "essenFolksong/ballad20", "essenFolksong/han1", "oneills1850/0101-0200")
RULE = "music21 corpus files in file order, tunes with >= 16 notes, first n; moved by octaves to the soprano range"


@dataclass
class Tunes:
    name: str  #: the collection, e.g. essenFolksong/ballad20
    melodies: list[np.ndarray]  #: monophonic tokens
    phases: list[np.ndarray]  #: bar phase of every step


def load_tunes(source: str, n: int = 100) -> Tunes:
    """The first ``n`` qualifying tunes of one music21 collection (``.abc`` may be left off)."""
    from accompanist.data.chorales import import_music21, part_notes
    from accompanist.music.meter import bar_phase_of_part
    from accompanist.music.notes import notes_to_tokens

    m21 = import_music21()
    key = cache.key_of(music21=m21.__version__, source=source, n=n, grid=STEPS_PER_BEAT, v=1)
    hit = cache.load("tunes", key)
    if hit is not None:
        cut = np.cumsum(hit["lengths"])[:-1]
        return Tunes(source, np.split(hit["tokens"], cut), np.split(hit["phases"], cut))
    opus = m21.corpus.parse(source if source.endswith(".abc") else source + ".abc")
    melodies, phases = [], []
    for score in getattr(opus, "scores", [opus]):
        part = score.parts[0] if score.parts else score
        notes = part_notes(part, 480)
        if len(notes) < 16:
            continue
        tokens, _ = notes_to_tokens(notes, 480 / STEPS_PER_BEAT)
        melodies.append(tokens)
        phases.append(bar_phase_of_part(part, len(tokens), STEPS_PER_BEAT))
        if len(melodies) == n:
            break
    cache.save(
        "tunes",
        key,
        {
            "tokens": np.concatenate(melodies),
            "phases": np.concatenate(phases),
            "lengths": np.array([len(t) for t in melodies]),
        },
    )
    return Tunes(source, melodies, phases)


def soprano_mean() -> float:
    """Mean pitch of the chorale sopranos: the octave every tune is moved to."""
    from accompanist.data.chorales import load_chorales

    ch = load_chorales()
    return float(np.mean(np.concatenate([v[0][v[0] < 128] for v in ch.voices])))


def tune_sets(which: str, n: int = 100) -> list[Tunes]:
    """``validation`` or ``test`` collections, each moved into the soprano range."""
    from accompanist.data.folk import to_octave_of

    sources = {"validation": VALIDATION, "test": TEST}[which]
    mean = soprano_mean()
    out = []
    for src in sources:
        t = load_tunes(src, n)
        out.append(Tunes(t.name, [to_octave_of(m, mean) for m in t.melodies], t.phases))
    return out
