"""Call and response on held-out melodies: the model hears the first bars of a melody it never
saw and answers; its answers are measured beside the melodies' own next bars.

Rule: each held-out melody (validation or test pieces of the model's own split, named in its
card) is cut at its first downbeat + ``call_bars`` bars; the model answers ``answer_bars`` bars
from the next bar line (the call always ends on one here), and the melody's own next
``answer_bars`` bars are the reference. Melodies too short for call and answer are skipped.
Figures are means over the answers (``metrics.melody``), plus the share of answer notes in the
key heard in the call (Krumhansl-Kessler, the live test's >= 90 %).
"""

from __future__ import annotations

import time

import numpy as np

from accompanist.errors import AccompanistError
from accompanist.inference.cards import ModelCard
from accompanist.metrics.melody import melody_table
from accompanist.music.events import events_to_tokens, tokens_to_events
from accompanist.music.keys import find_key

COLUMNS = (
    "in_call_key",
    "scale_consistency",
    "groove_consistency",
    "pitch_class_entropy",
    "empty_beat_rate",
    "pitch_range",
    "pitches_used",
)


def held_out(card: ModelCard, which: str):
    """The validation or test melodies of the model's own split, read again by name."""
    from accompanist.data.melodies import MelodyDataConfig, load_melodies

    t = card.data["training"]
    data = load_melodies(MelodyDataConfig.from_description(t["data"]), progress=False)
    part = data.val if which == "validation" else data.test
    want = t["val_pieces" if which == "validation" else "test_pieces"]
    if part.names != want:
        raise AccompanistError(
            f"model '{card.name}': its {which} melodies are not what the corpus gives now "
            f"(music21 or the selection rule changed); evaluate with the version that trained it"
        )
    return part


def call_cut(tokens: np.ndarray, phase: np.ndarray, call_bars: int, answer_bars: int) -> tuple[int, int, int] | None:
    """Where a held-out melody's call ends and its own continuation ends (the rule above), and its
    bar length; None if it is too short or its call has fewer than four notes."""
    bar = int(phase.max()) + 1
    downbeats = np.flatnonzero(phase == 0)
    if not len(downbeats):
        return None
    cut = int(downbeats[0]) + call_bars * bar
    end = cut + answer_bars * bar
    if end > len(tokens) or (tokens[:cut] < 128).sum() < 4:
        return None
    return cut, end, bar


def in_key_share(answer: np.ndarray, key) -> float:
    p = answer[answer < 128]
    if key is None or not len(p):
        return float("nan")
    return float(np.isin(p % 12, sorted(key.pitch_classes)).mean())


def respond_set(
    runner,
    melodies,
    call_bars: int = 2,
    answer_bars: int = 2,
    temperature: float = 1.0,
    duration_temperature: float | None = None,
    key_lock: float | None = None,
    seed: int = 0,
    n: int | None = None,
    **settings,
) -> dict:
    """Answers to the held-out calls and the melodies' own continuations, measured alike."""
    rng = np.random.default_rng(seed)
    answers, truths, keys, bars = [], [], [], []
    t0 = time.perf_counter()
    for i in range(len(melodies)):
        tokens, phase = melodies.tokens[i], melodies.phases[i]
        if (where := call_cut(tokens, phase, call_bars, answer_bars)) is None:
            continue
        cut, end, bar = where
        call = tokens_to_events(tokens[:cut], phase[:cut])
        meter = lambda s, p=phase: int(p[s])  # noqa: E731  (the answer ends inside the melody)
        ans = runner.answer(call, end - cut, meter, 0, temperature, duration_temperature, key_lock, rng, **settings)
        answers.append(events_to_tokens(ans))
        truths.append(tokens[cut:end])
        keys.append(find_key(tokens[:cut]))
        bars.append(bar)
        if n is not None and len(answers) >= n:
            break
    secs = time.perf_counter() - t0
    if not answers:
        raise AccompanistError("no held-out melody is long enough for the call and the answer")
    return {
        "answers": _table(answers, keys, bars),
        "own_continuations": _table(truths, keys, bars),
        "yang_lerch_oa": yang_lerch_overlap(truths, answers),
        "calls": len(answers),
        "ms_per_answer": round(1000 * secs / len(answers), 2),
    }


