"""Verbs about models: train one, export it to ONNX with its card, list those installed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from accompanist.errors import AccompanistError


def _shift_range(text: str) -> tuple[int, int]:
    """'lo:hi' -> (lo, hi); argparse turns the ValueError into a usage line."""
    try:
        lo, hi = (int(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not lo:hi, e.g. -6:6") from None
    if hi <= lo:
        raise argparse.ArgumentTypeError(f"'{text}' is empty: hi must be above lo")
    return lo, hi


def _needs_train_extra(verb: str, exc: ImportError) -> AccompanistError:
    return AccompanistError(f"{verb} needs the [train] extra ({exc.name} is missing): pip install 'accompanist[train]'")


def _melody_train(p) -> None:
    """The options of every melody family's training (melody, vrash, note-rnn)."""
    _common_train(p)
    p.add_argument("--data", default="chorales,folk", help="melody sources, comma-separated: chorales, folk")
    p.add_argument("--test-fraction", type=float, default=0.05, help="share of melodies held out for testing")


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
    fam = p.add_subparsers(dest="family", required=True, metavar="{seq2seq,duet,melody,vrash,note-rnn,rl}")
    s = fam.add_parser("seq2seq", help="the phrase harmoniser of Faitas et al. 2019 (loop mode, harmonize)")
    _common_train(s)
    s.add_argument("--pair", choices=["alto", "bass"], default="alto", help="soprano->alto or tenor->bass")
    s.add_argument(
        "--variant",
        default="bi-aligned",
        choices=["bi-aligned", "bi-faithful", "uni-aligned", "uni-faithful"],
        help="encoder direction and whether the decoder reads the encoder output at each step",
    )
    s.add_argument("--hidden", type=int, default=128, help="encoder units per direction (paper: 256)")
    s.add_argument("--embed", type=int, default=64)
    s.add_argument("--dropout", type=float, default=0.2)
    s.add_argument("--invert", action="store_true", help="also train on inverted pairs (the paper's augmentation)")
    s.add_argument("--stride", type=int, default=16, help="steps between training windows of 32")
    s.add_argument(
        "--no-tail-window",
        dest="tail_window",
        action="store_false",
        help="no extra window ending on each chorale's last step (the shipped 0.1 models' rule)",
    )
    d = fam.add_parser("duet", help="the streaming duet model of DuetHLSTM, Huang et al. (duet mode, accompanist duet)")
    _common_train(d)
    d.add_argument(
        "--data",
        default="chorales",
        help="'chorales' (soprano -> alto+tenor+bass), a shard folder (accompanist data), a folder of MIDI files, "
        "music21:NAME, or several of these comma-separated (each split on its own, scored per source)",
    )
    d.add_argument("--init", type=Path, default=None, help="start from this checkpoint's weights (best.pt of a run)")
    d.add_argument(
        "--variant",
        choices=["listen", "stateful", "window"],
        default="listen",
        help="listen: hears the note it answers (live default); stateful: carried state; window: the paper's",
    )
    d.add_argument("--window", type=int, default=4, help="steps a window variant reads (paper: 4)")
    d.add_argument(
        "--late", type=float, default=0.25, help="listen: share of windows whose current melody note is not heard yet"
    )
    d.add_argument(
        "--sizes", default="128,64,128,128", help="melody LSTM 1, 2, accompaniment LSTM 1, 2 (paper: 84,32,84,32)"
    )
    d.add_argument("--dropout", type=float, default=0.1)
    d.add_argument("--steps-per-beat", type=int, default=4, help="grid (4 = 16ths; the paper: 2)")
    d.add_argument("--chunk", type=int, default=128, help="steps per training chunk of the stateful variant")
    d.add_argument("--repeats", type=int, default=4, help="passes over the pieces per epoch, each freshly transposed")
    m = fam.add_parser("melody", help="the pitch + duration melody LSTM of Conner et al. 2022 (respond mode)")
    _melody_train(m)
    m.add_argument("--hidden", type=int, default=256, help="units per LSTM (paper: 512)")
    m.add_argument("--layers", type=int, default=2, help="stacked LSTMs (paper: 3)")
    m.add_argument("--dense", type=int, default=256)
    m.add_argument("--dropout", type=float, default=0.3)
    m.add_argument(
        "--no-position", dest="position", action="store_false", help="no bar-position input (the paper's two inputs)"
    )
    v = fam.add_parser(
        "vrash", help="VRASH (Tikhonov and Yamshchikov 2017), the variation model (respond), or its LM baseline"
    )
    _melody_train(v)
    v.add_argument("--latent", type=int, default=16, help="latent dimensions (paper: 16); 0 = the plain LSTM LM")
    v.add_argument("--hidden", type=int, default=256, help="decoder units")
    v.add_argument("--encoder", type=int, default=128, help="encoder units per direction")
    v.add_argument("--dropout", type=float, default=0.2)
    v.add_argument("--bars", type=int, default=2, help="bars a phrase")
    v.add_argument("--anneal-steps", type=int, default=3000, help="batches over which the KL weight rises to 1")
    v.add_argument("--free-bits", type=float, default=0.1, help="nats a latent dimension may hold at no cost")
    v.add_argument("--word-dropout", type=float, default=0.0, help="share of history notes hidden in training")
    n = fam.add_parser("note-rnn", help="the RL tuner's note RNN (Jaques et al. 2017, stage 1): reward model and start")
    _melody_train(n)
    n.add_argument("--hidden", type=int, default=100, help="LSTM cells (upstream: 100)")
    r = fam.add_parser("rl", help="tune a note RNN by deep Q-learning with music-theory rewards (stage 2)")
    r.add_argument("--name", required=True)
    r.add_argument("--note-rnn", type=Path, required=True, help="run folder of accompanist train note-rnn")
    r.add_argument("--steps", type=int, default=1_000_000, help="actions in all (upstream: 1,000,000)")
    r.add_argument("--scaler", type=float, default=0.1, help="music-theory weight 1/c (upstream script 0.1, paper 2)")
    r.add_argument("--discount", type=float, default=0.5)
    r.add_argument("--lr", type=float, default=1e-3)
    r.add_argument("--n-step", type=int, default=1, help="rewards summed before bootstrapping (upstream: 1)")
    r.add_argument("--huber", action="store_true", help="Huber loss on the TD error (upstream: squared)")
    r.add_argument("--double", action="store_true", help="double Q-learning targets (van Hasselt et al. 2016)")
    r.add_argument("--in-c", action="store_true", help="move every call to C major or A minor (upstream: all in C)")
    r.add_argument(
        "--explore",
        choices=("uniform", "note-rnn", "boltzmann"),
        default="uniform",
        help="what an exploring step plays: uniform at random (upstream), a draw from the frozen note RNN, "
        "or act by sampling softmax(Q) throughout",
    )
    r.add_argument("--parallel", type=int, default=64, help="compositions played side by side")
    r.add_argument("--eval-compositions", type=int, default=1000, help="compositions in each table")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--out", type=Path, default=None, help="run folder (default runs/NAME)")


