"""Monophonic melodies for the melody models (RL tuner, VRASH, melody LSTM), from music21's corpus.

Selection rule (recorded in every melody model's card):
- ``chorales``: the soprano of every four-part Bach chorale (``data.chorales``, 365 files);
- ``folk``: every tune with at least 16 notes in music21's ``essenFolksong`` and ``oneills1850``
  collections, except the files the duet issue keeps for choosing settings and testing
  (``data.tunes``: altdeu10, altdeu20, ballad10, ballad20, han1, oneills 0051-0100 and
  0101-0200), the corpus's own test files (test0, test1, testd, teste, variant0) and files that
  repeat others (oneills 0626-0635, 0732-0758_mh, 1116-1135_ml,
  1556-1576, 1577-1624, 1710-1750);
- no two melodies alike: a melody whose first 24 notes (intervals and durations, so
  transposition does not hide it) match an earlier melody's is dropped, and so is any folk
  melody that matches one of the evaluation tunes that way, since folk collections share many
  variants of one song across files;
- a melody outside MIDI 36..96 is moved by the fewest octaves that bring it inside.

Split by piece, before any transposition: a seeded shuffle gives ``val_fraction`` and
``test_fraction`` of the pieces of each source to validation and test.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np

from accompanist.data import cache
from accompanist.music.events import PITCH_HI, PITCH_LO, Events, tokens_to_events
from accompanist.music.tokens import transpose

ESSEN = (
    "ballad30 ballad40 ballad50 ballad60 ballad70 ballad80 boehme10 boehme20 dva0 erk5 erk10 erk20 erk30 "
    "fink0 folkHaydn han2 irl kinder0 lot lux zuccal0"
).split()
ONEILLS = (
    "0001-0050 0201-0300 0301-0350 0351-0400 0401-0486 0487-0500 0501-0550 0550-0625 0626-0700 0701-0720 "
    "0721-0730 0731-0731 0732-0758_bs 0759-0810 0811-0899 0900-0950 0951-0981 0981-1000 1001-1031 1031-1115 "
    "1116-1135_mh 1136-1175 1176-1275 1276-1375 1376-1475 1476-1555 1556-1624 1625-1700 1701-1780 1781-1800 "
    "1801-1850"
).split()
SOURCES = ("chorales", "folk")
SIGNATURE_NOTES = 24
RULE = (
    "chorales: soprano of the four-part Bach chorales; folk: music21 essenFolksong and oneills1850 tunes "
    "(>= 16 notes) outside the duet issue's validation and test files; melodies whose first 24 notes "
    "(intervals and durations) repeat an earlier melody or an evaluation tune dropped; split by piece"
)


@dataclass
class MelodySet:
    """Melodies with their bar phases, names and sources."""

    names: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    tokens: list[np.ndarray] = field(default_factory=list)
    phases: list[np.ndarray] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.tokens)

    def events(self, i: int) -> Events:
        return tokens_to_events(self.tokens[i], self.phases[i])

    def take(self, idx) -> MelodySet:
        return MelodySet(
            [self.names[i] for i in idx],
            [self.sources[i] for i in idx],
            [self.tokens[i] for i in idx],
            [self.phases[i] for i in idx],
        )

    def add(self, name: str, source: str, tokens: np.ndarray, phase: np.ndarray) -> None:
        self.names.append(name)
        self.sources.append(source)
        self.tokens.append(np.asarray(tokens, np.int64))
        self.phases.append(np.asarray(phase, np.int64))

    @property
    def notes(self) -> int:
        return int(sum((t < 128).sum() for t in self.tokens))


@dataclass
class MelodyData:
    train: MelodySet
    val: MelodySet
    test: MelodySet
    counts: dict
    data_hash: str


@dataclass
class MelodyDataConfig:
    sources: tuple[str, ...] = SOURCES
    val_fraction: float = 0.05
    test_fraction: float = 0.05
    split_seed: int = 0
    transpositions: tuple[int, ...] = tuple(range(-6, 6))
    limit: int | None = None  #: first N melodies of each source (smoke tests)

    @classmethod
    def from_description(cls, d: dict) -> MelodyDataConfig:
        """The config a card's or checkpoint's ``data`` (``describe()``) was made from."""
        return cls(
            sources=tuple(d["sources"]),
            val_fraction=d["val_fraction"],
            test_fraction=d["test_fraction"],
            split_seed=d["split_seed"],
            transpositions=tuple(d["transpositions"]),
            limit=d.get("limit"),
        )

    def describe(self) -> dict:
        return {
            "rule": RULE,
            "sources": list(self.sources),
            "val_fraction": self.val_fraction,
            "test_fraction": self.test_fraction,
            "split_seed": self.split_seed,
            "transpositions": list(self.transpositions),
            "limit": self.limit,
        }


def signature(tokens: np.ndarray) -> bytes:
    """Intervals and durations of the first SIGNATURE_NOTES notes: equal for a melody and any
    transposition of it, and for two variants that differ only after that."""
    ev = tokens_to_events(tokens)
    notes = ev.pitch >= 0
    p, s = ev.pitch[notes][:SIGNATURE_NOTES], ev.steps[notes][:SIGNATURE_NOTES]
    return np.concatenate([np.diff(p), s]).astype(np.int16).tobytes()


def _into_range(tokens: np.ndarray) -> np.ndarray | None:
    """The melody as written if it lies inside the models' pitch range, else moved by the fewest
    octaves that bring it inside; None if no octave does."""
    p = tokens[tokens < 128]
    for octaves in (0, 1, -1, 2, -2):
        lo, hi = int(p.min()) + 12 * octaves, int(p.max()) + 12 * octaves
        if lo >= PITCH_LO and hi <= PITCH_HI:
            return transpose(tokens, 12 * octaves) if octaves else tokens
    return None


def _chorale_sopranos(limit: int | None) -> MelodySet:
    from accompanist.data.chorales import load_chorales

    ch = load_chorales(limit=limit)
    out = MelodySet()
    for i, name in enumerate(ch.names):
        out.add(f"bach/{name}", "chorales", ch.voices[i][0], ch.phase(i))
    return out


def _folk(limit: int | None) -> MelodySet:
    from accompanist.data.tunes import load_tunes

    out = MelodySet()
    files = [f"essenFolksong/{f}" for f in ESSEN] + [f"oneills1850/{f}" for f in ONEILLS]
    for f in files:
        t = load_tunes(f, 100_000)
        for j, (m, ph) in enumerate(zip(t.melodies, t.phases, strict=True)):
            if limit is not None and len(out) >= limit:
                return out
            out.add(f"{f}#{j}", "folk", m, ph)
    return out


def _evaluation_signatures() -> set[bytes]:
    from accompanist.data.tunes import TEST, VALIDATION, load_tunes

    return {signature(m) for src in VALIDATION + TEST for m in load_tunes(src, 100_000).melodies}


def load_melodies(cfg: MelodyDataConfig, progress: bool = True) -> MelodyData:
    """All selected melodies, deduplicated and split by piece (music21 parses are cached)."""
    loaders = {"chorales": _chorale_sopranos, "folk": _folk}
    unknown = [s for s in cfg.sources if s not in loaders]
    if unknown:
        raise ValueError(f"unknown melody source {unknown[0]!r} (known: {', '.join(SOURCES)})")
    blocked = _evaluation_signatures() if "folk" in cfg.sources else set()
    seen: set[bytes] = set()
    sets = {}
    dropped = {"repeats": 0, "evaluation_variants": 0, "short": 0, "out_of_range": 0}
    for src in cfg.sources:
        if progress:
            print(f"melodies: reading {src}", file=sys.stderr, flush=True)
        raw = loaders[src](cfg.limit)
        kept = MelodySet()
        for name, tok, ph in zip(raw.names, raw.tokens, raw.phases, strict=True):
            if (tok < 128).sum() < 16:
                dropped["short"] += 1
                continue
            tok = _into_range(tok)
            if tok is None:
                dropped["out_of_range"] += 1
                continue
            sig = signature(tok)
            if src == "folk" and sig in blocked:
                dropped["evaluation_variants"] += 1
                continue
            if sig in seen:
                dropped["repeats"] += 1
                continue
            seen.add(sig)
            kept.add(name, src, tok, ph)
        sets[src] = kept
    train, val, test = MelodySet(), MelodySet(), MelodySet()
    for s in sets.values():
        order = np.random.default_rng(cfg.split_seed).permutation(len(s))
        n_val = int(round(cfg.val_fraction * len(s)))
        n_test = int(round(cfg.test_fraction * len(s)))
        cuts = ((test, order[:n_test]), (val, order[n_test : n_test + n_val]), (train, order[n_test + n_val :]))
        for part, idx in cuts:
            sub = s.take(sorted(idx))
            for k in range(len(sub)):
                part.add(sub.names[k], sub.sources[k], sub.tokens[k], sub.phases[k])
    counts = {
        "melodies": {src: len(s) for src, s in sets.items()},
        "train": len(train),
        "val": len(val),
        "test": len(test),
        "train_notes": train.notes,
        "dropped": dropped,
    }
    arrays = {
        "tokens": np.concatenate(train.tokens + val.tokens + test.tokens),
        "lengths": np.array([len(t) for t in train.tokens + val.tokens + test.tokens]),
        "split": np.array([0] * len(train) + [1] * len(val) + [2] * len(test)),
    }
    return MelodyData(train, val, test, counts, cache.data_hash(arrays))


def phrases_of(melodies: MelodySet, bars: int = 2, min_notes: int = 3) -> list[Events]:
    """Each melody cut on its bar lines into phrases of ``bars`` bars from its first downbeat (a
    pickup before it is left out; a note that crosses a phrase's end is cut there, as a call is cut
    when the player stops); phrases with fewer than ``min_notes`` notes are left out."""
    out = []
    for tokens, phase in zip(melodies.tokens, melodies.phases, strict=True):
        downbeats = np.flatnonzero(phase == 0)
        for i in range(0, len(downbeats) - bars, bars):
            lo, hi = int(downbeats[i]), int(downbeats[i + bars])
            t = tokens[lo:hi]  # a note held over the cut reads as silence (a HOLD after nothing)
            if (t < 128).sum() >= min_notes:
                out.append(tokens_to_events(t, phase[lo:hi]))
    return out
