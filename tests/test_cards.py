"""Finding models by their cards: malformed cards, unknown names, user models over shipped ones."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from helpers import TINY_BI, TINY_UNI, assert_clean_error, run_cli

from accompanist.errors import AccompanistError
from accompanist.inference import cards
from accompanist.inference.cards import find_models, load_card, read_card


def copy_model(src, dest_root, name: str, **changes):
    """Copy an exported model folder under a new name, optionally changing card fields."""
    folder = dest_root / name
    shutil.copytree(src, folder)
    card = json.loads((folder / "card.json").read_text())
    card.update(name=name, **changes)
    (folder / "card.json").write_text(json.dumps(card))
    return folder


BROKEN = {
    "not json": ("{ name: tiny", "not a readable model card"),
    "not an object": ("[1, 2, 3]", "must be a JSON object"),
    "missing fields": (json.dumps({"name": "x", "family": "seq2seq"}), "lacks description, graphs, io, grid"),
    "unknown family": (None, "unknown model family 'gan'"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_malformed_card_is_an_error_naming_the_file(tiny_models, tmp_path, case):
    text, needle = BROKEN[case]
    folder = shutil.copytree(tiny_models / TINY_BI, tmp_path / "broken")
    path = folder / "card.json"
    if text is None:
        card = json.loads(path.read_text())
        card["family"] = "gan"
        text = json.dumps(card)
    path.write_text(text)
    for call in (lambda: read_card(path), lambda: load_card(str(folder)), lambda: load_card(str(path))):
        with pytest.raises(AccompanistError) as info:
            call()
        assert str(path) in str(info.value) and needle in str(info.value)
    # and on the command line, one clean line
    assert_clean_error(run_cli("harmonize", path, "-o", tmp_path / "o.mid", "--model", folder), str(path), needle)


def test_a_broken_user_model_does_not_hide_the_others(tiny_models, tmp_path, monkeypatch):
    user = tmp_path / "user"
    user.mkdir()
    copy_model(tiny_models / TINY_BI, user, "good")
    bad = copy_model(tiny_models / TINY_BI, user, "bad")
    (bad / "card.json").write_text("{")
    monkeypatch.setenv("ACCOMPANIST_MODELS", str(user))
    assert "good" in find_models() and "bad" not in find_models()


def test_unknown_model_lists_the_known_ones(use_tiny_models):
    with pytest.raises(AccompanistError) as info:
        load_card("chorale-tenor")
    msg = str(info.value)
    assert "unknown model 'chorale-tenor'" in msg
    assert TINY_BI in msg and TINY_UNI in msg
    assert "accompanist models" in msg


def test_wrong_family_is_refused(tiny_models, tmp_path, monkeypatch):
    copy_model(tiny_models / TINY_BI, tmp_path, "a-duet", family="duet")
    monkeypatch.setenv("ACCOMPANIST_MODELS", str(tmp_path))
    assert load_card("a-duet").family == "duet"
    with pytest.raises(AccompanistError, match="is a duet model; this needs a seq2seq model"):
        load_card("a-duet", family="seq2seq")


def test_missing_graph_file_is_a_clean_error(tiny_models, tmp_path, monkeypatch):
    folder = copy_model(tiny_models / TINY_BI, tmp_path, "no-graph")
    (folder / "decoder_step.onnx").unlink()
    monkeypatch.setenv("ACCOMPANIST_MODELS", str(tmp_path))
    with pytest.raises(AccompanistError, match=r"decoder_step\.onnx is missing"):
        load_card("no-graph").graph("decoder_step")


def test_user_model_overrides_a_shipped_name(tiny_models, tmp_path, monkeypatch):
    shipped, user_a, user_b = tmp_path / "shipped", tmp_path / "a", tmp_path / "b"
    copy_model(tiny_models / TINY_BI, shipped, "chorale-alto", description="the shipped one")
    copy_model(tiny_models / TINY_UNI, shipped, "chorale-bass", description="shipped bass")
    copy_model(tiny_models / TINY_UNI, user_a, "chorale-alto", description="the user's own")
    copy_model(tiny_models / TINY_BI, user_b, "mine", description="another folder")
    monkeypatch.setattr(cards, "SHIPPED", shipped)
    monkeypatch.setenv("ACCOMPANIST_MODELS", os.pathsep.join([str(user_a), str(user_b)]))
    assert cards.search_path() == [shipped, user_a, user_b]
    models = find_models()
    assert set(models) == {"chorale-alto", "chorale-bass", "mine"}
    assert load_card("chorale-alto").folder == user_a / "chorale-alto"
    assert load_card("chorale-alto").description == "the user's own"
    assert load_card("chorale-bass").folder == shipped / "chorale-bass"
    assert load_card("mine").folder == user_b / "mine"
    # a later folder on the path wins over an earlier one too
    copy_model(tiny_models / TINY_BI, user_b, "chorale-alto-b", description="b")
    (user_b / "chorale-alto-b" / "card.json").write_text(
        json.dumps({**json.loads((user_b / "chorale-alto-b" / "card.json").read_text()), "name": "chorale-alto"})
    )
    assert load_card("chorale-alto").folder == user_b / "chorale-alto-b"


def test_models_verb_lists_cards(use_tiny_models, capsys):
    from accompanist.cli import main

    assert main(["models", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {TINY_BI, TINY_UNI} <= set(listed)
    assert listed[TINY_BI]["family"] == "seq2seq"
    assert "held_out_loss" in listed[TINY_BI]["metrics"]
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert TINY_BI in out and "held-out loss" in out


def test_models_verb_prints_each_cards_test_figures(tmp_path, monkeypatch, capsys):
    """`accompanist models` says what a card measured on test data: the RL tuner's line is its
    test-call table (leaps resolved 96.5 %), not the training run's validation table (62.2 %)."""
    from accompanist.cli import main
    from accompanist.inference.cards import SHIPPED

    monkeypatch.setenv("ACCOMPANIST_MODELS", str(tmp_path))  # the shipped models alone
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    figures = {lines[i].split()[0]: lines[i + 1].strip() for i in range(len(lines) - 1) if lines[i + 1][:1] == " "}
    m = read_card(SHIPPED / "rl-tuner" / "card.json").data["metrics"]
    test, training = m["rl_table_test"]["rl-tuner"], m["rl_table"]["tuned"]
    assert round(test["leaps_resolved"], 1) != round(training["leaps_resolved"], 1)  # the two tables differ
    line = figures["rl-tuner"]
    assert line.startswith("test calls:") and f"leaps resolved {test['leaps_resolved']:.1f} %" in line
    assert f"in motif {test['in_motif']:.1f} %" in line and f"{training['leaps_resolved']:.1f}" not in line
    answers = m["respond_test@0.2"]["answers"]["in_call_key"]
    assert line.endswith(f"test answers {answers:.3f} in the call's key")
    # every shipped model has a line, and a duet model's names its test tunes at its own window
    assert {p.name for p in SHIPPED.iterdir() if (p / "card.json").is_file()} <= set(figures)
    assert "test tunes at 25 ms: consonance 0.786" in figures["duet-chorale"]
