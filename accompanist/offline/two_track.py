"""The file side shared by every offline verb: read a melody from a MIDI file onto a model's grid,
and write the melody (unchanged) and the accompaniment as a two-track file, optionally as WAV."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accompanist.errors import AccompanistError
from accompanist.inference.cards import ModelCard
from accompanist.limits import LIMITS
from accompanist.music import roll
from accompanist.music.midi_io import Part, Song, Track, note_events, read_midi, write_midi
from accompanist.music.notes import Note, answer_velocity
from accompanist.wording import count

#: About three hours at 120 bpm: longer means a corrupt time value, not a melody.
MAX_STEPS = 100_000
#: MIDI channel 10 (9 from zero) is General MIDI percussion: never part of a melody.
DRUM_CHANNEL = 9
#: Tempos outside this are a corrupt file far more often than music.
SANE_BPM = (float(LIMITS["bpm"].lo), float(LIMITS["bpm"].hi))
#: A WAV longer than this is refused unless asked for (--long-wav): a corrupt time makes hours.
MAX_WAV_SECONDS = 3600.0


@dataclass
class MelodyInput:
    song: Song
    track: Track
    notes: list[Note]  #: the pitched notes of the melody track, in ticks
    ticks_per_step: float
    warnings: list[str] = field(default_factory=list)


def pick_melody_track(song: Song, track: int | None) -> Track:
    """The given track index, or else the first track with notes."""
    tracks = song.note_tracks
    if not tracks:
        raise AccompanistError(f"{song.path}: the file has no notes; give a MIDI file with a melody in it")
    if track is None:
        return tracks[0]
    if not 0 <= track < len(song.tracks) or not song.tracks[track].notes:
        with_notes = [i for i, t in enumerate(song.tracks) if t.notes]
        raise AccompanistError(f"{song.path}: track {track} has no notes; tracks with notes: {with_notes}")
    return song.tracks[track]


def check_outputs(
    midi: str | os.PathLike,
    wav: str | os.PathLike | None = None,
    melody: str | os.PathLike | None = None,
    soundfont: str | os.PathLike | None = None,
) -> None:
    """Fail before any work if a file could not be written where asked: a missing folder, one
    that refuses a file (read-only, no permission; tried with a real file, since a read-only
    mount refuses even root), the melody's own file, or a name whose extension says another
    format; or, where a WAV is asked, if there is no SoundFont to render it with (``soundfont``,
    else the one found)."""
    import tempfile

    for p, exts, flag in ((midi, (".mid", ".midi"), "-o"), (wav, (".wav",), "--wav")):
        if p is not None and Path(p).suffix.lower() not in exts:
            raise AccompanistError(f"{p}: {flag} writes a {exts[0]} file; give a name ending in {exts[0]}")
    for p in (midi, wav):
        if p is not None and melody is not None and Path(p).resolve() == Path(melody).resolve():
            raise AccompanistError(f"{p}: is the melody's own file; write the answer to another name")
    for p in (midi, wav):
        if p is None:
            continue
        folder = Path(p).parent
        if not folder.exists():
            raise AccompanistError(f"{folder}: output folder does not exist; create it or choose another path")
        try:
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".accompanist-", suffix=".tmp"):
                pass
        except OSError as exc:
            raise AccompanistError(
                f"{folder}: cannot write there ({exc.strerror}); choose another output folder"
            ) from None
    if wav:
        from accompanist.sound.soundfont import find_soundfont

        find_soundfont(soundfont)


def check_length(song: Song, notes: list, steps_per_beat: int, what: str = "the melody") -> None:
    """Refuse a part that would last more than MAX_STEPS grid steps before any grid is built: a
    corrupt delta time (2^28 ticks at one tick a beat) would otherwise ask for gigabytes."""
    if not notes:
        return
    last = max(n.end for n in notes) / (song.ticks_per_beat / steps_per_beat)
    if last > MAX_STEPS:
        raise AccompanistError(
            f"{song.path}: {what} would last {last / steps_per_beat:.0f} beats, longer than "
            f"{MAX_STEPS // steps_per_beat}; the file's timing is probably corrupt"
        )


def read_melody(in_path: str | os.PathLike, track: int | None, steps_per_beat: int) -> MelodyInput:
    song = read_midi(in_path)
    mel_track = pick_melody_track(song, track)
    pitched = [n for n in mel_track.notes if n.channel != DRUM_CHANNEL]
    if not pitched:
        others = [
            i
            for i, t in enumerate(song.tracks)
            if t is not mel_track and any(n.channel != DRUM_CHANNEL for n in t.notes)
        ]
        if not others:
            raise AccompanistError(f"{song.path}: the file holds only drums (channel 10); give a file with a melody")
        raise AccompanistError(
            f"{song.path}: track '{mel_track.name}' holds only drums; choose a melody track with --track {others}"
        )
    ticks_per_step = song.ticks_per_beat / steps_per_beat
    check_length(song, pitched, steps_per_beat)
    warnings = []
    for _, m in song.time_meta:
        if m.type == "set_tempo" and m.tempo <= 0:
            warnings.append("the file sets a tempo of 0 (no time per beat); is it corrupt?")
            break
        bpm = 60e6 / m.tempo if m.type == "set_tempo" else None
        if bpm is not None and not SANE_BPM[0] <= bpm <= SANE_BPM[1]:
            warnings.append(
                f"the file's tempo {bpm:.4g} bpm is outside {SANE_BPM[0]:g}..{SANE_BPM[1]:g}; is it corrupt?"
            )
            break
    off_grid = sum(1 for n in pitched if n.start % ticks_per_step or n.end % ticks_per_step)
    if off_grid:
        warnings.append(
            f"{count(off_grid, 'melody note')} off the 16th grid (triplets, swing or loose timing) snapped to it "
            "for the model; the melody track is written unchanged"
        )
    far = [n for n in pitched if not roll.PITCH_LO <= n.pitch <= roll.PITCH_HI]
    if far:
        warnings.append(
            f"{count(len(far), 'melody note')} outside MIDI {roll.PITCH_LO}..{roll.PITCH_HI}: the model hears "
            "them moved by octaves into that range"
        )
        pitched = [dataclasses.replace(n, pitch=roll.fold_pitch(n.pitch)) for n in pitched]
    if len(song.note_tracks) > 1:
        warnings.append(
            f"{len(song.note_tracks)} tracks have notes; accompanying '{mel_track.name}' (choose another with --track)"
        )
    return MelodyInput(song, mel_track, pitched, ticks_per_step, warnings)


def free_channel(wanted: int, taken: set[int]) -> int:
    for ch in [wanted, *range(16)]:
        if ch not in taken and ch != DRUM_CHANNEL:
            return ch
    return wanted


def accompaniment_voice(mel: MelodyInput, card: ModelCard) -> tuple[int, int]:
    """Channel (the card's, unless the melody uses it) and a velocity a little under the melody's."""
    channel = free_channel(card.default("channel"), {n.channel for n in mel.track.notes})
    velocity = answer_velocity(np.mean([n.velocity for n in mel.track.notes]))
    return channel, velocity


def write_two_tracks(
    out_path: Path,
    mel: MelodyInput,
    accompaniment: list[Note],
    card: ModelCard,
    channel: int,
    wav: str | os.PathLike | None = None,
    soundfont: str | os.PathLike | None = None,
    long_wav: bool = False,
) -> Path | None:
    """Tracks 'melody' (its events copied unchanged) and 'accompaniment'; the WAV path if asked
    (refused past an hour unless ``long_wav``: the MIDI file is written, the WAV is not)."""
    parts = [
        Part("melody", list(mel.track.events)),
        Part("accompaniment", note_events(accompaniment), program=card.default("program"), channel=channel),
    ]
    write_midi(out_path, mel.song.ticks_per_beat, parts, mel.song.time_meta)
    return render_checked(out_path, wav, soundfont, long_wav) if wav else None


def render_checked(
    midi: Path, wav: str | os.PathLike, soundfont: str | os.PathLike | None = None, long_wav: bool = False
) -> Path:
    """Render a written MIDI file to WAV, refused past an hour unless ``long_wav`` (the MIDI file
    stays written: a corrupt tempo makes hours of sound, not music)."""
    import mido

    seconds = mido.MidiFile(midi).length
    if seconds > MAX_WAV_SECONDS and not long_wav:
        raise AccompanistError(
            f"{wav}: the piece would last {seconds / 60:.0f} minutes (is its tempo corrupt?); {midi} is "
            "written, the WAV is not; pass --long-wav to render it anyway"
        )
    from accompanist.sound.render import render_to_wav

    render_to_wav(midi, Path(wav), soundfont)
    return Path(wav)


def check_player(jitter_ms: float, tempo_curve: str | None) -> None:
    """The simulated player's flags, checked before anything is read or written: one line each."""
    import math

    if not (math.isfinite(jitter_ms) and 0 <= jitter_ms <= 100):
        raise AccompanistError(f"jitter {jitter_ms:g} ms must be 0..100 ms (0: played as written)")
    if tempo_curve is not None:
        from accompanist.music.tempo_curve import TempoCurve

        TempoCurve.read(tempo_curve)


def file_bpm(song: Song) -> float:
    """The file's first tempo, which a player of it keeps (or, on a tempo curve, the follower's
    first guess, as --bpm live); a tempo of 0 is a corrupt file (``read_melody`` warns of it): 120."""
    tempos = [60e6 / m.tempo for _, m in song.time_meta if m.type == "set_tempo" and m.tempo > 0]
    return min(max(tempos[0] if tempos else 120.0, SANE_BPM[0]), SANE_BPM[1])
