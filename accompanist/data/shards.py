"""Sharded duet data on disk: melody and accompaniment rolls, written once, memory-mapped by training.

Every duet data source (a MIDI folder, later others) writes this format and training reads only
this. A shard folder holds, per shard ``shard-NNNNN``:

- ``.mel.npy`` and ``.acc.npy``: (T, 2, 11) uint8, the rolls of ``accompanist.music.roll`` with
  the 84 pitches packed to 11 bytes (``roll.pack``), the pieces of the shard one after another;
- ``.pieces.npy``: (n, 2) int64, each piece's first step in the shard and its length;
- ``.names.json``: the n piece names (for a MIDI folder, the file's path relative to the folder).

and ``manifest.json``, written last: the grid, the shards and their sizes, the counts of the
build, its cache key and rule. A folder without a manifest is an unfinished build. Every file is
written under a temporary name and renamed, so a reader never sees half a file.

Each piece is stored once, in its original key: transposition is drawn at batch time by training
(``roll.transpose``), so augmenting costs no disk and every key of a piece stays on one side of a
split. ``transpose_range`` says which shifts keep a window's notes inside the roll's 84 pitches.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accompanist.errors import AccompanistError
from accompanist.music import roll as rolls

#: Bumped whenever the files change shape or meaning; a reader refuses other versions.
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_FIELDS = ("format", "steps_per_beat", "shard_steps", "shards", "total_pieces", "total_steps", "counts", "data_hash")


def shard_stem(index: int) -> str:
    return f"shard-{index:05d}"


@dataclass
class Manifest:
    """What ``manifest.json`` says. ``meta`` holds the source's own fields (``key``, ``rule``,
    ``source``, ...), stored at the top level of the JSON beside the fixed ones."""

    steps_per_beat: int
    shard_steps: int
    shards: list[dict]  #: per shard: {"stem", "pieces", "steps"}
    total_pieces: int
    total_steps: int
    counts: dict
    #: sha256 over the pieces (name and both rolls), independent of their order in the shards,
    #: so a build with more worker processes has the same hash
    data_hash: str
    meta: dict = field(default_factory=dict)
    format: int = FORMAT_VERSION
    #: not stored: True when a build found this manifest already in place and read no MIDI file
    reused: bool = False
    folder: Path | None = None

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in _FIELDS}
        return {**self.meta, **d}

    @classmethod
    def from_dict(cls, d: dict, folder: Path | None = None) -> Manifest:
        meta = {k: v for k, v in d.items() if k not in _FIELDS}
        return cls(**{k: d[k] for k in _FIELDS}, meta=meta, folder=folder)

    @property
    def key(self) -> str | None:
        return self.meta.get("key")


def _write_atomic(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_npy_chunks(path: Path, chunks: list[np.ndarray], steps: int) -> None:
    """One .npy of the chunks stacked along the first axis, written chunk by chunk so a shard never
    sits in memory twice."""
    header = {"descr": "|u1", "fortran_order": False, "shape": (steps, 2, rolls.PACKED)}

    def write(f) -> None:
        np.lib.format.write_array_header_1_0(f, header)
        for c in chunks:
            f.write(np.ascontiguousarray(c, dtype=np.uint8).tobytes())

    _write_atomic(path, write)


def _save_npy(path: Path, array: np.ndarray) -> None:
    _write_atomic(path, lambda f: np.save(f, array, allow_pickle=False))


class ShardWriter:
    """Collects pieces and writes a shard each time ``shard_steps`` steps are buffered (a piece is
    never split, so a shard may run over by one piece). Memory holds one shard at most."""

    def __init__(
        self, folder: Path, steps_per_beat: int, shard_steps: int = 1_000_000, meta: dict | None = None
    ) -> None:
        if shard_steps < 1:
            raise ValueError("shard_steps must be at least 1")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        # A manifest left from an earlier build would make a half-written folder look finished.
        (self.folder / MANIFEST).unlink(missing_ok=True)
        self.steps_per_beat = steps_per_beat
        self.shard_steps = shard_steps
        self.meta = dict(meta or {})
        self.shards: list[dict] = []
        self._mel: list[np.ndarray] = []
        self._acc: list[np.ndarray] = []
        self._names: list[str] = []
        self._steps = 0
        self._total_pieces = 0
        self._total_steps = 0
        self._hash_sum = 0
        self._closed = False

    def add(self, name: str, melody: np.ndarray, accompaniment: np.ndarray) -> None:
        """Add one piece: two unpacked rolls (steps, 2, 84) of the same length."""
        for what, r in (("melody", melody), ("accompaniment", accompaniment)):
            if r.ndim != 3 or r.shape[1:] != (2, rolls.N_PITCHES):
                raise ValueError(f"{name}: {what} roll has shape {r.shape}, expected (steps, 2, {rolls.N_PITCHES})")
        self.add_packed(name, rolls.pack(melody), rolls.pack(accompaniment))

    def add_packed(self, name: str, melody: np.ndarray, accompaniment: np.ndarray) -> None:
        """Add one piece already packed: two (steps, 2, 11) uint8 arrays of the same length."""
        if self._closed:
            raise ValueError("the shard writer is closed")
        if melody.shape != accompaniment.shape or melody.shape[1:] != (2, rolls.PACKED):
            raise ValueError(f"{name}: packed rolls of shapes {melody.shape} and {accompaniment.shape} do not match")
        if len(melody) == 0:
            raise ValueError(f"{name}: an empty piece")
        melody = np.ascontiguousarray(melody, dtype=np.uint8)
        accompaniment = np.ascontiguousarray(accompaniment, dtype=np.uint8)
        h = hashlib.sha256(name.encode())
        h.update(melody.tobytes())
        h.update(accompaniment.tobytes())
        # A sum of per-piece digests does not depend on the order in which workers delivered them.
        self._hash_sum = (self._hash_sum + int.from_bytes(h.digest(), "big")) % (1 << 256)
        self._mel.append(melody)
        self._acc.append(accompaniment)
        self._names.append(name)
        self._steps += len(melody)
        if self._steps >= self.shard_steps:
            self.flush()

    def flush(self) -> None:
        """Write the buffered pieces as one shard (nothing if the buffer is empty)."""
        if not self._names:
            return
        stem = shard_stem(len(self.shards))
        lengths = np.array([len(m) for m in self._mel], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        _write_npy_chunks(self.folder / f"{stem}.mel.npy", self._mel, self._steps)
        _write_npy_chunks(self.folder / f"{stem}.acc.npy", self._acc, self._steps)
        _save_npy(self.folder / f"{stem}.pieces.npy", np.stack([starts, lengths], axis=1))
        names = json.dumps(self._names).encode()
        _write_atomic(self.folder / f"{stem}.names.json", lambda f: f.write(names))
        self.shards.append({"stem": stem, "pieces": len(self._names), "steps": self._steps})
        self._total_pieces += len(self._names)
        self._total_steps += self._steps
        self._mel, self._acc, self._names, self._steps = [], [], [], 0

    def close(self, counts: dict | None = None) -> Manifest:
        """Write the last shard, then the manifest; returns it."""
        self.flush()
        self._closed = True
        manifest = Manifest(
            steps_per_beat=self.steps_per_beat,
            shard_steps=self.shard_steps,
            shards=self.shards,
            total_pieces=self._total_pieces,
            total_steps=self._total_steps,
            counts=dict(counts or {}),
            data_hash=hashlib.sha256(self._hash_sum.to_bytes(32, "big")).hexdigest(),
            meta=self.meta,
            folder=self.folder,
        )
        text = json.dumps(manifest.to_dict(), indent=1).encode()
        _write_atomic(self.folder / MANIFEST, lambda f: f.write(text))
        return manifest


def read_manifest(folder: Path) -> Manifest:
    """The manifest of a finished shard folder; AccompanistError if it is missing or damaged."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise AccompanistError(f"{folder}: no such shard folder; build it first (e.g. from a MIDI folder)")
    if not path.is_file():
        raise AccompanistError(
            f"{folder}: unfinished shard folder (no {MANIFEST}); the build was interrupted, build it again"
        )
    try:
        d = json.loads(path.read_text())
        if d.get("format") != FORMAT_VERSION:
            raise AccompanistError(
                f"{folder}: shard format {d.get('format')!r}, this accompanist reads {FORMAT_VERSION}; build it again"
            )
        return Manifest.from_dict(d, folder)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise AccompanistError(
            f"{folder}: damaged {MANIFEST} ({type(exc).__name__}); delete the folder and build it again"
        ) from None


