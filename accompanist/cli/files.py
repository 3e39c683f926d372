"""Verbs with a melody file in and files out: harmonize, duet, demo, and data (shards for training)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accompanist.errors import AccompanistError
from accompanist.limits import flag
from accompanist.live.settings import DEFAULT_MODELS
from accompanist.music.tempo_curve import TEMPO_CURVE_HELP
from accompanist.wording import count


def _add_sampling(p) -> None:
    p.add_argument(
        "--top-p",
        type=float,
        default=None,
        help="nucleus: sample only among the likeliest notes holding this much probability (1 = all)",
    )
    p.add_argument(
        "--two-part",
        type=float,
        default=None,
        help="penalty on notes dissonant with the melody, in logits (0 = the seed's plain sampler)",
    )
    p.add_argument(
        "--key-lock",
        type=float,
        default=None,
        help="penalty on notes outside the melody's key, in logits (0 = off)",
    )


def _add_file_verb(p, model: str, suffix: str) -> None:
    """The options every melody-file-in, two-track-file-out verb shares; its file is written as
    NAME-``suffix``.mid beside the melody unless -o says where (each verb its own name, so one
    never writes over another's)."""
    p.add_argument("input", type=Path, help="MIDI file with the melody")
    p.add_argument(
        "-o", "--output", type=Path, default=None, help=f"two-track MIDI file to write (default: NAME-{suffix}.mid)"
    )
    p.add_argument("--force", action="store_true", help="write over -o or --wav if it exists, without saying so")
    p.set_defaults(suffix=suffix)
    p.add_argument("--model", default=model, help="model name (see: accompanist models) or folder")
    p.add_argument("--temperature", type=float, default=None, help="sampling temperature (default: the model's)")
    p.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable answer")
    p.add_argument("--track", type=int, default=None, help="index of the melody track (default: first with notes)")
    p.add_argument("--wav", type=Path, default=None, help="also render both parts to this WAV through FluidSynth")
    p.add_argument("--soundfont", type=Path, default=None, help="SoundFont for --wav (default: the system's)")
    p.add_argument("--long-wav", action="store_true", help="render a WAV even past an hour")


def _file_options(a: argparse.Namespace) -> dict:
    """What ``_add_file_verb``'s options pass on to every verb's driver, as given."""
    return {
        "model": a.model,
        "temperature": a.temperature,
        "seed": a.seed,
        "wav": a.wav,
        "track": a.track,
        "soundfont": a.soundfont,
        "long_wav": a.long_wav,
    }


def _output(a: argparse.Namespace) -> Path:
    """The two-track file: -o, else NAME-<the verb's suffix>.mid beside the melody."""
    return a.output or a.input.with_name(f"{a.input.stem}-{a.suffix}.mid")


def _replaced(a: argparse.Namespace, out: Path) -> list[Path]:
    """The files this run will write over (said when it did, unless --force)."""
    return [] if a.force else [p for p in (out, a.wav) if p is not None and Path(p).is_file()]


def _wrote(path, replaced: list[Path]) -> str:
    over = " (it was there before: written over; --force says nothing)" if Path(path) in replaced else ""
    return f"wrote {path}{over}"


def _accompany(a: argparse.Namespace, driver, **options):
    """Run ``driver`` (harmonize_file, duet_file) on the melody file into its two-track file,
    with the shared options and its own; and the files it wrote over."""
    out = _output(a)
    replaced = _replaced(a, out)
    return driver(a.input, out, **_file_options(a), **options), replaced


def _report(done) -> int:
    from accompanist.offline.harmonize import print_warnings

    r, replaced = done
    print_warnings(r)
    print(
        f"{_wrote(r.midi_path, replaced)} ({r.model}, temperature {r.temperature}, "
        f"{len(r.melody)} steps, {r.seconds:.2f} s)"
    )
    if r.wav_path:
        print(_wrote(r.wav_path, replaced))
    return 0


def _add_harmonize(sub) -> None:
    p = sub.add_parser("harmonize", help="write an accompaniment for a melody in a MIDI file")
    _add_file_verb(p, DEFAULT_MODELS["loop"], "harmonized")
    _add_sampling(p)


def cmd_harmonize(a: argparse.Namespace) -> int:
    from accompanist.offline.harmonize import harmonize_file

    return _report(_accompany(a, harmonize_file, top_p=a.top_p, two_part=a.two_part, key_lock=a.key_lock))


def _add_duet(sub) -> None:
    p = sub.add_parser("duet", help="play the duet model against a recorded melody, step by step as live")
    _add_file_verb(p, DEFAULT_MODELS["duet"], "duet")
    p.add_argument("--max-notes", **flag("max_notes", "default: the model's"))
    p.add_argument(
        "--key-lock", type=float, default=None, help="penalty on notes outside the key heard so far (0 = off)"
    )
    p.add_argument(
        "--two-part", type=float, default=None, help="penalty on dissonance with the held melody note (0 = off)"
    )
    p.add_argument("--listen-ms", **flag("listen_ms", "default: the model's"))
    _add_player(p)


def _add_player(p: argparse.ArgumentParser) -> None:
    """The simulated player's flags (``evaluation.player``), for the verbs that play a file as live."""
    p.add_argument(
        "--jitter-ms",
        type=float,
        default=0.0,
        help="play the melody with human timing of this spread (SD, ms) through the live quantiser (default 0)",
    )
    p.add_argument("--tempo-curve", default=None, help=TEMPO_CURVE_HELP)


def cmd_duet(a: argparse.Namespace) -> int:
    from accompanist.offline.duet_play import duet_file

    priors = {"max_notes": a.max_notes, "key_lock": a.key_lock, "two_part": a.two_part}
    timing = {"listen_ms": a.listen_ms, "jitter_ms": a.jitter_ms, "tempo_curve": a.tempo_curve}
    return _report(_accompany(a, duet_file, **priors, **timing))


def _add_respond(sub) -> None:
    p = sub.add_parser("respond", help="answer the phrase in a MIDI file with a melody model (call and response)")
    _add_file_verb(p, DEFAULT_MODELS["respond"], "answered")
    p.add_argument("--bars", type=int, default=None, help="answer only the call's first N bars (default: up to 16)")
    p.add_argument("--answer-bars", type=int, default=None, help="bars of the answer (default: as long as the call)")
    p.add_argument("--duration-temperature", type=float, default=None, help="(default: the temperature)")
    p.add_argument(
        "--key-lock", type=float, default=None, help="penalty on notes outside the call's key, in logits (0 = off)"
    )
    p.add_argument("--variation", **flag("variation", "default: the model's"))
    _add_player(p)


def cmd_respond(a: argparse.Namespace) -> int:
    from accompanist.offline.respond_file import respond_file

    out = _output(a)
    replaced = _replaced(a, out)
    r = respond_file(
        a.input,
        out,
        **_file_options(a),
        duration_temperature=a.duration_temperature,
        key_lock=a.key_lock,
        bars=a.bars,
        answer_bars=a.answer_bars,
        variation=a.variation,
        jitter_ms=a.jitter_ms,
        tempo_curve=a.tempo_curve,
    )
    for w in r.warnings:
        print(f"accompanist: warning: {w}", file=sys.stderr)
    key = f" in {r.key}" if r.key else ""
    print(
        f"{_wrote(r.midi_path, replaced)} ({r.model}, temperature {r.temperature:g}): a call of "
        f"{count(r.call_bars, 'bar')}{key}, "
        f"answered from bar {r.answer_bar} for {count(r.answer_bars, 'bar')} ({count(len(r.answer), 'note')} and rests)"
        f" in {r.seconds:.2f} s"
    )
    if r.followed is not None:
        f = r.followed
        line = f"  played{' on ' + a.tempo_curve if a.tempo_curve else ''}: {f['call_notes_as_written']:.0%} of the "
        line += "call's notes heard on their written steps"
        if f.get("answer_offset_ms") is not None:
            line += f"; the answer's first bar line {f['answer_offset_ms']:+.1f} ms from the player's own"
        print(line)
    if r.wav_path:
        print(_wrote(r.wav_path, replaced))
    return 0


def _add_data(sub) -> None:
    p = sub.add_parser("data", help="turn a MIDI collection into duet training shards (needs [train] for music21:)")
    p.add_argument("source", help="a folder of MIDI files (any depth), or music21:NAME (e.g. music21:palestrina)")
    p.add_argument("--out", type=Path, required=True, help="shard folder to write (reused if nothing changed)")
    p.add_argument("--steps-per-beat", type=int, default=4, help="grid (4 = 16ths)")
    p.add_argument("--melody", default=None, help="melody track: index or name substring (default: by rule)")
    p.add_argument(
        "--accompaniment", action="append", default=None, help="accompaniment track (repeatable; default: the rest)"
    )
    p.add_argument("--processes", type=int, default=None, help="worker processes (default: every core)")
    p.add_argument("--shard-steps", type=int, default=1_000_000, help="grid steps per shard")
    p.add_argument("--json", action="store_true", help="print the manifest's counts as JSON")


def cmd_data(a: argparse.Namespace) -> int:
    import json

    from accompanist.data.track_pick import PickRule

    def track(x: str) -> int | str:
        return int(x) if x.isdigit() else x

    rule = PickRule(
        melody=track(a.melody) if a.melody else None,
        accompaniment=[track(x) for x in a.accompaniment] if a.accompaniment else None,
    )
    if a.source.startswith("music21:"):
        from accompanist.data.score_corpus import build_music21_corpus

        m = build_music21_corpus(a.source.split(":", 1)[1], a.out, a.steps_per_beat, rule, a.processes)
    else:
        from accompanist.data.midi_folder import build_midi_folder

        m = build_midi_folder(Path(a.source), a.out, a.steps_per_beat, rule, a.processes, a.shard_steps)
    if a.json:
        print(json.dumps({"folder": str(a.out), "reused": m.reused, **m.counts}))
    else:
        c = m.counts
        print(f"{a.out}: {m.total_pieces} pieces, {m.total_steps} steps{' (reused)' if m.reused else ''}")
        print(f"  files found {c.get('files_found')}, used {c.get('files_used')}, skipped {c.get('skipped')}")
    return 0


def _add_demo(sub) -> None:
    p = sub.add_parser("demo", help="harmonise the bundled demo melody and write MIDI and WAV")
    p.add_argument("--out", type=Path, default=Path("accompanist-demo"), help="folder for the results")
    p.add_argument("--model", default=DEFAULT_MODELS["loop"])
    p.add_argument("--duet", default=DEFAULT_MODELS["duet"], help="duet model for the second demo ('' for none)")
    p.add_argument("--temperature", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--soundfont", type=Path, default=None)


def cmd_demo(a: argparse.Namespace) -> int:
    from accompanist.offline.harmonize import harmonize_file, print_warnings

    demo = Path(__file__).resolve().parents[1] / "assets" / "demo" / "demo_melody.mid"
    try:
        a.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AccompanistError(
            f"{a.out}: cannot make the demo folder ({exc.strerror}); give another with --out"
        ) from None
    midi, wav = a.out / f"demo-{a.model}.mid", a.out / f"demo-{a.model}.wav"
    r = harmonize_file(
        demo, midi, model=a.model, temperature=a.temperature, seed=a.seed, wav=wav, soundfont=a.soundfont
    )
    print_warnings(r)
    print(f"demo melody: {demo}")
    print(f"accompanied by {r.model} at temperature {r.temperature} (seed {r.seed}):")
    print(f"  MIDI: {midi.resolve()}")
    print(f"  WAV:  {wav.resolve()}")
    if a.duet:
        from accompanist.offline.duet_play import duet_file

        dmidi, dwav = a.out / f"demo-{a.duet}.mid", a.out / f"demo-{a.duet}.wav"
        d = duet_file(demo, dmidi, model=a.duet, seed=a.seed, wav=dwav, soundfont=a.soundfont)
        print(f"answered step by step by {d.model} (as in live duet mode):")
        print(f"  MIDI: {dmidi.resolve()}")
        print(f"  WAV:  {dwav.resolve()}")
    return 0
