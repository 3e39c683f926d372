"""MIDI files in and out through mido: notes per track, the tempo map, and the two-track file."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import mido
from mido.midifiles.meta import KeySignatureError

from accompanist.atomic import atomic_write
from accompanist.errors import AccompanistError
from accompanist.music.notes import Note

#: Meta messages that describe time; they are copied from the input to the output conductor track.
TIME_META = ("set_tempo", "time_signature", "key_signature")


@dataclass
class Track:
    """One track of a file: its name, its notes, and its raw messages in absolute ticks."""

    name: str
    notes: list[Note]
    events: list[tuple[int, mido.Message]] = field(default_factory=list)


@dataclass
class Song:
    """A MIDI file reduced to what the grid needs, keeping the raw messages for faithful copies."""

    ticks_per_beat: int
    tracks: list[Track]
    time_meta: list[tuple[int, mido.MetaMessage]]
    path: str = ""

    @property
    def note_tracks(self) -> list[Track]:
        return [t for t in self.tracks if t.notes]


#: The largest MIDI file read. The largest pieces of the Lakh MIDI collection are a few MB.
MAX_FILE_BYTES = 32 * 2**20


def read_midi(path: str | os.PathLike) -> Song:
    """Read a MIDI file; raises AccompanistError naming the file if it is missing or broken."""
    path = Path(path)
    if path.is_dir():
        raise AccompanistError(f"{path}: is a folder; give the path of one .mid file in it")
    if not path.is_file():
        raise AccompanistError(f"{path}: no such file; give the path of a .mid file")
    size = path.stat().st_size
    if size == 0:
        raise AccompanistError(f"{path}: the file is empty; give a standard MIDI file")
    if size > MAX_FILE_BYTES:
        # mido holds every message as an object (~0.5 KB each): a 100 MB file would need gigabytes
        raise AccompanistError(
            f"{path}: {size / 2**20:.0f} MB is far past any melody or song file "
            f"(the limit is {MAX_FILE_BYTES // 2**20} MB); give a standard MIDI file of one piece"
        )
    with open(path, "rb") as f:
        head = f.read(4)
    if head not in (b"MThd", b"RIFF"):  # RIFF: an RMID wrapper, which mido reads
        what = "text" if head.isascii() and head.decode("ascii").isprintable() else "another format"
        raise AccompanistError(
            f"{path}: not a MIDI file (it does not begin with MThd; it looks like {what}); give a standard MIDI file"
        )
    try:
        mf = mido.MidiFile(path, clip=True)
    except (OSError, EOFError, ValueError, KeyError, IndexError, KeySignatureError) as exc:
        why = str(exc) or ("the file ends in the middle of a track" if isinstance(exc, EOFError) else "")
        raise AccompanistError(
            f"{path}: not a readable MIDI file ({why or type(exc).__name__}); export it again as a standard MIDI file"
        ) from None
    if mf.ticks_per_beat <= 0:  # 0 is corrupt; negative is SMPTE (frames per second) timing
        raise AccompanistError(
            f"{path}: the file does not count time in ticks per beat (SMPTE or zero division); "
            "export it again with ticks per beat (PPQ) timing"
        )
    if mf.type == 2:
        raise AccompanistError(
            f"{path}: type-2 MIDI files (independent patterns) are not supported; save it as type 0 or 1"
        )
    tracks: list[Track] = []
    time_meta: list[tuple[int, mido.MetaMessage]] = []
    for i, mtrack in enumerate(mf.tracks):
        name = f"track {i}"
        now = 0
        sounding: dict[tuple[int, int], list[tuple[int, int]]] = {}
        notes: list[Note] = []
        events: list[tuple[int, mido.Message]] = []
        for msg in mtrack:
            now += msg.time
            if msg.type == "track_name":
                name = msg.name
            if msg.is_meta:
                if msg.type in TIME_META:
                    time_meta.append((now, msg))
                continue
            events.append((now, msg))
            if msg.type == "note_on" and msg.velocity > 0:
                sounding.setdefault((msg.channel, msg.note), []).append((now, msg.velocity))
            elif msg.type in ("note_off", "note_on"):
                stack = sounding.get((msg.channel, msg.note))
                if stack:
                    start, vel = stack.pop(0)
                    notes.append(Note(msg.note, start, now, vel, msg.channel))
        for (ch, pitch), stack in sounding.items():
            for start, vel in stack:
                notes.append(Note(pitch, start, max(now, start + 1), vel, ch))
        notes.sort(key=lambda n: (n.start, -n.pitch))
        tracks.append(Track(name, notes, events))
    time_meta.sort(key=lambda e: e[0])
    return Song(mf.ticks_per_beat, tracks, time_meta, str(path))


def _to_delta(events: list[tuple[int, mido.Message]]) -> mido.MidiTrack:
    track = mido.MidiTrack()
    now = 0

    # Note offs sort before note ons at the same tick so a repeated pitch re-strikes cleanly.
    def order(e: tuple[int, mido.Message]) -> tuple[int, int]:
        msg = e[1]
        off = msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0)
        return (e[0], 0 if msg.is_meta else (1 if off else 2))

    for t, msg in sorted(events, key=order):
        track.append(msg.copy(time=t - now))
        now = t
    return track


def note_events(notes: list[Note]) -> list[tuple[int, mido.Message]]:
    """note_on/note_off pairs for notes, in absolute ticks."""
    events: list[tuple[int, mido.Message]] = []
    for n in notes:
        events.append((n.start, mido.Message("note_on", note=n.pitch, velocity=n.velocity, channel=n.channel)))
        events.append((n.end, mido.Message("note_off", note=n.pitch, velocity=0, channel=n.channel)))
    return events


@dataclass
class Part:
    """A named track to write: either raw events (kept as they were) or notes."""

    name: str
    events: list[tuple[int, mido.Message]]
    program: int | None = None
    channel: int = 0


def write_midi(
    path: str | os.PathLike,
    ticks_per_beat: int,
    parts: list[Part],
    time_meta: list[tuple[int, mido.MetaMessage]] | None = None,
) -> None:
    """Write a type-1 file: a conductor track with the tempo map, then one track per part.

    The file is written next to its destination and renamed, so a reader never sees half a file.
    """
    mf = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    conductor = [(0, mido.MetaMessage("track_name", name="conductor"))]
    conductor += list(time_meta or [(0, mido.MetaMessage("set_tempo", tempo=500000))])
    mf.tracks.append(_to_delta(conductor))
    for part in parts:
        head: list[tuple[int, mido.Message]] = [(0, mido.MetaMessage("track_name", name=part.name))]
        if part.program is not None:
            head.append((0, mido.Message("program_change", program=part.program, channel=part.channel)))
        mf.tracks.append(_to_delta(head + part.events))
    with atomic_write(path, "MIDI file") as tmp:
        mf.save(tmp)
