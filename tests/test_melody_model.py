"""The pitch + duration melody model (Conner et al. 2022): data, card, ONNX parity, answers, `respond`."""

from __future__ import annotations

import json

import mido
import numpy as np
import pytest
from helpers import TINY_MELODY

from accompanist.cli import main
from accompanist.data.melodies import MelodyDataConfig, load_melodies, signature
from accompanist.inference.cards import read_card
from accompanist.inference.melody_runner import MelodyRunner, in_key_mask
from accompanist.music.events import N_PITCH, PITCH_HI, PITCH_LO, events_to_tokens, tokens_to_events
from accompanist.music.keys import Key
from accompanist.music.tokens import HOLD, transpose


def test_melody_split_is_by_piece_and_repeatable():
    cfg = MelodyDataConfig(sources=("chorales",), limit=12, val_fraction=0.2, test_fraction=0.2)
    a, b = load_melodies(cfg, progress=False), load_melodies(cfg, progress=False)
    assert a.data_hash == b.data_hash
    names = [set(s.names) for s in (a.train, a.val, a.test)]
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
    assert len(a.train) + len(a.val) + len(a.test) == sum(a.counts["melodies"].values())
    for s in (a.train, a.val, a.test):
        for t in s.tokens:
            p = t[t < 128]
            assert p.min() >= PITCH_LO and p.max() <= PITCH_HI


def test_a_transposed_copy_has_the_same_signature():
    tune = np.array([60, HOLD, 62, HOLD, 64, HOLD, HOLD, HOLD, 65, 67, HOLD, 69] * 3)
    assert signature(tune) == signature(transpose(tune, 5))
    other = tune.copy()
    other[2] = 63
    assert signature(other) != signature(tune)


@pytest.fixture
def tiny_melody(tiny_models):
    return read_card(tiny_models / TINY_MELODY / "card.json")


def test_melody_card_says_what_the_model_is(tiny_melody):
    c = tiny_melody.data
    assert c["family"] == "melody" and c["graphs"] == {"melody_step": "melody_step.onnx"}
    io = c["io"]["melody_step"]
    assert set(io["inputs"]) == {"pitch", "dur", "phase", "state"}
    assert io["outputs"]["pitch_logits"] == ["batch", N_PITCH]
    assert c["metrics"]["onnx_parity_max_abs"] <= 1e-4
    held = c["metrics"]["held_out"]
    assert held["pitch_ce"] > 0 and held["duration_ce"] > 0 and held["notes"] > 0
    assert set(c["metrics"]["held_out_by_source"]) == {"chorales"}
    t = c["training"]
    assert t["data"]["sources"] == ["chorales"] and len(t["data_hash"]) == 64
    assert t["test_pieces"] and not set(t["test_pieces"]) & set(t["val_pieces"])
    assert {"temperature", "duration_temperature", "key_lock", "channel", "program"} <= set(c["defaults"])


def test_melody_graph_matches_torch(tiny_runs, tmp_path):
    from accompanist.export.melody_onnx import check_parity, export_graph, load_run

    model, _, _ = load_run(tiny_runs[TINY_MELODY])
    export_graph(model, tmp_path)
    assert check_parity(model, tmp_path, notes=120, seed=3) <= 1e-4


@pytest.mark.parametrize("bar", [16, 12])
def test_an_answer_fills_its_bars_exactly_and_knows_the_meter(tiny_melody, bar):
    runner = MelodyRunner(tiny_melody)
    call_tokens = np.array([67, HOLD, HOLD, HOLD, 69, HOLD, 71, HOLD] * (bar // 4))[: 2 * bar]
    call = tokens_to_events(call_tokens, np.arange(len(call_tokens)) % bar)
    for seed in range(5):
        ans = runner.answer(call, 2 * bar, lambda s: s % bar, rng=np.random.default_rng(seed))
        assert ans.total_steps == 2 * bar
        starts = 2 * bar + np.concatenate([[0], np.cumsum(ans.steps)[:-1]])
        assert np.array_equal(ans.phase, starts % bar)
        assert len(events_to_tokens(ans)) == 2 * bar


def test_key_lock_keeps_the_answer_in_the_calls_key(tiny_melody):
    runner = MelodyRunner(tiny_melody)
    g_major = Key(7, False)
    call = tokens_to_events(
        np.array([67, HOLD, 71, HOLD, 74, HOLD, 72, HOLD, 71, HOLD, 69, HOLD, 67, HOLD, HOLD, HOLD])
    )
    for seed in range(4):
        ans = runner.answer(call, 32, lambda s: s % 16, temperature=1.5, key_lock=50.0, rng=np.random.default_rng(seed))
        notes = ans.pitch[ans.pitch >= 0]
        assert np.isin(notes % 12, sorted(g_major.pitch_classes)).all()
    mask = in_key_mask(g_major)
    assert mask[0] and mask.sum() == 1 + sum(
        1 for p in range(PITCH_LO, PITCH_HI + 1) if p % 12 in g_major.pitch_classes
    )


def test_respond_writes_the_call_and_an_answer_from_the_next_bar_line(use_tiny_models, melody_file, tmp_path, capsys):
    # 2 bars and a beat of quarter notes in 4/4 at 480 ticks a beat: the answer starts on bar 4
    notes = [(60 + (i % 5) * 2, 4) for i in range(9)]
    src = melody_file(notes)
    out = tmp_path / "answered.mid"
    assert main(["respond", str(src), "-o", str(out), "--model", TINY_MELODY, "--seed", "1"]) == 0
    said = capsys.readouterr().out
    assert "a call of 3 bars" in said and "answered from bar 4 for 3 bars" in said
    mid = mido.MidiFile(out)
    names = [t.name for t in mid.tracks]
    assert "call" in names and "answer" in names
    answer = mid.tracks[names.index("answer")]
    tick, ons, offs = 0, [], 0
    for m in answer:
        tick += m.time
        if m.type == "note_on" and m.velocity > 0:
            ons.append(tick)
        elif m.type == "note_off" or (m.type == "note_on" and m.velocity == 0):
            offs += 1
    assert len(ons) == offs  # every note it starts, it stops
    if ons:
        assert min(ons) >= 3 * 4 * 480 and tick <= 6 * 4 * 480


def test_respond_says_what_is_wrong_in_one_line(use_tiny_models, melody_file, tmp_path, capsys):
    src = melody_file([(60, 4)])
    bad = [
        (["--model", "tiny-duet"], "is a duet model"),
        (["--model", "no-such-model"], "unknown model"),
        (["--model", TINY_MELODY, "--bars", "0"], "--bars 0 must be 1..64"),
        (["--model", TINY_MELODY, "--temperature", "-1"], "temperature"),
    ]
    for args, words in bad:
        assert main(["respond", str(src), "-o", str(tmp_path / "o.mid"), *args]) == 2
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1, err


def test_eval_prints_the_melody_table(use_tiny_models, capsys):
    assert main(["eval", "--model", TINY_MELODY, "--n", "5", "--call-bars", "1", "--answer-bars", "1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["label"].startswith("own next bars")
    assert rows[1]["calls"] >= 1 and 0 <= rows[1]["scale_consistency"] <= 1
