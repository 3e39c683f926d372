"""Call in, answer out, offline: `accompanist respond IN.mid -o OUT.mid --model NAME`.

The melody of the file is the call (its first ``bars`` bars when asked). The answer starts on the
first bar line at or after the call's last note ends, lasts as many bars as the call (or
``answer_bars``), is in the key heard in the call, and follows the file's own meter, exactly as
live respond mode answers. The output has two tracks, ``call`` (the player's notes as written)
and ``answer``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from accompanist.errors import AccompanistError
from accompanist.inference.answerers import family_settings, open_answerer
from accompanist.inference.sampling import check_sampling
from accompanist.music import roll
from accompanist.music.events import PITCH_HI, PITCH_LO, Events, events_to_tokens, tokens_to_events
from accompanist.music.keys import Key, find_key
from accompanist.music.melody_line import legato, melody_tokens
from accompanist.music.meter import bar_phase_of_midi
from accompanist.music.midi_io import Part, note_events, write_midi
from accompanist.music.notes import Note, answer_velocity, notes_to_tokens, tokens_to_notes
from accompanist.music.roll import fold_into, tokens_to_roll
from accompanist.offline.two_track import (
    check_outputs,
    check_player,
    file_bpm,
    free_channel,
    read_melody,
    render_checked,
)
from accompanist.wording import count

DEFAULT_MELODY_MODEL = "melody-lstm"
#: A call longer than this many bars is cut there (the live limit's default, too).
MAX_CALL_BARS = 16


@dataclass
class RespondResult:
    midi_path: Path
    wav_path: Path | None
    model: str
    temperature: float
    seed: int | None
    key: Key | None
    call_bars: int
    answer_bars: int
    answer_bar: int  #: the bar (from 1) where the answer starts
    answer: Events
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: played (a jitter or a tempo curve): the call's notes heard on their written steps (a share)
    #: and ms from the player's own bar line to the followed one the answer starts on
    followed: dict | None = None


def respond_file(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    model: str = DEFAULT_MELODY_MODEL,
    temperature: float | None = None,
    duration_temperature: float | None = None,
    key_lock: float | None = None,
    seed: int | None = None,
    bars: int | None = None,
    answer_bars: int | None = None,
    wav: str | os.PathLike | None = None,
    track: int | None = None,
    soundfont: str | os.PathLike | None = None,
    long_wav: bool = False,
    variation: float | None = None,
    jitter_ms: float = 0.0,
    tempo_curve: str | None = None,
) -> RespondResult:
    t0 = time.perf_counter()
    out_path = Path(out_path)
    check_outputs(out_path, wav, in_path, soundfont)
    check_sampling(temperature, key_lock=key_lock)
    check_sampling(duration_temperature)
    if variation is not None and not 0 <= variation <= 4:
        raise AccompanistError(f"variation {variation:g} must be 0..4 (0: near the call, 1: as trained)")
    for name, v in (("bars", bars), ("answer-bars", answer_bars)):
        if v is not None and not 1 <= v <= 64:
            raise AccompanistError(f"--{name} {v} must be 1..64")
    check_player(jitter_ms, tempo_curve)
    runner = open_answerer(model)
    card = runner.card
    mel = read_melody(in_path, track, card.steps_per_beat)
    warnings = list(mel.warnings)
    far = sum(1 for n in mel.notes if not PITCH_LO <= n.pitch <= PITCH_HI)
    if far:
        warnings.append(
            f"{count(far, 'call note')} outside MIDI {PITCH_LO}..{PITCH_HI}: the model hears them moved by octaves"
        )
    notes = [Note(fold_into(n.pitch, PITCH_LO, PITCH_HI), n.start, n.end, n.velocity, n.channel) for n in mel.notes]
    tokens, _ = notes_to_tokens(notes, mel.ticks_per_step)
    # the meter runs on past the call for the longest answer asked (64 bars of up to 32 steps)
    phases = bar_phase_of_midi(mel.song.time_meta, len(tokens) + 64 * 32, mel.ticks_per_step, card.steps_per_beat)
    phase_of = lambda step: int(phases[step])  # noqa: E731
    downbeats = np.flatnonzero(phases == 0)
    limit = bars or MAX_CALL_BARS
    cut = len(tokens)
    if len(downbeats) > limit and downbeats[limit] < len(tokens):
        cut = int(downbeats[limit])
        if bars is None:
            warnings.append(f"the call is longer than {MAX_CALL_BARS} bars: answering its first {MAX_CALL_BARS}")
    call_tokens = tokens[:cut]
    if not (call_tokens < 128).any():
        raise AccompanistError(f"{in_path}: no notes in the call's first {count(limit, 'bar')}; nothing to answer")
    call_tokens, end = _to_last_note(call_tokens)
    followed = None
    if jitter_ms or tempo_curve is not None:  # the call as the live engine would hear it played
        from accompanist.evaluation.player import PlayerConfig, perform

        spb = card.steps_per_beat
        bar = int(downbeats[1] - downbeats[0]) if len(downbeats) > 1 else 4 * spb
        cfg = PlayerConfig(jitter_ms, file_bpm(mel.song), 0.0, seed=seed or 0, tempo_curve=tempo_curve)
        written = tokens_to_roll(call_tokens)
        ahead = end + 2 * bar  # the grid held on past the call, to the answer's bar line
        perf = perform(np.concatenate([written, roll.empty(ahead - end)]), cfg, spb, beats_per_bar=bar // spb)
        heard = melody_tokens(perf.played[:end])
        followed = {"call_notes_as_written": _as_written(written, perf.played[:end])}
        call_tokens, end = _to_last_note(heard)
    call_tokens = legato(call_tokens)  # as live: a key let go a 16th early is no rest
    start = int(downbeats[np.searchsorted(downbeats, end)])
    if followed is not None and perf.offsets is not None:  # followed: where the answer's bar line fell
        at = start - int(np.flatnonzero(tokens[:end] < 128)[0])
        followed["answer_offset_ms"] = float(perf.offsets[at] * 1e3) if at < len(perf.offsets) else None
    first = int(np.flatnonzero(call_tokens < 128)[0])
    first_bar = int(np.searchsorted(downbeats, first, side="right")) - 1
    call_bars = max(1, int(np.searchsorted(downbeats, start)) - max(first_bar, 0))
    answer_bars = answer_bars or call_bars
    answer_end = int(downbeats[np.searchsorted(downbeats, start) + answer_bars])
    temperature = card.default("temperature") if temperature is None else temperature
    key = find_key(call_tokens)
    rng = np.random.default_rng(seed)
    call = tokens_to_events(call_tokens, phases[:end])
    answer = runner.answer(
        call,
        answer_end - start,
        phase_of,
        start - end,
        temperature,
        duration_temperature,
        key_lock,
        rng,
        key,
        **family_settings(card, variation),
    )
    channel = free_channel(card.default("channel"), {n.channel for n in mel.track.notes})
    velocity = answer_velocity(np.mean([n.velocity for n in mel.notes]))
    ans_notes = tokens_to_notes(
        events_to_tokens(answer), mel.ticks_per_step, velocity, channel, offset_ticks=round(start * mel.ticks_per_step)
    )
    cut_tick = round(cut * mel.ticks_per_step)
    call_notes = [n for n in mel.track.notes if n.start < cut_tick]
    call_notes = [Note(n.pitch, n.start, min(n.end, cut_tick), n.velocity, n.channel) for n in call_notes]
    parts = [
        Part("call", note_events(call_notes)),
        Part("answer", note_events(ans_notes), program=card.default("program"), channel=channel),
    ]
    write_midi(out_path, mel.song.ticks_per_beat, parts, mel.song.time_meta)
    wav_path = render_checked(out_path, wav, soundfont, long_wav) if wav else None
    return RespondResult(
        out_path,
        wav_path,
        card.name,
        temperature,
        seed,
        key,
        call_bars,
        answer_bars,
        int(np.searchsorted(downbeats, start)) + 1,
        answer,
        warnings,
        time.perf_counter() - t0,
        followed,
    )


def _to_last_note(tokens: np.ndarray) -> tuple[np.ndarray, int]:
    """A call cut where its last note ends, and that step."""
    end = int(np.flatnonzero(tokens != 128)[-1]) + 1
    return tokens[:end], end


def _as_written(written: np.ndarray, played: np.ndarray) -> float:
    """The share of the written onsets heard on their own step."""
    on = written[:, roll.ONSET].any(axis=1)
    return float((played[on, roll.ONSET] & written[on, roll.ONSET]).any(axis=1).mean()) if on.any() else 1.0
