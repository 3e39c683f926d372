"""The offline harmoniser: `accompanist harmonize` on real MIDI files with the tiny ONNX models."""

from __future__ import annotations

import struct
import subprocess
import sys
import wave

import mido
import numpy as np
import pytest
from helpers import TINY_BI, TINY_DUET, TINY_UNI, assert_clean_error, melody_of_length, run_cli

from accompanist.inference.cards import load_card
from accompanist.inference.seq2seq_runner import Seq2SeqRunner
from accompanist.music.midi_io import read_midi
from accompanist.music.notes import notes_to_tokens
from accompanist.music.tokens import HOLD
from accompanist.offline.harmonize import harmonize_file


def abs_messages(track: mido.MidiTrack, types=("note_on", "note_off")) -> list[tuple]:
    now, out = 0, []
    for msg in track:
        now += msg.time
        if msg.type in types:
            out.append((now, msg.type, msg.note, msg.velocity, msg.channel))
    return out


def tracks_by_name(mf: mido.MidiFile) -> dict[str, mido.MidiTrack]:
    return {t.name: t for t in mf.tracks}


@pytest.mark.parametrize("model", [TINY_BI, TINY_UNI])
@pytest.mark.parametrize("offs_as_note_on", [False, True])
def test_cli_writes_melody_and_accompaniment_tracks(use_tiny_models, melody_file, tmp_path, model, offs_as_note_on):
    steps = 64
    src = melody_file(melody_of_length(steps), channel=1, offs_as_note_on=offs_as_note_on)
    out = tmp_path / "out.mid"
    proc = run_cli("harmonize", src, "-o", out, "--model", model, "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {out}" in proc.stdout and model in proc.stdout
    assert "Traceback" not in proc.stderr

    mf = mido.MidiFile(out)
    assert mf.type == 1 and mf.ticks_per_beat == 480
    names = [t.name for t in mf.tracks]
    assert names[1:] == ["melody", "accompaniment"]
    tracks = tracks_by_name(mf)
    inp = mido.MidiFile(src)
    # the melody is copied message for message: notes, times, velocities, channel, its program too
    assert abs_messages(tracks["melody"]) == abs_messages(inp.tracks[1])
    progs = [m for m in tracks["melody"] if m.type == "program_change"]
    assert [(m.program, m.channel) for m in progs] == [(73, 1)]
    tempo = [m.tempo for m in mf.tracks[0] if m.type == "set_tempo"]
    assert tempo == [500000]

    acc = abs_messages(tracks["accompaniment"])
    assert acc, "the tiny model wrote no notes at all"
    channels = {m[4] for m in acc}
    assert len(channels) == 1 and channels.isdisjoint({1, 9})
    card = load_card(model)
    acc_prog = [(m.program, m.channel) for m in tracks["accompaniment"] if m.type == "program_change"]
    assert acc_prog == [(card.defaults["program"], channels.pop())]
    ons = [m for m in acc if m[1] == "note_on" and m[3] > 0]
    offs = [m for m in acc if m[1] == "note_off" or m[3] == 0]
    assert len(ons) == len(offs), "every note on has its note off"
    assert all(m[0] % 120 == 0 for m in acc), "accompaniment notes sit on the 16th grid"
    assert max(m[0] for m in acc) <= steps * 120, "nothing sounds past the melody's end"


@pytest.mark.parametrize("model", [TINY_BI, TINY_UNI])
def test_runner_answers_every_step_of_any_length(use_tiny_models, model):
    runner = Seq2SeqRunner(load_card(model))
    assert runner.window == 32
    rng = np.random.default_rng(5)
    for n in (1, 2, 8, 31, 32, 33, 39, 40, 41, 63, 64, 65, 150, 151):
        mel = np.full(n, HOLD, np.int64)
        onsets = rng.random(n) < 0.4
        onsets[0] = True
        mel[onsets] = rng.integers(55, 80, onsets.sum())
        a = runner.harmonize(mel, 0.0)
        assert a.shape == (n,) and a.dtype == np.int64, n
        assert a.min() >= 0 and a.max() <= HOLD, n
        assert np.array_equal(a, runner.harmonize(mel, 0.0)), f"temperature 0 is deterministic ({n} steps)"
        s1 = runner.harmonize(mel, 1.0, np.random.default_rng(9))
        s2 = runner.harmonize(mel, 1.0, np.random.default_rng(9))
        assert np.array_equal(s1, s2) and s1.min() >= 0 and s1.max() <= HOLD, n
    assert runner.harmonize(np.zeros(0, np.int64), 1.0).shape == (0,)


def test_long_melody_is_accompanied_to_its_last_step(use_tiny_models, melody_file, tmp_path):
    """A 150-step melody (five windows): the file holds an accompaniment token for every step."""
    src = melody_file(melody_of_length(150))
    out = tmp_path / "long.mid"
    r = harmonize_file(src, out, model=TINY_BI, temperature=0.0)
    assert len(r.melody) == 150 and len(r.accompaniment) == 150
    assert r.accompaniment.min() >= 0 and r.accompaniment.max() <= HOLD
    song_acc = {t.name: t for t in read_midi(out).tracks}
    tokens, _ = notes_to_tokens(song_acc["accompaniment"].notes, 120, length=150)
    # what was written is what the runner answered (a hold after a rest is silence, as written)
    expect = r.accompaniment.copy()
    sounding = False
    for i, t in enumerate(expect):
        if t == HOLD and not sounding:
            expect[i] = 128
        sounding = t < 128 or (t == HOLD and sounding)
    assert np.array_equal(tokens, expect)
    again = harmonize_file(src, tmp_path / "again.mid", model=TINY_BI, temperature=0.0)
    assert np.array_equal(again.accompaniment, r.accompaniment)
    assert (tmp_path / "again.mid").read_bytes() == out.read_bytes()


def test_same_seed_same_file_other_seed_other_answer(use_tiny_models, melody_file, tmp_path):
    src = melody_file(melody_of_length(96))
    outs = []
    for i, seed in enumerate(["11", "11", "12"]):
        out = tmp_path / f"out{i}.mid"
        proc = run_cli("harmonize", src, "-o", out, "--model", TINY_BI, "--seed", seed, "--temperature", "1.0")
        assert proc.returncode == 0, proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert outs[0] != outs[2]


def test_wav_is_written_and_sounds(use_tiny_models, melody_file, tmp_path):
    steps = 48  # 12 beats at 100 bpm: 7.2 s
    src = melody_file(melody_of_length(steps), tempo=600000)
    out, wav_path = tmp_path / "out.mid", tmp_path / "out.wav"
    proc = run_cli("harmonize", src, "-o", out, "--model", TINY_BI, "--seed", "1", "--wav", wav_path)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {wav_path}" in proc.stdout
    with wave.open(str(wav_path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 48000)
        audio = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2).astype(np.float64)
    seconds = len(audio) / 48000
    melody_seconds = steps / 4 * 0.6
    assert seconds == pytest.approx(melody_seconds + 1.5, abs=0.05)
    body = audio[: int(melody_seconds * 48000)]
    assert np.sqrt((body**2).mean()) > 100
    # sound in every second of the melody (it has no rest longer than a quarter)
    for s in range(int(melody_seconds)):
        chunk = audio[s * 48000 : (s + 1) * 48000]
        assert np.sqrt((chunk**2).mean()) > 30, s


def test_harmonize_loads_neither_torch_nor_music21(use_tiny_models, melody_file, tmp_path):
    src = melody_file()
    code = (
        "import sys\n"
        "from accompanist.cli import main\n"
        f"rc = main(['harmonize', {str(src)!r}, '-o', {str(tmp_path / 'o.mid')!r}, '--model', {TINY_BI!r}])\n"
        "print(rc, 'torch' in sys.modules, 'music21' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "0 False False"


def midi_bytes(
    division: int = 480, track: bytes = bytes([0, 0x90, 60, 80, 0x60, 0x80, 60, 0, 0, 0xFF, 0x2F, 0]), fmt: int = 0
) -> bytes:
    """A hand-made standard MIDI file with one track."""
    return b"MThd" + struct.pack(">IHHH", 6, fmt, 1, division) + b"MTrk" + struct.pack(">I", len(track)) + track


NOTE_TRACK = bytes([0, 0x90, 60, 80, 0x60, 0x80, 60, 0])
END = bytes([0, 0xFF, 0x2F, 0])
BAD_FILES = {
    "corrupt": (b"MThd\x00\x00\x00\x06 this is not a MIDI file at all", "not a readable MIDI file"),
    "random": (bytes(np.random.default_rng(0).integers(0, 256, 300, dtype=np.uint8)), "not a MIDI file"),
    "text": (b"hello, this is a text file\n", "looks like text"),
    "truncated": (midi_bytes()[:20], "ends in the middle of a track"),
    "empty": (b"", "the file is empty"),
    "bad key signature": (
        midi_bytes(track=bytes([0, 0xFF, 0x59, 2, 1, 177]) + NOTE_TRACK + END),
        "not a readable MIDI file",
    ),
    "no division": (midi_bytes(division=0), "ticks per beat"),
    "smpte division": (midi_bytes(division=0xE728), "ticks per beat"),
    "type 2": (midi_bytes(fmt=2), "type-2"),
    "no notes": (midi_bytes(track=bytes([0, 0xC0, 5, 0x60, 0xB0, 7, 100]) + END), "no notes"),
    # a note off 2**28 ticks (half a million beats) later: a corrupt time, not a melody to sit through
    "corrupt time": (
        midi_bytes(track=bytes([0, 0x90, 60, 80, 0xFF, 0xFF, 0xFF, 0x7F, 0x80, 60, 0]) + END),
        "probably corrupt",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_input_files_give_one_clean_line(use_tiny_models, tmp_path, case):
    data, needle = BAD_FILES[case]
    src = tmp_path / "in.mid"
    src.write_bytes(data)
    out = tmp_path / "out.mid"
    assert_clean_error(run_cli("harmonize", src, "-o", out, "--model", TINY_BI), str(src), needle)
    assert not out.exists()


def test_bad_requests_give_one_clean_line(use_tiny_models, melody_file, tmp_path):
    src = melody_file()
    out = tmp_path / "out.mid"
    line = assert_clean_error(run_cli("harmonize", src, "-o", out, "--model", "no-such-model"), "no-such-model")
    assert TINY_BI in line and TINY_UNI in line  # the error lists the models there are
    assert_clean_error(
        run_cli("harmonize", src, "-o", tmp_path / "missing" / "out.mid", "--model", TINY_BI),
        str(tmp_path / "missing"),
        "does not exist",
    )
    assert_clean_error(
        run_cli("harmonize", tmp_path / "nope.mid", "-o", out, "--model", TINY_BI),
        str(tmp_path / "nope.mid"),
        "no such file",
    )
    assert_clean_error(run_cli("harmonize", src, "-o", out, "--model", TINY_BI, "--track", "5"), "track 5")
    assert_clean_error(run_cli("harmonize", tmp_path, "-o", out, "--model", TINY_BI), "is a folder")
    assert_clean_error(run_cli("harmonize", src, "-o", src, "--model", TINY_BI), "melody's own file")
    assert_clean_error(run_cli("harmonize", src, "-o", tmp_path / "x.wav", "--model", TINY_BI), "ending in .mid")
    assert_clean_error(
        run_cli("harmonize", src, "-o", out, "--wav", tmp_path / "x.mid", "--model", TINY_BI), "ending in .wav"
    )
    # no -o: NAME-harmonized.mid beside the melody; again: written over, and said so (not with --force)
    assert run_cli("harmonize", src, "--model", TINY_BI).returncode == 0
    assert src.with_name(f"{src.stem}-harmonized.mid").is_file()
    again = run_cli("harmonize", src, "--model", TINY_BI)
    assert again.returncode == 0 and "it was there before: written over" in again.stdout
    forced = run_cli("harmonize", src, "--model", TINY_BI, "--force")
    assert forced.returncode == 0 and "written over" not in forced.stdout
    # each verb its own default name: the duet never writes over the harmoniser's file
    assert run_cli("duet", src, "--model", TINY_DUET).returncode == 0
    assert src.with_name(f"{src.stem}-duet.mid").is_file()
    assert "NAME-answered.mid" in "".join(run_cli("respond", "--help").stdout.split())  # help wraps at hyphens
    assert_clean_error(run_cli("harmonize", src, "-o", out, "--model", TINY_BI, "--temperature", "-1"), "temperature")
    assert_clean_error(
        run_cli("harmonize", src, "-o", out, "--model", TINY_BI, "--wav", tmp_path / "no" / "x.wav"),
        str(tmp_path / "no"),
    )
    assert not out.exists()


def test_warnings_for_chords_and_other_tracks(use_tiny_models, tmp_path, capfd):
    from accompanist.cli import main

    mf = mido.MidiFile(type=1, ticks_per_beat=480)
    lead = mido.MidiTrack([mido.MetaMessage("track_name", name="lead")])
    for pitches in ([72, 67], [74], [76, 64]):
        for p in pitches:
            lead.append(mido.Message("note_on", note=p, velocity=90, time=0))
        for j, p in enumerate(pitches):
            lead.append(mido.Message("note_off", note=p, velocity=0, time=480 if j == 0 else 0))
    pad = mido.MidiTrack(
        [
            mido.MetaMessage("track_name", name="pad"),
            mido.Message("note_on", note=48, velocity=50),
            mido.Message("note_off", note=48, velocity=0, time=1440),
        ]
    )
    mf.tracks += [lead, pad]
    src = tmp_path / "chords.mid"
    mf.save(src)
    out = tmp_path / "out.mid"
    assert main(["harmonize", str(src), "-o", str(out), "--model", TINY_BI, "--seed", "0"]) == 0
    err = capfd.readouterr().err
    assert "2 chord notes were dropped" in err and "'lead'" in err and "--track" in err
    assert main(["harmonize", str(src), "-o", str(out), "--model", TINY_BI, "--track", "1"]) == 0
    written = tracks_by_name(mido.MidiFile(out))
    assert {m[2] for m in abs_messages(written["melody"])} == {48}  # the pad, when asked for
