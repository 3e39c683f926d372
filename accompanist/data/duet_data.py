"""Two-track rolls for the duet model: where the pieces come from, how they are split, and the
batches the training loop reads.

Sources:

* ``chorales``: music21's Bach chorales (the harmoniser's selection rule), melody = soprano,
  accompaniment = alto + tenor + bass sounding together, split on the same held-out chorales as
  the harmoniser so both families are scored on the same music.
* a folder of shards written by ``accompanist data`` (any MIDI collection, see
  ``data/midi_folder.py``), a folder of MIDI files, or ``music21:NAME`` (multi-part scores of
  music21's corpus, ``data/score_corpus.py``), the last two turned into shards in the cache
  first (and reused on the next run). Pieces are split by a seeded hash of their names.

Transposition happens here, per sample and per epoch, so shards hold each piece once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from accompanist.data import cache
from accompanist.errors import AccompanistError
from accompanist.music import roll
from accompanist.music.meter import steady_phase


@dataclass
class DuetDataConfig:
    """Everything that decides the training data; recorded in the model card."""

    #: "chorales", a shard folder, a folder of MIDI files, music21:NAME, or several, comma-separated
    source: str = "chorales"
    steps_per_beat: int = 4
    chunk: int = 128  #: stateful variant: steps per training chunk
    transpositions: list[int] = field(default_factory=lambda: list(range(-6, 6)))
    repeats: int = 4  #: passes over the pieces per epoch, each with fresh transpositions
    test_fraction: float = 0.1
    val_fraction: float = 0.1
    split_seed: int = 0
    limit: int | None = None  #: first N pieces only (tests)
    #: listen variant: share of training windows whose current melody onset is not heard yet
    late: float = 0.25

    def describe(self) -> dict:
        return asdict(self)


class Pieces:
    """Named pairs of rolls (melody, accompaniment), each (steps, 2, 84) uint8, held in memory,
    and each piece's bar phase (``music.meter``; None: 4/4 from the first step)."""

    def __init__(
        self,
        names: list[str],
        melodies: list[np.ndarray],
        accompaniments: list[np.ndarray],
        phases: list[np.ndarray] | None = None,
    ):
        self.names, self.melodies, self.accompaniments, self.phases = names, melodies, accompaniments, phases

    def phase(self, i: int, steps_per_beat: int = 4) -> np.ndarray:
        if self.phases is not None:
            return self.phases[i]
        return steady_phase(self.length(i), 4 * steps_per_beat)

    def __len__(self) -> int:
        return len(self.names)

    def length(self, i: int) -> int:
        return len(self.melodies[i])

    def read(self, i: int, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        return self.melodies[i][start:stop], self.accompaniments[i][start:stop]

    def subset(self, keep: list[int]) -> Pieces:
        pick = lambda xs: None if xs is None else [xs[i] for i in keep]  # noqa: E731
        return Pieces(pick(self.names), pick(self.melodies), pick(self.accompaniments), pick(self.phases))

    @property
    def steps(self) -> int:
        return sum(len(m) for m in self.melodies)


class ShardPieces:
    """The same face over a shard folder, read lazily from its memory maps: a collection far
    larger than memory trains with only the batch in hand unpacked."""

    def __init__(self, shards, keep: list[int] | None = None):
        self.shards = shards
        self.index = list(range(len(shards))) if keep is None else keep
        self.names = [shards.names[i] for i in self.index]

    def __len__(self) -> int:
        return len(self.index)

    def length(self, i: int) -> int:
        return int(self.shards.lengths[self.index[i]])

    def read(self, i: int, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        return self.shards.read(self.index[i], start, stop)

    def phase(self, i: int, steps_per_beat: int = 4) -> np.ndarray:
        """MIDI files keep no reliable bar lines for a track pulled out of them: 4/4 from the start."""
        return steady_phase(self.length(i), 4 * steps_per_beat)

    def subset(self, keep: list[int]) -> ShardPieces:
        return ShardPieces(self.shards, [self.index[i] for i in keep])

    @property
    def steps(self) -> int:
        return int(sum(self.shards.lengths[i] for i in self.index))


CHORALE_RULE = "melody = soprano; accompaniment = alto, tenor and bass sounding together"


def chorale_pieces(limit: int | None = None) -> tuple[Pieces, object]:
    from accompanist.data.chorales import load_chorales

    ch = load_chorales(limit=limit)
    mels, accs = [], []
    for v in ch.voices:
        mels.append(roll.tokens_to_roll(v[0]))
        accs.append(roll.merge(*(roll.tokens_to_roll(v[k]) for k in (1, 2, 3))))
    return Pieces(list(ch.names), mels, accs, [ch.phase(i) for i in range(len(ch.names))]), ch


def resolve_source(source: str, steps_per_beat: int) -> Path:
    """A shard folder as it is; a MIDI folder or ``music21:NAME`` turned into shards in the cache."""
    from accompanist.data.score_corpus import PREFIX, build_music21_corpus

    if source.startswith(PREFIX):
        name = source[len(PREFIX) :]
        out = cache.cache_dir() / f"shards-music21-{name}-{steps_per_beat}"
        return build_music21_corpus(name, out, steps_per_beat).folder
    p = Path(source)
    if (p / "manifest.json").is_file():
        return p
    if not p.is_dir():
        raise AccompanistError(f"{source}: not 'chorales', music21:NAME, a shard folder or a folder of MIDI files")
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
    train: Pieces | ShardPieces
    val: Pieces | ShardPieces
    test: Pieces | ShardPieces
    counts: dict
    data_hash: str
    rule: str


def load_duet_data(cfg: DuetDataConfig) -> DuetData:
    from accompanist.data.duet_mix import SEPARATOR, load_mixed

    if SEPARATOR in cfg.source:
        return load_mixed(cfg)
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
        from accompanist.data.shards import ShardSet

        folder = resolve_source(cfg.source, cfg.steps_per_beat)
        shards = ShardSet(folder)
        keep = list(range(len(shards) if cfg.limit is None else min(cfg.limit, len(shards))))
        pieces = ShardPieces(shards, keep)
        manifest = shards.manifest
        if shards.steps_per_beat != cfg.steps_per_beat:
            raise AccompanistError(
                f"{folder}: shards are on {shards.steps_per_beat} steps per beat, not {cfg.steps_per_beat}"
            )
        test_names, val_names = _name_split(pieces.names, cfg.test_fraction, cfg.val_fraction, cfg.split_seed)
        rule = f"MIDI collection {cfg.source}: {manifest.get('rule', '')}"
        extra = {"source_counts": manifest.get("counts", {})}
    idx = {k: [] for k in ("train", "val", "test")}
    for i, n in enumerate(pieces.names):
        idx["test" if n in test_names else "val" if n in val_names else "train"].append(i)
    parts = {k: pieces.subset(v) for k, v in idx.items()}
    counts = {f"{k}_pieces": len(p) for k, p in parts.items()} | {f"{k}_steps": p.steps for k, p in parts.items()}
    if isinstance(pieces, Pieces):
        digest = cache.data_hash(
            {f"{k}{i}": np.concatenate(p.read(i), axis=1) for k, p in parts.items() for i in range(len(p))}
        )
    else:  # hashing a whole collection again would read it all: its manifest hash and our split say it
        split = json.dumps({k: p.names for k, p in parts.items()}, sort_keys=True)
        digest = hashlib.sha256((manifest["data_hash"] + split).encode()).hexdigest()
    return DuetData(parts["train"], parts["val"], parts["test"], counts | extra, digest, rule)


class PositionBatches:
    """Batches of positions in the pieces (``positions``, rows of piece and step), each made by
    the subclass's ``_make``: held out (``rng`` None) in order, untransposed; in training
    shuffled ``repeats`` times over, each sample transposed by a shift from ``transpositions``."""

    positions: np.ndarray
    repeats: int
    transpositions: list[int]

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
            yield self._make(pick, shifts, rng)

    def _make(self, pick: np.ndarray, shifts: np.ndarray, rng: np.random.Generator | None) -> dict[str, torch.Tensor]:
        raise NotImplementedError


class DuetBatches(PositionBatches):
    """Batches for either variant.

    stateful: chunks of ``chunk + 1`` steps (zero-padded past a piece's end, with a mask), the
    model reads steps 0..chunk-1 and is scored on 1..chunk; one chunk every ``chunk`` steps, so
    every step is a target once a pass.
    window: for every step t of every piece, the ``window`` steps up to t (zeros before the
    piece) and the target t + 1.
    Training batches transpose each sample by a random shift from ``transpositions``.
    """

    def __init__(
        self,
        pieces: Pieces | ShardPieces,
        variant: str,
        window: int,
        chunk: int,
        transpositions: list[int],
        repeats: int = 1,
    ):
        self.pieces, self.variant, self.window, self.chunk = pieces, variant, window, chunk
        self.transpositions, self.repeats = transpositions or [0], repeats
        pos = []
        for i in range(len(pieces)):
            n = pieces.length(i)
            if variant == "stateful":
                pos += [(i, s) for s in range(0, max(n - 1, 0), chunk)]
            else:
                pos += [(i, t) for t in range(n - 1)]
        self.positions = np.array(pos, dtype=np.int64).reshape(-1, 2)

    def _make(self, pick: np.ndarray, shifts: np.ndarray, rng: np.random.Generator | None) -> dict[str, torch.Tensor]:
        n = self.chunk + 1 if self.variant == "stateful" else self.window + 1
        mel = np.zeros((len(pick), n, 2, roll.N_PITCHES), np.uint8)
        acc = np.zeros_like(mel)
        mask = np.zeros((len(pick), n), np.float32)
        for j, (i, s) in enumerate(pick):
            lo = s if self.variant == "stateful" else s - self.window + 1
            a0, a1 = max(lo, 0), min(lo + n, self.pieces.length(int(i)))
            m, a = self.pieces.read(int(i), a0, a1)
            mel[j, a0 - lo : a1 - lo] = m
            acc[j, a0 - lo : a1 - lo] = a
            mask[j, a0 - lo : a1 - lo] = 1
            if shifts[j]:
                mel[j] = roll.transpose(mel[j], int(shifts[j]))
                acc[j] = roll.transpose(acc[j], int(shifts[j]))
        feats = lambda x: torch.from_numpy(roll.features(x))  # noqa: E731
        return {"mel": feats(mel), "acc": feats(acc), "mask": torch.from_numpy(mask)}


class StreamBatches:
    """Stateful training the way the live engine runs: each batch row is one long session.

    Every pass, the pieces are shuffled, each transposed by a random shift, and dealt into
    ``size`` streams (to the shortest stream first), one piece after another with ``gap`` silent
    steps between them, as a player pauses between tunes. The streams are cut into consecutive
    chunks and the loss carries the LSTM state from each chunk to the next (truncated
    backpropagation through time). Trained on fixed 128-step chunks from a zero state, the model
    learned cells that count steps, and drifted after a few hundred steps of a longer session
    (measured: |c| up to 2,000 and the accompaniment stuck at the note cap by step 2,000).

    Under torchrun each rank gets its own ``size`` streams: batch ``k * world + r`` is chunk ``k``
    of rank ``r``'s streams, which is the batch the loop deals to rank ``r``.
    """

    def __init__(
        self,
        pieces: Pieces | ShardPieces,
        chunk: int,
        transpositions: list[int],
        repeats: int = 1,
        world: int = 1,
        gap: int = 4,
    ):
        self.pieces, self.chunk, self.transpositions = pieces, chunk, transpositions or [0]
        self.repeats, self.world, self.gap = repeats, world, gap
        self.total = sum(pieces.length(i) + gap for i in range(len(pieces))) * repeats

    def __len__(self) -> int:
        return self.total

    def _rows(self, size: int) -> int:
        return max(1, min(size, len(self.pieces) * self.repeats // self.world))

    def num_batches(self, size: int) -> int:
        return max(self.total // (self._rows(size) * self.world) - 1, 0) // self.chunk * self.world

    def batches(self, size: int, rng: np.random.Generator | None) -> Iterator[dict[str, torch.Tensor]]:
        rng = rng or np.random.default_rng(0)
        order = np.concatenate([rng.permutation(len(self.pieces)) for _ in range(self.repeats)])
        size = self._rows(size)  # fewer pieces than rows: fewer, longer streams
        rows = size * self.world
        streams: list[list[tuple[int, int]]] = [[] for _ in range(rows)]
        lengths = np.zeros(rows, np.int64)
        for i in order:
            s = int(lengths.argmin())
            streams[s].append((int(i), int(rng.choice(self.transpositions))))
            lengths[s] += self.pieces.length(int(i)) + self.gap
        chunks = max(int(lengths.min()) - 1, 0) // self.chunk
        if chunks == 0:
            return
        readers = [_Reader(self._blocks(s)) for s in streams]
        last = [r.take(1) for r in readers]  # chunk k reads one step before its first target
        for k in range(chunks):
            block = []
            for r in range(rows):
                x = np.concatenate([last[r], readers[r].take(self.chunk)])
                last[r] = x[-1:]
                block.append(x)
            block = np.stack(block)  # (rows, chunk + 1, track, plane, pitch)
            for w in range(self.world):
                part = block[w * size : (w + 1) * size]
                yield {
                    "mel": torch.from_numpy(roll.features(part[:, :, 0])),
                    "acc": torch.from_numpy(roll.features(part[:, :, 1])),
                    "mask": torch.ones(len(part), self.chunk + 1),
                    "carry": torch.tensor(float(k > 0)),
                }

    def _blocks(self, stream: list[tuple[int, int]]) -> Iterator[np.ndarray]:
        gap = np.zeros((self.gap, 2, 2, roll.N_PITCHES), np.uint8)
        for i, shift in stream:
            m, a = self.pieces.read(i)
            if shift:
                m, a = roll.transpose(m, shift), roll.transpose(a, shift)
            yield np.stack([m, a], axis=1)
            yield gap


class _Reader:
    """Consecutive steps out of a stream of blocks of any length."""

    def __init__(self, blocks: Iterator[np.ndarray]):
        self.blocks, self.rest = blocks, None

    def take(self, n: int) -> np.ndarray:
        parts = [self.rest] if self.rest is not None else []
        have = sum(len(p) for p in parts)
        while have < n:
            b = next(self.blocks)
            parts.append(b)
            have += len(b)
        x = np.concatenate(parts)
        self.rest = x[n:]
        return x[:n]
