"""Duet shards from a folder of generated MIDI files, corrupt ones included (data/midi_folder.py,
data/track_pick.py, data/shards.py)."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import mido
import numpy as np
import pytest

from accompanist.data.midi_folder import PieceRule, build_midi_folder, song_to_piece
from accompanist.data.shards import ShardSet, ShardWriter, transpose_range
from accompanist.data.track_pick import PickRule, pick_tracks
from accompanist.errors import AccompanistError
from accompanist.music import roll
from accompanist.music.midi_io import read_midi
from accompanist.music.notes import Note

TPB = 480
STEP = TPB // 4  # a 16th
SCALE = [0, 2, 4, 5, 7, 9, 11]


def song_parts(rng: random.Random, bars: int, lead_in: int = 0) -> dict[str, list[Note]]:
    """Notes of a small song in C: a flute melody (with a repeated note in every bar), piano
    chords, a bass line and drums, each on its own channel; lead_in ticks of silence first."""
    mel, chords, bass, drums = [], [], [], []
    for b in range(bars):
        t0 = lead_in + b * 4 * TPB
        root = rng.choice([0, 5, 7, 9])
        pitches = [72 + SCALE[rng.randrange(7)] for _ in range(3)]
        # Two equal quarter notes, then a free half bar: the repeat must stay two onsets.
        rhythm = [(pitches[0], TPB), (pitches[0], TPB), (pitches[1], TPB // 2), (pitches[2], TPB + TPB // 2)]
        t = t0
        for p, d in rhythm:
            mel.append(Note(p, t, t + d, 90, 0))
            t += d
        for half in range(2):
            for iv in (0, 4, 7):
                chords.append(Note(60 + root + iv, t0 + half * 2 * TPB, t0 + (half + 1) * 2 * TPB, 70, 1))
        for q in range(4):
            bass.append(Note(38 + root + (7 if q % 2 else 0), t0 + q * TPB, t0 + (q + 1) * TPB, 80, 2))
        for e in range(8):
            drums.append(Note(36 if e % 4 == 0 else 42, t0 + e * TPB // 2, t0 + e * TPB // 2 + 60, 100, 9))
    return {"melody": mel, "chords": chords, "bass": bass, "drums": drums}


PROGRAMS = {"melody": 73, "chords": 0, "bass": 33, "drums": 0}
NAMES = {"melody": "Melody", "chords": "Piano", "bass": "Bass", "drums": "Drums"}


def _events(notes: list[Note]) -> list[tuple[int, mido.Message]]:
    ev = []
    for n in notes:
        ev.append((n.start, 1, mido.Message("note_on", note=n.pitch, velocity=n.velocity, channel=n.channel)))
        ev.append((n.end, 0, mido.Message("note_off", note=n.pitch, velocity=0, channel=n.channel)))
    return [(t, m) for t, _, m in sorted(ev, key=lambda e: (e[0], e[1]))]


def _track(name: str | None, events: list[tuple[int, mido.Message]]) -> mido.MidiTrack:
    track = mido.MidiTrack()
    if name is not None:
        track.append(mido.MetaMessage("track_name", name=name, time=0))
    now = 0
    for t, m in events:
        track.append(m.copy(time=t - now))
        now = t
    return track


def write_song(
    path: Path, parts: dict[str, list[Note]], *, type0: bool = False, named: bool = True, order=None
) -> Path:
    """A type-1 file (a conductor track, then one track per part), or type 0 (one track, the
    parts on their channels)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mf = mido.MidiFile(type=0 if type0 else 1, ticks_per_beat=TPB)
    tempo = [
        (0, mido.MetaMessage("set_tempo", tempo=500000)),
        (0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
    ]
    progs = {
        k: [(0, mido.Message("program_change", program=PROGRAMS[k], channel=notes[0].channel))]
        for k, notes in parts.items()
        if notes
    }
    if type0:
        ev = tempo + [e for k in parts for e in progs.get(k, [])]
        ev += _events([n for notes in parts.values() for n in notes])
        mf.tracks.append(_track("A Song", sorted(ev, key=lambda e: e[0])))
    else:
        mf.tracks.append(_track("conductor", tempo))
        for k in order or list(parts):
            mf.tracks.append(_track(NAMES[k] if named else None, progs.get(k, []) + _events(parts[k])))
    mf.save(path)
    return path


def expected_rolls(parts: dict[str, list[Note]], origin: int) -> tuple[np.ndarray, np.ndarray]:
    mel, acc = parts["melody"], parts["chords"] + parts["bass"]
    end = max(int(round(n.end / STEP)) for n in mel + acc)
    return roll.notes_to_roll(mel, STEP, end)[origin:], roll.notes_to_roll(acc, STEP, end)[origin:]


def make_folder(root: Path) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, int]]:
    """About 40 files; returns the expected rolls of every good file by name and the expected
    skip counts by reason."""
    rng = random.Random(7)
    good: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for i in range(16):
        name = f"sub/deeper/song{i:02d}.mid" if i % 4 == 0 else f"song{i:02d}.mid"
        if i == 5:
            name = "LOUD.MID"
        if i == 6:
            name = "sub/other.midi"
        lead_in = 6 * TPB if i in (2, 3) else 0  # a bar and a half of silence: trimmed to bar 2
        parts = song_parts(rng, bars=rng.randint(4, 8), lead_in=lead_in)
        order = ["drums", "bass", "melody", "chords"] if i % 3 == 0 else None
        write_song(root / name, parts, named=i % 5 != 1, order=order)
        good[name] = expected_rolls(parts, origin=16 if lead_in else 0)
    for i in range(6):
        parts = song_parts(rng, bars=4)
        name = f"type0/t{i}.mid"
        write_song(root / name, parts, type0=True)
        good[name] = expected_rolls(parts, 0)
    skips = {}
    for i in range(3):
        write_song(root / f"drums{i}.mid", {"drums": song_parts(rng, 2)["drums"]})
    skips["drums only"] = 3
    for i in range(3):
        write_song(root / f"solo{i}.mid", {"melody": song_parts(rng, 4)["melody"]})
    skips["one pitched track only"] = 3
    for i in range(2):
        p = song_parts(rng, 1)  # four melody notes: too few to call a melody
        write_song(root / f"tiny{i}.mid", p)
    skips["melody too short"] = 2
    real = (root / "song01.mid").read_bytes()
    (root / "bad").mkdir()
    (root / "bad/random.mid").write_bytes(random.Random(1).randbytes(500))
    (root / "bad/truncated.mid").write_bytes(real[: len(real) // 2])
    (root / "bad/empty.mid").write_bytes(b"")
    (root / "bad/text.mid").write_text("this is a text file with a .mid name\n")
    skips["unreadable: not a MIDI file"] = 2
    skips["unreadable: truncated"] = 1
    skips["unreadable: empty file"] = 1
    # Not MIDI by name, or hidden: never looked at.
    (root / "readme.txt").write_text("not music")
    (root / ".git").mkdir()
    (root / ".git/ignored.mid").write_bytes(real)
    return good, skips


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("midi")
    good, skips = make_folder(root / "src")
    return root, good, skips


@pytest.fixture(scope="module")
def built(folder):
    root, _, _ = folder
    out = root / "shards"
    m = build_midi_folder(root / "src", out, processes=2, shard_steps=100, progress=False)
    return out, m


def _all_pieces(out: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    s = ShardSet(out)
    return {s.names[i]: s.read(i) for i in range(len(s))}


def test_tracks_picked_by_rule(folder):
    root, *_ = folder
    rule = PickRule()
    for name in ["sub/deeper/song00.mid", "song01.mid", "song03.mid", "type0/t0.mid"]:
        pick = pick_tracks(read_midi(root / "src" / name), rule)
        assert not isinstance(pick, str)
        assert pick.melody.program == 73 and pick.melody.channel == 0, name  # the flute, named or not
        assert {c.channel for c in pick.accompaniment} == {1, 2}  # piano and bass, never the drums
    t0 = pick_tracks(read_midi(root / "src/type0/t0.mid"), rule)
    assert t0.melody.name == "A Song [ch 1]"


def test_overrides(folder):
    root, *_ = folder
    song = read_midi(root / "src/sub/deeper/song00.mid")  # tracks: conductor, drums, bass, melody, chords
    pick = pick_tracks(song, PickRule(melody="BASS", accompaniment=["piano"]))
    assert pick.melody.name == "Bass" and [c.name for c in pick.accompaniment] == ["Piano"]
    pick = pick_tracks(song, PickRule(melody=4, accompaniment=[3]))
    assert pick.melody.name == "Piano" and [c.name for c in pick.accompaniment] == ["Melody"]
    assert pick_tracks(song, PickRule(melody="oboe")) == "melody override matched no track"
    assert pick_tracks(song, PickRule(accompaniment=["drums"])) == "accompaniment override matched no track"
    assert json.loads(json.dumps(PickRule(melody=2).describe()))["melody"] == 2  # goes into a card as is


def test_doubling_left_out(folder):
    root, *_ = folder
    parts = song_parts(random.Random(3), 4)
    parts["chords"] = [Note(n.pitch - 12, n.start, n.end, 60, 1) for n in parts["melody"]]  # the tune, an octave down
    path = write_song(root / "doubled.mid", parts)
    pick = pick_tracks(read_midi(path), PickRule())
    assert [c.name for c in pick.doublings] == ["Piano"] and [c.name for c in pick.accompaniment] == ["Bass"]


def test_build_counts_and_rolls(folder, built):
    _, good, skips = folder
    out, m = built
    c = m.counts
    assert c["files_found"] == len(good) + sum(skips.values())
    assert c["skipped"] == skips
    assert c["files_used"] + sum(c["skipped"].values()) == c["files_found"]
    assert c["pieces"] == len(good) == m.total_pieces
    assert "bad/empty.mid" in c["skipped_examples"]["unreadable: empty file"]
    assert len(m.shards) > 1
    pieces = _all_pieces(out)
    assert sorted(pieces) == sorted(good)
    for name, (mel, acc) in pieces.items():
        em, ea = good[name]
        np.testing.assert_array_equal(mel, em, err_msg=name)
        np.testing.assert_array_equal(acc, ea, err_msg=name)
    # A repeated quarter note: frame held for 8 steps, onsets at both starts.
    mel, _ = pieces["song01.mid"]
    p = int(np.flatnonzero(mel[0, roll.ONSET])[0])
    assert mel[0:8, roll.FRAME, p].all() and mel[[0, 4], roll.ONSET, p].all() and not mel[1:4, roll.ONSET, p].any()
    s = ShardSet(out)
    assert s.steps_per_beat == 4 and s.total_steps == c["steps"] == sum(len(v[0]) for v in pieces.values())
    assert s.manifest["key"] == m.key and s.manifest["rule"]["max_melody_polyphony"] == 1.5
    i = s.names.index("song01.mid")
    mel_part, acc_part = s.read(i, 3, 11)
    np.testing.assert_array_equal(mel_part, good["song01.mid"][0][3:11])
    assert acc_part.shape == (8, 2, 84)


def test_second_run_reuses(folder, built):
    root, *_ = folder
    out, m = built
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = build_midi_folder(root / "src", out, processes=2, shard_steps=100, progress=False)
    assert again.reused and not m.reused
    assert again.data_hash == m.data_hash
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_same_pieces_with_one_process(folder, built, tmp_path):
    root, *_ = folder
    out, m = built
    one = build_midi_folder(root / "src", tmp_path / "one", processes=1, progress=False)
    assert len(one.shards) == 1 and one.data_hash == m.data_hash and one.counts["skipped"] == m.counts["skipped"]
    a, b = _all_pieces(out), _all_pieces(tmp_path / "one")
    assert list(a) == list(b) == sorted(a)  # listed by name, whatever order the workers finished in
    for k in a:
        assert all(np.array_equal(x, y) for x, y in zip(a[k], b[k], strict=True))


def test_changed_or_added_file_rebuilds(folder, tmp_path):
    root, *_ = folder
    src = tmp_path / "src"
    shutil.copytree(root / "src" / "type0", src)
    out = tmp_path / "shards"
    first = build_midi_folder(src, out, processes=1, progress=False)
    assert build_midi_folder(src, out, processes=1, progress=False).reused
    st = (src / "t0.mid").stat()
    os.utime(src / "t0.mid", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    touched = build_midi_folder(src, out, processes=1, progress=False)
    assert not touched.reused and touched.data_hash == first.data_hash
    shutil.copy(root / "src/song01.mid", src / "new.mid")
    added = build_midi_folder(src, out, processes=1, progress=False)
    assert not added.reused and added.counts["files_found"] == first.counts["files_found"] + 1
    assert "new.mid" in ShardSet(out).names
    assert not list(tmp_path.glob(".shards.*"))  # no temporary or old folders left behind


def test_song_to_piece_limits(folder):
    root, *_ = folder
    song = read_midi(root / "src/song01.mid")
    assert song_to_piece(song, PickRule(), PieceRule(min_beats=1000)) == "too short"
    assert song_to_piece(song, PickRule(), PieceRule(max_beats=2)) == "too long"


def test_writer_round_trip_and_transpose_range(tmp_path):
    rng = np.random.default_rng(0)
    w = ShardWriter(tmp_path / "s", steps_per_beat=2, shard_steps=50, meta={"key": "k"})
    put = {}
    for i, n in enumerate([30, 5, 70, 1, 40]):
        frame = rng.random((n, 84)) < 0.1
        r = np.stack([frame, frame & (rng.random((n, 84)) < 0.5)], axis=1).astype(np.uint8)
        put[f"p{i}"] = (r, r[::-1].copy())
        w.add(f"p{i}", *put[f"p{i}"])
    m = w.close({"files_found": 5})
    assert [s["steps"] for s in m.shards] == [105, 41] and m.total_steps == 146
    s = ShardSet(tmp_path / "s")
    assert s.names == list(put) and s.lengths.tolist() == [30, 5, 70, 1, 40]
    for i, name in enumerate(s.names):
        got = s.read(i)
        assert all(np.array_equal(x, y) for x, y in zip(got, put[name], strict=True))
    np.testing.assert_array_equal(s.read(2, -10)[0], put["p2"][0][-10:])
    assert s.manifest["counts"] == {"files_found": 5} and s.manifest["key"] == "k"
    r = roll.empty(4)
    r[0, roll.FRAME, [10, 50]] = 1
    assert transpose_range(r, roll.empty(4)) == (-10, 33)


def test_missing_or_unfinished_shards_are_clear_errors(tmp_path, built):
    out, _ = built
    with pytest.raises(AccompanistError, match="no such shard folder"):
        ShardSet(tmp_path / "nowhere")
    half = tmp_path / "half"
    shutil.copytree(out, half)
    (half / "manifest.json").unlink()
    with pytest.raises(AccompanistError, match="unfinished shard folder"):
        ShardSet(half)
    (half / "manifest.json").write_text("{not json")
    with pytest.raises(AccompanistError, match=r"damaged manifest\.json"):
        ShardSet(half)
    shutil.copy(out / "manifest.json", half / "manifest.json")
    (half / "shard-00001.acc.npy").unlink()
    with pytest.raises(AccompanistError, match=r"shard-00001\.acc\.npy is missing"):
        ShardSet(half)


def test_bad_folders(tmp_path):
    with pytest.raises(AccompanistError, match="no such folder"):
        build_midi_folder(tmp_path / "none", tmp_path / "out", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(AccompanistError, match=r"no \.mid or \.midi files"):
        build_midi_folder(tmp_path / "empty", tmp_path / "out", progress=False)
    write_song(tmp_path / "src/a.mid", song_parts(random.Random(0), 2))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine/thesis.tex").write_text("keep me")
    with pytest.raises(AccompanistError, match="not a shard folder"):
        build_midi_folder(tmp_path / "src", tmp_path / "mine", progress=False)
    assert (tmp_path / "mine/thesis.tex").exists()


def test_failed_build_leaves_old_shards_and_no_temp(folder, tmp_path, monkeypatch):
    root, *_ = folder
    src = tmp_path / "src"
    shutil.copytree(root / "src" / "type0", src)
    out = tmp_path / "shards"
    first = build_midi_folder(src, out, processes=1, progress=False)
    shutil.copy(root / "src/song01.mid", src / "new.mid")

    def boom(self, *a):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ShardWriter, "add_packed", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        build_midi_folder(src, out, processes=2, progress=False)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert ShardSet(out).manifest["data_hash"] == first.data_hash


def test_leftovers_of_a_killed_build_are_cleared(folder, tmp_path):
    root, *_ = folder
    src = tmp_path / "src"
    shutil.copytree(root / "src" / "type0", src)
    dead = tmp_path / ".shards.building-999999999"  # no such process
    dead.mkdir()
    (dead / "shard-00000.mel.npy").write_bytes(b"half")
    build_midi_folder(src, tmp_path / "shards", processes=1, progress=False)
    assert not dead.exists()


def test_sources_mixed_keep_their_own_split_and_are_scored_apart(built):
    """Two collections as one training set: each split as it would be alone, every piece once,
    names labelled by source, and the test pieces handed back per source."""
    from dataclasses import replace

    from accompanist.data.duet_data import DuetDataConfig, load_duet_data

    out, _ = built
    one = DuetDataConfig(source=str(out), test_fraction=0.3, val_fraction=0.2)
    alone = load_duet_data(one)
    mixed = load_duet_data(replace(one, source=f"{out},{out}"))
    for k in ("train", "val", "test"):
        a, m = getattr(alone, k), getattr(mixed, k)
        assert len(m) == 2 * len(a) and m.steps == 2 * a.steps
        assert m.names == [f"{out}:{n}" for n in a.names] * 2
        for i in range(len(a)):
            for x, y in zip(a.read(i), m.read(len(a) + i), strict=True):
                np.testing.assert_array_equal(x, y)
    assert list(mixed.counts["sources"]) == [str(out)]  # the same folder twice: one entry
    assert len(mixed.test.by_source()) == 1 and mixed.data_hash != alone.data_hash
    some = mixed.train.subset([0, len(alone.train)])
    assert len(some) == 2 and some.names == [mixed.train.names[0], mixed.train.names[len(alone.train)]]


def test_a_source_can_be_cut_to_its_first_pieces(built):
    from accompanist.data.duet_data import DuetDataConfig, load_duet_data

    out, _ = built
    mixed = load_duet_data(DuetDataConfig(source=f"{out},{out}@3", test_fraction=0.3, val_fraction=0.2))
    whole, cut = (mixed.counts["sources"][s] for s in (str(out), f"{out}@3"))
    assert sum(cut[f"{k}_pieces"] for k in ("train", "val", "test")) == 3
    assert sum(whole[f"{k}_pieces"] for k in ("train", "val", "test")) > 3