def _flags(a: argparse.Namespace, names: str) -> dict:
    """The values of the flags ``names`` (space-separated), each under the name of the config
    field it fills, which is its own."""
    return {n: getattr(a, n) for n in names.split()}


def _job(a: argparse.Namespace, run_dir: Path, batch_size: int, lr: float):
    """The run the flags ask for, in ``run_dir``; ``batch_size`` and ``lr`` are the family's
    defaults."""
    from accompanist.training.loop import Job, TrainConfig

    cfg = TrainConfig(
        batch_size=a.batch_size or batch_size, lr=a.lr or lr, **_flags(a, "epochs patience seed threads max_minutes")
    )
    return Job(a.name, run_dir, cfg, a.resume)


def cmd_train(a: argparse.Namespace) -> int:
    try:
        from accompanist.training import duet_task, seq2seq_task
    except ImportError as exc:
        raise _needs_train_extra("training", exc) from None
    run_dir = a.out or Path("runs") / a.name
    if a.family == "rl":
        return _tune_rl(a, run_dir)
    lo, hi = a.transpose
    if a.resume and (run_dir / "last.pt").exists():  # refused before minutes of data loading
        from accompanist.training.checkpoints import load_checkpoint

        load_checkpoint(run_dir / "last.pt")
    if a.family in ("melody", "vrash", "note-rnn"):
        return _train_melody(a, run_dir, lo, hi)
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
            transpositions=list(range(lo, hi)),
            **_flags(a, "steps_per_beat chunk repeats val_fraction limit late"),
        )
        # Adam moves a weight about lr a step, and the heads must grow weights of several units
        # to carry a held chord on: the small duet model learns far faster at 3e-3.
        batch = 16 if a.variant == "stateful" else 128
        state = duet_task.run(_job(a, run_dir, batch, 3e-3), model_cfg, data_cfg, init=a.init)
    else:
        from accompanist.data.pairs import PairDataConfig
        from accompanist.models.seq2seq import Seq2SeqConfig

        model_cfg = Seq2SeqConfig(
            bidirectional=a.variant.startswith("bi"),
            aligned=a.variant.endswith("aligned"),
            **_flags(a, "hidden embed dropout"),
        )
        data_cfg = PairDataConfig(
            transpositions=list(range(lo, hi)), **_flags(a, "pair invert stride limit val_fraction tail_window")
        )
        state = seq2seq_task.run(_job(a, run_dir, 128, 1e-3), model_cfg, data_cfg)
    if int(__import__("os").environ.get("RANK", "0")) == 0:
        print(f"best validation loss {state.best_loss:.4f} at epoch {state.best_epoch}; checkpoints in {run_dir}")
        print(f"export it with: accompanist export {run_dir}")
    return 0


