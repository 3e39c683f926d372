"""`accompanist bench`: a model's step, the live engine, the recorder: medians and percentiles."""

from __future__ import annotations

import argparse

from accompanist.errors import AccompanistError
from accompanist.limits import flag_type
from accompanist.live.settings import DEFAULT_MODELS


def _add_bench(sub) -> None:
    p = sub.add_parser("bench", help="time a model, or the live engine (bench live): medians and percentiles")
    p.add_argument(
        "what",
        nargs="?",
        choices=["model", "live", "recorder", "hostile", "follow"],
        default="model",
        help="model (default), live, recorder (a session file's write cost over an hour), hostile "
        "(every reader fed broken files, presets and cards: outcomes, time and memory per class), or follow "
        "(--clock player's grid against validation tunes played on a tempo curve with human timing)",
    )
    p.add_argument(
        "--model", default=None, help=f"default: {DEFAULT_MODELS['loop']} (model), {DEFAULT_MODELS['duet']} (live)"
    )
    p.add_argument(
        "--seconds",
        type=float,
        default=20.0,
        help="live: seconds of playing in each of its four runs (duet, naive loop, loop mode, following a DAW)",
    )
    p.add_argument("--bpm", type=flag_type("bpm"), default=120.0, help="live: tempo")
    p.add_argument("--temperature", type=float, default=None, help="live: sampling temperature")
    p.add_argument(
        "--soak",
        type=float,
        default=None,
        help="live: instead, N minutes against a player of the validation tunes",
    )
    p.add_argument(
        "--flood",
        type=float,
        nargs="+",
        default=None,
        metavar="N",
        help="live: instead, a duet run of --seconds per rate N with N messages a second flooding the input",
    )
    p.add_argument(
        "--panel",
        action="store_true",
        help="live: instead, duet runs of --seconds alone and from the control panel, alternating: its cost",
    )
    p.add_argument(
        "--listen-ms", type=flag_type("listen_ms"), default=None, help="live: duet listen window (default: the model's)"
    )
    p.add_argument(
        "--respond-model", default=None, help=f"live: the respond-mode model (default: {DEFAULT_MODELS['respond']})"
    )
    p.add_argument(
        "--runs", type=int, default=1000, help="model: timed calls of each measurement (torch's whole phrase: 1/4)"
    )
    p.add_argument("--no-torch", action="store_true", help="skip the torch eager comparison")
    p.add_argument("--cases", type=int, default=200, help="hostile: generated cases in each class")
    p.add_argument("--seed", type=int, default=0, help="hostile: the cases' random seed")
    p.add_argument(
        "--sweep", action="store_true", help="follow: instead, the played grid's candidate settings against each other"
    )
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")


def cmd_bench(a: argparse.Namespace) -> int:
    import json

    from accompanist.inference.cards import load_card

    if a.what == "live":
        return _bench_live(a)
    if a.what == "recorder":
        return _bench_recorder(a)
    if a.what == "hostile":
        return _bench_hostile(a)
    if a.what == "follow":
        return _bench_follow(a)
    card = load_card(a.model or DEFAULT_MODELS["loop"])
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
    elif card.family in ("melody", "vrash", "rl"):
        from accompanist.bench.melody_bench import bench_melody

        r = bench_melody(card, runs=a.runs)
        rows = [("ort_step", "ORT step"), ("answer_2_bars", "2-bar answer to a 2-bar call")]
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
    for bars, s in r.get("first_bar_after_call", {}).items():
        n = r["next_bar"][bars]
        print(
            f"  respond, {bars:2d}-bar call: first bar median {s['median']:.3f} ms p99 {s['p99']:.3f} ms; "
            f"each next bar median {n['median']:.3f} ms p99 {n['p99']:.3f} ms"
        )
    if "torch_over_ort_harmonize_32" in r:
        print(f"  torch eager / ORT: step x{r['torch_over_ort_step']}, phrase x{r['torch_over_ort_harmonize_32']}")
    elif "torch_over_ort_step" in r:
        print(f"  torch eager / ORT: step x{r['torch_over_ort_step']}")
    return 0


