"""The evaluation of a duet model behind `accompanist eval --model duet-...`: it plays against
held-out chorale sopranos and folk melodies exactly as live, then measures

* harmony against the melody (``harmony_poly``), beside Bach's own alto + tenor + bass;
* Yang & Lerch's features of its accompaniment in 16-beat samples, against the training
  chorales' accompaniment: the seed's kind of table (mean PC, PR, NC, ...) and the set
  comparison the seed lacked (intra-set and inter-set distances, overlap and KL).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from accompanist.inference.cards import ModelCard
from accompanist.inference.duet_runner import DuetRunner
from accompanist.metrics import yang_lerch as yl
from accompanist.metrics.harmony_poly import poly_stats, summarize_poly
from accompanist.music import roll
from accompanist.music.roll import tokens_to_roll

#: Yang & Lerch samples: 16 beats (four 4/4 bars, the seed's sample length).
SAMPLE_BEATS = 16
COLUMNS = ("coverage", "consonance", "in_key", "crossing", "polyphony", "onset_ratio", "range", "ic_overlap")


@dataclass
class DuetEvalSet:
    name: str
    melodies: list[np.ndarray]  #: monophonic tokens
    truth: list[np.ndarray] | None = None  #: true accompaniment rolls, where there is one


def chorale_sets(card: ModelCard) -> tuple[DuetEvalSet, DuetEvalSet]:
    """The card's held-out chorales and its training chorales: sopranos, and Bach's alto, tenor
    and bass as one roll (the training set is the reference of the Yang & Lerch comparison and
    of the interval-class histogram)."""
    from accompanist.data.chorales import load_chorales

    tr = card.data["training"]
    test, held = set(tr["test_pieces"]), set(tr["test_pieces"]) | set(tr.get("val_pieces", []))
    sets = {"test": ([], []), "train": ([], [])}
    for name, v in zip(*(lambda c: (c.names, c.voices))(load_chorales()), strict=True):
        side = "test" if name in test else None if name in held else "train"
        if side:
            sets[side][0].append(v[0])
            sets[side][1].append(roll.merge(*(tokens_to_roll(v[k]) for k in (1, 2, 3))))
    (tm, ta), (rm, ra) = sets["test"], sets["train"]
    return DuetEvalSet(f"held-out chorales ({len(tm)})", tm, ta), DuetEvalSet("training chorales", rm, ra)


def folk_set(n: int = 100) -> DuetEvalSet:
    from accompanist.data.chorales import load_chorales
    from accompanist.data.folk import load_folk, to_octave_of

    ch = load_chorales()
    mean = float(np.mean(np.concatenate([v[0][v[0] < 128] for v in ch.voices])))
    tunes = [to_octave_of(t, mean) for t in load_folk(n)]
    return DuetEvalSet(f"folk melodies ({len(tunes)})", tunes)


def accompany(runner: DuetRunner, melodies: list[np.ndarray], temperature: float, seed: int) -> tuple[list, float]:
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    sampling = runner.sampling(temperature=temperature)
    out = [runner.accompany(tokens_to_roll(m), sampling, rng) for m in melodies]
    return out, time.perf_counter() - t0


def reference_ic(train_accs: list[np.ndarray], melodies: list[np.ndarray]) -> np.ndarray:
    return np.asarray(summarize_poly([poly_stats(m, a) for m, a in zip(melodies, train_accs, strict=True)])["ic_hist"])


def measure(melodies: list[np.ndarray], accs: list[np.ndarray], ref_ic: np.ndarray | None) -> dict:
    return summarize_poly([poly_stats(m, a) for m, a in zip(melodies, accs, strict=True)], ref_ic)


def yang_lerch_features(rolls: list[np.ndarray], steps_per_beat: int = 4) -> dict[str, np.ndarray]:
    """Yang & Lerch features of rolls cut into 16-beat samples (a last partial sample and
    silent samples are dropped); notes are in steps, so a beat is ``steps_per_beat`` ticks."""
    size = SAMPLE_BEATS * steps_per_beat
    out = []
    for r in rolls:
        for s in range(0, len(r) - size + 1, size):
            notes = roll.roll_to_notes(r[s : s + size], 1.0)
            if notes:
                out.append(notes)
    return yl.set_features(out, steps_per_beat)


def format_row(label: str, figures: dict) -> str:
    cells = []
    for c in COLUMNS:
        v = figures.get(c)
        if v is None or (isinstance(v, float) and np.isnan(v)):
            cells.append("-")
        elif c == "crossing":
            cells.append(f"{100 * v:.1f} %")
        elif c in ("range", "polyphony", "onset_ratio"):
            cells.append(f"{v:.2f}")
        else:
            cells.append(f"{v:.3f}")
    return f"| {label} | " + " | ".join(cells) + " |"


def table_header() -> str:
    return "| | " + " | ".join(COLUMNS) + " |\n|" + "---|" * (len(COLUMNS) + 1)


def evaluate_duet(
    card: ModelCard, temperatures: list[float], n_folk: int, seed: int, plots: str | None = None
) -> tuple[list[str], list[dict], dict]:
    """Report lines, JSON rows, and the figures to store in the card (metrics.harmony and
    metrics.yang_lerch)."""
    runner = DuetRunner(card)
    chorales, training = chorale_sets(card)
    folk = folk_set(n_folk)
    ref = reference_ic(training.truth, training.melodies)
    lines = [table_header()]
    rows: list[dict] = []
    stored: dict = {"seed": seed, "folk_rule": "first tunes of essenFolksong/altdeu10 with >= 16 notes"}
    bach = measure(chorales.melodies, chorales.truth, ref)
    lines.append(format_row(f"Bach A+T+B, {chorales.name}", bach))
    rows.append({"model": "Bach", "set": chorales.name, **bach})
    generated: dict[str, list[np.ndarray]] = {}
    for s in (chorales, folk):
        for t in temperatures:
            accs, secs = accompany(runner, s.melodies, t, seed)
            fig = measure(s.melodies, accs, ref)
            rows.append({"model": card.name, "set": s.name, "temperature": t, "seconds": round(secs, 2), **fig})
            lines.append(format_row(f"{card.name} T={t}, {s.name}", fig))
            key = "chorales" if s is chorales else "folk"
            stored[f"{key}@{t}"] = {k: fig[k] for k in COLUMNS}
            if t == temperatures[0]:
                generated[f"{card.name}, {key}"] = accs
    # Yang & Lerch: the training chorales' accompaniment against the model's
    sets = {"training chorales (A+T+B)": yang_lerch_features(training.truth)}
    sets |= {name: yang_lerch_features(accs) for name, accs in generated.items()}
    lines += ["", f"Yang & Lerch, {SAMPLE_BEATS}-beat samples of the accompaniment (T={temperatures[0]}):", ""]
    lines.append(yl.summary_table(sets))
    ref_name = next(iter(sets))
    yl_stored = {}
    for name in list(sets)[1:]:
        comp = yl.compare_sets(sets[ref_name], sets[name], seed=seed)
        lines += ["", yl.format_comparison(comp, "training", name)]
        yl_stored[name] = {m: {"oa": c.summary()["oa_b"], "kl": c.summary()["kl_b"]} for m, c in comp.items()}
        rows.append({"yang_lerch": name, **{m: c.summary() for m, c in comp.items()}})
        if plots:
            from accompanist.metrics.plots import plot_distances

            path = plot_distances(comp, plots, "training", name)
            path.rename(path.with_name(f"distances-{name.split(', ')[-1]}.png"))
    if plots:
        from accompanist.metrics.plots import plot_histograms

        written = plot_histograms(sets, plots)
        lines.append(f"\nplots: {', '.join(str(p) for p in written)} and distances-*.png in {plots}")
    return lines, rows, {"harmony": stored, "yang_lerch_overlap": yl_stored}
