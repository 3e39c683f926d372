"""Settings and inputs that would give silent nonsense get one clear error instead."""

from __future__ import annotations

import json
import shutil

import mido
import pytest
from helpers import TINY_BI, assert_clean_error, melody_of_length, run_cli, write_melody

from accompanist.errors import AccompanistError
from accompanist.inference.cards import read_card
from accompanist.inference.seq2seq_runner import Seq2SeqRunner


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--temperature", "nan"], "temperature"),
        (["--top-p", "0"], "top-p"),
        (["--two-part", "-1"], "two-part"),
        (["--key-lock", "inf"], "key-lock"),
    ],
)
def test_bad_sampling_settings_are_refused(flags, needle, tmp_path, use_tiny_models):
    src = write_melody(tmp_path / "m.mid", melody_of_length(40))
    proc = run_cli("harmonize", src, "-o", tmp_path / "o.mid", "--model", TINY_BI, *flags)
    assert_clean_error(proc, needle)
    assert not (tmp_path / "o.mid").exists()


def test_eval_refuses_an_empty_nucleus(tmp_path):
    assert_clean_error(run_cli("eval", "--model", "chorale-alto", "--top-p", "0"), "top-p")


def test_a_drum_only_track_is_not_a_melody(tmp_path, use_tiny_models):
    src = write_melody(tmp_path / "drums.mid", melody_of_length(40), channel=9)
    line = assert_clean_error(run_cli("harmonize", src, "-o", tmp_path / "o.mid", "--model", TINY_BI), "drums")
    assert "--track" not in line  # no other track to choose: say so, do not send the player looking


def test_wav_into_a_folder_is_a_clean_error(tmp_path, use_tiny_models):
    src = write_melody(tmp_path / "m.mid", melody_of_length(40))
    (tmp_path / "taken.wav").mkdir()
    proc = run_cli("harmonize", src, "-o", tmp_path / "o.mid", "--model", TINY_BI, "--wav", tmp_path / "taken.wav")
    assert_clean_error(proc, "cannot write the WAV")
    assert not (tmp_path / "taken.wav.tmp").exists()


def test_a_card_whose_prime_fills_the_window_is_refused(tmp_path, tiny_models):
    folder = tmp_path / "bad"
    shutil.copytree(tiny_models / TINY_BI, folder)
    card = json.loads((folder / "card.json").read_text())
    card["grid"]["prime"] = card["grid"]["window"]
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(AccompanistError, match="prime"):
        Seq2SeqRunner(read_card(folder / "card.json"))


def test_every_package_folder_is_in_the_wheel():
    """An editable install finds any folder; a wheel holds only what pyproject lists."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    conf = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = set()
    for package, folder in conf["package-dir"].items():  # accompanist -> accompanist/, .export -> export/
        for init in (root / folder).rglob("__init__.py"):
            found.add(".".join([package, *init.parent.relative_to(root / folder).parts]))
    missing = sorted(found - set(conf["packages"]))
    assert not missing, f"missing from [tool.setuptools] packages: {missing}"


def test_absurd_input_is_said_not_rendered_silently(tmp_path, use_tiny_models):
    from helpers import TINY_DUET

    # a tempo of 1 microsecond a beat, and notes at the far ends of MIDI's range
    src = write_melody(tmp_path / "odd.mid", [(5, 4), (62, 4), (125, 4), (64, 4)] * 4, tempo=1)
    for verb, model in (("harmonize", TINY_BI), ("duet", TINY_DUET)):
        proc = run_cli(verb, src, "-o", tmp_path / f"{verb}.mid", "--model", model)
        assert proc.returncode == 0, proc.stderr
        assert "bpm is outside 20..400" in proc.stderr and "outside MIDI 24..107" in proc.stderr, proc.stderr
    song = mido.MidiFile(tmp_path / "duet.mid")  # the duet answers inside the range it heard
    answer = [m.note for m in song.tracks[2] if m.type == "note_on"]
    assert answer and min(answer) >= 24 and max(answer) <= 107
    # a slow tempo (3.6 bpm) that would render for over an hour: the MIDI file yes, the WAV no
    slow = write_melody(tmp_path / "slow.mid", melody_of_length(1024), tempo=16_000_000)
    proc = run_cli("duet", slow, "-o", tmp_path / "slow-out.mid", "--wav", tmp_path / "slow.wav", "--model", TINY_DUET)
    assert_clean_error(proc, "--long-wav", "minutes")
    assert (tmp_path / "slow-out.mid").is_file() and not (tmp_path / "slow.wav").exists()
    # triplets: said by duet as by harmonize
    trip = write_melody(tmp_path / "trip.mid", [(60, 4), (62, 4)] * 8, ticks_per_beat=96)
    mf = mido.MidiFile(trip)
    for m in mf.tracks[1]:
        if m.type in ("note_on", "note_off") and m.time:
            m.time = 32  # an 8th-note triplet on a 96-tick beat
    mf.save(trip)
    proc = run_cli("duet", trip, "-o", tmp_path / "trip-out.mid", "--model", TINY_DUET)
    assert proc.returncode == 0 and "off the 16th grid" in proc.stderr, proc.stderr
