"""Duet shards from any folder of MIDI files (a user's own, or a copy of the Lakh MIDI dataset).

Each file is read, its melody and accompaniment picked by rule (``track_pick``), both quantised
to two-plane rolls, leading silence trimmed to the bar (or beat) where music starts, and the piece
written to shards (``shards``). Broken files, drum-only files and files without a usable melody
are skipped and counted by reason, never fatal.

It streams: paths go to a pool of worker processes with a bounded number in flight, results are
written as they arrive, so memory holds one shard plus the in-flight pieces whatever the folder's
size. A second run over an unchanged folder with the same settings reuses the shards without
reading a file: the cache key covers every file's relative path, size and modification time.
Transposition is left to training (see ``shards``).
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import shutil
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from accompanist.data import cache
from accompanist.data.shards import FORMAT_VERSION, Manifest, ShardWriter, prepare_out, reusable, swap_in
from accompanist.data.track_pick import PickRule, pick_tracks
from accompanist.errors import AccompanistError
from accompanist.music import roll as rolls
from accompanist.music.midi_io import Song, read_midi

#: Bumped whenever a change here would give different pieces from the same files.
BUILD_VERSION = 1
MIDI_SUFFIXES = (".mid", ".midi")
#: Examples of skipped files kept per reason in the manifest.
EXAMPLES = 3
#: No result for this long means a worker died; no single file takes nearly as long.
STALL_SECONDS = 600.0


@dataclass(frozen=True)
class PieceRule:
    """How a picked pair of parts becomes a piece."""

    steps_per_beat: int = 4
    min_beats: int = 4  #: shorter pieces (after trimming) are skipped
    #: longer files are skipped: a stray event hours out would otherwise ask for a huge roll
    max_beats: int = 4000


def walk(src: Path, skip: Iterable[Path] = ()) -> Iterator[str]:
    """Relative paths (with /) of the MIDI files under src, any depth, suffix in any case. Hidden
    folders are not entered (they hold version control, or our own half-built shards)."""
    skip = {Path(p).resolve() for p in skip}
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (Path(root, d).resolve() not in skip))
        for f in sorted(files):
            if f.lower().endswith(MIDI_SUFFIXES):
                yield Path(root, f).relative_to(src).as_posix()


def _file_list(src: Path, skip: Iterable[Path]) -> list[tuple[str, int, int]]:
    out = []
    for rel in walk(src, skip):
        try:
            st = os.stat(src / rel)
            out.append((rel, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((rel, -1, 0))  # a dangling link: the worker will count it unreadable
    out.sort()
    return out


def build_key(files: list[tuple[str, int, int]], rule: PickRule, piece: PieceRule, shard_steps: int) -> str:
    h = hashlib.sha256()
    for rel, size, mtime in files:
        h.update(f"{rel}\0{size}\0{mtime}\n".encode())
    return cache.key_of(
        files=h.hexdigest(),
        rule=rule.describe(),
        piece=asdict(piece),
        shard_steps=shard_steps,
        format=FORMAT_VERSION,
        build=BUILD_VERSION,
    )


def _short_reason(exc: BaseException) -> str:
    """A reason worth counting: the same for every file broken the same way (no file names)."""
    msg = str(exc)
    if isinstance(exc, AccompanistError):
        for needle, short in [
            ("is empty", "empty file"),
            ("no such file", "missing"),
            ("SMPTE", "SMPTE timing"),
            ("type-2", "type-2 file"),
            ("not a MIDI file", "not a MIDI file"),
            ("MThd not found", "not a MIDI file"),
            ("in the middle of a track", "truncated"),
        ]:
            if needle in msg:
                return f"unreadable: {short}"
        return "unreadable: corrupt MIDI data"
    return f"unreadable: {type(exc).__name__}"


def _bar_origin(song: Song, first_tick: int, ticks_per_step: float, steps_per_beat: int) -> int:
    """The step where the bar (or, for a bar off the grid, the beat) holding first_tick begins."""
    first = int(first_tick // ticks_per_step)
    anchor, bar_steps = 0, 4 * steps_per_beat
    for tick, msg in song.time_meta:
        if msg.type == "time_signature" and tick <= first_tick:
            anchor = int(round(tick / ticks_per_step))
            bar_steps = msg.numerator * 4 * steps_per_beat / msg.denominator
    if bar_steps != int(bar_steps) or bar_steps <= 0 or anchor > first:
        return first - first % steps_per_beat
    bar_steps = int(bar_steps)
    return anchor + (first - anchor) // bar_steps * bar_steps


def song_to_piece(song: Song, rule: PickRule, piece: PieceRule) -> tuple[np.ndarray, np.ndarray] | str:
    """Packed melody and accompaniment rolls (steps, 2, 11) of a song, or the reason it has none."""
    pick = pick_tracks(song, rule)
    if isinstance(pick, str):
        return pick
    mel, acc = pick.melody_notes, pick.accompaniment_notes
    tps = song.ticks_per_beat / piece.steps_per_beat
    first = min(mel[0].start, acc[0].start)
    end = max(n.end for n in (*mel, *acc))
    end_step = max(int(round(end / tps)), int(round(first / tps)) + 1)
    if end_step > piece.max_beats * piece.steps_per_beat:
        return "too long"
    origin = _bar_origin(song, first, tps, piece.steps_per_beat)
    if end_step - origin < piece.min_beats * piece.steps_per_beat:
        return "too short"
    mroll = rolls.notes_to_roll(mel, tps, end_step)[origin:]
    aroll = rolls.notes_to_roll(acc, tps, end_step)[origin:]
    return rolls.pack(mroll), rolls.pack(aroll)


# Worker state, set once per process by the pool's initializer rather than sent with every file.
_WORK: tuple[Path, PickRule, PieceRule] | None = None


def init_worker(src: Path, rule: PickRule, piece: PieceRule) -> None:
    global _WORK
    _WORK = (src, rule, piece)
    # Ctrl-C reaches the whole process group; a worker stopped halfway through sending a result
    # would corrupt the pool's pipe. The parent alone stops, and lets workers finish their files.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def process_file(rel: str) -> tuple[str, tuple[np.ndarray, np.ndarray] | str]:
    src, rule, piece = _WORK
    try:
        song = read_midi(src / rel)
    except Exception as exc:  # any broken file is a count, not a crash
        return rel, _short_reason(exc)
    try:
        return rel, song_to_piece(song, rule, piece)
    except Exception as exc:
        # A file mido accepted but that trips our code: a bug to look at, shown by its count and
        # examples in the manifest, but one file of 100,000 must not stop the build.
        return rel, f"failed: {type(exc).__name__}"


class _Stalled(Exception):
    pass


def _next(results: Iterator) -> list | None:
    """The next result, None at the end; _Stalled when none comes for STALL_SECONDS (a pool never
    returns the files of a worker killed from outside, e.g. by the out-of-memory killer)."""
    try:
        return results.next(timeout=STALL_SECONDS)
    except StopIteration:
        return None
    except mp.TimeoutError:
        raise _Stalled from None


def _process_batch(rels: list[str]) -> list[tuple[str, tuple[np.ndarray, np.ndarray] | str]]:
    return [process_file(rel) for rel in rels]


def _batched(items: Iterable[str], size: int) -> Iterator[list[str]]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _gated(items: Iterable, gate: threading.Semaphore, stop: threading.Event) -> Iterator:
    """Items, each only once the gate lets one more be in flight; the pool's feeder thread pulls
    this, so the parent never holds more than the gate's results."""
    for item in items:
        while not gate.acquire(timeout=0.1):
            if stop.is_set():
                return
        yield item


