"""Folk melodies the chorale models never saw, for evaluation: music21's Essen folk-song corpus.

Test tunes come from one file, validation tunes (for choosing sampling settings) from another.

Rule (recorded in every evaluation report): the tunes of ``essenFolksong/altdeu10.abc`` (German
folk songs) in file order that have at least 16 notes, the first ``n`` of them; each is moved by
whole octaves so that its mean pitch lies nearest the mean of the voice the model was trained to
read (soprano for the alto model, tenor for the bass model), as a player would choose the octave.
"""

from __future__ import annotations

import numpy as np

from accompanist.data import cache
from accompanist.data.chorales import import_music21, part_notes
from accompanist.music.notes import notes_to_tokens
from accompanist.music.tokens import STEPS_PER_BEAT, transpose

SOURCE = "essenFolksong/altdeu10.abc"
#: A second file of the same collection, for choosing sampling settings without touching the test tunes.
VALIDATION_SOURCE = "essenFolksong/altdeu20.abc"
RULE = f"music21 {SOURCE}: tunes in file order with at least 16 notes, moved by octaves to the model's melody range"


def load_folk(n: int = 100, source: str = SOURCE) -> list[np.ndarray]:
    """Token arrays of the first ``n`` qualifying folk tunes (as written, before octave moves)."""
    m21 = import_music21()
    key = cache.key_of(music21=m21.__version__, source=source, n=n, grid=STEPS_PER_BEAT, v=1)
    hit = cache.load("folk", key)
    if hit is not None:
        return np.split(hit["tokens"], np.cumsum(hit["lengths"])[:-1])
    opus = m21.corpus.parse(source)
    tunes: list[np.ndarray] = []
    for score in opus.scores:
        notes = part_notes(score.parts[0] if score.parts else score, 480)
        if len(notes) < 16:
            continue
        tokens, _ = notes_to_tokens(notes, 480 / STEPS_PER_BEAT)
        tunes.append(tokens)
        if len(tunes) == n:
            break
    cache.save("folk", key, {"tokens": np.concatenate(tunes), "lengths": np.array([len(t) for t in tunes])})
    return tunes


def to_octave_of(tokens: np.ndarray, target_mean: float) -> np.ndarray:
    """Move a melody by whole octaves so its mean pitch lies nearest ``target_mean``."""
    p = tokens[tokens < 128]
    if not len(p):
        return tokens
    shift = int(round((target_mean - p.mean()) / 12)) * 12
    return transpose(tokens, shift)