def yang_lerch_overlap(real: list[np.ndarray], generated: list[np.ndarray], seed: int = 0) -> dict[str, float]:
    """Yang & Lerch's overlapped area of each metric (``metrics.yang_lerch``): how far the answers
    lie from the melodies' own next bars, against how far those lie from each other (1: alike)."""
    from accompanist.metrics import yang_lerch as yl
    from accompanist.music.notes import tokens_to_notes

    feats = [yl.set_features([tokens_to_notes(t, 1.0) for t in s], 4) for s in (real, generated)]
    return {m: round(c.oa_b, 3) for m, c in yl.compare_sets(*feats, seed=seed).items()}


def _table(melodies: list[np.ndarray], keys: list, bars: list[int]) -> dict:
    by_bar: dict[int, list[np.ndarray]] = {}
    for m, b in zip(melodies, bars, strict=True):
        by_bar.setdefault(b, []).append(m)
    # groove needs each melody's own bar length: average the per-meter tables by melody count
    parts = [(len(ms), melody_table(ms, steps_per_bar=b)) for b, ms in by_bar.items()]
    total = sum(k for k, _ in parts)
    out = {}
    for key in parts[0][1]:
        vals = [(k, t[key]) for k, t in parts if t[key] == t[key]]
        w = sum(k for k, _ in vals)
        out[key] = round(sum(k * v for k, v in vals) / w, 4) if w else float("nan")
    shares = np.array([in_key_share(m, k) for m, k in zip(melodies, keys, strict=True)])
    out["in_call_key"] = round(float(np.nanmean(shares)), 4)
    out["melodies"] = total
    return out


def draw_answers(
    runner,
    melodies,
    folder,
    label: str,
    count: int = 3,
    call_bars: int = 2,
    answer_bars: int = 2,
    seed: int = 0,
    **settings,
) -> list:
    """Piano rolls of held-out calls with the model's answer, what a player would hear: the first
    melodies long enough of each source in turn (a chorale, a folk tune, ...), ``count`` in all."""
    from pathlib import Path

    from accompanist.evaluation.pianoroll import draw_duet
    from accompanist.music import roll
    from accompanist.music.notes import tokens_to_notes

    rng = np.random.default_rng(seed)
    out = []
    sources = sorted(set(melodies.sources), key=melodies.sources.index)
    queues = [[i for i in range(len(melodies)) if melodies.sources[i] == s] for s in sources]
    order = [q[j] for j in range(max(map(len, queues), default=0)) for q in queues if j < len(q)]
    for i in order:
        tokens, phase = melodies.tokens[i], melodies.phases[i]
        if (where := call_cut(tokens, phase, call_bars, answer_bars)) is None:
            continue
        cut, end, _ = where
        meter = lambda s, p=phase: int(p[s])  # noqa: E731
        ans = runner.answer(tokens_to_events(tokens[:cut], phase[:cut]), end - cut, meter, 0, rng=rng, **settings)
        call_roll = roll.notes_to_roll(tokens_to_notes(tokens[:cut], 1.0), 1.0, end)
        ans_roll = roll.notes_to_roll(tokens_to_notes(events_to_tokens(ans), 1.0, offset_ticks=cut), 1.0, end)
        name = melodies.names[i].replace("/", "_").replace("#", "-")
        path = Path(folder) / f"{label}-{name}.png"
        out.append(
            draw_duet(
                call_roll,
                ans_roll,
                phase[:end],
                path,
                f"{label}: {melodies.names[i]}",
                labels=("call (held-out melody)", "answer"),
            )
        )
        if len(out) == count:
            break
    return out


def format_overlap(label: str, oa: dict[str, float]) -> str:
    return f"{label}: Yang & Lerch overlap with the own next bars: " + ", ".join(f"{k} {v:.2f}" for k, v in oa.items())


def format_rows(rows: list[dict]) -> list[str]:
    head = f"{'':34s}" + "".join(f"{c[:12]:>13s}" for c in COLUMNS)
    lines = [head]
    for r in rows:
        lines.append(f"{r['label'][:34]:34s}" + "".join(f"{r[c]:13.3f}" for c in COLUMNS))
    return lines


