"""VRASH (Tikhonov and Yamshchikov 2017), its language-model baseline, and the RL tuner (Jaques
et al. 2017; Qiu and Wang): cards, ONNX parity, answers that fill their bars, the music-theory
rules, and `respond` with every melody family."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from helpers import TINY_LM, TINY_MELODY, TINY_NOTES, TINY_RL, TINY_VRASH

from accompanist.cli import main
from accompanist.inference.answerers import open_answerer
from accompanist.inference.cards import read_card
from accompanist.metrics.rl_rules import Leaps, Stats, autocorr_threshold, judge, reward
from accompanist.music.events import tokens_to_events
from accompanist.music.keys import Key
from accompanist.music.rl_tokens import NO_EVENT, NOTE_OFF, from_rl, to_rl
from accompanist.music.tokens import HOLD, REST

ANSWERERS = [TINY_MELODY, TINY_VRASH, TINY_LM, TINY_NOTES, TINY_RL]
C = Key(0, False)


def n(midi: int) -> int:
    """The RL event of a note-on."""
    return midi - 46


def card(models, name):
    return read_card(models / name / "card.json")


def test_vrash_card_reports_its_latent_and_the_lm_has_none(tiny_models):
    v, lm = card(tiny_models, TINY_VRASH).data, card(tiny_models, TINY_LM).data
    assert v["family"] == lm["family"] == "vrash"
    assert set(v["graphs"]) == {"encoder", "start", "decoder_step"} and set(lm["graphs"]) == {"decoder_step"}
    held = v["metrics"]["held_out"]
    assert len(held["kl_per_dim"]) == 16 and held["bound_per_note"] >= held["ce_per_note"] - 1e-6
    assert "z" not in lm["io"]["decoder_step"]["inputs"] and "kl_per_note" not in lm["metrics"]["held_out"]
    for c in (v, lm):
        assert c["metrics"]["onnx_parity_max_abs"] <= 1e-4


def test_vrash_graphs_match_torch(tiny_runs, tmp_path):
    from accompanist.export.vrash_onnx import check_parity, export_graphs, load_run

    for name in (TINY_VRASH, TINY_LM):
        model, _, _ = load_run(tiny_runs[name])
        export_graphs(model, tmp_path / name)
        assert check_parity(model, tmp_path / name, steps=60, seed=2) <= 1e-4


def test_word_dropout_hides_the_history_in_training_only():
    import torch

    from accompanist.models.vrash import Vrash, VrashConfig

    torch.manual_seed(0)
    model = Vrash(VrashConfig(latent=4, hidden=16, encoder=8, dropout=0.0, word_dropout=1.0))
    b, t = 2, 6
    batch = {
        "pc": torch.randint(0, 12, (b, t)),
        "octave": torch.randint(0, 3, (b, t)),
        "dur": torch.randint(0, 8, (b, t)),
        "phase": torch.arange(t).repeat(b, 1),
        "mask": torch.ones(b, t),
    }
    other = dict(batch, pc=(batch["pc"] + 5) % 12)  # other notes to read as history
    mu = torch.zeros(b, 4)
    model.encode = lambda *args: (mu, torch.zeros_like(mu))  # one latent for both phrases
    with torch.no_grad():
        model.train()  # every history note hidden: the decoder reads only positions and z
        assert torch.allclose(model(batch, sample=False)[0], model(other, sample=False)[0])
        model.eval()  # answering: the history is read
        assert not torch.allclose(model(batch, sample=False)[0], model(other, sample=False)[0])


def test_rl_card_holds_both_tables(tiny_models):
    c = card(tiny_models, TINY_RL).data
    assert c["family"] == "rl" and c["model"]["stage"] == "tuned"
    tables = c["metrics"]["rl_table"]
    for stage in ("note_rnn", "tuned"):
        t = tables[stage]
        assert t["compositions"] == 64 and 0 <= t["not_in_key"] <= 100 and "log_likelihood_per_step" in t
    assert c["training"]["tune"]["steps"] == 4096
    assert card(tiny_models, TINY_NOTES).data["model"]["stage"] == "note-rnn"


@pytest.mark.parametrize("name", ANSWERERS)
def test_every_melody_family_answers_exactly_its_bars(tiny_models, name):
    runner = open_answerer(card(tiny_models, name))
    call = tokens_to_events(np.array([67, HOLD, 69, HOLD, 71, HOLD, HOLD, HOLD] * 4))
    for seed in range(3):
        ans = runner.answer(call, 48, lambda s: s % 16, 4, 1.0, None, 2.0, np.random.default_rng(seed))
        assert ans.total_steps == 48
        starts = 32 + 4 + np.concatenate([[0], np.cumsum(ans.steps)[:-1]])
        assert np.array_equal(ans.phase, starts % 16)


def test_vrash_at_no_variation_and_no_temperature_answers_the_same_every_time(tiny_models):
    runner = open_answerer(card(tiny_models, TINY_VRASH))
    call = tokens_to_events(np.array([60, HOLD, 64, HOLD, 67, HOLD, 64, HOLD] * 4))
    one, two = (
        runner.answer(call, 32, lambda s: s % 16, 0, 0.0, 0.0, 0.0, np.random.default_rng(s), variation=0.0)
        for s in (1, 2)
    )
    assert np.array_equal(one.pitch, two.pitch) and np.array_equal(one.steps, two.steps)


@pytest.mark.parametrize("name", [TINY_VRASH, TINY_RL])
def test_respond_with_each_family(use_tiny_models, melody_file, tmp_path, name, capsys):
    src = melody_file([(60 + 2 * (i % 4), 4) for i in range(8)])
    assert main(["respond", str(src), "-o", str(tmp_path / "a.mid"), "--model", name, "--seed", "0"]) == 0
    assert "answered from bar 3 for 2 bars" in capsys.readouterr().out


def test_rl_events_and_the_grid_say_the_same():
    tokens = np.array([60, HOLD, HOLD, REST, REST, 62, 64, HOLD, REST, 90, HOLD])
    ev = to_rl(tokens)
    assert ev.tolist()[:6] == [n(60), NO_EVENT, NO_EVENT, NOTE_OFF, NO_EVENT, n(62)]
    back = from_rl(ev)
    assert np.array_equal(back[:9], tokens[:9]) and back[9] == 78  # 90 folded into 48..83


def run_rules(comp: list[int], key: Key = C):
    leaps = Leaps()
    return [judge(comp[:i], a, key, leaps, len(comp)) for i, a in enumerate(comp)]


def test_the_rules_find_what_they_name():
    # six C4 onsets in a row: the sixth is excessively repeated; with a rest between, eight are allowed
    v = run_rules([n(60)] * 6)
    assert [x.repeated for x in v] == [False] * 5 + [True]
    assert not any(x.repeated for x in run_rules([n(60), NOTE_OFF] * 3 + [n(60)]))
    # a leap up of a sixth then a step down below its origin is resolved
    v = run_rules([n(60), n(69), n(67), n(65), n(59)])
    assert [x.leap for x in v] == [0, 0, 0, 0, 1]
    # a second leap the same way is doubled
    assert [x.leap for x in run_rules([n(60), n(67), n(74)])] == [0, 0, -1]
    # F# is out of C major, in G major
    assert not run_rules([n(66)])[0].in_key and run_rules([n(66)], Key(7, False))[0].in_key
    # three distinct pitches in the last 8 steps make a motif; the same 8 steps again, a repeated one
    motif = [n(60), NO_EVENT, n(62), NO_EVENT, n(64), NO_EVENT, n(62), NO_EVENT]
    v = run_rules(motif * 2)
    assert v[7].motif == 3 and not v[7].repeated_motif and v[15].repeated_motif
    # the tonic on the first step earns its reward, in the key given
    assert run_rules([n(67)], Key(7, False))[0].tonic and not run_rules([n(67)])[0].tonic
    assert reward(run_rules([n(60)] * 6)[-1]) < -90


def test_autocorrelation_reads_the_notes_pitches_not_the_hold_codes():
    scale = [n(p) for p in (60, 62, 64, 65, 67, 65, 64, 62)]
    eighths = [e for p in scale * 2 for e in (p, NO_EVENT)]
    sixteenths = (scale * 4)[:32]
    v8, v16 = run_rules(eighths), run_rules(sixteenths)
    # the same notes in 8ths or in 16ths: the same pitch series, the same penalties on their onsets
    assert [x.autocorr for x in v8[::2]] == pytest.approx([x.autocorr for x in v16[:16]])
    assert all(x.autocorr == 0 for x in v8[1::2])  # a hold pays nothing
    assert max(x.autocorr for x in v8) > 0  # a scale up and down again is correlated, and paid for


def test_a_hold_after_the_tonic_is_paid_once_not_every_step():
    v = run_rules([n(60), NO_EVENT, NO_EVENT, NO_EVENT])
    assert [x.interval for x in v] == [0.0, 0.3, 0.0, 0.0]


def test_a_motif_pays_every_step_of_its_window_holds_too_as_upstream():
    phrase = [n(60), n(62), n(64), NO_EVENT, n(62), NO_EVENT, n(60), NO_EVENT]
    v = run_rules(phrase * 2)[7:]  # every window of 8 steps from the eighth on holds a motif
    assert all(x.motif for x in v)  # the statistic counts each such step, as upstream's table does
    paid = [reward(x) - reward(replace(x, motif=0, repeated_motif=False)) for x in v]
    assert all(p >= 3.0 for p in paid)
    # a tonic held: one pitch in the window, no motif, nothing paid
    assert not any(x.motif for x in run_rules([n(60)] + [NO_EVENT] * 15))


def test_autocorrelation_is_paid_only_above_what_noise_reaches_at_that_many_notes():
    # two different pitches always correlate at -0.5 at lag 1: noise at n = 2, not a pattern
    assert run_rules([n(60), NO_EVENT, n(62)])[-1].autocorr == 0.0
    assert autocorr_threshold(2) > 1.0 and autocorr_threshold(400) == 0.15  # upstream's 0.15 at length
    # a phrase struck over and over is a pattern at any length the rules see
    loop = [n(p) for p in (60, 64, 67, 64)] * 4
    assert run_rules(loop)[-1].autocorr == pytest.approx(3 * 0.857, abs=0.01)  # lag 2: -0.857
    # the same walk up and down: at 8 notes its lag-1 coefficient (0.5) is noise, at 64 a pattern
    walk = [n(p) for p in (60, 62, 64, 65, 67, 65, 64, 62)]
    assert run_rules(walk)[-1].autocorr == 0.0 and run_rules(walk * 8)[-1].autocorr > 0.0


def test_the_table_counts_as_upstream_does():
    s = Stats()
    s.add([n(60)] * 6 + [NO_EVENT] * 26, C)  # one repeated step, starts on the tonic
    s.add([n(61)] + [NO_EVENT] * 31, C)  # one note out of key
    t = s.table()
    assert t["compositions"] == 2 and t["starting_with_tonic"] == 50.0
    assert t["excessively_repeated"] == pytest.approx(100 / 64, abs=0.01)
    assert t["not_in_key"] == pytest.approx(100 / 64, abs=0.01)
    assert np.isnan(t["leaps_resolved"])  # no leap resolved or doubled: undefined, not 0


def test_models_lists_and_bench_times_every_melody_family(use_tiny_models, capsys):
    import json

    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert "tuned: repeated" in listing and "held-out pitch" in listing and "held-out cross-entropy" in listing
    for name in (TINY_MELODY, TINY_VRASH, TINY_RL):
        assert main(["bench", "--model", name, "--runs", "20", "--json"]) == 0
        r = json.loads(capsys.readouterr().out)
        assert r["answer_2_bars"]["median"] > 0 and r["ort_step"]["runs"] == 20


def test_eval_measures_an_rl_model_against_its_note_rnn(use_tiny_models, capsys):
    args = ["eval", "--model", TINY_RL, "--reference", TINY_NOTES, "--n", "16", "--call-bars", "1"]
    assert main([*args, "--answer-bars", "1"]) == 0
    out = capsys.readouterr().out
    assert "rule statistics after validation calls (16 compositions" in out
    assert f"ours: {TINY_NOTES}" in out and f"ours: {TINY_RL}" in out and "paper: Q-learning" in out


def test_n_step_returns_sum_the_rewards_and_bootstrap_from_where_they_stop():
    pytest.importorskip("torch")
    from accompanist.training.rl_task import n_step_transitions

    one = np.ones(1, np.float32)
    steps = [(one * t, one, one * (10 + t), one * r, one * (100 + t)) for t, r in enumerate([1.0, 2.0, 4.0])]
    got = list(n_step_transitions(steps, 2, 0.5))
    assert [float(g[3][0]) for g in got] == [1.0 + 0.5 * 2.0, 2.0 + 0.5 * 4.0, 4.0]
    assert [int(g[4][0]) for g in got] == [11, 12, 12]  # the last action summed is the next observation
    assert [float(g[6][0]) for g in got] == [0.25, 0.0, 0.0]  # the composition's end bootstraps nothing
    single = list(n_step_transitions(steps[:1], 1, 0.5, ended=False))
    assert float(single[0][3][0]) == 1.0 and float(single[0][6][0]) == 0.5  # upstream's one-step target


def test_double_q_learning_values_the_online_networks_choice_with_the_target_network():
    torch = pytest.importorskip("torch")
    from accompanist.models.rl_tuner import NoteRNN, NoteRNNConfig
    from accompanist.training.rl_task import td_targets

    torch.manual_seed(0)
    q, target = NoteRNN(NoteRNNConfig(8)), NoteRNN(NoteRNNConfig(8))
    with torch.no_grad():  # the online network likes event 5 best, the target network event 7
        q.out.bias.zero_()
        q.out.bias[5] = 50.0
        target.out.bias.zero_()
        target.out.bias[7] = 50.0
        target.out.bias[5] = 10.0
    b = {
        "next_obs": torch.tensor([3, 4]),
        "next_state": torch.zeros(2, 16),
        "reward": torch.tensor([1.0, -2.0]),
        "bootstrap": torch.tensor([0.5, 0.0]),  # the second closes its composition
    }
    with torch.no_grad():
        tv = target.step(b["next_obs"], torch.zeros(2, 8), torch.zeros(2, 8))[0]
    dqn, double = td_targets(q, target, b, False), td_targets(q, target, b, True)
    assert dqn[0] == pytest.approx(1.0 + 0.5 * float(tv[0].max()))
    assert double[0] == pytest.approx(1.0 + 0.5 * float(tv[0, 5]))  # near 10, not near 50
    assert float(double[0]) < float(dqn[0]) - 10 and dqn[1] == double[1] == -2.0


def test_a_model_tuned_in_c_hears_the_call_in_c_and_answers_in_the_calls_key(tiny_models):
    from accompanist.inference.rl_runner import RLRunner
    from accompanist.music.keys import find_key, to_c
    from accompanist.music.tokens import transpose

    in_d = np.array([62, HOLD, 66, HOLD, 69, HOLD, 66, HOLD, 74, HOLD, 69, HOLD, 66, HOLD, 62, HOLD] * 2)
    key = find_key(in_d)
    assert key.tonic == 2 and to_c(in_d, key) == -2  # D major, moved down a tone, not up a seventh
    plain = card(tiny_models, TINY_RL)
    moved = card(tiny_models, TINY_RL)
    moved.data["model"]["in_c"] = True
    a, b = RLRunner(plain), RLRunner(moved)
    assert not a.in_c and b.in_c
    heard_in_c = list(itertools.islice(a.stream(tokens_to_events(transpose(in_d, -2)), None, rng=rng0()), 64))
    answered = list(itertools.islice(b.stream(tokens_to_events(in_d), None, rng=rng0()), 64))
    assert any(t < 128 for t in heard_in_c)  # notes to move, not only rests and holds
    assert answered == [t + 2 if t < 128 else t for t in heard_in_c]  # the same answer, a tone up


def rng0() -> np.random.Generator:
    return np.random.default_rng(0)


def test_tuning_in_c_moves_every_call_to_the_white_keys_inside_the_note_rnns_range():
    wide = np.array([40, 90])  # no octave fits 48..83: the one nearest the middle, folded later
    pytest.importorskip("torch")
    from accompanist.music.keys import find_key, home_shifts
    from accompanist.training.rl_task import Episodes

    major = np.array([0, 2, 4, 5, 7, 9, 11, 12, 11, 9, 7, 5, 4, 2, 0, 0])
    minor = np.array([0, 2, 3, 5, 7, 8, 10, 12, 10, 8, 7, 5, 3, 2, 0, 0])
    pool = [np.repeat(base + major, 2) for base in (55, 58, 61, 64, 66)]  # G, Bb, C#, E, F# major
    pool += [np.repeat(base + minor, 2) for base in (62, 65)]  # D and F minor
    calls, keys = Episodes(pool, tuple(range(-6, 6)), np.random.default_rng(0), in_c=True).draw(60)
    assert {(k.tonic, k.minor) for k in keys} == {(0, False), (9, True)}  # the white keys: C major, A minor
    assert home_shifts(np.array([62, 66, 69]), Key(2, False)) == [-14, -2, 10]  # D major: each fits 48..83
    assert home_shifts(wide, Key(4, False)) == [-4]
    for c in calls:  # the calls themselves moved there, not only the keys the rules are given
        k = find_key(from_rl(c))
        assert (k.tonic, k.minor) in {(0, False), (9, True)}


def test_the_planner_plays_what_the_rules_pay_for(tiny_runs, capsys):
    pytest.importorskip("torch")
    from accompanist.music.rl_tokens import pitch_of
    from accompanist.training.rl_plan import main as plan_main
    from accompanist.training.rl_plan import plan
    from accompanist.training.rl_task import load_note_rnn

    net, _ = load_note_rnn(tiny_runs[TINY_NOTES])
    call = to_rl(np.array([62, HOLD, 66, HOLD, 69, HOLD, 66, HOLD] * 2))
    for depth in (1, 2):  # with the rules weighed far above the untrained net: a tonic first, no repeats
        comp, total, _ = plan(net, call, Key(2, False), 100.0, depth)
        assert len(comp) == 32 and comp[0] >= 2 and pitch_of(comp[0]) % 12 == 2
        assert not any(v.repeated for v in run_rules(comp, Key(2, False))) and total > 0
    assert plan_main(["--note-rnn", str(tiny_runs[TINY_NOTES]), "--calls", "2", "--in-c"]) == 0
    assert "in_motif" in capsys.readouterr().out


def test_the_first_note_of_an_answer_is_heard_after_the_calls_last():
    far = judge([], n(84), C, Leaps(), lead_in=n(60))  # two octaves above where the call ended
    assert far.interval == -1.0 and judge([], n(84), C, Leaps()).interval == 0.0
    assert judge([], n(62), C, Leaps(), lead_in=n(60)).interval == 0.08  # a step on from the call
    assert judge([], NO_EVENT, C, Leaps(), lead_in=n(60)).interval == 0.0  # silence after the call
    leaps, comp = Leaps(), [n(69), n(67), n(65), n(59)]  # a leap out of the call, resolved in the answer
    assert [judge(comp[:i], a, C, leaps, lead_in=n(60)).leap for i, a in enumerate(comp)] == [0, 0, 0, 1]


def test_respond_plays_the_call_on_a_tempo_curve_as_live(use_tiny_models, melody_file, tmp_path, capsys):
    # the call through the live quantiser and the tempo follower: heard as written, and the
    # answer's first bar line measured against the player's own
    src = melody_file([(60 + 2 * (i % 4), 4) for i in range(16)], tempo=600000)  # 100 bpm: the first guess
    out = tmp_path / "a.mid"
    args = ["respond", str(src), "-o", str(out), "--model", TINY_RL, "--seed", "0", "--jitter-ms", "10"]
    assert main([*args, "--tempo-curve", "96:0,90:4"]) == 0
    said = capsys.readouterr().out
    assert "answered from bar 5 for 4 bars" in said
    assert "on 96:0,90:4: 100% of the call's notes heard on their written steps" in said
    offset = float(said.split("first bar line ")[1].split(" ms")[0])
    assert abs(offset) < 40
    bad = tmp_path / "b.mid"
    assert main([*args[:3], str(bad), *args[4:], "--tempo-curve", "nope"]) == 2 and not bad.exists()
    assert "tempo curve 'nope'" in capsys.readouterr().err