def build_midi_folder(
    src: Path,
    out: Path,
    steps_per_beat: int = 4,
    rule: PickRule | None = None,
    processes: int | None = None,
    shard_steps: int = 1_000_000,
    progress: bool = True,
    min_beats: int = 4,
    max_beats: int = 4000,
) -> Manifest:
    """Build (or reuse) duet shards in ``out`` from the MIDI files under ``src``; returns the
    manifest (``.reused`` says whether the shards were already there)."""
    t0 = time.perf_counter()
    src, out = Path(src), Path(out)
    rule = rule or PickRule()
    piece = PieceRule(steps_per_beat, min_beats, max_beats)
    if not src.is_dir():
        raise AccompanistError(f"{src}: no such folder; give a folder holding .mid files")
    files = _file_list(src, skip=[out])
    if not files:
        raise AccompanistError(f"{src}: no .mid or .midi files in this folder or below it")
    key = build_key(files, rule, piece, shard_steps)
    old = reusable(out, key)
    if old is not None:
        if progress:
            print(f"reusing shards in {out} ({old.total_pieces} pieces)", file=sys.stderr)
        return old
    prepare_out(out)

    processes = max(1, processes or os.cpu_count() or 1)
    # Batches big enough to keep inter-process traffic low, small enough to share the tail out.
    batch = max(1, min(16, len(files) // (processes * 8)))
    meta = {
        "kind": "midi-folder",
        "key": key,
        "source": str(src.resolve()),
        "rule": rule.describe(),
        "piece": asdict(piece),
        "build": BUILD_VERSION,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    _clear_stale(out)
    tmp = out.parent / f".{out.name}.building-{os.getpid()}"
    skipped: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    used = steps = 0
    try:
        writer = ShardWriter(tmp, steps_per_beat, shard_steps, meta)
        gate = threading.Semaphore(processes * 4)  # batches in flight
        stop = threading.Event()
        bar = _progress_bar(len(files), progress)
        ctx = mp.get_context("spawn")
        pool = ctx.Pool(processes, initializer=init_worker, initargs=(src, rule, piece))
        # Batches are single tasks (chunksize 1), so a result can be awaited with a time limit.
        batches = _gated(_batched((f[0] for f in files), batch), gate, stop)
        results = pool.imap_unordered(_process_batch, batches)
        healthy = True
        try:
            while (got := _next(results)) is not None:
                gate.release()
                for rel, result in got:
                    if isinstance(result, str):
                        skipped[result] += 1
                        if len(examples.setdefault(result, [])) < EXAMPLES:
                            examples[result].append(rel)
                    else:
                        writer.add_packed(rel, *result)
                        used += 1
                        steps += len(result[0])
                if bar is not None:
                    bar.update(len(got))
        except BaseException as exc:
            healthy = not isinstance(exc, _Stalled)
            # Stop feeding and let the workers finish the few files they hold: Pool.terminate
            # can kill a worker while it holds the result queue's lock and then wait forever.
            stop.set()
            try:
                while healthy and _next(results) is not None:
                    pass
            except _Stalled:
                healthy = False
            if isinstance(exc, _Stalled):
                raise AccompanistError(
                    f"{src}: no file finished in {STALL_SECONDS} s; a worker process may have died "
                    "(out of memory?); run the build again"
                ) from None
            raise
        finally:
            if healthy:
                pool.close()
                pool.join()
            else:
                pool.terminate()
            if bar is not None:
                bar.close()
        seconds = time.perf_counter() - t0
        counts = {
            "files_found": len(files),
            "files_used": used,
            "skipped": dict(sorted(skipped.items())),
            "skipped_examples": dict(sorted(examples.items())),
            "pieces": used,
            "steps": steps,
            "seconds": round(seconds, 3),
            "files_per_second": round(len(files) / seconds, 1) if seconds > 0 else None,
            "processes": processes,
        }
        manifest = writer.close(counts)
        swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest.folder = out
    if progress:
        print(
            f"wrote {out}: {used} of {len(files)} files as {manifest.total_steps} steps in "
            f"{len(manifest.shards)} shards ({counts['files_per_second']} files/s); skipped: "
            + (", ".join(f"{r} {n}" for r, n in counts["skipped"].items()) or "none"),
            file=sys.stderr,
        )
    return manifest


def _progress_bar(total: int, progress: bool):
    if not (progress and sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="file", desc="MIDI files", file=sys.stderr)


def _clear_stale(out: Path) -> None:
    """Remove what builds of out that were killed outright left behind (their process is gone)."""
    for p in out.parent.glob(f".{out.name}.*-*"):
        kind, _, pid = p.name.rpartition("-")
        if not (kind.endswith((".building", ".old")) and pid.isdigit()):
            continue
        try:
            os.kill(int(pid), 0)
            if int(pid) != os.getpid():
                continue  # a build running now
        except ProcessLookupError:
            pass
        except OSError:
            continue  # someone else's process: not ours to judge
        shutil.rmtree(p, ignore_errors=True)