def describe(card: ModelCard) -> str:
    m = card.data.get("metrics", {})
    h = m.get("held_out", {})
    if card.family == "rl":
        if "rl_table" in m:
            tune = card.data["training"].get("tune", {})
            return f"{card.name}: tuned by deep Q-learning ({tune.get('steps', '?')} actions); its rules' statistics:"
        if m.get("held_out_loss") is not None:
            return f"{card.name}: note RNN, held-out {m['held_out_loss']:.3f} nats a 16th step"
    if not h:
        return f"{card.name}: no held-out scores in its card"
    if card.family == "vrash":
        bound = f", bound {h['bound_per_note']:.3f} (KL {h['kl_per_note']:.3f})" if "bound_per_note" in h else ""
        return (
            f"{card.name}: held-out {h['phrases']} phrases, {h['notes']} notes: cross-entropy "
            f"{h['ce_per_note']:.3f} nats a note (pitch class {h['pitch_class_ce']:.3f}, octave "
            f"{h['octave_ce']:.3f}, length {h['duration_ce']:.3f}){bound}"
        )
    return (
        f"{card.name}: held-out {h['melodies']} melodies, {h['notes']} notes: pitch CE {h['pitch_ce']:.3f}, "
        f"duration CE {h['duration_ce']:.3f} nats a note (accuracy {h['pitch_accuracy']:.3f}, "
        f"{h['duration_accuracy']:.3f})"
    )


RL_COLUMNS = (
    ("excessively_repeated", "repeated %"),
    ("not_in_key", "not in key %"),
    ("starting_with_tonic", "tonic first %"),
    ("leaps_resolved", "leaps resolved %"),
    ("unique_max", "unique max %"),
    ("unique_min", "unique min %"),
    ("in_motif", "in motif %"),
    ("in_repeated_motif", "rep. motif %"),
    ("autocorrelation_1", "autocorr 1"),
    ("autocorrelation_2", "autocorr 2"),
    ("autocorrelation_3", "autocorr 3"),
    ("log_likelihood_per_step", "log p / step"),
)


def format_rl_table(tables: dict[str, dict]) -> list[str]:
    """The RL tuner's statistics before and after tuning, beside Jaques et al.'s and Qiu and Wang's rows."""
    from accompanist.metrics.rl_rules import PAPER, SEED_002

    rows = [(f"ours: {k.replace('_', ' ')}", v) for k, v in tables.items()]
    rows += [("paper (Jaques et al.): note RNN", PAPER["note_rnn"]), ("paper: Q-learning", PAPER["q_learning"])]
    rows += [("seed 002: note RNN", SEED_002["note_rnn"]), ("seed 002: tuned", SEED_002["tuned"])]
    lines = [f"{'':32s}" + "".join(f"{label:>17s}" for _, label in RL_COLUMNS)]
    for name, t in rows:
        cells = "".join(f"{t[k]:17.3f}" if isinstance(t.get(k), (int, float)) else f"{'':17s}" for k, _ in RL_COLUMNS)
        lines.append(f"{name[:32]:32s}{cells}")
    return lines


def is_respond_file(path) -> bool:
    """A file written by `accompanist respond` (tracks ``call`` and ``answer``)."""
    from accompanist.music.midi_io import read_midi

    names = {t.name for t in read_midi(path).tracks}
    return {"call", "answer"} <= names


def measure_respond_files(paths: list) -> list[dict]:
    """The melody table of the answers in `accompanist respond`'s files, and of their calls beside
    them: each answer from the bar line it starts on, in its file's meter, its notes judged in the
    key of its own call."""
    from accompanist.music.meter import bar_phase_of_midi
    from accompanist.music.midi_io import read_midi
    from accompanist.music.notes import notes_to_tokens
    from accompanist.offline.two_track import check_length

    answers, calls, keys, bars = [], [], [], []
    for p in paths:
        song = read_midi(p)
        named = {t.name: t for t in song.tracks}
        if not {"call", "answer"} <= set(named) or not named["call"].notes or not named["answer"].notes:
            raise AccompanistError(f"{p}: needs tracks 'call' and 'answer' with notes, as accompanist respond writes")
        for name in ("call", "answer"):
            check_length(song, named[name].notes, 4, f"track '{name}'")
        step = song.ticks_per_beat / 4
        call, _ = notes_to_tokens(named["call"].notes, step)
        whole, _ = notes_to_tokens(named["answer"].notes, step)
        phase = bar_phase_of_midi(song.time_meta, len(whole), step, 4)
        first = int(np.flatnonzero(whole < 128)[0])
        start = int(np.flatnonzero(phase[: first + 1] == 0)[-1]) if (phase[: first + 1] == 0).any() else first
        answers.append(whole[start:])
        calls.append(call)
        keys.append(find_key(call))
        bars.append(int(phase.max()) + 1)
    return [
        {"label": f"answers ({len(paths)} files)", **_table(answers, keys, bars)},
        {"label": "their calls", **_table(calls, keys, bars)},
    ]
