"""The README is for musicians: at most 300 lines, and its models table says what the shipped cards
say (every shipped model, its family, its graphs and its test figures), read from the cards here.
Measurements, recipes and benchmarks live in docs/, which the README indexes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accompanist.cli.models import figures_line
from accompanist.inference.cards import SHIPPED, ModelCard, read_card

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_LINES = 300
#: a row of the models table: | `name` | family | graphs | what it does | test figures |
ROW = re.compile(r"^\| `([a-z0-9-]+)` \| ([a-z0-9]+) \| ([^|]*) \| ([^|]*) \| ([^|]*) \|$", re.M)
#: a figure in a cell: a number not glued to a word (so "F1" and "seq2seq" hold none)
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")
#: notes outside the repository, and the old way of naming the papers
NOT_CITED = re.compile(r"(?:REFERENCE|PRACTICE|DESIGN)\.md|\bshared[/]|\bseeds? 0{2}\d", re.I)


def shipped_cards() -> dict[str, ModelCard]:
    return {c.name: c for c in (read_card(p) for p in sorted(SHIPPED.glob("*/card.json")))}


def models_table(text: str) -> list[tuple[str, str, str, str]]:
    """(name, family, graphs cell, figures cell) of each row under the README's '## Models'."""
    if "\n## Models\n" not in text:
        return []
    section = text.split("\n## Models\n", 1)[1].split("\n## ", 1)[0]
    return [(name, family, graphs, figures) for name, family, graphs, _what, figures in ROW.findall(section)]


def expected_figures(card: ModelCard) -> list[str]:
    """The numbers of the card's test tables, in the README's order and rounding, read from the
    card itself rather than through `accompanist models`, so a figure from the wrong table fails."""
    m, d = card.data["metrics"], card.defaults
    held = m.get("held_out") or {}
    nums: list[tuple[float, int | None]] = []
    if card.family == "duet":
        nums += [(held["accompaniment_bce_per_step"], 2), (held["frame_f1"], 3), (held["onset_f1"], 3)]
        ms = float(d.get("listen_ms", 0.0))
        tunes = m["tunes_test@1.0"][f"listen {ms:g} ms"]
        (pooled,) = (v for k, v in tunes.items() if k.startswith("pooled"))
        nums += [(ms, None), (pooled["consonance"], 3), (pooled["in_key"], 3)]
    elif card.family == "melody":
        nums += [(held["pitch_ce"], 3), (held["duration_ce"], 3)]
    elif card.family == "vrash":
        nums += [(held["ce_per_note"], 3)] + ([(held["bound_per_note"], 3)] if "bound_per_note" in held else [])
    elif card.family == "rl" and "rl_table_test" in m:
        row = m["rl_table_test"][card.name]
        nums += [(row[k], 1) for k in ("excessively_repeated", "not_in_key", "in_motif", "leaps_resolved")]
    else:
        nums += [(m["held_out_loss"], 3), (m["held_out_accuracy"], 3)]
    respond = m.get(f"respond_test@{d.get('temperature', 1.0):g}")
    if respond:
        nums.append((respond["answers"]["in_call_key"], 3))
    return [f"{v:g}" if places is None else f"{v:.{places}f}" for v, places in nums]


def mismatches(text: str) -> list[str]:
    """Every way the README breaks the rules above; empty when it keeps them."""
    problems = []
    lines = len(text.splitlines())
    if lines > MAX_LINES:
        problems.append(f"README has {lines} lines, more than {MAX_LINES}")
    rows = models_table(text)
    names = [r[0] for r in rows]
    cards = shipped_cards()
    problems += [f"{n}: listed twice" for n in sorted({n for n in names if names.count(n) > 1})]
    problems += [f"{n}: shipped but not in the models table" for n in sorted(set(cards) - set(names))]
    problems += [f"{n}: in the models table but not shipped" for n in sorted(set(names) - set(cards))]
    for name, family, graphs, figures in rows:
        card = cards.get(name)
        if card is None:
            continue
        if family != card.family:
            problems.append(f"{name}: family {family}, the card says {card.family}")
        if set(re.findall(r"`([^`]+)`", graphs)) != set(card.data["graphs"].values()):
            problems.append(f"{name}: graphs {graphs}, the card has {sorted(card.data['graphs'].values())}")
        if NUMBER.findall(figures) != expected_figures(card):
            problems.append(
                f"{name}: figures {NUMBER.findall(figures)}, the card's test figures {expected_figures(card)}"
            )
        if figures != figures_line(card):
            problems.append(f"{name}: figures '{figures}', accompanist models says '{figures_line(card)}'")
    return problems


def test_the_readme_is_short_and_its_models_table_is_the_cards():
    assert mismatches(README.read_text()) == []


def test_every_shipped_model_has_test_figures_to_show():
    for name, card in shipped_cards().items():
        assert len(expected_figures(card)) >= 2, name


@pytest.mark.parametrize(
    "tamper, blamed",
    [
        (lambda t: t.replace("leaps resolved 96.5 %", "leaps resolved 62.2 %"), "rl-tuner"),
        (lambda t: re.sub(r"^\| `vrash-lm` .*\n", "", t, flags=re.M), "vrash-lm"),
        (lambda t: t.replace("| `note-rnn` | rl |", "| `note-rnn` | melody |"), "note-rnn"),
        (
            lambda t: t.replace("| `vrash-near` | vrash | `vrash_encoder.onnx`, ", "| `vrash-near` | vrash | "),
            "vrash-near",
        ),
        (lambda t: t.replace("held-out loss 0.441", "held-out loss 0.440"), "chorale-alto"),
        (
            lambda t: t.replace("\n## Models\n\n", "\n## Models\n\n| `gan-bass` | gan | `g.onnx` | - | 1.0 |\n"),
            "gan-bass",
        ),
        (lambda t: t + "\n" * 60, "lines"),
    ],
    ids=[
        "a training-time figure",
        "a model left out",
        "a wrong family",
        "a graph left out",
        "a figure off by one",
        "a model not shipped",
        "too long",
    ],
)
def test_the_check_finds_a_readme_that_strays_from_the_cards(tamper, blamed):
    text = README.read_text()
    wrong = tamper(text)
    assert wrong != text
    assert any(blamed in p for p in mismatches(wrong)), mismatches(wrong)


def test_the_readme_links_docs_that_exist_and_cites_papers_not_notes():
    text = README.read_text()
    links = set(re.findall(r"\]\((docs/[^)#]+)", text))
    assert {"docs/LIVE.md", "docs/RESULTS.md", "docs/TRAINING.md", "docs/BENCHMARKS.md"} <= links
    assert [p for p in sorted(links) if not (ROOT / p).is_file()] == []
    assert "docs/ARCHITECTURE.md" in text
    for page in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        assert not NOT_CITED.findall(page.read_text()), page.name