def _train_melody(a: argparse.Namespace, run_dir: Path, lo: int, hi: int) -> int:
    """The melody families (pitch + duration LSTM, VRASH) share the melody corpus and its split."""
    from accompanist.data.melodies import SOURCES, MelodyDataConfig
    from accompanist.models.melody import MelodyConfig
    from accompanist.training import melody_task

    sources = tuple(x.strip() for x in a.data.split(",") if x.strip())
    unknown = [x for x in sources if x not in SOURCES]
    if unknown or not sources:
        raise AccompanistError(f"--data '{a.data}': melody sources are {', '.join(SOURCES)}, comma-separated")
    data_cfg = MelodyDataConfig(
        sources=sources, transpositions=tuple(range(lo, hi)), **_flags(a, "val_fraction test_fraction limit")
    )
    if a.family == "note-rnn":
        from accompanist.models.rl_tuner import NoteRNNConfig
        from accompanist.training import rl_task

        state = rl_task.run_notes(_job(a, run_dir, 64, 1e-3), NoteRNNConfig(a.hidden), data_cfg)
    elif a.family == "vrash":
        from accompanist.models.vrash import VrashConfig
        from accompanist.training import vrash_task

        model_cfg = VrashConfig(**_flags(a, "latent hidden encoder dropout word_dropout"))
        vcfg = vrash_task.VrashTrainConfig(a.bars, a.anneal_steps, a.free_bits)
        state = vrash_task.run(_job(a, run_dir, 128, 2e-3), model_cfg, data_cfg, vcfg)
    else:
        model_cfg = MelodyConfig(a.hidden, a.layers, a.dense, a.dropout, a.position)
        state = melody_task.run(_job(a, run_dir, 64, 2e-3), model_cfg, data_cfg)
    print(f"best validation loss {state.best_loss:.4f} at epoch {state.best_epoch}; checkpoints in {run_dir}")
    print(f"export it with: accompanist export {run_dir}")
    return 0


