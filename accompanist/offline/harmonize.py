"""Melody file in, two-track file out: the offline harmoniser behind `accompanist harmonize`."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accompanist.inference.cards import load_card
from accompanist.inference.sampling import check_sampling
from accompanist.inference.seq2seq_runner import Seq2SeqRunner
from accompanist.music.notes import notes_to_tokens, tokens_to_notes
from accompanist.offline.two_track import accompaniment_voice, check_outputs, read_melody, write_two_tracks

DEFAULT_MODEL = "chorale-alto"


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


def harmonize_file(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    model: str = DEFAULT_MODEL,
    temperature: float | None = None,
    seed: int | None = None,
    wav: str | os.PathLike | None = None,
    track: int | None = None,
    soundfont: str | os.PathLike | None = None,
    long_wav: bool = False,
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
    check_outputs(out_path, wav, in_path, soundfont)
    runner = runner or Seq2SeqRunner(load_card(model, family="seq2seq"))
    card = runner.card
    mel = read_melody(in_path, track, card.steps_per_beat)
    melody, report = notes_to_tokens(mel.notes, mel.ticks_per_step)
    warnings = list(report.warnings) + mel.warnings
    check_sampling(temperature, top_p, two_part=two_part, key_lock=key_lock)
    temperature = card.default("temperature") if temperature is None else temperature
    rng = np.random.default_rng(seed)
    acc = runner.harmonize(melody, temperature, rng, top_p=top_p, two_part=two_part, key_lock=key_lock)
    channel, velocity = accompaniment_voice(mel, card)
    acc_notes = tokens_to_notes(acc, mel.ticks_per_step, velocity=velocity, channel=channel)
    wav_path = write_two_tracks(out_path, mel, acc_notes, card, channel, wav, soundfont, long_wav)
    return HarmonizeResult(
        out_path, wav_path, card.name, temperature, seed, melody, acc, warnings, time.perf_counter() - t0
    )


def print_warnings(result: HarmonizeResult) -> None:
    for w in result.warnings:
        print(f"accompanist: warning: {w}", file=sys.stderr)
