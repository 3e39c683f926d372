"""`accompanist eval`: harmony and rhythm figures of models on held-out music, or of files."""

from __future__ import annotations

import argparse
from pathlib import Path

from accompanist.cli.files import _add_sampling
from accompanist.errors import AccompanistError
from accompanist.limits import flag_type
from accompanist.music.tempo_curve import TEMPO_CURVE_HELP
from accompanist.wording import count


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
        help="duet: play the validation or test folk collections as live; "
        "melody: its own validation (default) or test melodies",
    )
    p.add_argument(
        "--listen-ms", type=float, action="append", default=None, help="duet: listen window(s) to try (repeatable)"
    )
    p.add_argument("--jitter-ms", type=float, default=15.0, help="duet --tunes: the player's timing spread (SD, ms)")
    p.add_argument("--tempo-curve", default=None, help=TEMPO_CURVE_HELP)
    p.add_argument(
        "--bpm",
        type=flag_type("bpm"),
        default=120.0,
        help="duet --tunes: the player's tempo (default 120); with --tempo-curve, the follower's first guess",
    )
    p.add_argument("--max-notes", type=int, default=None, help="duet: cap on simultaneous notes (default: the card's)")
    p.add_argument("--rolls", default=None, help="duet --tunes: folder for piano-roll PNGs of three tunes")
    p.add_argument("--hold", type=float, default=None, help="duet, hearing: penalty on strikes off the pulse")
    p.add_argument("--cover", type=int, default=None, help="duet: notes at least under a sounding melody")
    p.add_argument("--spacing", type=int, default=None, help="duet: least semitones between answer notes")
    p.add_argument("--pulse", type=float, default=None, help="duet, hearing: bonus on re-striking with the melody")
    p.add_argument("--call-bars", type=int, default=2, help="melody: bars of each held-out melody played as the call")
    p.add_argument("--answer-bars", type=int, default=2, help="melody: bars of each answer")
    p.add_argument("--duration-temperature", type=float, default=None, help="melody: (default: the temperature)")
    p.add_argument("--variation", type=float, default=None, help="VRASH: latent noise scale (default: the card's)")
    p.add_argument("--reference", default="note-rnn", help="RL: the note RNN a tuned model is measured against")
    p.add_argument(
        "--latent-plot", type=Path, default=None, help="VRASH: measure interpolation and variation, plot PNG"
    )


