"""`accompanist <verb>`: the command line. Each verb imports what it needs when it runs, so the
run-time verbs never load torch and start fast."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accompanist.errors import AccompanistError
from accompanist.wording import count


def _shift_range(text: str) -> tuple[int, int]:
    """'lo:hi' -> (lo, hi); argparse turns the ValueError into a usage line."""
    try:
        lo, hi = (int(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not lo:hi, e.g. -6:6") from None
    if hi <= lo:
        raise argparse.ArgumentTypeError(f"'{text}' is empty: hi must be above lo")
    return lo, hi


def _common_train(p) -> None:
    p.add_argument("--name", required=True, help="model name, e.g. chorale-alto")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=None, help="(default: 128 seq2seq, 16 duet chunks, 128 windows)")
    p.add_argument("--lr", type=float, default=None, help="(default: 1e-3 seq2seq, 3e-3 duet)")
    p.add_argument("--patience", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--max-minutes", type=float, default=None, help="stop after the epoch that passes this")
    p.add_argument("--out", type=Path, default=None, help="run folder (default runs/NAME)")
    p.add_argument("--resume", action="store_true", help="go on from the run folder's last checkpoint")
    p.add_argument(
        "--transpose", type=_shift_range, default="-6:6", help="semitone shifts as lo:hi (hi exclusive), e.g. -6:6"
    )
    p.add_argument(
        "--val-fraction",
        type=float,
        default=0.1,
        help="share of pieces held out for early stopping (0: stop on the test pieces)",
    )
    p.add_argument("--limit", type=int, default=None, help="use only the first N pieces or files (smoke tests)")


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train a model from a corpus (needs the [train] extra)")
    fam = p.add_subparsers(dest="family", required=True, metavar="{seq2seq,duet}")
    s = fam.add_parser("seq2seq", help="the phrase harmoniser of seed 001 (loop mode, harmonize)")
    _common_train(s)
    s.add_argument("--pair", choices=["alto", "bass"], default="alto", help="soprano->alto or tenor->bass")
    s.add_argument(
        "--variant",
        default="bi-aligned",
        choices=["bi-aligned", "bi-faithful", "uni-aligned", "uni-faithful"],
        help="encoder direction and whether the decoder reads the encoder output at each step",
    )
    s.add_argument("--hidden", type=int, default=128, help="encoder units per direction (seed: 256)")
    s.add_argument("--embed", type=int, default=64)
    s.add_argument("--dropout", type=float, default=0.2)
    s.add_argument("--invert", action="store_true", help="also train on inverted pairs (seed's augmentation)")
    s.add_argument("--stride", type=int, default=16, help="steps between training windows of 32")
    s.add_argument(
        "--no-tail-window",
        dest="tail_window",
        action="store_false",
        help="no extra window ending on each chorale's last step (the shipped 0.1 models' rule)",
    )
    d = fam.add_parser("duet", help="the streaming duet model of seed 000 (duet mode, accompanist duet)")
    _common_train(d)
    d.add_argument(
        "--data",
        default="chorales",
        help="'chorales' (soprano -> alto+tenor+bass), a shard folder (accompanist data) or a folder of MIDI files",
    )
    d.add_argument(
        "--variant",
        choices=["listen", "stateful", "window"],
        default="listen",
        help="listen: hears the note it answers (live default); stateful: carried state; window: the seed",
    )
    d.add_argument("--window", type=int, default=4, help="steps a window variant reads (seed: 4)")
    d.add_argument(
        "--late", type=float, default=0.25, help="listen: share of windows whose current melody note is not heard yet"
    )
    d.add_argument(
        "--sizes", default="128,64,128,128", help="melody LSTM 1, 2, accompaniment LSTM 1, 2 (seed: 84,32,84,32)"
    )
    d.add_argument("--dropout", type=float, default=0.1)
    d.add_argument("--steps-per-beat", type=int, default=4, help="grid (4 = 16ths; the seed: 2)")
    d.add_argument("--chunk", type=int, default=128, help="steps per training chunk of the stateful variant")
    d.add_argument("--repeats", type=int, default=4, help="passes over the pieces per epoch, each freshly transposed")


def _train_config(a: argparse.Namespace, batch_size: int, lr: float):
    from accompanist.training.loop import TrainConfig

    return TrainConfig(
        epochs=a.epochs,
        batch_size=a.batch_size or batch_size,
        lr=a.lr or lr,
        patience=a.patience,
        seed=a.seed,
        threads=a.threads,
        max_minutes=a.max_minutes,
    )


def cmd_train(a: argparse.Namespace) -> int:
    try:
        from accompanist.training import duet_task, seq2seq_task
    except ImportError as exc:
        raise AccompanistError(
            f"training needs the [train] extra ({exc.name} is missing): pip install 'accompanist[train]'"
        ) from None
    lo, hi = a.transpose
    run_dir = a.out or Path("runs") / a.name
    if a.family == "duet":
        from accompanist.data.duet_data import DuetDataConfig
        from accompanist.models.duet import DuetConfig

        try:
            m1, m2, a1, a2 = (int(x) for x in a.sizes.split(","))
        except ValueError:
            raise AccompanistError(f"--sizes '{a.sizes}' must be four whole numbers, e.g. 128,64,128,128") from None
        model_cfg = DuetConfig(a.variant, a.window, m1, m2, a1, a2, a.dropout)
        data_cfg = DuetDataConfig(
            source=a.data,
            steps_per_beat=a.steps_per_beat,
            chunk=a.chunk,
            transpositions=list(range(lo, hi)),
            repeats=a.repeats,
            val_fraction=a.val_fraction,
            limit=a.limit,
            late=a.late,
        )
        # Adam moves a weight about lr a step, and the heads must grow weights of several units
        # to carry a held chord on: the small duet model learns far faster at 3e-3.
        batch = 16 if a.variant == "stateful" else 128
        state = duet_task.run(a.name, model_cfg, data_cfg, _train_config(a, batch, 3e-3), run_dir, resume=a.resume)
    else:
        from accompanist.data.pairs import PairDataConfig
        from accompanist.models.seq2seq import Seq2SeqConfig

        model_cfg = Seq2SeqConfig(
            hidden=a.hidden,
            bidirectional=a.variant.startswith("bi"),
            aligned=a.variant.endswith("aligned"),
            embed=a.embed,
            dropout=a.dropout,
        )
        data_cfg = PairDataConfig(
            pair=a.pair,
            invert=a.invert,
            transpositions=list(range(lo, hi)),
            stride=a.stride,
            limit=a.limit,
            val_fraction=a.val_fraction,
            tail_window=a.tail_window,
        )
        state = seq2seq_task.run(a.name, model_cfg, data_cfg, _train_config(a, 128, 1e-3), run_dir, resume=a.resume)
    if int(__import__("os").environ.get("RANK", "0")) == 0:
        print(f"best validation loss {state.best_loss:.4f} at epoch {state.best_epoch}; checkpoints in {run_dir}")
        print(f"export it with: accompanist export {run_dir}")
    return 0


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


def _add_file_verb(p, model: str) -> None:
    """The options every melody-file-in, two-track-file-out verb shares."""
    p.add_argument("input", type=Path, help="MIDI file with the melody")
    p.add_argument(
        "-o", "--output", type=Path, default=None, help="two-track MIDI file to write (default: NAME-accompanied.mid)"
    )
    p.add_argument("--model", default=model, help="model name (see: accompanist models) or folder")
    p.add_argument("--temperature", type=float, default=None, help="sampling temperature (default: the model's)")
    p.add_argument("--seed", type=int, default=None, help="random seed, for a repeatable answer")
    p.add_argument("--track", type=int, default=None, help="index of the melody track (default: first with notes)")
    p.add_argument("--wav", type=Path, default=None, help="also render both parts to this WAV through FluidSynth")
    p.add_argument("--soundfont", type=Path, default=None, help="SoundFont for --wav (default: the system's)")
    p.add_argument("--long-wav", action="store_true", help="render a WAV even past an hour")


def _report(r) -> int:
    from accompanist.inference.harmonize import print_warnings

    print_warnings(r)
    print(f"wrote {r.midi_path} ({r.model}, temperature {r.temperature}, {len(r.melody)} steps, {r.seconds:.2f} s)")
    if r.wav_path:
        print(f"wrote {r.wav_path}")
    return 0


def _add_harmonize(sub) -> None:
    p = sub.add_parser("harmonize", help="write an accompaniment for a melody in a MIDI file")
    _add_file_verb(p, "chorale-alto")
    _add_sampling(p)


def cmd_harmonize(a: argparse.Namespace) -> int:
    from accompanist.inference.harmonize import harmonize_file
    from accompanist.inference.two_track import default_output

    r = harmonize_file(
        a.input,
        a.output or default_output(a.input),
        model=a.model,
        temperature=a.temperature,
        seed=a.seed,
        wav=a.wav,
        track=a.track,
        soundfont=a.soundfont,
        long_wav=a.long_wav,
        top_p=a.top_p,
        two_part=a.two_part,
        key_lock=a.key_lock,
    )
    return _report(r)


def _add_duet(sub) -> None:
    p = sub.add_parser("duet", help="play the duet model against a recorded melody, step by step as live")
    _add_file_verb(p, "duet-chorale")
    p.add_argument("--max-notes", type=int, default=None, help="cap on simultaneous notes (default: the model's)")
    p.add_argument(
        "--key-lock", type=float, default=None, help="penalty on notes outside the key heard so far (0 = off)"
    )
    p.add_argument(
        "--two-part", type=float, default=None, help="penalty on dissonance with the held melody note (0 = off)"
    )
    p.add_argument(
        "--listen-ms",
        type=float,
        default=None,
        help="duet, hearing models: ms each answer waits after its beat to hear its note (default: the model's)",
    )
    p.add_argument(
        "--jitter-ms",
        type=float,
        default=0.0,
        help="play the melody with human timing of this spread (SD, ms) through the live quantiser (default 0)",
    )


def cmd_duet(a: argparse.Namespace) -> int:
    from accompanist.inference.duet_play import duet_file
    from accompanist.inference.two_track import default_output

    r = duet_file(
        a.input,
        a.output or default_output(a.input),
        model=a.model,
        temperature=a.temperature,
        seed=a.seed,
        max_notes=a.max_notes,
        key_lock=a.key_lock,
        two_part=a.two_part,
        wav=a.wav,
        track=a.track,
        soundfont=a.soundfont,
        long_wav=a.long_wav,
        listen_ms=a.listen_ms,
        jitter_ms=a.jitter_ms,
    )
    return _report(r)


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


def _add_ports(sub) -> None:
    p = sub.add_parser("ports", help="list the MIDI input and output ports")
    p.add_argument("--api", default="auto", help="auto, jack, alsa, coremidi or winmm")
    p.add_argument("--json", action="store_true")


def cmd_ports(a: argparse.Namespace) -> int:
    import json

    from accompanist.live.ports import list_ports

    ports = list_ports(a.api)
    if a.json:
        print(json.dumps({"api": ports.api, "inputs": ports.inputs, "outputs": ports.outputs}))
        return 0
    print(f"MIDI API: {ports.api}")
    for kind, names in (("inputs", ports.inputs), ("outputs", ports.outputs)):
        print(f"{kind}:")
        for n in names or ["(none)"]:
            print(f"  {n}")
    print("pass a name or a unique part of it to --in/--out, or 'virtual' for a port of our own")
    return 0


def _add_live(sub) -> None:
    p = sub.add_parser("live", help="play live: listen on a MIDI input, answer on a MIDI output (Ctrl-C stops)")
    _live_options(p)


def _add_ui(sub) -> None:
    p = sub.add_parser("ui", help="the control panel: the same set-up as live, in a window")
    _live_options(p)


def _add_presets(sub) -> None:
    sub.add_parser("presets", help="list the presets (named set-ups for live and ui)")


def cmd_presets(a: argparse.Namespace) -> int:
    from accompanist.presets import list_presets, load_preset, user_folder

    for name in list_presets():
        try:
            print(f"{name:16s} {load_preset(name).description}")
        except AccompanistError as exc:
            print(f"{name:16s} (broken) {exc}")
    print(f"your own presets go in: {user_folder()}  (JSON: description, settings)")
    return 0


def cmd_ui(a: argparse.Namespace) -> int:
    from accompanist.ui.app import run

    return run(_live_settings(a), a.preset)


def _live_options(p: argparse.ArgumentParser) -> None:
    """The set-up flags of live and ui. Those a preset can set default to None ("not given"),
    so that any flag given, even at its usual value, wins over the preset."""
    on_off = argparse.BooleanOptionalAction
    p.add_argument("--preset", default=None, help="a named set-up (see: accompanist presets); flags given win")
    p.add_argument("--in", dest="inp", default="virtual", help="input port name, unique part of it, or 'virtual'")
    p.add_argument("--out", default=None, help="output port name, unique part of it, or 'virtual' (default)")
    p.add_argument("--no-midi-out", action="store_true", help="no MIDI output (with --synth: sound only)")
    p.add_argument("--api", default="auto", help="auto, jack, alsa, coremidi or winmm")
    p.add_argument("--mode", choices=["duet", "loop"], help="duet (default): step by step; loop: pass by pass")
    p.add_argument("--model", help="default: duet-chorale (duet), chorale-alto (loop)")
    p.add_argument("--bpm", type=float, help="tempo (default 120)")
    p.add_argument("--beats-per-bar", type=int, help="default 4")
    p.add_argument("--bars", type=int, help="loop mode: bars a pass (default 2)")
    p.add_argument("--clock", choices=["internal", "external"], help="external: follow MIDI clock (default internal)")
    p.add_argument("--send-clock", action=on_off, help="internal clock: send MIDI clock, Start and Stop on --out")
    p.add_argument("--temperature", type=float)
    p.add_argument("--max-notes", type=int, help="duet: cap on simultaneous notes")
    p.add_argument("--key-lock", type=float, help="duet: penalty on notes outside the melody's key")
    p.add_argument("--two-part", type=float, help="duet: penalty on dissonance with the melody")
    p.add_argument(
        "--listen-ms",
        type=float,
        help="duet, hearing models: ms each answer waits after its beat to hear its note (default: the model's)",
    )
    p.add_argument(
        "--rest-after", type=float, help="duet: bars of your silence before the answer rests too (default 1; 0: never)"
    )
    p.add_argument("--channel", type=int, help="MIDI channel of the answer, 1-16 (default 2)")
    p.add_argument(
        "--in-channel", type=int, help="channel the player is heard on, 1-16 (default: all but the answer's)"
    )
    p.add_argument("--program", type=int, help="General MIDI program 0-127 (default: the model's)")
    p.add_argument("--synth", action=on_off, help="also play the answer through FluidSynth")
    p.add_argument("--soundfont", default=None)
    p.add_argument(
        "--synth-ports",
        default=None,
        help="JACK ports for the synth's audio, comma-separated (default: system playback)",
    )
    p.add_argument(
        "--monitor",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the synth also plays your notes (default: on with --synth and no MIDI out)",
    )
    p.add_argument("--record", type=Path, default=None, help="session file (default: accompanist-sessions/...)")
    p.add_argument("--metronome", action=on_off)
    p.add_argument("--count-in", type=int, help="bars of metronome before the model listens (default 0)")
    p.add_argument(
        "--click-out",
        default=None,
        help="metronome port: 'virtual' (NAME-click:out) or a port's name (default: the answer's port)",
    )
    p.add_argument("--click-channel", type=int, default=None, help="metronome channel, 1-16 (default 10)")
    p.add_argument(
        "--latency-ms",
        type=float,
        default=None,
        help="send this much early to make up for the way out (default: half a JACK period on JACK, else 0)",
    )
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--quiet", action="store_true", help="duet: no line a bar in the terminal")


def _midi_out(a: argparse.Namespace) -> str | None:
    if a.no_midi_out and a.out is not None:
        raise AccompanistError(f"--out {a.out} and --no-midi-out say opposite things; give one of them")
    return None if a.no_midi_out else a.out or "virtual"


def _live_settings(a: argparse.Namespace):
    """Settings: the defaults, then a preset if one is named, then every flag given."""
    import dataclasses

    from accompanist.live.engine import Settings
    from accompanist.presets import PRESET_KEYS

    given = {k: getattr(a, k) for k in PRESET_KEYS if getattr(a, k, None) is not None}
    for key in ("channel", "in_channel", "click_channel"):
        if key in given:
            if not 1 <= given[key] <= 16:
                raise AccompanistError(f"--{key.replace('_', '-')} {given[key]} must be 1..16")
            given[key] -= 1
    chosen: dict = {}
    if a.preset:
        from accompanist.presets import load_preset

        chosen = dict(load_preset(a.preset).settings)
        if "mode" in given and given["mode"] != chosen.get("mode", "duet") and "model" not in given:
            chosen.pop("model", None)  # the preset's model is of the other mode's family
    chosen.update(given)
    return dataclasses.replace(
        Settings(
            inp=a.inp,
            out=_midi_out(a),
            api=a.api,
            soundfont=a.soundfont,
            synth_ports=a.synth_ports.split(",") if a.synth_ports else None,
            monitor=a.monitor,
            click_out=a.click_out,
            record=a.record,
            seed=a.seed,
            latency=None if a.latency_ms is None else a.latency_ms / 1e3,
        ),
        **chosen,
    )


def cmd_live(a: argparse.Namespace) -> int:
    import queue
    import signal
    import threading

    from accompanist.live.engine import Engine
    from accompanist.live.terminal import HELP, BarLines, TerminalKeys, describe, key_action

    settings = _live_settings(a)
    engine = Engine(settings)
    events = engine.subscribe()
    engine.start()
    bars = BarLines(engine.steps_per_bar) if settings.mode == "duet" and not a.quiet else None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    keys = TerminalKeys(lambda k: _say(key_action(engine, k)), stop.set)
    try:
        while not stop.is_set():
            try:
                ev = events.get(timeout=0.2)
            except queue.Empty:
                continue
            kind = ev["type"]
            if kind == "started":
                clock = f"{settings.bpm:g} bpm" if settings.clock == "internal" else "following the DAW's MIDI clock"
                print(f"accompanist live: {ev['mode']} mode, model {ev['model']}, {clock}")
                print(f"  listening on: {ev['input']}")
                print(
                    f"  answering on: {ev['output'] or '(no MIDI out)'}" + ("  + FluidSynth" if settings.synth else "")
                )
                print(f"  recording to: {ev['record']}")
                if ev.get("listen_ms"):
                    print(
                        f"  answers sound {ev['listen_ms']:g} ms after each beat, to hear the note they answer "
                        "(move the answer's track that much earlier in a DAW to line it up)"
                    )
                if settings.clock == "external":
                    print(f"  waiting for the DAW's clock: press play in the DAW (MIDI clock into {ev['input']})")
                print(("  " + HELP) if keys.start() else "  Ctrl-C stops", flush=True)
            elif kind == "port":
                print(f"accompanist: {describe(ev)}", file=sys.stderr, flush=True)
            elif kind == "warning":
                print(f"accompanist: warning: {ev['text']}", file=sys.stderr, flush=True)
            elif kind in ("error", "missed"):
                print(
                    f"accompanist: {kind}: "
                    + ", ".join(f"{k}={v}" for k, v in ev.items() if k not in ("type", "time")),
                    file=sys.stderr,
                    flush=True,
                )
            else:
                _say(describe(ev))
                if kind == "transport" and ev["state"] in ("stopped", "lost"):
                    _say(_figures_line(engine.figures(), "so far"))
                if bars is not None:
                    _say(bars.feed(ev))
    except KeyboardInterrupt:
        pass
    finally:
        keys.stop()
        engine.stop()
    print(_figures_line(engine.figures(), "all notes released"))
    print(f"recording: {engine.recorder.path.resolve()}")
    return 0


def _figures_line(f: dict, what: str) -> str:
    return (
        f"stopped after {f['steps']} steps, {what}: missed deadlines {f['missed_deadlines']}, "
        f"inference median {f['inference_ms_median']} ms (p99 {f['inference_ms_p99']}), "
        f"output timing error p99 {f['output_error_ms_p99']} ms"
    )


def _say(line: str | None) -> None:
    if line:
        print(f"  {line}", flush=True)


def _add_demo(sub) -> None:
    p = sub.add_parser("demo", help="harmonise the bundled demo melody and write MIDI and WAV")
    p.add_argument("--out", type=Path, default=Path("accompanist-demo"), help="folder for the results")
    p.add_argument("--model", default="chorale-alto")
    p.add_argument("--duet", default="duet-chorale", help="duet model for the second demo ('' for none)")
    p.add_argument("--temperature", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--soundfont", type=Path, default=None)


def cmd_demo(a: argparse.Namespace) -> int:
    from accompanist.inference.harmonize import harmonize_file, print_warnings

    demo = Path(__file__).resolve().parent / "assets" / "demo" / "demo_melody.mid"
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
        from accompanist.inference.duet_play import duet_file

        dmidi, dwav = a.out / f"demo-{a.duet}.mid", a.out / f"demo-{a.duet}.wav"
        d = duet_file(demo, dmidi, model=a.duet, seed=a.seed, wav=dwav, soundfont=a.soundfont)
        print(f"answered step by step by {d.model} (as in live duet mode):")
        print(f"  MIDI: {dmidi.resolve()}")
        print(f"  WAV:  {dwav.resolve()}")
    return 0


def _add_models(sub) -> None:
    p = sub.add_parser("models", help="list the models that are installed")
    p.add_argument("--json", action="store_true", help="print the cards' key facts as JSON")


def cmd_models(a: argparse.Namespace) -> int:
    import json

    from accompanist.inference.cards import scan_models

    models, broken = scan_models()
    for folder, exc in broken.items():
        print(f"accompanist: warning: model folder '{folder}' skipped: {exc}", file=sys.stderr)
    if a.json:
        print(
            json.dumps(
                {
                    n: {
                        "family": c.family,
                        "folder": str(c.folder),
                        "description": c.description,
                        "metrics": c.data.get("metrics", {}),
                    }
                    for n, c in models.items()
                },
                indent=2,
            )
        )
        return 0
    for name, c in sorted(models.items()):
        m = c.data.get("metrics", {})
        fig = f"held-out loss {m['held_out_loss']:.3f}, accuracy {m['held_out_accuracy']:.3f}" if m else ""
        if m and c.family == "duet" and m.get("held_out"):
            h = m["held_out"]
            fig = (
                f"held-out BCE {h['accompaniment_bce_per_step']:.2f} a step, sounding-note F1 {h['frame_f1']:.3f}, "
                f"onset F1 {h['onset_f1']:.3f}"
            )
        print(f"{name:28s} {c.family:8s} {c.description}" + (f"\n{'':37s} {fig}" if fig else ""))
    return 0


def _add_export(sub) -> None:
    p = sub.add_parser("export", help="export a training run to ONNX with its model card (needs [train])")
    p.add_argument("run", type=Path, help="run folder written by accompanist train")
    p.add_argument("--name", default=None, help="model name (default: the run's)")
    p.add_argument("--dest", type=Path, default=None, help="models folder (default: the user's models folder)")
    p.add_argument("--top-p", type=float, default=1.0, help="default nucleus for the card (1 = the seed's sampler)")
    p.add_argument("--two-part", type=float, default=0.0, help="default two-part penalty for the card (0 = off)")
    p.add_argument("--hold", type=float, default=0.0, help="duet, hearing: default penalty on strikes off the pulse")
    p.add_argument("--cover", type=int, default=0, help="duet: default notes at least under a sounding melody")
    p.add_argument("--listen-ms", type=float, default=0.0, help="duet, hearing: default listen window for the card")
    p.add_argument("--key-lock", type=float, default=0.0, help="default key-lock penalty for the card (0 = off)")
    p.add_argument("--max-notes", type=int, default=4, help="duet: default cap on simultaneous notes for the card")


def cmd_export(a: argparse.Namespace) -> int:
    try:
        import torch

        from accompanist.export import duet_onnx, seq2seq_onnx
    except ImportError as exc:
        raise AccompanistError(
            f"export needs the [train] extra ({exc.name} is missing): pip install 'accompanist[train]'"
        ) from None
    from accompanist.inference.cards import search_path

    if not (a.run / "best.pt").is_file():
        raise AccompanistError(f"{a.run}: no best.pt in this folder; give a run folder written by accompanist train")
    family = torch.load(a.run / "best.pt", weights_only=False)["meta"].get("family", "seq2seq")
    dest = a.dest or search_path()[-1]
    dest.mkdir(parents=True, exist_ok=True)
    if family == "duet":
        folder = duet_onnx.export_run(
            a.run,
            dest,
            a.name,
            max_notes=a.max_notes,
            key_lock=a.key_lock,
            two_part=a.two_part,
            hold=a.hold,
            cover=a.cover,
            listen_ms=a.listen_ms,
        )
    else:
        folder = seq2seq_onnx.export_run(a.run, dest, a.name, top_p=a.top_p, two_part=a.two_part, key_lock=a.key_lock)
    print(f"wrote {folder}")
    return 0


def _add_eval(sub) -> None:
    p = sub.add_parser("eval", help="harmony figures of models on held-out chorales and folk melodies, or of files")
    p.add_argument("files", nargs="*", type=Path, help="two-track files from harmonize (instead of --model)")
    p.add_argument("--model", action="append", default=None, help="model to evaluate (repeatable)")
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        choices=["chorales", "folk", "folk-val"],
        default=None,
        help="melody set (repeatable; default chorales and folk); folk-val is for tuning sampling",
    )
    _add_sampling(p)
    p.add_argument("--temperature", type=float, action="append", default=None, help="repeatable; default 1.0 and 1.1")
    p.add_argument("--n", type=int, default=100, help="number of folk melodies")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--voice", choices=["alto", "bass", "both"], default="both", help="Bach pairs to compare files against"
    )
    p.add_argument("--json", action="store_true", help="print every figure as JSON")
    p.add_argument("--write-card", action="store_true", help="store the figures in each model's card (metrics.harmony)")
    p.add_argument("--plots", default=None, help="duet models: folder for the Yang & Lerch PNG plots")
    p.add_argument(
        "--tunes",
        choices=["validation", "test"],
        default=None,
        help="duet models: play the validation or test folk collections with a human-timed player, as live",
    )
    p.add_argument(
        "--listen-ms", type=float, action="append", default=None, help="duet: listen window(s) to try (repeatable)"
    )
    p.add_argument("--jitter-ms", type=float, default=15.0, help="duet --tunes: the player's timing spread (SD, ms)")
    p.add_argument("--max-notes", type=int, default=None, help="duet: cap on simultaneous notes (default: the card's)")
    p.add_argument("--rolls", default=None, help="duet --tunes: folder for piano-roll PNGs of three tunes")
    p.add_argument("--hold", type=float, default=None, help="duet, hearing: penalty on strikes off the pulse")
    p.add_argument("--cover", type=int, default=None, help="duet: notes at least under a sounding melody")


def cmd_eval(a: argparse.Namespace) -> int:
    import json

    from accompanist.inference.sampling import check_sampling
    from accompanist.metrics import evaluate as ev

    for t in a.temperature or []:
        check_sampling(t)
    check_sampling(None, a.top_p, two_part=a.two_part, key_lock=a.key_lock)
    if a.files:
        figures = ev.measure_files(a.files, a.voice)
        print(
            json.dumps(figures, indent=2)
            if a.json
            else ev.table_header()
            + "\n"
            + ev.format_row(count(len(a.files), "file"), figures)
            + "\n"
            + ev.bach_row(a.voice)
        )
        return 0
    if not a.model:
        raise AccompanistError("give two-track MIDI files or --model NAME to evaluate")
    from accompanist.inference.cards import load_card
    from accompanist.inference.seq2seq_runner import Seq2SeqRunner

    results = []
    lines: list[str] = []
    if a.tunes:
        return _eval_tunes(a)
    for name in a.model:
        card = load_card(name)
        if card.family == "duet":
            from accompanist.metrics.duet_eval import evaluate_duet

            duet_lines, rows, figures = evaluate_duet(card, a.temperature or [1.0], a.n, a.seed, a.plots)
            lines += ["", *duet_lines]
            results += rows
            if a.write_card:
                from accompanist.export.card import write_card

                card.data.setdefault("metrics", {}).update(figures)
                write_card(card.folder, card.data)
            continue
        if card.family != "seq2seq":
            raise AccompanistError(f"model '{name}': no evaluation for the {card.family} family yet")
        if ev.table_header() not in lines:
            lines.insert(0, ev.table_header())
        runner = Seq2SeqRunner(card)
        voice = card.defaults["voice"]
        harmony, rules = {}, {}
        for set_name in a.sets or ["chorales", "folk"]:
            s = ev.chorale_set(card) if set_name == "chorales" else ev.folk_set(card, a.n, set_name == "folk-val")
            rules[set_name] = s.rule
            if s.truth is not None and not any(
                r["model"] == "Bach" and r["set"] == s.name and r["voice"] == voice for r in results
            ):
                fig = ev.measure(s.melodies, s.truth, voice)
                results.append({"model": "Bach", "set": s.name, "voice": voice, **fig})
                lines.append(ev.format_row(f"Bach {voice}, {s.name}", fig))
            for t in a.temperature or [1.0, 1.1]:
                accs, secs = ev.accompany_set(
                    runner, s.melodies, t, a.seed, top_p=a.top_p, two_part=a.two_part, key_lock=a.key_lock
                )
                fig = ev.measure(s.melodies, accs, voice)
                results.append(
                    {
                        "model": name,
                        "set": s.name,
                        "temperature": t,
                        "top_p": a.top_p or runner.top_p,
                        "two_part": runner.two_part if a.two_part is None else a.two_part,
                        "key_lock": runner.key_lock if a.key_lock is None else a.key_lock,
                        "seconds": round(secs, 2),
                        **fig,
                    }
                )
                harmony[f"{set_name}@{t}"] = {k: fig[k] for k in ev.COLUMNS}
                lines.append(ev.format_row(f"{name} T={t}, {s.name}", fig))
        if a.write_card:
            from accompanist.export.card import write_card

            sampling = {
                "top_p": runner.top_p if a.top_p is None else a.top_p,
                "two_part": runner.two_part if a.two_part is None else a.two_part,
                "key_lock": runner.key_lock if a.key_lock is None else a.key_lock,
            }
            stored = card.data.setdefault("metrics", {}).setdefault("harmony", {})
            if stored.get("sampling", sampling) != sampling or stored.get("seed", a.seed) != a.seed:
                stored.clear()  # figures from other settings must not sit beside these
            stored.update({"seed": a.seed, "sampling": sampling, "folk_rule": rules.get("folk"), **harmony})
            write_card(card.folder, card.data)
    print(json.dumps(results, indent=2) if a.json else "\n".join(lines))
    return 0


def _eval_tunes(a: argparse.Namespace) -> int:
    """Duet models against the validation or test folk collections, played as live."""
    import json

    from accompanist.evaluation.duet_listen import Sampling, evaluate_listen, format_rows
    from accompanist.evaluation.player import PlayerConfig
    from accompanist.inference.cards import load_card
    from accompanist.live.engine import check_listen

    rows = []
    for name in a.model:
        card = load_card(name, family="duet")
        listen = a.listen_ms or [float(card.defaults.get("listen_ms", 0.0))]
        for lm in listen:
            check_listen(lm)
        for t in a.temperature or [1.0]:
            sampling = Sampling(t, a.max_notes, a.key_lock, a.two_part, a.seed, a.hold, a.cover)
            player = PlayerConfig(jitter_ms=a.jitter_ms, seed=a.seed)
            got = evaluate_listen(card, a.tunes, listen, player, sampling, a.n, a.rolls)
            rows += [r | {"temperature": t} for r in got if r["model"] != "Bach A+T+B" or not rows]
            if a.write_card:
                from accompanist.evaluation.duet_listen import card_figures
                from accompanist.export.card import write_card

                stored = card_figures(got, a.tunes, player, sampling)
                card.data.setdefault("metrics", {})[f"tunes_{a.tunes}@{t}"] = stored
                write_card(card.folder, card.data)
    print(json.dumps(rows, indent=2) if a.json else "\n".join(format_rows(rows)))
    return 0


def _add_bench(sub) -> None:
    p = sub.add_parser("bench", help="time a model, or the live engine (bench live): medians and percentiles")
    p.add_argument(
        "what",
        nargs="?",
        choices=["model", "live", "recorder"],
        default="model",
        help="model (default), live, or recorder (a session file's write cost over an hour)",
    )
    p.add_argument("--model", default=None, help="default: chorale-alto (model), duet-chorale (live)")
    p.add_argument(
        "--seconds",
        type=float,
        default=20.0,
        help="live: seconds of playing in each of its four runs (duet, naive loop, loop mode, following a DAW)",
    )
    p.add_argument("--bpm", type=float, default=120.0, help="live: tempo")
    p.add_argument("--temperature", type=float, default=None, help="live: sampling temperature")
    p.add_argument("--soak", type=float, default=None, help="live: instead, N minutes against a random player")
    p.add_argument("--listen-ms", type=float, default=None, help="live: duet listen window (default: the model's)")
    p.add_argument(
        "--runs", type=int, default=1000, help="model: timed calls of each measurement (torch's whole phrase: 1/4)"
    )
    p.add_argument("--no-torch", action="store_true", help="skip the torch eager comparison")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")


def cmd_bench(a: argparse.Namespace) -> int:
    import json

    from accompanist.inference.cards import load_card

    if a.what == "live":
        return _bench_live(a)
    if a.what == "recorder":
        return _bench_recorder(a)
    card = load_card(a.model or "chorale-alto")
    if card.family == "duet":
        from accompanist.bench.duet_bench import bench_duet

        r = bench_duet(card, runs=a.runs, torch_too=not a.no_torch)
        rows = [
            ("ort_step", "ORT step"),
            ("ort_step_and_sample", "ORT step + sampling"),
            ("torch_step", "torch eager step"),
        ]
    elif card.family == "seq2seq":
        from accompanist.bench.seq2seq_bench import bench_seq2seq

        r = bench_seq2seq(card, runs=a.runs, torch_too=not a.no_torch)
        if "torch_decoder_step" in r:
            r["torch_over_ort_step"] = round(r["torch_decoder_step"]["median"] / r["ort_decoder_step"]["median"], 2)
            r["torch_over_ort_harmonize_32"] = round(
                r["torch_harmonize_32"]["median"] / r["ort_harmonize_32"]["median"], 2
            )
        rows = [
            ("ort_harmonize_32", "ORT harmonise 32 steps"),
            ("ort_encoder_32", "ORT encoder, 32 steps"),
            ("ort_decoder_step", "ORT decoder step"),
            ("torch_harmonize_32", "torch eager harmonise 32"),
            ("torch_decoder_step", "torch eager decoder step"),
        ]
    else:
        raise AccompanistError(f"model '{card.name}': no benchmark for the {card.family} family yet")
    if a.json:
        print(json.dumps(r))
        return 0
    print(f"model {r['model']} on {r['machine']}, {r['threads']} thread")
    for key, label in rows:
        if key in r:
            s = r[key]
            print(
                f"  {label:28s} median {s['median']:9.3f} {s['unit']}  p99 {s['p99']:9.3f} {s['unit']}"
                f"  ({s['runs']} runs)"
            )
    if "torch_over_ort_harmonize_32" in r:
        print(f"  torch eager / ORT: step x{r['torch_over_ort_step']}, phrase x{r['torch_over_ort_harmonize_32']}")
    elif "torch_over_ort_step" in r:
        print(f"  torch eager / ORT: step x{r['torch_over_ort_step']}")
    return 0


def _bench_recorder(a: argparse.Namespace) -> int:
    import json

    from accompanist.bench.recorder_bench import bench_recorder

    r = bench_recorder()
    if a.json:
        print(json.dumps(r))
        return 0
    first, last = r["write_first_tenth"], r["write_last_tenth"]
    print(f"recorder: an hour at 40 messages a second ({r['events']:,} events), written every 2 s")
    print(f"  write, first 6 minutes: median {first['median']:.3f} ms  p99 {first['p99']:.3f} ms")
    print(f"  write, last 6 minutes:  median {last['median']:.3f} ms  p99 {last['p99']:.3f} ms  ({r['file_mb']} MB)")
    print(f"  the whole hour rewritten through mido, once: {r['mido_whole_rewrite_ms']:.0f} ms")
    return 0


def _bench_live(a: argparse.Namespace) -> int:
    import json

    from accompanist.bench.live_bench import bench_live, soak

    if a.soak:
        r = soak(a.model, a.soak, a.bpm, a.listen_ms)
        print(json.dumps(r) if a.json else "\n".join(f"  {k}: {v}" for k, v in r.items()))
        return 0
    r = bench_live(a.model, a.seconds, a.bpm, a.temperature, listen_ms=a.listen_ms)
    if a.json:
        print(json.dumps(r))
        return 0
    e, n = r["engine"], r["naive_sleep_loop"]

    def row(label: str, f: dict) -> str:
        if not f.get("n"):
            return f"  {label:34s} (nothing measured)"
        return (
            f"  {label:34s} median {f['median_ms']:8.3f} ms  p99 {f['p99_ms']:8.3f} ms  "
            f"max {f['max_ms']:8.3f} ms  (n={f['n']})"
        )

    print(f"live bench: duet mode, model {e['model']}, {r['bpm']:g} bpm, {r['seconds']:g} s; {r['jack']}")
    if e["listen_ms"]:
        print(f"  listen window {e['listen_ms']:g} ms: answers are judged against the grid shifted by it")
    print(row("output timing error (engine)", e["output_error"]))
    print(row("input-to-engine delay", e["input_delay"]))
    print(row("inference per step", e["inference"]))
    print(
        f"  missed deadlines {e['missed_deadlines']} of {e['steps']} steps; late inputs {e['late_inputs']}; "
        f"answer notes lost on the way to the listener {e['lost_at_listener']}"
    )
    print(row("output timing error (naive loop)", n["output_error"]))
    print(f"  naive sleep loop / engine, p99 timing error: x{r['naive_over_engine_p99']}")
    lp = r["loop_mode"]
    print(f"loop mode, model {lp['model']} ({r['seconds']:g} s):")
    print(row("output timing error (loop)", lp["output_error"]))
    print(row("harmonise a pass", lp.get("harmonise_pass", {})))
    print(f"  least time left before the next pass began: {lp.get('lead_before_next_pass_ms_min')} ms")
    f = r["following_daw_clock"]
    print(f"duet mode following the rig's MIDI clock at {r['bpm']:g} bpm (tempo estimate {f['daw_bpm_estimate']}):")
    print(row("answer vs the DAW's 16ths", f["output_error"]))
    print(f"  missed deadlines {f['missed_deadlines']} of {f['steps']} steps")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="accompanist", description="A real-time AI accompanist for MIDI keyboards.")
    from accompanist import __version__

    parser.add_argument("--version", action="version", version=f"accompanist {__version__}")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for add in (
        _add_demo,
        _add_harmonize,
        _add_duet,
        _add_data,
        _add_ports,
        _add_live,
        _add_ui,
        _add_presets,
        _add_models,
        _add_eval,
        _add_bench,
        _add_train,
        _add_export,
    ):
        add(sub)
    return parser


COMMANDS = {
    "demo": cmd_demo,
    "harmonize": cmd_harmonize,
    "duet": cmd_duet,
    "data": cmd_data,
    "ports": cmd_ports,
    "live": cmd_live,
    "ui": cmd_ui,
    "presets": cmd_presets,
    "models": cmd_models,
    "eval": cmd_eval,
    "bench": cmd_bench,
    "train": cmd_train,
    "export": cmd_export,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.verb](args)
    except AccompanistError as exc:
        print(f"accompanist: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        import errno

        # a place the user chose refuses the write: their error to fix, not a bug of ours
        if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT):
            raise
        where = exc.filename or "the output"
        print(
            f"accompanist: error: {where}: cannot write there ({exc.strerror}); choose another place", file=sys.stderr
        )
        return 2
    except KeyboardInterrupt:
        print("accompanist: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `accompanist presets | head`: the reader has all it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0


if __name__ == "__main__":
    sys.exit(main())
