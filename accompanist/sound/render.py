"""Render a MIDI file to a WAV through FluidSynth, offline and faster than real time."""

from __future__ import annotations

import os
import wave

import mido
import numpy as np

from accompanist.atomic import atomic_write
from accompanist.errors import AccompanistError
from accompanist.sound.soundfont import find_soundfont

SAMPLE_RATE = 48000
TAIL_SECONDS = 1.5  # let the last notes ring out
#: Every rendered WAV is brought to this loudness: RMS over the part that sounds (louder than
#: -60 dBFS), in dBFS, with its peak kept under PEAK_DBFS. A one-voice harmonisation and a
#: four-voice duet then play at the same level (rendered raw they differed by about 10 dB).
TARGET_RMS_DBFS = -20.0
PEAK_DBFS = -1.0


def load_fluidsynth():
    """The pyfluidsynth module, or a clear error if the library behind it is missing."""
    try:
        import fluidsynth
    except ImportError as exc:
        raise AccompanistError(
            f"FluidSynth is not available ({exc}); install it (Debian: apt-get install libfluidsynth3) "
            "and the Python binding (pip install pyfluidsynth)"
        ) from None
    if not hasattr(fluidsynth, "Synth"):
        raise AccompanistError(
            "the 'fluidsynth' module found is not pyfluidsynth; pip uninstall fluidsynth, then pip install pyfluidsynth"
        )
    return fluidsynth


def render_midi(
    midi_path: str | os.PathLike,
    soundfont: str | os.PathLike | None = None,
    sample_rate: int = SAMPLE_RATE,
    gain: float = 0.5,
) -> np.ndarray:
    """Audio of a MIDI file as int16 stereo samples, shape (n, 2)."""
    fs = load_fluidsynth()
    sf = find_soundfont(soundfont)
    synth = fs.Synth(gain=gain, samplerate=float(sample_rate))
    try:
        sfid = synth.sfload(str(sf))
        if sfid < 0:
            raise AccompanistError(f"{sf}: FluidSynth could not load this SoundFont; give another with --soundfont")
        for ch in range(16):  # channel 10 a drum kit: FluidSynth leaves it silent until it is chosen
            synth.program_select(ch, sfid, 128 if ch == 9 else 0, 0)
        chunks: list[np.ndarray] = []
        pending = 0.0
        for msg in mido.MidiFile(midi_path):
            pending += msg.time
            n = int(round(pending * sample_rate))
            if n > 0:
                chunks.append(np.asarray(synth.get_samples(n), dtype=np.int16))
                pending -= n / sample_rate
            if msg.type == "note_on":
                synth.noteon(msg.channel, msg.note, msg.velocity)
            elif msg.type == "note_off":
                synth.noteoff(msg.channel, msg.note)
            elif msg.type == "program_change":
                synth.program_select(msg.channel, sfid, 128 if msg.channel == 9 else 0, msg.program)
            elif msg.type == "control_change":
                synth.cc(msg.channel, msg.control, msg.value)
            elif msg.type == "pitchwheel":
                synth.pitch_bend(msg.channel, msg.pitch)
        chunks.append(np.asarray(synth.get_samples(int(TAIL_SECONDS * sample_rate)), dtype=np.int16))
    finally:
        synth.delete()
    return np.concatenate(chunks).reshape(-1, 2)


def write_wav(path: str | os.PathLike, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    with atomic_write(path, "WAV file") as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(np.ascontiguousarray(audio, dtype="<i2").tobytes())


def render_to_wav(
    midi_path: str | os.PathLike, wav_path: str | os.PathLike, soundfont: str | os.PathLike | None = None
) -> float:
    """Render, bring to the loudness target and write; returns the length in seconds."""
    audio = normalise(render_midi(midi_path, soundfont))
    write_wav(wav_path, audio)
    return len(audio) / SAMPLE_RATE


def loudness_dbfs(audio: np.ndarray) -> float:
    """RMS in dBFS of the samples louder than -60 dBFS (silence does not count), or -inf."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1) / 32768.0
    sounding = x[np.abs(x) > 10 ** (-60 / 20)]
    return float(10 * np.log10(np.mean(sounding**2))) if len(sounding) else float("-inf")


def normalise(audio: np.ndarray) -> np.ndarray:
    """int16 audio at ``TARGET_RMS_DBFS``, its peak no higher than ``PEAK_DBFS``."""
    level = loudness_dbfs(audio)
    if not np.isfinite(level):
        return audio
    peak = np.abs(audio.astype(np.float64)).max() / 32768.0
    gain = min(10 ** ((TARGET_RMS_DBFS - level) / 20), 10 ** (PEAK_DBFS / 20) / peak)
    return np.clip(np.round(audio.astype(np.float64) * gain), -32768, 32767).astype(np.int16)
