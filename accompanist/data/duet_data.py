"""Two-track rolls for the duet model: where the pieces come from, how they are split, and the
batches the training loop reads.

Sources:

* ``chorales``: music21's Bach chorales (the harmoniser's selection rule), melody = soprano,
  accompaniment = alto + tenor + bass sounding together, split on the same held-out chorales as
  the harmoniser so both families are scored on the same music.
* a folder of shards written by ``accompanist data`` (any MIDI collection, see
  ``data/midi_folder.py``), or a folder of MIDI files, which is turned into shards in the cache
  first (and reused on the next run). Pieces are split by a seeded hash of their names.

Transposition happens here, per sample and per epoch, so shards hold each piece once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from accompanist.data import cache
from accompanist.errors import AccompanistError
from accompanist.music import roll
from accompanist.music.notes import tokens_to_notes


@dataclass
class DuetDataConfig:
    """Everything that decides the training data; recorded in the model card."""

    source: str = "chorales"  #: "chorales", a shard folder, or a folder of MIDI files
    steps_per_beat: int = 4
    chunk: int = 128  #: stateful variant: steps per training chunk
    transpositions: list[int] = field(default_factory=lambda: list(range(-6, 6)))
    repeats: int = 4  #: passes over the pieces per epoch, each with fresh transpositions
    test_fraction: float = 0.1
    val_fraction: float = 0.1
    split_seed: int = 0
    limit: int | None = None  #: first N pieces only (tests)

    def describe(self) -> dict:
        return asdict(self)


class Pieces:
    """Named pairs of rolls (melody, accompaniment), each (steps, 2, 84) uint8."""

    def __init__(self, names: list[str], melodies: list[np.ndarray], accompaniments: list[np.ndarray]):
        self.names, self.melodies, self.accompaniments = names, melodies, accompaniments

    def __len__(self) -> int:
        return len(self.names)

    def get(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        return self.melodies[i], self.accompaniments[i]

    def subset(self, keep: list[int]) -> Pieces:
        pick = lambda xs: [xs[i] for i in keep]  # noqa: E731
        return Pieces(pick(self.names), pick(self.melodies), pick(self.accompaniments))

    @property
    def steps(self) -> int:
        return sum(len(m) for m in self.melodies)


def tokens_to_roll(tokens: np.ndarray) -> np.ndarray:
    """One monophonic voice of the 130-token grid as a roll on the same grid."""
    return roll.notes_to_roll(tokens_to_notes(tokens, 1.0), 1.0, len(tokens))


CHORALE_RULE = "melody = soprano; accompaniment = alto, tenor and bass sounding together"


def chorale_pieces(limit: int | None = None) -> tuple[Pieces, object]:
    from accompanist.data.chorales import load_chorales

    ch = load_chorales(limit=limit)
    mels, accs = [], []
    for v in ch.voices:
        mels.append(tokens_to_roll(v[0]))
        accs.append(roll.merge(*(tokens_to_roll(v[k]) for k in (1, 2, 3))))
    return Pieces(list(ch.names), mels, accs), ch


def shard_pieces(folder: Path, limit: int | None = None) -> tuple[Pieces, dict]:
    """All pieces of a shard folder, unpacked into memory. A collection too large for memory
    trains from its shards through ``ShardSet`` instead (see ``ShardBatches``)."""
    from accompanist.data.shards import ShardSet

    s = ShardSet(folder)
    n = len(s.pieces) if limit is None else min(limit, len(s.pieces))
    mels, accs = [], []
    for i in range(n):
        m, a = s.read(i)
        mels.append(m)
        accs.append(a)
    return Pieces(list(s.names[:n]), mels, accs), s.manifest


def resolve_source(source: str, steps_per_beat: int) -> Path:
    """A shard folder as it is, or a MIDI folder turned into shards in the cache."""
    p = Path(source)
    if (p / "manifest.json").is_file():
        return p
    if not p.is_dir():
        raise AccompanistError(f"{source}: not 'chorales', a shard folder or a folder of MIDI files")
    from accompanist.data.midi_folder import build_midi_folder

    out = cache.cache_dir() / f"shards-{cache.key_of(src=str(p.resolve()), spb=steps_per_beat)}"
    build_midi_folder(p, out, steps_per_beat=steps_per_beat)
    return out


def _name_split(names: list[str], test_fraction: float, val_fraction: float, seed: int) -> tuple[set, set]:
    """Held-out pieces by a seeded hash of each name: stable when files are added."""

    def u(name: str) -> float:
        return int(hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()[:8], 16) / 16**8

    test = {n for n in names if u(n) < test_fraction}
    val = {n for n in names if test_fraction <= u(n) < test_fraction + val_fraction}
    return test, val


@dataclass
class DuetData:
    train: Pieces
    val: Pieces
    test: Pieces
    counts: dict
    data_hash: str
    rule: str


def load_duet_data(cfg: DuetDataConfig) -> DuetData:
    if cfg.source == "chorales":
        if cfg.steps_per_beat != 4:
            raise AccompanistError("the chorale source is on the 16th grid: use --steps-per-beat 4")
        from accompanist.data.chorales import SELECTION_RULE
        from accompanist.data.pairs import chorale_split

        pieces, ch = chorale_pieces(cfg.limit)
        test_names, val_names = chorale_split(ch, cfg.test_fraction, cfg.val_fraction, cfg.split_seed)
        rule = f"{SELECTION_RULE}; {CHORALE_RULE}"
        extra = {"source_files": ch.source_files}
    else:
        folder = resolve_source(cfg.source, cfg.steps_per_beat)
        pieces, manifest = shard_pieces(folder, cfg.limit)
        if int(manifest.get("steps_per_beat", cfg.steps_per_beat)) != cfg.steps_per_beat:
            raise AccompanistError(
                f"{folder}: shards are on {manifest['steps_per_beat']} steps per beat, not {cfg.steps_per_beat}"
            )
        test_names, val_names = _name_split(pieces.names, cfg.test_fraction, cfg.val_fraction, cfg.split_seed)
        rule = f"MIDI collection {cfg.source}: {manifest.get('rule', '')}"
        extra = {"source_counts": manifest.get("counts", {})}
    idx = {k: [] for k in ("train", "val", "test")}
    for i, n in enumerate(pieces.names):
        idx["test" if n in test_names else "val" if n in val_names else "train"].append(i)
    parts = {k: pieces.subset(v) for k, v in idx.items()}
    counts = {f"{k}_pieces": len(p) for k, p in parts.items()} | {f"{k}_steps": p.steps for k, p in parts.items()}
    digest = cache.data_hash(
        {
            f"{k}{i}": np.concatenate([p.melodies[i], p.accompaniments[i]], axis=1)
            for k, p in parts.items()
            for i in range(len(p))
        }
    )
    return DuetData(parts["train"], parts["val"], parts["test"], counts | extra, digest, rule)


class DuetBatches:
    """Batches for either variant.

    stateful: chunks of ``chunk + 1`` steps (zero-padded past a piece's end, with a mask), the
    model reads steps 0..chunk-1 and is scored on 1..chunk; one chunk every ``chunk`` steps, so
    every step is a target once a pass.
    window: for every step t of every piece, the ``window`` steps up to t (zeros before the
    piece) and the target t + 1.
    Training batches transpose each sample by a random shift from ``transpositions``.
    """

    def __init__(
        self, pieces: Pieces, variant: str, window: int, chunk: int, transpositions: list[int], repeats: int = 1
    ):
        self.pieces, self.variant, self.window, self.chunk = pieces, variant, window, chunk
        self.transpositions, self.repeats = transpositions or [0], repeats
        pos = []
        for i in range(len(pieces)):
            n = len(pieces.melodies[i])
            if variant == "stateful":
                pos += [(i, s) for s in range(0, max(n - 1, 0), chunk)]
            else:
                pos += [(i, t) for t in range(n - 1)]
        self.positions = np.array(pos, dtype=np.int64).reshape(-1, 2)

    def __len__(self) -> int:
        return len(self.positions)

    def num_batches(self, size: int) -> int:
        return -(-len(self.positions) * self.repeats // size)

    def batches(self, size: int, rng: np.random.Generator | None) -> Iterator[dict[str, torch.Tensor]]:
        if rng is None:
            order = np.arange(len(self.positions))
        else:
            order = np.concatenate([rng.permutation(len(self.positions)) for _ in range(self.repeats)])
        for b in range(0, len(order), size):
            pick = self.positions[order[b : b + size]]
            shifts = rng.choice(self.transpositions, len(pick)) if rng is not None else np.zeros(len(pick), int)
            yield self._make(pick, shifts)

    def _make(self, pick: np.ndarray, shifts: np.ndarray) -> dict[str, torch.Tensor]:
        n = self.chunk + 1 if self.variant == "stateful" else self.window + 1
        mel = np.zeros((len(pick), n, 2, roll.N_PITCHES), np.uint8)
        acc = np.zeros_like(mel)
        mask = np.zeros((len(pick), n), np.float32)
        for j, (i, s) in enumerate(pick):
            m, a = self.pieces.get(int(i))
            lo = s if self.variant == "stateful" else s - self.window + 1
            a0, a1 = max(lo, 0), min(lo + n, len(m))
            mel[j, a0 - lo : a1 - lo] = m[a0:a1]
            acc[j, a0 - lo : a1 - lo] = a[a0:a1]
            mask[j, a0 - lo : a1 - lo] = 1
            if shifts[j]:
                mel[j] = roll.transpose(mel[j], int(shifts[j]))
                acc[j] = roll.transpose(acc[j], int(shifts[j]))
        feats = lambda x: torch.from_numpy(roll.features(x))  # noqa: E731
        return {"mel": feats(mel), "acc": feats(acc), "mask": torch.from_numpy(mask)}
