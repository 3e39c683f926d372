"""Melody file in, two-track file out: the offline harmoniser behind `accompanist harmonize`."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accompanist.errors import AccompanistError
from accompanist.inference.cards import load_card
from accompanist.inference.sampling import check_sampling
from accompanist.inference.seq2seq_runner import Seq2SeqRunner
from accompanist.music.midi_io import Part, Song, Track, note_events, read_midi, write_midi
from accompanist.music.notes import notes_to_tokens, tokens_to_notes

DEFAULT_MODEL = "chorale-alto"
#: About three hours at 120 bpm: longer means a corrupt time value, not a melody.
MAX_STEPS = 100_000
#: MIDI channel 10 (9 from zero) is General MIDI percussion: never part of a melody.
DRUM_CHANNEL = 9


@dataclass
class HarmonizeResult:
    midi_path: Path
    wav_path: Path | None
    model: str
    temperature: float
    seed: int | None
    melody: np.ndarray
    accompaniment: np.ndarray
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


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


def free_channel(wanted: int, taken: set[int]) -> int:
    for ch in [wanted, *range(16)]:
        if ch not in taken and ch != 9:
            return ch
    return wanted


def harmonize_file(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    model: str = DEFAULT_MODEL,
    temperature: float | None = None,
    seed: int | None = None,
    wav: str | os.PathLike | None = None,
    track: int | None = None,
    soundfont: str | os.PathLike | None = None,
    runner: Seq2SeqRunner | None = None,
    top_p: float | None = None,
    two_part: float | None = None,
    key_lock: float | None = None,
) -> HarmonizeResult:
    """Accompany the melody of ``in_path`` and write a type-1 file with tracks ``melody`` and
    ``accompaniment``; the melody's own events are copied unchanged."""
    import time

    t0 = time.perf_counter()
    out_path = Path(out_path)
    for p in (out_path, Path(wav) if wav else None):
        if p is not None and not p.parent.exists():
            raise AccompanistError(f"{p.parent}: output folder does not exist; create it or choose another path")
    if wav:
        from accompanist.sound.soundfont import find_soundfont

        find_soundfont(soundfont)  # fail before writing anything
    runner = runner or Seq2SeqRunner(load_card(model, family="seq2seq"))
    card = runner.card
    song = read_midi(in_path)
    mel_track = pick_melody_track(song, track)
    pitched = [n for n in mel_track.notes if n.channel != DRUM_CHANNEL]
    if not pitched:
        raise AccompanistError(f"{song.path}: track '{mel_track.name}' holds only drums; choose another with --track")
    ticks_per_step = song.ticks_per_beat / card.steps_per_beat
    last = max(n.end for n in pitched) / ticks_per_step
    if last > MAX_STEPS:
        beats = last / card.steps_per_beat
        raise AccompanistError(
            f"{song.path}: the melody would last {beats:.0f} beats, longer than "
            f"{MAX_STEPS // card.steps_per_beat}; the file's timing is probably corrupt"
        )
    melody, report = notes_to_tokens(pitched, ticks_per_step)
    warnings = list(report.warnings)
    if report.snapped:
        warnings.append(
            f"{report.snapped} of {report.notes_in} melody notes were off the 16th grid and were snapped "
            "(the melody track is written unchanged)"
        )
    if len(song.note_tracks) > 1:
        warnings.append(
            f"{len(song.note_tracks)} tracks have notes; accompanying '{mel_track.name}' (choose another with --track)"
        )
    check_sampling(temperature, top_p, two_part=two_part, key_lock=key_lock)
    temperature = card.defaults.get("temperature", 1.0) if temperature is None else temperature
    rng = np.random.default_rng(seed)
    acc = runner.harmonize(melody, temperature, rng, top_p=top_p, two_part=two_part, key_lock=key_lock)
    channels = {n.channel for n in mel_track.notes}
    channel = free_channel(int(card.defaults.get("channel", 1)), channels)
    velocity = int(np.clip(np.mean([n.velocity for n in mel_track.notes]) * 0.85, 30, 120))
    acc_notes = tokens_to_notes(acc, ticks_per_step, velocity=velocity, channel=channel)
    parts = [
        Part("melody", list(mel_track.events)),
        Part("accompaniment", note_events(acc_notes), program=int(card.defaults.get("program", 0)), channel=channel),
    ]
    write_midi(out_path, song.ticks_per_beat, parts, song.time_meta)
    wav_path = None
    if wav:
        from accompanist.sound.render import render_to_wav

        wav_path = Path(wav)
        render_to_wav(out_path, wav_path, soundfont)
    return HarmonizeResult(
        out_path, wav_path, card.name, temperature, seed, melody, acc, warnings, time.perf_counter() - t0
    )


def print_warnings(result: HarmonizeResult) -> None:
    for w in result.warnings:
        print(f"accompanist: warning: {w}", file=sys.stderr)