class ShardSet:
    """A finished shard folder, opened for reading. Pieces are listed in name order (``names``,
    ``pieces``), whatever order they were written in. Shards are memory-mapped on first use, so
    opening costs only the manifest, piece tables and names."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._manifest = read_manifest(self.folder)
        self._maps: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        tables, self.names = [], []
        for i, s in enumerate(self._manifest.shards):
            stem = s["stem"]
            for suffix in ("mel.npy", "acc.npy", "pieces.npy", "names.json"):
                if not (self.folder / f"{stem}.{suffix}").is_file():
                    raise AccompanistError(
                        f"{self.folder}: {stem}.{suffix} is missing; delete the folder and build it again"
                    )
            try:
                t = np.load(self.folder / f"{stem}.pieces.npy", allow_pickle=False)
                names = json.loads((self.folder / f"{stem}.names.json").read_text())
            except (OSError, ValueError) as exc:
                raise AccompanistError(
                    f"{self.folder}: {stem} is damaged ({type(exc).__name__}); delete the folder and build it again"
                ) from None
            if t.shape != (s["pieces"], 2) or len(names) != s["pieces"]:
                raise AccompanistError(
                    f"{self.folder}: {stem} does not match the manifest; delete the folder and build it again"
                )
            tables.append(np.column_stack([np.full(len(t), i, dtype=np.int64), t]))
            self.names.extend(names)
        pieces = np.concatenate(tables) if tables else np.zeros((0, 3), dtype=np.int64)
        # Workers finish in any order; listing by name makes piece i the same piece in every build.
        order = sorted(range(len(self.names)), key=self.names.__getitem__)
        self.names = [self.names[i] for i in order]
        #: (pieces, 3) int64, in name order: shard index, first step in the shard, length in steps
        self.pieces = pieces[order]

    @property
    def manifest(self) -> dict:
        """The manifest as stored: counts, key, rule, steps_per_beat, shards, data_hash, ..."""
        return self._manifest.to_dict()

    @property
    def steps_per_beat(self) -> int:
        return self._manifest.steps_per_beat

    @property
    def total_steps(self) -> int:
        return self._manifest.total_steps

    @property
    def lengths(self) -> np.ndarray:
        return self.pieces[:, 2]

    def __len__(self) -> int:
        return len(self.pieces)

    def _shard(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if i not in self._maps:
            stem = self._manifest.shards[i]["stem"]
            try:
                mel = np.load(self.folder / f"{stem}.mel.npy", mmap_mode="r", allow_pickle=False)
                acc = np.load(self.folder / f"{stem}.acc.npy", mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise AccompanistError(
                    f"{self.folder}: {stem} is damaged ({type(exc).__name__}); delete the folder and build it again"
                ) from None
            steps = self._manifest.shards[i]["steps"]
            if mel.shape != (steps, 2, rolls.PACKED) or acc.shape != mel.shape:
                raise AccompanistError(
                    f"{self.folder}: {stem} does not match the manifest; delete the folder and build it again"
                )
            self._maps[i] = (mel, acc)
        return self._maps[i]

    def read_packed(self, piece: int, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Steps start:stop of a piece, packed (views into the memory map)."""
        shard, first, length = (int(v) for v in self.pieces[piece])
        lo, hi, _ = slice(start, stop).indices(length)
        hi = max(hi, lo)
        mel, acc = self._shard(shard)
        return mel[first + lo : first + hi], acc[first + lo : first + hi]

    def read(self, piece: int, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Steps start:stop of a piece (slice rules, relative to the piece) as melody and
        accompaniment rolls, (steps, 2, 84) uint8."""
        mel, acc = self.read_packed(piece, start, stop)
        return rolls.unpack(np.asarray(mel)), rolls.unpack(np.asarray(acc))

    def __getstate__(self) -> dict:
        # Memory maps must not travel to worker processes as copies; each reopens its own.
        state = self.__dict__.copy()
        state["_maps"] = {}
        return state


def transpose_range(*parts: np.ndarray) -> tuple[int, int]:
    """The smallest and largest semitone shifts that keep every note of the rolls (unpacked,
    last axis pitch) inside the 84 pitches; (0, 0) if they are silent."""
    used = np.zeros(rolls.N_PITCHES, dtype=bool)
    for p in parts:
        used |= np.asarray(p).reshape(-1, rolls.N_PITCHES).any(axis=0)
    idx = np.flatnonzero(used)
    if not len(idx):
        return 0, 0
    return -int(idx[0]), rolls.N_PITCHES - 1 - int(idx[-1])


# --- a build's life: reuse what is there, never overwrite a folder that is not ours, swap in ---


def reusable(out: Path, key: str) -> Manifest | None:
    """The manifest in ``out`` if it was built with ``key`` (marked ``reused``); a damaged or
    different one is None, to be rebuilt."""
    if not (Path(out) / MANIFEST).is_file():
        return None
    try:
        old = read_manifest(Path(out))
    except AccompanistError:
        return None
    if old.key != key:
        return None
    old.reused = True
    return old


def _ours(name: str) -> bool:
    """A file a shard build writes: shards, the manifest, or a temporary file of either."""
    return name.startswith("shard-") or name == MANIFEST or (name.startswith(".") and name.endswith(".tmp"))


def prepare_out(out: Path) -> None:
    """Refuse to replace a folder that is not a shard folder: it may be the user's own."""
    if not out.exists():
        return
    if not out.is_dir():
        raise AccompanistError(f"{out}: exists and is not a folder; choose another output folder")
    foreign = [n for n in (p.name for p in out.iterdir()) if not _ours(n)]
    if foreign:
        raise AccompanistError(
            f"{out}: not a shard folder (it holds {foreign[0]!r}); choose an empty or new output folder"
        )


def swap_in(tmp: Path, out: Path) -> None:
    """Put the finished build in place of out. The old one is renamed aside, not deleted, until
    the new one is in place: a crash between the two renames leaves both on disk."""
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
