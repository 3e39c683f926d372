"""Bach chorales from music21's bundled corpus as token arrays, one row of four voices each.

Selection rule (recorded in every model card): every file music21 lists for
``corpus.getComposer('bach')`` that parses and has exactly four parts; the parts are taken in
score order as soprano, alto, tenor, bass. With music21 10.5 that is 365 of 433 files. Ties are
merged, chords in a part keep their top note, and all four voices share one 16th-note grid.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
from dataclasses import dataclass

import numpy as np

from accompanist.data import cache
from accompanist.errors import AccompanistError
from accompanist.music.notes import Note, notes_to_tokens
from accompanist.music.tokens import STEPS_PER_BEAT

VOICES = ("soprano", "alto", "tenor", "bass")
SELECTION_RULE = (
    "music21 corpus.getComposer('bach'): files that parse with exactly four parts, "
    "taken in score order as soprano, alto, tenor, bass; exact duplicates dropped; ties merged; "
    "chords keep the top note"
)


@dataclass
class Chorales:
    """Token rows of all selected chorales: ``voices[i]`` has shape (4, length_i)."""

    names: list[str]
    voices: list[np.ndarray]
    source_files: int
    #: bar phase of every step (steps since the last downbeat, ``music.meter``), one array a chorale
    phases: list[np.ndarray] | None = None

    def phase(self, i: int) -> np.ndarray:
        """Chorale i's bar phases; 4/4 from the first step where the score's were not kept."""
        from accompanist.music.meter import steady_phase

        if self.phases is not None:
            return self.phases[i]
        return steady_phase(self.voices[i].shape[1], 4 * STEPS_PER_BEAT)


def import_music21():
    """The music21 package, or one line saying how to install it (the [train] extra)."""
    try:
        import music21
    except ImportError:
        raise AccompanistError(
            "music21 is needed to read the Bach chorales; install the training extra: pip install 'accompanist[train]'"
        ) from None
    return music21


def part_notes(part, ticks_per_beat: int = 480) -> list[Note]:
    """A music21 part as notes in ticks (offsets in quarter notes times ticks_per_beat)."""
    notes: list[Note] = []
    for el in part.stripTies().flatten().notes:
        start = int(round(float(el.offset) * ticks_per_beat))
        end = int(round(float(el.offset + el.quarterLength) * ticks_per_beat))
        pitches = [p.midi for p in el.pitches]
        if end <= start or not pitches:
            continue  # grace notes have no length
        notes.append(Note(max(pitches), start, end))
    return notes


def _parse_one(path: str) -> tuple[str, np.ndarray | None, np.ndarray | None]:
    from accompanist.music.meter import bar_phase_of_part

    m21 = import_music21()
    try:
        score = m21.converter.parse(path)
    except Exception:
        return path, None, None
    if len(score.parts) != 4:
        return path, None, None
    tpb = 480
    parts = [part_notes(p, tpb) for p in score.parts]
    if not all(parts):
        return path, None, None
    length = max(n.end for p in parts for n in p) // (tpb // STEPS_PER_BEAT) + 1
    rows = [notes_to_tokens(p, tpb / STEPS_PER_BEAT, length)[0] for p in parts]
    return path, np.stack(rows), bar_phase_of_part(score.parts[0], length, STEPS_PER_BEAT)


def load_chorales(limit: int | None = None, processes: int | None = None, progress: bool = True) -> Chorales:
    """Parse (or read from the cache) the selected chorales; ``limit`` takes the first N files."""
    m21 = import_music21()
    paths = sorted(str(p) for p in m21.corpus.getComposer("bach"))
    if limit is not None:
        paths = paths[:limit]
    key = cache.key_of(
        music21=m21.__version__,
        files=[p.rsplit("/", 1)[-1] for p in paths],
        rule=SELECTION_RULE,
        grid=STEPS_PER_BEAT,
        v=3,
    )
    hit = cache.load("chorales", key)
    if hit is not None:
        names = [str(n) for n in hit["names"]]
        lengths = hit["lengths"]
        flat = hit["tokens"]
        splits = np.cumsum(lengths)[:-1]
        voices = [v.reshape(4, -1) for v in np.split(flat, splits * 4)] if len(names) else []
        phases = np.split(hit["phases"], splits) if len(names) else []
        return Chorales(names, voices, int(hit["source_files"]), phases)

    from tqdm import tqdm

    processes = processes or max(1, min(mp.cpu_count(), 4))
    results: list[tuple[str, np.ndarray | None, np.ndarray | None]] = []
    bar = tqdm(total=len(paths), desc="parsing chorales", unit="file", disable=not progress or not sys.stderr.isatty())
    with mp.get_context("spawn").Pool(processes) as pool:
        for r in pool.imap(_parse_one, paths, chunksize=4):
            results.append(r)
            bar.update()
    bar.close()
    names, voices, phases, seen = [], [], [], set()
    for p, v, ph in results:
        if v is None or v.tobytes() in seen:
            continue
        seen.add(v.tobytes())
        names.append(p.rsplit("/", 1)[-1].rsplit(".", 1)[0])
        voices.append(v)
        phases.append(ph)
    lengths = np.array([v.shape[1] for v in voices], dtype=np.int64)
    flat = np.concatenate([v.reshape(-1) for v in voices]) if voices else np.zeros(0, np.int64)
    cache.save(
        "chorales",
        key,
        {
            "names": np.array(names),
            "lengths": lengths,
            "tokens": flat,
            "phases": np.concatenate(phases) if phases else np.zeros(0, np.int64),
            "source_files": np.array(len(paths)),
        },
    )
    return Chorales(names, voices, len(paths), phases)