def cmd_eval(a: argparse.Namespace) -> int:
    import json

    from accompanist.evaluation import harmoniser as ev
    from accompanist.inference.sampling import check_sampling

    for t in a.temperature or []:
        check_sampling(t)
    check_sampling(None, a.top_p, two_part=a.two_part, key_lock=a.key_lock)
    if a.files:
        from accompanist.evaluation import melody_respond as mr

        answered = [f for f in a.files if mr.is_respond_file(f)]
        if answered:  # call and response: the melody models' table
            rows = mr.measure_respond_files(answered)
            print(json.dumps(rows, indent=2) if a.json else "\n".join(mr.format_rows(rows)))
        rest = [f for f in a.files if f not in answered]
        if not rest:
            return 0
        figures = ev.measure_files(rest, a.voice)
        print(
            json.dumps(figures, indent=2)
            if a.json
            else ev.table_header()
            + "\n"
            + ev.format_row(count(len(rest), "file"), figures)
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
    cards = [load_card(n) for n in a.model]
    from accompanist.inference.answerers import MELODY_FAMILIES

    if any(c.family in MELODY_FAMILIES for c in cards):
        return _eval_melody(a, cards)
    if a.tunes:
        return _eval_tunes(a)
    for name in a.model:
        card = load_card(name)
        if card.family == "duet":
            from accompanist.evaluation.duet_chorales import evaluate_duet

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


def _curve(text: str | None) -> str | None:
    """A tempo curve checked before anything is played: one line if it cannot be read."""
    if text is not None:
        from accompanist.music.tempo_curve import TempoCurve

        TempoCurve.read(text)
    return text


def _eval_tunes(a: argparse.Namespace) -> int:
    """Duet models against the validation or test folk collections, played as live."""
    import json

    from accompanist.evaluation.duet_listen import evaluate_listen, format_rows
    from accompanist.evaluation.player import PlayerConfig
    from accompanist.inference.cards import load_card
    from accompanist.inference.sampling_config import DuetSampling
    from accompanist.limits import check

    rows = []
    for name in a.model:
        card = load_card(name, family="duet")
        listen = a.listen_ms or [card.default("listen_ms")]
        for lm in listen:
            check("listen_ms", lm)
        for t in a.temperature or [1.0]:
            priors = {k: vars(a)[k] for k in DuetSampling.names() if k != "temperature"}
            sampling = DuetSampling.from_card(card, temperature=t, **priors)
            player = PlayerConfig(a.jitter_ms, a.bpm, seed=a.seed, tempo_curve=_curve(a.tempo_curve))
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


def _eval_melody(a: argparse.Namespace, cards) -> int:
    """Melody models answering held-out calls (their own validation or test melodies)."""
    import json

    from accompanist.evaluation import melody_respond as mr
    from accompanist.inference.answerers import MELODY_FAMILIES, family_settings, open_answerer

    other = [c.name for c in cards if c.family not in MELODY_FAMILIES]
    if other:
        raise AccompanistError(f"evaluate melody models apart from others ({', '.join(other)})")
    which = a.tunes or "validation"
    rows, lines = [], []
    for card in cards:
        lines.append(mr.describe(card))
        if card.family == "rl":
            lines += _rl_table(a, card, which)
        runner = open_answerer(card)
        melodies = mr.held_out(card, which)
        for t in a.temperature or [card.default("temperature")]:  # as it plays, unless given
            got = mr.respond_set(
                runner,
                melodies,
                a.call_bars,
                a.answer_bars,
                t,
                a.duration_temperature,
                a.key_lock,
                a.seed,
                a.n,
                **family_settings(card, a.variation),
            )
            if not rows:
                rows.append({"label": f"own next bars ({which})", **got["own_continuations"]})
            lines.append(mr.format_overlap(f"{card.name} T={t:g}", got["yang_lerch_oa"]))
            rows.append(
                {
                    "label": f"{card.name} T={t:g}" + (f" var={a.variation:g}" if a.variation is not None else ""),
                    "temperature": t,
                    "key_lock": a.key_lock,
                    **got["answers"],
                }
                | {"ms_per_answer": got["ms_per_answer"], "calls": got["calls"]}
            )
            if a.write_card:
                from accompanist.export.card import write_card

                card.data.setdefault("metrics", {})[f"respond_{which}@{t:g}"] = {
                    "call_bars": a.call_bars,
                    "answer_bars": a.answer_bars,
                    "seed": a.seed,
                    "key_lock": runner.key_lock if a.key_lock is None else a.key_lock,
                    **got,
                }
                write_card(card.folder, card.data)
        if a.rolls:
            for path in mr.draw_answers(
                runner,
                melodies,
                a.rolls,
                card.name,
                3,
                a.call_bars,
                a.answer_bars,
                a.seed,
                temperature=(a.temperature or [1.0])[0],
                key_lock=a.key_lock,
                **family_settings(card, a.variation),
            ):
                lines.append(f"piano roll: {path}")
        if card.family == "vrash" and a.latent_plot is not None:
            lines += _latent(a, card, runner, melodies)
    print(json.dumps(rows, indent=2) if a.json else "\n".join(lines + [""] + mr.format_rows(rows)))
    return 0


def _latent(a: argparse.Namespace, card, runner, melodies) -> list[str]:
    """VRASH: interpolation and variation on held-out phrases, a plot, and the card's record."""
    from accompanist.data.melodies import phrases_of
    from accompanist.evaluation import vrash_latent as vl

    if not runner.latent:
        raise AccompanistError(f"model '{card.name}' is a language model: it has no latent space to measure")
    phrases = phrases_of(melodies, runner.phrase_bars)
    interp = vl.interpolation(runner, phrases, seed=a.seed)
    var = vl.variation(runner, phrases, seed=a.seed)
    vl.plot(interp, var, a.latent_plot)
    if a.write_card:
        from accompanist.export.card import write_card

        card.data.setdefault("metrics", {})["latent"] = {"interpolation": interp, "variation": var}
        write_card(card.folder, card.data)
    d = var["distance_from_call"]
    return [
        f"interpolation ({interp['pairs']} pairs), distance from a's end along t = 0..1: "
        + " ".join(f"{v:.2f}" for v in interp["distance_from_a"]),
        "  and from b's end: " + " ".join(f"{v:.2f}" for v in interp["distance_from_b"]),
        f"variation ({var['phrases']} phrases), distance from the call: "
        + ", ".join(f"{k} {v:.2f}" for k, v in d.items()),
        f"plot: {a.latent_plot}",
    ]


def _rl_table(a: argparse.Namespace, card, which: str) -> list[str]:
    """An RL model's rule statistics on held-out calls (its own and the note RNN's it started from),
    beside the paper's rows; with --write-card stored as metrics.rl_table_<which>."""
    from accompanist.data.rl_batches import calls
    from accompanist.evaluation import melody_respond as mr
    from accompanist.evaluation.rl_table import rl_table
    from accompanist.inference.answerers import open_answerer

    melodies = mr.held_out(card, which)
    pool = calls(melodies)
    reference = open_answerer(a.reference) if card.data["model"].get("stage") == "tuned" else open_answerer(card)
    runner = open_answerer(card)
    # each model at its card's temperature (the one it plays at) unless one is given for both
    t_of = {m.card.name: (a.temperature or [m.card.default("temperature")])[0] for m in (reference, runner)}
    own = reference.card.name == card.name
    ref_t = t_of[reference.card.name]
    tables = {} if own else {reference.card.name: rl_table(reference, reference, pool, a.n, a.seed, ref_t)}
    tables[card.name] = rl_table(runner, reference, pool, a.n, a.seed, t_of[card.name])
    t = t_of[card.name]
    if a.write_card:
        from accompanist.export.card import write_card

        card.data.setdefault("metrics", {})[f"rl_table_{which}"] = {
            "calls": which,
            "reference": reference.card.name,
            "temperature": t,
            "temperatures": t_of,
            "seed": a.seed,
            **tables,
        }
        write_card(card.folder, card.data)
    return (
        [
            f"rule statistics after {which} calls ({a.n} compositions of 32 steps, "
            + ", ".join(f"{name} T = {v:g}" for name, v in t_of.items())
            + "):"
        ]
        + mr.format_rl_table(tables)
        + [""]
    )
