"""Verbs that play: live, ui, and what they share (ports, presets, the set-up flags, the terminal's lines)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accompanist.errors import AccompanistError
from accompanist.limits import CLOCKS, clocks_said


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
    from accompanist.ui.app import check_display, run
    from accompanist.ui.memory import last_session

    check_display()  # before anything else is said: without a display nothing else matters
    remembered, problem = last_session()
    if problem:
        print(f"accompanist: {problem}", file=sys.stderr)
    return run(_live_settings(a, remembered), a.preset)


def _live_options(p: argparse.ArgumentParser) -> None:
    """The set-up flags of live and ui. Those a preset can set default to None ("not given"),
    so that any flag given, even at its usual value, wins over the preset."""
    from accompanist.inference.sampling_config import SAMPLING_FIELDS
    from accompanist.limits import flag
    from accompanist.live.settings import DEFAULT_MODELS, MODES

    on_off = argparse.BooleanOptionalAction
    p.add_argument("--preset", default=None, help="a named set-up (see: accompanist presets); flags given win")
    p.add_argument("--in", dest="inp", default=None, help="input port name, unique part of it, or 'virtual' (default)")
    p.add_argument("--out", default=None, help="output port name, unique part of it, or 'virtual' (default)")
    p.add_argument(
        "--name",
        dest="client_name",
        default=None,
        help="this accompanist's name on the MIDI system: ports NAME-in, NAME-out, NAME-click, NAME-synth "
        "(default: accompanist; give a second one another name)",
    )
    p.add_argument("--no-midi-out", action="store_true", help="no MIDI output (with --synth: sound only)")
    p.add_argument("--api", default="auto", help="auto, jack, alsa, coremidi or winmm")
    p.add_argument(
        "--mode",
        choices=MODES,
        help="duet (default): step by step; loop: pass by pass; respond: call and response",
    )
    p.add_argument("--model", help="default: " + ", ".join(f"{m} ({mode})" for mode, m in DEFAULT_MODELS.items()))
    p.add_argument("--bpm", **flag("bpm", "default 120"))
    p.add_argument("--beats-per-bar", **flag("beats_per_bar", "default 4"))
    p.add_argument("--bars", **flag("bars", "default 2"))
    p.add_argument(
        "--clock",
        choices=list(CLOCKS),
        help=f"default internal. {clocks_said()}",
    )
    p.add_argument("--send-clock", action=on_off, help="internal clock: send MIDI clock, Start and Stop on --out")
    for name in SAMPLING_FIELDS:  # every family's sampling configuration: a flag a field
        p.add_argument(f"--{name.replace('_', '-')}", **flag(name, "default: the model's"))
    p.add_argument("--listen-ms", **flag("listen_ms", "default: the model's"))
    p.add_argument("--rest-after", **flag("rest_after", "default 1; 0: never"))
    p.add_argument("--call-bars", **flag("call_bars", "default 8"))
    p.add_argument("--answer-bars", **flag("answer_bars", "default: as long as the call"))
    p.add_argument("--channel", **flag("channel", "default 2"))
    p.add_argument("--in-channel", **flag("in_channel", "default: all but the answer's"))
    p.add_argument("--program", **flag("program", "default: the model's"))
    p.add_argument("--synth", action=on_off, help="also play the answer through FluidSynth")
    p.add_argument("--synth-volume", **flag("synth_volume", "default 1: as loud as the renders"))
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
    p.add_argument(
        "--record",
        type=Path,
        default=None,
        help="session file (default: a dated file in your data folder's sessions/, said at start)",
    )
    p.add_argument("--metronome", action=on_off)
    p.add_argument("--count-in", **flag("count_in", "default 0"))
    p.add_argument(
        "--click-out",
        default=None,
        help="metronome port: 'virtual' (NAME-click:out) or a port's name (default: the answer's port)",
    )
    p.add_argument("--click-channel", **flag("click_channel", "default 10"))
    p.add_argument(
        "--latency-ms",
        type=float,
        default=None,
        help="send this much early to make up for the way out (default: half a JACK period on JACK, else 0)",
    )
    p.add_argument(
        "--control",
        dest="controls",
        action="append",
        metavar="ACTION=SPEC",
        help="play an action from the instrument (repeatable): SPEC is cc:N, note:N or pc, with @CHANNEL if one "
        "channel only; actions: temperature, variation (knobs), lock, refresh, clear, end_call, panic, start_stop, "
        "tap (buttons), mode, model (a button steps, a program change picks); e.g. --control temperature=cc:21",
    )
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--quiet", action="store_true", help="duet: no line a bar in the terminal")


def _midi_out(a: argparse.Namespace) -> str | None:
    if a.no_midi_out and a.out is not None:
        raise AccompanistError(f"--out {a.out} and --no-midi-out say opposite things; give one of them")
    return None if a.no_midi_out else a.out or "virtual"


def _live_settings(a: argparse.Namespace, remembered: dict | None = None):
    """Settings: the defaults, then what the panel remembers (``ui``), then a preset if one is
    named, then every flag given."""
    import dataclasses

    from accompanist.limits import CHANNEL_SETTINGS, channel_from_user
    from accompanist.live.settings import Settings
    from accompanist.presets import PRESET_KEYS

    given = {k: getattr(a, k) for k in PRESET_KEYS if getattr(a, k, None) is not None}
    for key in CHANNEL_SETTINGS:  # counted 1-16 on the command line (its range checked as it was read)
        if key in given:
            given[key] = channel_from_user(given[key])
    if a.no_midi_out:
        given["out"] = _midi_out(a)  # None: said outright, so no preset or memory brings a port back
    chosen: dict = dict(remembered or {})
    if a.preset:
        from accompanist.presets import load_preset

        preset = load_preset(a.preset).settings
        if "mode" in preset and "model" not in preset:
            chosen.pop("model", None)  # a remembered model may be of another mode's family
        chosen.update(preset)
        if "mode" in given and given["mode"] != chosen.get("mode", "duet") and "model" not in given:
            chosen.pop("model", None)  # the preset's model is of the other mode's family
    chosen.update(given)
    return dataclasses.replace(
        Settings(
            inp=a.inp or "virtual",
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
    from accompanist.live.settings import waits_for_first_note
    from accompanist.live.terminal import BarLines, TerminalKeys, describe, help_line, key_action

    settings = _live_settings(a)
    engine = Engine(settings)
    events = engine.subscribe()
    engine.start()
    follows = engine.steps_per_beat if settings.clock == "player" else None
    bars = BarLines(engine.steps_per_bar, follows) if settings.mode == "duet" and not a.quiet else None
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
                clock = {
                    "internal": f"{settings.bpm:g} bpm",
                    "external": "following the DAW's MIDI clock",
                    "player": f"following your tempo (first guess {settings.bpm:g} bpm)",
                }[settings.clock]
                print(f"accompanist live: {ev['mode']} mode, model {ev['model']}, {clock}")
                print(f"  listening on: {ev['input']}")
                print(
                    f"  answering on: {ev['output'] or '(no MIDI out)'}" + ("  + FluidSynth" if settings.synth else "")
                )
                print(f"  recording to: {ev['record']}")
                print(f"  you will hear: {_what_sounds(settings)}")
                if ev.get("listen_ms"):
                    print(
                        f"  answers leave {ev['output'] or 'for the synth'} {ev['listen_ms']:g} ms after each beat, "
                        "to hear the note they answer; a DAW records them that late, less the input latency it "
                        "makes up for itself: move the answer's track earlier by what its first take shows"
                    )
                if settings.clock == "external":
                    print(f"  waiting for the DAW's clock: press play in the DAW (MIDI clock into {ev['input']})")
                if waits_for_first_note(settings):
                    print("  waiting for your first note: the grid starts on it (bar 1's downbeat), then follows you")
                if ev.get("click"):
                    print(f"  clicks on: {ev['click']}")
                if settings.controls:
                    print(f"  played from your controller: {', '.join(settings.controls)}")
                print(("  " + help_line(settings.mode)) if keys.start() else "  Ctrl-C stops", flush=True)
            elif kind == "port":
                print(f"accompanist: {describe(ev)}", file=sys.stderr, flush=True)
            elif kind == "warning":
                print(f"accompanist: warning: {ev['text']}", file=sys.stderr, flush=True)
            elif kind in ("error", "missed"):
                print(f"accompanist: {describe(ev)}", file=sys.stderr, flush=True)
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
    print(f"recording: {engine.parts.recorder.path.resolve()}")
    return 0


def _what_sounds(s) -> str:
    """What will sound and what will not, said at start with how to change it."""
    said = _what_answers(s)
    if s.synth and (s.metronome or s.count_in):
        clicks = "the metronome" if s.metronome else f"the count-in of {s.count_in} bar{'s' * (s.count_in > 1)}"
        said += f"; {clicks} clicks through FluidSynth (channel 10's wood blocks)"
    return said


def _what_answers(s) -> str:
    monitor = s.monitor if s.monitor is not None else s.out is None
    if s.synth and s.out is not None:
        own = (
            "and your own notes too"
            if monitor
            else "but not your own notes (your keyboard or DAW sounds them; --monitor adds them)"
        )
        return f"the answer through FluidSynth and on the MIDI out, {own}"
    if s.synth:
        return "the answer and your own notes, through FluidSynth" if monitor else "the answer through FluidSynth"
    if s.out is not None:
        return (
            "nothing from accompanist itself: the answer goes out as MIDI "
            "(a synth or DAW on that port sounds it; --synth to hear it here)"
        )
    return "nothing: no MIDI out and no synth (add --synth to hear the answer, or --out PORT)"


def _figures_line(f: dict, what: str) -> str:
    # a session that never called its model (silence at the input, respond mode's first call)
    # has no inference figures: said so, not "None ms"
    model = (
        f"inference median {f['inference_ms_median']} ms (p99 {f['inference_ms_p99']})"
        if f["inference_ms_median"] is not None
        else "the model was not called"
    )
    dropped = sum(f.get("input_dropped", {}).values())
    flood = f", input messages dropped (over their rate) {dropped}" if dropped else ""
    timing = (
        f"output timing error p99 {f['output_error_ms_p99']} ms"
        if f["output_error_ms_p99"] is not None
        else "nothing was played on the grid"
    )
    return (
        f"stopped after {f['steps']} steps, {what}: missed deadlines {f['missed_deadlines']}, {model}, {timing}{flood}"
    )


def _say(line: str | None) -> None:
    if line:
        print(f"  {line}", flush=True)
