"""Melody file in, two-track file out, with the duet model: `accompanist duet`.

The model plays against the recorded melody step by step exactly as the live engine's duet mode
does. An anticipating model hears the player's real notes of the step that just closed and its
own last step, and answers the next step. A hearing model answers each step from the notes
struck for it by the end of the listen window. With ``jitter_ms`` the melody is first played
with human timing through the live quantiser (``evaluation.player``), so a note struck late
for its beat is heard late, as it would be live; without it the melody is a sequencer's.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from accompanist.inference.cards import load_card
from accompanist.inference.duet_runner import DuetRunner
from accompanist.inference.sampling import check_sampling
from accompanist.limits import check
from accompanist.music import roll
from accompanist.music.meter import bar_phase_of_midi
from accompanist.offline.harmonize import HarmonizeResult
from accompanist.offline.two_track import (
    accompaniment_voice,
    check_outputs,
    check_player,
    file_bpm,
    read_melody,
    write_two_tracks,
)

DEFAULT_DUET_MODEL = "duet-chorale"


def duet_file(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    model: str = DEFAULT_DUET_MODEL,
    temperature: float | None = None,
    seed: int | None = None,
    max_notes: int | None = None,
    wav: str | os.PathLike | None = None,
    track: int | None = None,
    soundfont: str | os.PathLike | None = None,
    long_wav: bool = False,
    runner: DuetRunner | None = None,
    key_lock: float | None = None,
    two_part: float | None = None,
    listen_ms: float | None = None,
    jitter_ms: float = 0.0,
    tempo_curve: str | None = None,
) -> HarmonizeResult:
    """Accompany the melody of ``in_path`` with a duet model; the file layout is harmonize's."""
    t0 = time.perf_counter()
    out_path = Path(out_path)
    check_outputs(out_path, wav, in_path, soundfont)
    check_sampling(temperature, key_lock=key_lock, two_part=two_part)
    check("max_notes", max_notes)
    check("listen_ms", listen_ms)
    check_player(jitter_ms, tempo_curve)
    runner = runner or DuetRunner(load_card(model, family="duet"))
    card = runner.card
    mel = read_melody(in_path, track, card.steps_per_beat)
    melody = roll.notes_to_roll(mel.notes, mel.ticks_per_step)
    temperature = card.default("temperature") if temperature is None else temperature
    heard = None
    if runner.listens or tempo_curve is not None:
        from accompanist.evaluation.player import PlayerConfig, perform

        listen = card.default("listen_ms") if listen_ms is None else listen_ms
        listen = listen if runner.listens else 0.0
        cfg = PlayerConfig(jitter_ms, file_bpm(mel.song), listen, seed=seed or 0, tempo_curve=tempo_curve)
        perf = perform(melody, cfg, card.steps_per_beat)
        melody, heard = perf.played, perf.heard if runner.listens else None
    phases = bar_phase_of_midi(mel.song.time_meta, len(melody), mel.ticks_per_step, card.steps_per_beat)
    rng = np.random.default_rng(seed)
    sampling = runner.sampling(temperature=temperature, max_notes=max_notes, key_lock=key_lock, two_part=two_part)
    acc = runner.accompany(melody, sampling, rng, heard=heard, phases=phases)
    channel, velocity = accompaniment_voice(mel, card)
    acc_notes = roll.roll_to_notes(acc, mel.ticks_per_step, velocity=velocity, channel=channel)
    wav_path = write_two_tracks(out_path, mel, acc_notes, card, channel, wav, soundfont, long_wav)
    return HarmonizeResult(
        out_path, wav_path, card.name, temperature, seed, melody, acc, mel.warnings, time.perf_counter() - t0
    )
