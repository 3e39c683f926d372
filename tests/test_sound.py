"""Rendering through a real FluidSynth with the system's General MIDI SoundFont."""

from __future__ import annotations

import mido
import numpy as np
import pytest
from helpers import TINY_BI, assert_clean_error, run_cli

from accompanist.errors import AccompanistError
from accompanist.sound.render import SAMPLE_RATE, TAIL_SECONDS, render_midi, render_to_wav, write_wav
from accompanist.sound.soundfont import find_soundfont

SF2 = "/usr/share/sounds/sf2/TimGM6mb.sf2"


def two_notes(path, channel: int = 0, program: int | None = None):
    """C4 for 0.5 s, silence, G4 from 2.0 s to 2.5 s (120 bpm, 480 ticks per beat)."""
    mf = mido.MidiFile(type=0, ticks_per_beat=480)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000)])
    if program is not None:
        track.append(mido.Message("program_change", program=program, channel=channel))
    track += [
        mido.Message("note_on", note=60, velocity=100, channel=channel, time=0),
        mido.Message("note_off", note=60, velocity=0, channel=channel, time=480),
        mido.Message("note_on", note=67, velocity=100, channel=channel, time=1440),
        mido.Message("note_off", note=67, velocity=0, channel=channel, time=480),
    ]
    mf.tracks.append(track)
    mf.save(path)
    return path


def rms(audio: np.ndarray, start: float, end: float) -> float:
    chunk = audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)].astype(np.float64)
    return float(np.sqrt((chunk**2).mean()))


@pytest.mark.parametrize("channel,program", [(0, None), (3, 40)])
def test_render_sounds_where_notes_sound_and_is_quiet_after(tmp_path, channel, program):
    audio = render_midi(two_notes(tmp_path / "two.mid", channel, program), SF2)
    assert audio.dtype == np.int16 and audio.shape[1] == 2
    assert len(audio) == pytest.approx((2.5 + TAIL_SECONDS) * SAMPLE_RATE, abs=2)
    assert rms(audio, 0.0, 0.4) > 200  # first note
    assert rms(audio, 1.4, 1.95) < 5  # the first note has died away before the second
    assert rms(audio, 2.0, 2.4) > 200  # second note, on time
    assert rms(audio, 2.5 + TAIL_SECONDS - 0.5, 2.5 + TAIL_SECONDS) < 5  # the tail ends near silence
    assert np.abs(audio).max() < 32767  # no clipping at gain 0.5


def test_render_to_wav_returns_its_length(tmp_path):
    seconds = render_to_wav(two_notes(tmp_path / "two.mid"), tmp_path / "two.wav", SF2)
    assert seconds == pytest.approx(4.0, abs=1e-3)
    assert (tmp_path / "two.wav").stat().st_size == 44 + int(4.0 * SAMPLE_RATE) * 4


def test_missing_soundfont_is_a_clean_error(tmp_path, monkeypatch):
    missing = tmp_path / "none.sf2"
    with pytest.raises(AccompanistError, match="SoundFont not found"):
        find_soundfont(missing)
    with pytest.raises(AccompanistError, match=str(missing)):
        render_midi(two_notes(tmp_path / "two.mid"), missing)
    monkeypatch.setenv("ACCOMPANIST_SOUNDFONT", str(missing))
    with pytest.raises(AccompanistError, match="SoundFont not found"):
        find_soundfont()
    monkeypatch.delenv("ACCOMPANIST_SOUNDFONT")
    assert find_soundfont() == find_soundfont(SF2)


def test_a_file_that_is_no_soundfont_is_a_clean_error(tmp_path):
    fake = tmp_path / "fake.sf2"
    fake.write_text("not a SoundFont")
    with pytest.raises(AccompanistError, match="could not load this SoundFont"):
        render_midi(two_notes(tmp_path / "two.mid"), fake)


def test_wav_into_a_missing_folder_is_a_clean_error(tmp_path):
    with pytest.raises(AccompanistError, match="output folder does not exist"):
        write_wav(tmp_path / "no" / "x.wav", np.zeros((10, 2), np.int16))


def test_harmonize_with_a_missing_soundfont_gives_one_clean_line(use_tiny_models, melody_file, tmp_path):
    missing = tmp_path / "none.sf2"
    proc = run_cli(
        "harmonize",
        melody_file(),
        "-o",
        tmp_path / "o.mid",
        "--model",
        TINY_BI,
        "--wav",
        tmp_path / "o.wav",
        "--soundfont",
        missing,
    )
    assert_clean_error(proc, str(missing), "SoundFont not found")
    assert not (tmp_path / "o.wav").exists()


def test_every_render_meets_one_loudness_target(tmp_path, use_tiny_models):
    """A one-voice harmonisation and a polyphonic duet answer render at the same level."""
    import wave

    from helpers import TINY_BI, TINY_DUET, melody_of_length, run_cli, write_melody

    from accompanist.sound.render import PEAK_DBFS, TARGET_RMS_DBFS, loudness_dbfs

    src = write_melody(tmp_path / "m.mid", melody_of_length(64))
    levels = {}
    for verb, model in (("harmonize", TINY_BI), ("duet", TINY_DUET)):
        wav = tmp_path / f"{verb}.wav"
        proc = run_cli(verb, src, "-o", tmp_path / f"{verb}.mid", "--wav", wav, "--model", model, "--seed", "1")
        assert proc.returncode == 0, proc.stderr
        with wave.open(str(wav)) as w:
            audio = np.frombuffer(w.readframes(w.getnframes()), "<i2")
        levels[verb] = loudness_dbfs(audio)
        assert 20 * np.log10(np.abs(audio.astype(np.int32)).max() / 32768) <= PEAK_DBFS + 0.01
    assert all(abs(v - TARGET_RMS_DBFS) < 1.0 for v in levels.values()), levels