def _tune_rl(a: argparse.Namespace, run_dir: Path) -> int:
    from accompanist.data.melodies import MelodyDataConfig
    from accompanist.training import rl_task
    from accompanist.training.checkpoints import load_checkpoint

    if not (a.note_rnn / "best.pt").is_file():
        raise AccompanistError(f"{a.note_rnn}: no best.pt; train the note RNN first (accompanist train note-rnn)")
    meta = load_checkpoint(a.note_rnn / "best.pt").get("meta", {})
    if meta.get("stage") != "note-rnn":
        raise AccompanistError(f"{a.note_rnn}: not a note RNN run (accompanist train note-rnn makes one)")
    if not 1 <= a.n_step <= 32:
        raise AccompanistError(f"--n-step {a.n_step}: give 1 (upstream's one-step Q-learning) to 32 (a composition)")
    data_cfg = MelodyDataConfig.from_description(meta["data"])
    cfg = rl_task.TuneConfig(
        report_every=max(a.steps // 20, a.parallel * 32),
        **_flags(a, "steps parallel discount lr scaler n_step explore huber double in_c seed threads"),
    )
    out = rl_task.tune(a.name, a.note_rnn, data_cfg, cfg, run_dir, a.eval_compositions)
    for stage, t in out["tables"].items():
        print(f"{stage}: " + ", ".join(f"{k} {v}" for k, v in t.items()))
    print(f"tuned in {out['seconds']:.0f} s; export it with: accompanist export {run_dir}")
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
        print(f"{name:28s} {c.family:8s} {c.description}" + (f"\n{'':37s} {fig}" if (fig := figures_line(c)) else ""))
    return 0


def figures_line(c) -> str:
    """One line of a model's test figures, in its family's terms, from its card ('' when it has
    none): what the card measured on held-out data once, never a training-time table. The
    README's models table shows the same line (``tests/test_readme.py`` holds the two together)."""
    m = c.data.get("metrics", {})
    h = m.get("held_out") or {}
    parts = []
    if c.family == "rl" and (rl := _rl_test_row(c.name, m)):
        parts.append(
            f"test calls: repeated {rl['excessively_repeated']:.1f} %, not in key {rl['not_in_key']:.1f} %, in motif "
            f"{rl['in_motif']:.1f} %, leaps resolved {rl['leaps_resolved']:.1f} %"
        )
    elif c.family == "rl" and "rl_table" in m:  # tuned, never measured on test calls: say so
        t = m["rl_table"]["tuned"]
        parts.append(
            f"tuned: repeated {t['excessively_repeated']:.1f} %, not in key {t['not_in_key']:.1f} %, in motif "
            f"{t['in_motif']:.1f} %, leaps resolved {t['leaps_resolved']:.1f} % (training's validation calls)"
        )
    elif c.family == "melody" and h:
        parts.append(f"held-out pitch {h['pitch_ce']:.3f} + duration {h['duration_ce']:.3f} nats a note")
    elif c.family == "vrash" and h:
        bound = f", bound {h['bound_per_note']:.3f}" if "bound_per_note" in h else ""
        parts.append(f"held-out cross-entropy {h['ce_per_note']:.3f} nats a note{bound}")
    elif c.family == "duet" and h:
        parts.append(
            f"held-out BCE {h['accompaniment_bce_per_step']:.2f} a step, sounding-note F1 {h['frame_f1']:.3f}, "
            f"onset F1 {h['onset_f1']:.3f}"
        )
    elif m.get("held_out_loss") is not None:
        parts.append(f"held-out loss {m['held_out_loss']:.3f}, accuracy {m['held_out_accuracy']:.3f}")
    if c.family == "duet" and (tunes := _duet_test_tunes(c, m)):
        ms, pooled = tunes
        parts.append(f"test tunes at {ms:g} ms: consonance {pooled['consonance']:.3f}, in key {pooled['in_key']:.3f}")
    if (answers := _respond_test(c, m)) is not None:
        parts.append(f"test answers {answers['in_call_key']:.3f} in the call's key")
    return "; ".join(parts)


def _rl_test_row(name: str, m: dict) -> dict | None:
    """The tuned model's row of the test-call table (``eval --write-card``), not its reference's."""
    table = m.get("rl_table_test") or {}
    if isinstance(table.get(name), dict):
        return table[name]
    rows = [v for k, v in table.items() if k != table.get("reference") and isinstance(v, dict) and "in_motif" in v]
    return rows[0] if len(rows) == 1 else None


def _duet_test_tunes(c, m: dict) -> tuple[float, dict] | None:
    """(listen window, pooled figures) of the test tunes at the card's own window."""
    tunes = m.get("tunes_test@1.0") or {}
    ms = c.default("listen_ms")
    pooled = [v for k, v in (tunes.get(f"listen {ms:g} ms") or {}).items() if k.startswith("pooled")]
    return (ms, pooled[0]) if pooled else None


def _respond_test(c, m: dict) -> dict | None:
    """The answers to the test calls at the card's temperature (``eval --tunes test --write-card``)."""
    test = m.get(f"respond_test@{c.default('temperature'):g}")
    return test["answers"] if isinstance(test, dict) and "answers" in test else None


def _add_export(sub) -> None:
    p = sub.add_parser("export", help="export a training run to ONNX with its model card (needs [train])")
    p.add_argument("run", type=Path, help="run folder written by accompanist train")
    p.add_argument("--name", default=None, help="model name (default: the run's)")
    p.add_argument("--dest", type=Path, default=None, help="models folder (default: the user's models folder)")
    from accompanist.inference.sampling_config import SAMPLING_FIELDS
    from accompanist.limits import flag

    for name in SAMPLING_FIELDS:  # the card's sampling configuration: a flag a field
        p.add_argument(f"--{name.replace('_', '-')}", **flag(name, "default: the card it replaces, else the model's"))
    p.add_argument("--listen-ms", **flag("listen_ms", "duet, hearing; default: the card it replaces, else 0"))


def _export_sampling(a: argparse.Namespace, family: str, previous: Path):
    """The sampling configuration the card will carry: the flags given, else the card this export
    replaces (so exporting a run again without flags keeps what the card said), else the model's
    own defaults; refused in one line when a flag is not the family's."""
    import json

    from accompanist.inference.sampling_config import SAMPLING_FIELDS, sampling_for

    cls = sampling_for(family)
    given = {k: getattr(a, k) for k in SAMPLING_FIELDS if getattr(a, k) is not None}
    stray = sorted(set(given) - set(cls.names()))
    if stray:
        flags = ", ".join("--" + k.replace("_", "-") for k in stray)
        mine = ", ".join("--" + k.replace("_", "-") for k in cls.names())
        raise AccompanistError(f"{flags}: not a setting of {family} models, whose card carries {mine}")
    card = previous / "card.json"
    before = json.loads(card.read_text()).get("defaults", {}) if card.is_file() else {}
    listen_ms = a.listen_ms if a.listen_ms is not None else float(before.get("listen_ms", 0.0))
    return cls.from_defaults(before, **given), listen_ms


def _keep_sampling(folder: Path, sampling) -> None:
    """Every field of the configuration in the card's defaults, whatever the family's exporter
    wrote of them: a card never drops one."""
    from accompanist.export.card import write_card
    from accompanist.inference.cards import read_card

    card = read_card(folder / "card.json").data
    card["defaults"] = {**card.get("defaults", {}), **sampling.to_card()}
    write_card(folder, card)


def cmd_export(a: argparse.Namespace) -> int:
    try:
        import torch  # noqa: F401  (the [train] extra: said here in one line if missing)

        from accompanist.export import duet_onnx, melody_onnx, rl_onnx, seq2seq_onnx, vrash_onnx
    except ImportError as exc:
        raise _needs_train_extra("export", exc) from None
    from accompanist.inference.cards import search_path
    from accompanist.training.checkpoints import load_checkpoint

    if not (a.run / "best.pt").is_file():
        raise AccompanistError(f"{a.run}: no best.pt in this folder; give a run folder written by accompanist train")
    meta = load_checkpoint(a.run / "best.pt").get("meta", {})
    family = meta.get("family", "seq2seq")
    dest = a.dest or search_path()[-1]
    dest.mkdir(parents=True, exist_ok=True)
    sampling, listen_ms = _export_sampling(a, family, dest / (a.name or meta.get("name", a.run.name)))
    exporter = {"melody": melody_onnx, "vrash": vrash_onnx, "rl": rl_onnx, "duet": duet_onnx}.get(family, seq2seq_onnx)
    heard = {"listen_ms": listen_ms} if family == "duet" else {}
    folder = exporter.export_run(a.run, dest, a.name, sampling, **heard)
    _keep_sampling(folder, sampling)
    print(f"wrote {folder}")
    return 0
