"""Hostile files: random bytes, broken and absurd MIDI files, model cards and presets of the wrong
shape. Every reader ends in one clear AccompanistError (exit 2 at the command line), never a
traceback or a hang, and a card never makes accompanist open a file outside its folder."""

from __future__ import annotations

import json
import shutil

import mido
import pytest
from helpers import TINY_MELODY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accompanist.bench.hostile_cases import (
    ABSURD,
    ODD_CARDS,
    ODD_PRESETS,
    ODD_TWO_TRACK,
    two_track_midi,
    valid_midi,
    write_huge,
)
from accompanist.cli import main
from accompanist.errors import AccompanistError
from accompanist.offline.two_track import read_melody

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
VALID = valid_midi()


def read_or_refuse(path) -> None:
    """The reader either returns a melody or refuses in one line; anything else fails the test."""
    try:
        read_melody(path, None, 4)
    except AccompanistError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "x.mid"
    path.write_bytes(data)
    read_or_refuse(path)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_behind_a_midi_header(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "x.mid"
    path.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0" + data)
    read_or_refuse(path)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(1, 255)), min_size=1, max_size=8))
def test_bit_flipped_files(tmp_path_factory, flips):
    data = bytearray(VALID)
    for at, mask in flips:
        data[at] ^= mask
    path = tmp_path_factory.mktemp("fuzz") / "x.mid"
    path.write_bytes(bytes(data))
    read_or_refuse(path)


@FUZZ
@given(st.integers(0, len(VALID) - 1))
def test_truncated_files(tmp_path_factory, cut):
    path = tmp_path_factory.mktemp("fuzz") / "x.mid"
    path.write_bytes(VALID[:cut])
    read_or_refuse(path)


@pytest.mark.parametrize("verb", ["harmonize", "duet", "respond"])
@pytest.mark.parametrize("case", list(ABSURD))
def test_absurd_files_end_in_one_line_at_every_verb(use_tiny_models, tmp_path, capsys, verb, case):
    path = tmp_path / "absurd.mid"
    path.write_bytes(ABSURD[case])
    model = {"harmonize": "tiny-bi", "duet": "tiny-duet-listen", "respond": TINY_MELODY}[verb]
    rc = main([verb, str(path), "-o", str(tmp_path / "out.mid"), "--model", model, "--seed", "0"])
    err = capsys.readouterr().err.strip()
    assert rc in (0, 2), (case, rc)
    if rc == 2:
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    else:  # read as music: then the answer was written
        assert (tmp_path / "out.mid").is_file()


def a_card(tiny_models, tmp_path, **changes):
    folder = tmp_path / "evil"
    shutil.copytree(tiny_models / TINY_MELODY, folder)
    card = json.loads((folder / "card.json").read_text())
    card.update(changes)
    (folder / "card.json").write_text(json.dumps(card))
    return folder


@pytest.mark.parametrize("changes", ODD_CARDS)
def test_a_card_of_the_wrong_shape_or_pointing_outside_its_folder_is_refused(tiny_models, tmp_path, changes):
    from accompanist.inference.answerers import open_answerer
    from accompanist.inference.cards import read_card

    folder = a_card(tiny_models, tmp_path, **changes)
    with pytest.raises(AccompanistError) as exc:
        open_answerer(read_card(folder / "card.json"))
    assert "\n" not in str(exc.value) and "card.json" in str(exc.value)


@pytest.mark.parametrize("text", ODD_PRESETS)
def test_a_preset_of_the_wrong_shape_is_one_line(tmp_path, monkeypatch, text, capsys):
    from accompanist.presets import load_preset

    p = tmp_path / "odd.json"
    p.write_text(text)
    with pytest.raises(AccompanistError) as exc:
        load_preset(str(p))
    assert "\n" not in str(exc.value)


