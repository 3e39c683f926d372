"""Hostile inputs, generated: broken and absurd MIDI files, presets and model cards of the wrong
shape. The tests feed them to every reader through hypothesis; ``bench hostile`` times them."""

from __future__ import annotations

import io
import json
import random
import struct
from collections.abc import Callable, Iterator

import mido

from accompanist.live.recorder import vlq  # MIDI's variable-length numbers, as written there


def _saved(mf: mido.MidiFile) -> bytes:
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()


def valid_midi() -> bytes:
    """A small melody file: a tempo map track and 16 notes in a track named 'lead'."""
    mf = mido.MidiFile(ticks_per_beat=480)
    meta = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000), mido.MetaMessage("time_signature")])
    t = mido.MidiTrack([mido.MetaMessage("track_name", name="lead")])
    for i in range(16):
        t.append(mido.Message("note_on", note=60 + i % 7, velocity=80, time=0))
        t.append(mido.Message("note_off", note=60 + i % 7, velocity=0, time=240))
    mf.tracks += [meta, t]
    return _saved(mf)


def two_track_midi(mel_notes: int = 16, division: int = 480, acc_gap: int = 0, mel_gap: int = 0) -> bytes:
    """A file as `accompanist harmonize` writes it: tracks 'melody' and 'accompaniment'; the gaps
    delay each part's first note by that many ticks."""
    mf = mido.MidiFile(ticks_per_beat=division)
    mel = mido.MidiTrack([mido.MetaMessage("track_name", name="melody")])
    acc = mido.MidiTrack([mido.MetaMessage("track_name", name="accompaniment")])
    for i in range(mel_notes):
        mel += [mido.Message("note_on", note=67 + i % 5, velocity=80, time=mel_gap if i == 0 else 0)]
        mel += [mido.Message("note_off", note=67 + i % 5, time=division)]
        acc += [mido.Message("note_on", note=55 + i % 3, velocity=70, channel=1, time=acc_gap if i == 0 else 0)]
        acc += [mido.Message("note_off", note=55 + i % 3, channel=1, time=division)]
    mf.tracks += [mel, acc]
    return _saved(mf)


def chunk(kind: bytes, body: bytes, claimed: int | None = None) -> bytes:
    return kind + struct.pack(">I", len(body) if claimed is None else claimed) + body


def header(ntracks: int, division: int = 480, fmt: int = 1) -> bytes:
    return chunk(b"MThd", struct.pack(">HHH", fmt, ntracks, division))


NOTE = b"\x90\x3c\x50" + vlq(240) + b"\x80\x3c\x00"
END = b"\x00\xff\x2f\x00"

#: the absurd headers and events the trust issue names, one file each
ABSURD = {
    "65,535 tracks claimed, none there": header(65535),
    "a track longer than the file": header(1) + chunk(b"MTrk", b"\x00" + NOTE + END, claimed=10_000_000),
    "a delta time of 2^28 ticks": header(1) + chunk(b"MTrk", vlq(2**28 - 1) + NOTE + END),
    "a tempo of 0": header(1) + chunk(b"MTrk", b"\x00\xff\x51\x03\x00\x00\x00\x00" + NOTE + END),
    "a tempo of 2^24-1": header(1) + chunk(b"MTrk", b"\x00\xff\x51\x03\xff\xff\xff\x00" + NOTE + END),
    "sysex without its end": header(1) + chunk(b"MTrk", b"\x00\xf0\x05\x7e\x7f\x09\x01" + b"\x00" + NOTE),
    "100,000 notes in one tick": header(1)
    + chunk(b"MTrk", b"".join(b"\x00\x90" + bytes([36 + i % 60, 80]) for i in range(100_000)) + END),
    "zero ticks per beat": header(1, division=0) + chunk(b"MTrk", b"\x00" + NOTE + END),
    "SMPTE time": header(1, division=0xE728) + chunk(b"MTrk", b"\x00" + NOTE + END),
}

#: two-track files of odd shape, for `accompanist eval FILE`
ODD_TWO_TRACK = {
    "no notes in either part": two_track_midi(mel_notes=0),
    "an answer 2^30 steps late": two_track_midi(division=1, acc_gap=2**28 - 1),
    "a melody 2^30 steps late": two_track_midi(division=1, mel_gap=2**28 - 1),
}

#: preset files of the wrong shape
ODD_PRESETS = ["[]", '{"mode": 3}', '{"bpm": "fast"}', '{"a": ' * 2000 + "1" + "}" * 2000, "nul\x00", "{"]

#: changes that make a model card wrong: its graphs outside its folder, fields of the wrong type
ODD_CARDS = [
    {"graphs": {"melody_step": "../../etc/passwd"}},
    {"graphs": {"melody_step": "/etc/passwd"}},
    {"graphs": ["melody_step.onnx"]},
    {"graphs": {"melody_step": 3}},
    {"defaults": "hot"},
    {"io": []},
    {"family": ["melody"]},
    {"name": {"a": 1}},
    {"grid": None},
]


def flipped(data: bytes, rng: random.Random, most: int = 8) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, most)):
        out[rng.randrange(len(out))] ^= rng.randint(1, 255)
    return bytes(out)


def midi_classes(rng: random.Random, n: int) -> dict[str, Callable[[], Iterator[bytes]]]:
    """Each class of hostile MIDI file: a generator of ``n`` cases (the absurd ones: each once)."""
    valid, two = valid_midi(), two_track_midi()
    return {
        "random bytes": lambda: (rng.randbytes(rng.randrange(2000)) for _ in range(n)),
        "random bytes behind a MIDI header": lambda: (
            b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0" + rng.randbytes(rng.randrange(400)) for _ in range(n)
        ),
        "bit-flipped melody files": lambda: (flipped(valid, rng) for _ in range(n)),
        "truncated melody files": lambda: (valid[: rng.randrange(len(valid))] for _ in range(n)),
        "absurd headers and events": lambda: iter(ABSURD.values()),
        "bit-flipped two-track files": lambda: (flipped(two, rng) for _ in range(n)),
        "truncated two-track files": lambda: (two[: rng.randrange(len(two))] for _ in range(n)),
        "odd two-track files": lambda: iter(ODD_TWO_TRACK.values()),
    }


def write_huge(path) -> None:
    """100 MB behind a valid header, written sparse (fast, and no disk spent)."""
    with open(path, "wb") as f:
        f.write(header(1) + chunk(b"MTrk", b"", claimed=100 * 2**20))
        f.truncate(100 * 2**20 + 22)


def odd_card(card: dict, change: dict) -> str:
    return json.dumps(card | change)