def _bench_hostile(a: argparse.Namespace) -> int:
    import json

    from accompanist.bench.hostile_bench import format_rows, run

    if a.cases < 1:
        raise AccompanistError(f"--cases {a.cases}: give at least 1")
    rows = run(a.cases, a.seed)
    print(json.dumps(rows) if a.json else "\n".join(format_rows(rows)))
    return 1 if any(r["bugs"] for r in rows) else 0


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
    if a.flood:
        return _bench_flood(a)
    if a.panel:
        from accompanist.bench.panel_bench import bench_panel

        r = bench_panel(a.seconds, a.model, a.bpm)
        if a.json:
            print(json.dumps(r))
            return 0
        print(f"the panel beside the engine ({r['platform']}), {r['pairs']} pairs of {r['seconds']:g} s duet runs:")
        print(
            f"  engine output timing error p99, median of runs: alone {r['p99_ms_alone']} ms, "
            f"with the panel {r['p99_ms_with_panel']} ms (difference {r['panel_costs_ms']} ms)"
        )
        for k in ("alone", "panel"):
            for run in r["runs"][k]:
                print(
                    f"  {k:5s}: p99 {run['p99_ms']} ms, median {run['median_ms']} ms, "
                    f"missed {run['missed']} of {run['steps']}, frames {run['frames']}"
                )
        return 0
    r = bench_live(a.model, a.seconds, a.bpm, a.temperature, listen_ms=a.listen_ms, respond_model=a.respond_model)
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

    w = r["wakeups"]
    print(f"this machine ({r['machine']}): a thread sleeping 1 ms, again and again for {w['seconds']:g} s")
    print(row("  waking late by", w) + f"; over 2 ms {w['over_2ms']}, over 4 ms {w['over_4ms']}")
    print(f"live bench: duet mode, model {e['model']}, {r['bpm']:g} bpm, {r['seconds']:g} s; {r['jack']}")
    if r["jack_cycles_lost"] is not None:
        print(f"  JACK cycles not finished in time over the whole bench: {r['jack_cycles_lost']}")
    if e["listen_ms"]:
        print(f"  listen window {e['listen_ms']:g} ms: answers are judged against the grid shifted by it")
    print(row("output timing error (engine)", e["output_error"]))
    print(row("input-to-engine delay", e["input_delay"]))
    print(row("inference per step", e["inference"]))
    lag = e["lag_felt"]
    if lag["lag_ms_median"] is not None:
        print(
            f"  lag the player feels (a player {e['player_jitter_ms']:g} ms off the beat, SD), strike to the first "
            f"answer that heard it: median {lag['lag_ms_median']:.1f} ms, p90 {lag['lag_ms_p90']:.1f} ms; "
            f"{lag['heard_in_time']:.0%} of {lag['strikes']} strikes heard in their own step's answer"
        )
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
    if lp.get("first_pass_ms") is not None:
        print(f"  the first pass: {lp['first_pass_ms']:.2f} ms")
    print(f"  least time left before the next pass began: {lp.get('lead_before_next_pass_ms_min')} ms")
    rp = r["respond_mode"]
    print(f"respond mode, model {rp['model']} ({r['seconds']:g} s, {rp.get('answers', 0)} answers):")
    print(row("output timing error (respond)", rp["output_error"]))
    print(row("make an answer", rp.get("make_answer", {})))
    print(f"  missed deadlines {rp['missed_deadlines']} of {rp['steps']} steps")
    f = r["following_daw_clock"]
    print(f"duet mode following the rig's MIDI clock at {r['bpm']:g} bpm (tempo estimate {f['daw_bpm_estimate']}):")
    print(row("answer vs the DAW's 16ths", f["output_error"]))
    print(f"  missed deadlines {f['missed_deadlines']} of {f['steps']} steps")
    return 0


def _bench_flood(a: argparse.Namespace) -> int:
    import json

    from accompanist.bench.flood_bench import bench_flood

    if any(not 0 <= r <= 1_000_000 for r in a.flood):
        raise AccompanistError("--flood rates must be 0..1000000 messages a second")
    r = bench_flood(a.flood, a.seconds, a.model, a.bpm, a.listen_ms)
    if a.json:
        print(json.dumps(r))
        return 0
    print(f"input flood: duet mode, {r['bpm']:g} bpm, {r['seconds']:g} s a rate, the player on channel 1")
    print(
        "| messages a second | sent | output error p99 ms | missed deadlines | dropped (over rate) | ignored |"
        " player note-offs heard | RSS growth MB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for run in r["runs"]:
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(run["input_dropped"].items())) or "0"
        ignored = sum(run["input_ignored"].values())
        print(
            f"| {run['rate']:g} | {run['flood_sent']} | {run['output_error'].get('p99_ms')} | "
            f"{run['missed_deadlines']} of {run['steps']} | {dropped} | {ignored} | "
            f"{run['player_note_offs_heard']} of {run['player_note_offs_sent']} | {run['rss_growth_mb']} |"
        )
    if r["jack_cycles_lost"] is not None:
        print(f"JACK cycles not finished in time over the whole bench: {r['jack_cycles_lost']}")
    return 0


def _bench_follow(a: argparse.Namespace) -> int:
    import json

    from accompanist.evaluation.follow_player import CURVE, GUESS, LOST, follow_table, sweep, validation_notes

    if a.sweep:
        rows = sweep(validation_notes())
        if a.json:
            print(json.dumps([{"grid": name, **t} for name, t in rows]))
            return 0
        print(f"the follower's settings, validation tunes, tempo curve {CURVE} and steady {GUESS:g} bpm:")
        for name, t in rows:
            c, s = t["curve"], t["steady"]
            print(
                f"  {name:48s} curve p90 {c['p90_ms']:5.1f} ms ({c['within_20ms']:.0%} within 20 ms, "
                f"{c['lost']} lost), steady p90 {s['p90_ms']:5.1f} ms ({s['within_20ms']:.0%}, {s['lost']} lost)"
            )
        return 0
    table = follow_table(validation_notes(), CURVE, GUESS)
    if a.json:
        print(json.dumps(table))
        return 0
    print(f"following the player: validation tunes, first guess {GUESS:g} bpm, 10 ms human spread, from bar 4")
    print(f"  (medians over tunes; a tune is lost where its p90 passes {LOST * 1e3:g} ms)")
    labels = {
        "curve": f"tempo curve {CURVE}",
        "steady": f"steady {GUESS:g} bpm",
        "pause": "two bars' pause, back 10 % faster",
    }
    for name, row in table.items():
        line = (
            f"  {labels[name]:34s} deviation p50 {row['p50_ms']:5.1f} ms  p90 {row['p90_ms']:5.1f} ms"
            f"  within 20 ms {row['within_20ms']:.0%}  lost {row['lost']} of {row['tunes']} tunes"
        )
        if "found_again_bars_median" in row:
            line += f"  found again in {row['found_again_bars_median']:g} bars (p90 {row['found_again_bars_p90']:g})"
        print(line)
    return 0