def test_the_hostile_bench_finds_no_bug_in_any_class(use_tiny_models, capsys):
    """`accompanist bench hostile` runs every class in its own process; a case that ends in
    anything but a result, one refusal line or a counted skip is a bug, and exits 1."""
    assert main(["bench", "hostile", "--cases", "5"]) == 0
    out = capsys.readouterr().out
    assert "| cards of the wrong shape or pointing outside | model cards | 9 |" in out
    assert "| odd two-track files | eval | 3 |" in out


def test_a_huge_file_is_refused_before_it_is_read(tmp_path, capsys):
    import resource

    path = tmp_path / "huge.mid"
    write_huge(path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert main(["harmonize", str(path), "-o", str(tmp_path / "o.mid"), "--model", "chorale-alto"]) == 2
    assert "100 MB is far past any melody" in capsys.readouterr().err
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000  # KB: nothing was loaded


def test_the_midi_folder_pipeline_counts_every_hostile_file_and_keeps_going(tmp_path):
    """A collection holding every absurd file above, random bytes and bit-flipped copies beside
    one good piece: each bad one is a skip counted by reason, the good piece is kept."""
    import random

    from accompanist.data.midi_folder import build_midi_folder
    from accompanist.data.shards import ShardSet

    src = tmp_path / "collection"
    src.mkdir()
    good = mido.MidiFile(ticks_per_beat=480)
    mel, acc = mido.MidiTrack([mido.MetaMessage("track_name", name="melody")]), mido.MidiTrack()
    for i in range(32):
        mel += [
            mido.Message("note_on", note=67 + i % 5, velocity=80),
            mido.Message("note_off", note=67 + i % 5, time=480),
        ]
        acc += [mido.Message("note_on", note=48 + i % 3, velocity=70, channel=1)]
        acc += [mido.Message("note_off", note=48 + i % 3, channel=1, time=480)]
    good.tracks += [mel, acc]
    good.save(src / "good.mid")
    for i, data in enumerate(ABSURD.values()):
        (src / f"absurd{i}.mid").write_bytes(data)
    rnd = random.Random(0)
    for i in range(20):
        (src / f"noise{i}.mid").write_bytes(bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 500))))
        flipped = bytearray(VALID)
        for _ in range(4):
            flipped[rnd.randrange(len(flipped))] ^= 1 << rnd.randrange(8)
        (src / f"flipped{i}.mid").write_bytes(bytes(flipped))
    m = build_midi_folder(src, tmp_path / "shards", processes=2, progress=False)
    c = m.counts
    assert c["files_found"] == 1 + len(ABSURD) + 40
    assert c["files_used"] + sum(c["skipped"].values()) == c["files_found"]
    assert ShardSet(tmp_path / "shards").names == ["good.mid"]


TWO_TRACK = two_track_midi()


def eval_or_refuse(path, capsys) -> None:
    rc = main(["eval", str(path), "--voice", "alto"])
    out = capsys.readouterr()
    assert rc in (0, 2), rc
    if rc == 2:
        assert len(out.err.strip().splitlines()) == 1 and "Traceback" not in out.err, out.err


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(TWO_TRACK) - 1), st.integers(1, 255)), min_size=1, max_size=8))
def test_eval_reads_bit_flipped_two_track_files_or_refuses_them(tmp_path_factory, capsys, flips):
    data = bytearray(TWO_TRACK)
    for at, mask in flips:
        data[at] ^= mask
    path = tmp_path_factory.mktemp("fuzz") / "x.mid"
    path.write_bytes(bytes(data))
    eval_or_refuse(path, capsys)


@pytest.mark.parametrize(
    "data",
    [
        *ODD_TWO_TRACK.values(),
        TWO_TRACK[: len(TWO_TRACK) // 2],
        *ABSURD.values(),
    ],
    ids=[*ODD_TWO_TRACK, "cut in half", *ABSURD],
)
def test_eval_of_an_odd_two_track_file_ends_in_figures_or_one_line(tmp_path, capsys, data):
    path = tmp_path / "odd.mid"
    path.write_bytes(data)
    eval_or_refuse(path, capsys)
