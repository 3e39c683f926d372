"""Duet shards from music21's bundled corpus: multi-part pieces whose melody part and the rest can
be told apart (Palestrina masses, Monteverdi madrigals, Bach chorales, ...).

Each score becomes a ``Song`` whose tracks are its parts (named as the score names them, chords
kept whole), and then goes through the same pick rule and piece rule as a MIDI file
(``track_pick``, ``midi_folder.song_to_piece``): a part named soprano, cantus or similar, or else
the highest mostly-one-note part, is the melody, and the other parts together are the
accompaniment. ``music21:NAME`` names a composer (``corpus.getComposer``) or a corpus folder.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

from accompanist.data import cache
from accompanist.data.midi_folder import PieceRule, song_to_piece
from accompanist.data.shards import Manifest, ShardWriter, prepare_out, reusable, swap_in
from accompanist.data.track_pick import PickRule
from accompanist.errors import AccompanistError
from accompanist.music.midi_io import Song, Track
from accompanist.music.notes import Note

TICKS_PER_BEAT = 480
PREFIX = "music21:"
#: Part names music21 leaves blank or generic in many files; the melody words in PickRule match
#: "soprano", and these name the top voice of Renaissance scores.
TOP_VOICE_NAMES = ("cantus", "superius", "discantus")


def corpus_paths(name: str) -> list[str]:
    from accompanist.data.chorales import import_music21

    m21 = import_music21()
    paths = [str(p) for p in m21.corpus.getComposer(name)]
    if not paths:
        paths = [str(p) for p in m21.corpus.getPaths() if f"/{name}/" in str(p).replace(os.sep, "/")]
    if not paths:
        raise AccompanistError(f"music21 corpus has no composer or folder '{name}' (e.g. palestrina, monteverdi)")
    return sorted(paths)


def score_to_song(score, path: str = "") -> Song:
    """A music21 score as a Song: one track per part, every pitch of a chord kept."""
    tracks = []
    for i, part in enumerate(score.parts):
        name = (part.partName or part.id or f"part {i}").strip()
        if name.lower().startswith(TOP_VOICE_NAMES):
            name = f"{name} (soprano)"  # let the pick rule hear what the name means
        notes = []
        for el in part.stripTies().flatten().notes:
            start = int(round(float(el.offset) * TICKS_PER_BEAT))
            end = int(round(float(el.offset + el.quarterLength) * TICKS_PER_BEAT))
            if end > start:
                notes += [Note(p.midi, start, end, 80, i % 9) for p in el.pitches]
        notes.sort(key=lambda n: (n.start, n.pitch))
        tracks.append(Track(name, notes, []))
    return Song(TICKS_PER_BEAT, tracks, [], path)


_WORK: tuple[PickRule, PieceRule] | None = None


def _init(rule: PickRule, piece: PieceRule) -> None:
    global _WORK
    _WORK = (rule, piece)


def _process(path: str):
    from accompanist.data.chorales import import_music21

    rule, piece = _WORK
    name = path.replace(os.sep, "/").split("/corpus/")[-1]
    try:
        score = import_music21().converter.parse(path)
        if not hasattr(score, "parts") or len(score.parts) < 2:
            return name, "one part only"
        return name, song_to_piece(score_to_song(score, path), rule, piece)
    except Exception as exc:  # a score music21 cannot read is a count, not a crash
        return name, f"unreadable: {type(exc).__name__}"


def build_music21_corpus(
    name: str,
    out: Path,
    steps_per_beat: int = 4,
    rule: PickRule | None = None,
    processes: int | None = None,
    limit: int | None = None,
    progress: bool = True,
) -> Manifest:
    """Build (or reuse) duet shards in ``out`` from the music21 corpus ``name``."""
    from accompanist.data.chorales import import_music21

    t0 = time.perf_counter()
    rule = rule or PickRule()
    piece = PieceRule(steps_per_beat)
    paths = corpus_paths(name)[:limit]
    key = cache.key_of(m21=import_music21().__version__, name=name, n=len(paths), rule=rule.describe(), piece=piece)
    old = reusable(out, key)
    if old is not None:
        return old
    prepare_out(out)
    meta = {"kind": "music21", "key": key, "source": PREFIX + name, "rule": rule.describe()}
    tmp = out.parent / f".{out.name}.building-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = ShardWriter(tmp, steps_per_beat, 1_000_000, meta)
    skipped: Counter[str] = Counter()
    used = 0
    processes = max(1, processes or os.cpu_count() or 1)
    with mp.get_context("spawn").Pool(processes, initializer=_init, initargs=(rule, piece)) as pool:
        for rel, result in pool.imap_unordered(_process, paths, chunksize=4):
            if isinstance(result, str):
                skipped[result] += 1
            else:
                writer.add_packed(rel, *result)
                used += 1
    seconds = time.perf_counter() - t0
    counts = {"files_found": len(paths), "files_used": used, "skipped": dict(sorted(skipped.items()))}
    manifest = writer.close(counts | {"seconds": round(seconds, 1)})
    swap_in(tmp, out)
    manifest.folder = out
    if progress:
        print(f"wrote {out}: {used} of {len(paths)} scores of music21 '{name}' in {seconds:.0f} s", file=sys.stderr)
    return manifest
