"""The models that ship in the package, and `accompanist demo` with them.

No skips: a missing shipped model is a failure, since `make demo` and a fresh install rely on them.
"""

from __future__ import annotations

import itertools
import wave
from pathlib import Path

import mido
import numpy as np
import pytest
from helpers import run_cli

from accompanist.inference.cards import SHIPPED, find_models, load_card, read_card
from accompanist.inference.seq2seq_runner import Seq2SeqRunner
from accompanist.metrics.bands import DUET_BANDS, RESPOND_BANDS, RL_BANDS, inside, outside
from accompanist.music.keys import Key
from accompanist.music.midi_io import read_midi
from accompanist.music.tokens import HOLD
from accompanist.offline.harmonize import harmonize_file

pytestmark = pytest.mark.shipped

SHIPPED_MODELS = ["chorale-alto", "chorale-bass", "chorale-alto-uni", "chorale-bass-uni"]
DEMO = SHIPPED.parent / "demo" / "demo_melody.mid"


@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_shipped_model_has_a_card_and_loads(name):
    path = SHIPPED / name / "card.json"
    assert path.is_file(), f"{path} is missing: export the model into accompanist/assets/models"
    card = read_card(path)
    assert card.name == name and card.family == "seq2seq"
    voice = name.split("-")[1]
    assert card.defaults["voice"] == voice
    assert card.data["model"]["bidirectional"] is (not name.endswith("-uni"))
    for role in ("encoder", "decoder_step"):
        assert card.graph(role).stat().st_size > 0
    # with no user models on the search path, the name finds the shipped folder
    assert find_models()[name].folder == SHIPPED / name
    runner = Seq2SeqRunner(load_card(name, family="seq2seq"))
    assert runner.window == card.data["grid"]["window"]


@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_shipped_model_card_carries_held_out_figures(name):
    card = read_card(SHIPPED / name / "card.json").data
    m = card["metrics"]
    # A trained model beats guessing from the voice's token frequencies alone (entropy 1.31 nats for
    # the alto, 1.48 for the bass over the chorales) and beats always answering HOLD (72 % and 70 %).
    loss_bound, acc_bound = {"alto": (1.31, 0.72), "bass": (1.48, 0.70)}[card["defaults"]["voice"]]
    assert 0 < m["held_out_loss"] < loss_bound
    assert acc_bound < m["held_out_accuracy"] <= 1
    assert m["onnx_parity_max_abs"] <= 1e-4
    training = card["training"]
    assert len(training["data_hash"]) == 64
    assert training["counts"]["test_chorales"] >= 30 and training["data"]["limit"] is None
    assert training["config"]["seed"] is not None and training["epochs_run"] >= 1
    assert card["created_by"].startswith("accompanist ")


@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_shipped_model_harmonises_the_demo_melody(name, tmp_path):
    out = tmp_path / f"{name}.mid"
    r = harmonize_file(DEMO, out, model=name, seed=0)
    assert r.model == name
    melody = read_midi(DEMO).note_tracks[0]
    song = read_midi(out)
    tracks = {t.name: t for t in song.tracks}
    assert [(n.pitch, n.start, n.end, n.velocity) for n in tracks["melody"].notes] == [
        (n.pitch, n.start, n.end, n.velocity) for n in melody.notes
    ]
    acc = r.accompaniment
    assert len(acc) == len(r.melody) and acc.min() >= 0 and acc.max() <= HOLD
    assert len(tracks["accompaniment"].notes) >= 8
    # a trained accompaniment lies below the melody on average
    mel_mean = np.mean([n.pitch for n in melody.notes])
    acc_mean = np.mean([n.pitch for n in tracks["accompaniment"].notes])
    assert acc_mean < mel_mean


def test_demo_writes_midi_and_wav_and_says_where(tmp_path):
    out = tmp_path / "demo"
    proc = run_cli("demo", "--out", out)
    assert proc.returncode == 0, proc.stderr
    midi, wav_path = out / "demo-chorale-alto.mid", out / "demo-chorale-alto.wav"
    assert str(midi.resolve()) in proc.stdout and str(wav_path.resolve()) in proc.stdout
    assert mido.MidiFile(midi).type == 1
    with wave.open(str(wav_path)) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64)
        seconds = w.getnframes() / w.getframerate()
    assert seconds == pytest.approx(mido.MidiFile(DEMO).length + 1.5, abs=0.1)
    assert np.sqrt((audio**2).mean()) > 100
    duet = out / "demo-duet-chorale.mid"
    assert str(duet.resolve()) in proc.stdout and (out / "demo-duet-chorale.wav").stat().st_size > 1000
    names = [next((m.name for m in t if m.type == "track_name"), "") for t in mido.MidiFile(duet).tracks]
    assert names == ["conductor", "melody", "accompaniment"]


def test_shipped_duet_model_card_and_answer():
    """duet-chorale: its card says how it was made and how well it did, and it answers the demo
    melody polyphonically, on the grid, as the live engine would."""
    from accompanist.inference.duet_runner import DuetRunner
    from accompanist.music import roll

    card = read_card(SHIPPED / "duet-chorale" / "card.json")
    assert card.family == "duet" and card.steps_per_beat == 4
    m = card.data["metrics"]
    assert m["onnx_parity_max_abs"] <= 1e-4 and m["onnx_parity_steps"] == 500
    held = m["held_out"]
    # better than silence (predicting no note at all: F1 0) and than the chorales' base rate
    assert held["frame_f1"] > 0.7 and held["exact_chord_accuracy"] > 0.5
    assert len(card.data["training"]["data_hash"]) == 64 and card.data["training"]["test_pieces"]
    folk = m["harmony"]["folk@1.0"]
    assert inside(folk["polyphony"], DUET_BANDS["polyphony"])
    # it hears the note it answers, and its figures on the test tunes, played by a human-timed
    # player at its own listen window, are inside the bands the duet issue set
    from accompanist.evaluation.duet_listen import outside_bands

    (role,) = card.data["graphs"]
    assert card.data["io"][role]["listens"] and card.defaults["listen_ms"] > 0
    tunes = m["tunes_test@1.0"][f"listen {card.defaults['listen_ms']:g} ms"]
    pooled = next(v for k, v in tunes.items() if k.startswith("pooled"))
    assert not outside_bands(pooled), pooled
    # the figures were measured under the priors the card holds now
    assert tunes_sampling_matches(m["tunes_test@1.0"]["sampling"], card.defaults)
    runner = DuetRunner(load_card("duet-chorale", family="duet"))
    song = read_midi(DEMO)
    notes = song.note_tracks[0].notes
    melody = roll.notes_to_roll(notes, song.ticks_per_beat / 4)
    acc = runner.accompany(melody, runner.sampling(temperature=1.0), np.random.default_rng(0))
    sounding = roll.polyphony(acc)[roll.polyphony(melody) > 0]
    assert 1.5 < sounding.mean() <= 4


def tunes_sampling_matches(sampling: dict, defaults: dict) -> bool:
    return all(defaults.get(k) == v for k, v in sampling.items() if k not in ("temperature", "seed"))


def test_the_harmoniser_results_table_says_what_the_cards_say():
    """One source for the figures shown twice: docs/RESULTS.md's held-out loss and accuracy of each
    shipped harmoniser are its card's (`accompanist models` prints the card; the README's models
    table is held to the cards by tests/test_readme.py)."""
    import re

    results = (Path(__file__).resolve().parents[1] / "docs" / "RESULTS.md").read_text()
    rows = re.findall(
        r"^\| `(chorale-[a-z-]+)` \| [^|]+ \| [\d,]+ \| [^|]+ \| [^|]+ \| ([\d.]+) \| ([\d.]+) \|", results, re.M
    )
    shipped = [r for r in rows if (SHIPPED / r[0]).is_dir()]  # the -faithful twins are not shipped
    assert len(shipped) == 4, rows
    for name, loss, accuracy in shipped:
        m = read_card(SHIPPED / name / "card.json").data["metrics"]
        assert (float(loss), float(accuracy)) == (round(m["held_out_loss"], 3), round(m["held_out_accuracy"], 3)), name


def test_shipped_melody_model_answers_the_demo_in_its_key(tmp_path):
    """melody-lstm: its card holds the held-out figures and the test calls' answers beside the
    melodies' own next bars; it answers the demo's first two bars (heard as B minor: they use G
    major's notes around B and F#) with two bars in that key."""
    card = read_card(SHIPPED / "melody-lstm" / "card.json")
    assert card.family == "melody"
    m = card.data["metrics"]
    assert m["onnx_parity_max_abs"] <= 1e-4
    held = m["held_out"]
    assert held["pitch_ce"] < 2.0 and held["duration_ce"] < 1.0 and held["melodies"] > 400
    test = m["respond_test@1"]
    assert inside(test["answers"]["in_call_key"], RESPOND_BANDS["in_key"]) and test["calls"] > 400
    assert abs(test["answers"]["scale_consistency"] - test["own_continuations"]["scale_consistency"]) < 0.05
    out = tmp_path / "answered.mid"
    r = run_cli("respond", str(DEMO), "-o", str(out), "--bars", "2", "--seed", "0")
    assert r.returncode == 0, r.stderr
    assert "a call of 2 bars in B minor, answered from bar 3 for 2 bars" in r.stdout
    song = read_midi(out)
    answer = next(t for t in song.tracks if t.name == "answer")
    assert answer.notes and min(n.start for n in answer.notes) >= 2 * 4 * song.ticks_per_beat
    b_minor = Key(11, True).pitch_classes
    assert np.mean([n.pitch % 12 in b_minor for n in answer.notes]) >= 0.75


def test_shipped_vrash_card_measures_its_latent_and_answers_in_key():
    """vrash: the held-out bound beside its cross-entropy, the KL per dimension, the latent's
    interpolation and variation figures, and test answers in the call's key."""
    card = read_card(SHIPPED / "vrash" / "card.json")
    assert card.family == "vrash" and card.defaults["variation"] == 0.5
    m = card.data["metrics"]
    held = m["held_out"]
    assert len(held["kl_per_dim"]) == 16 and held["bound_per_note"] > held["reconstruction_ce_at_mean"]
    interp = m["latent"]["interpolation"]["distance_from_a"]
    assert interp[0] == 0 and interp[-1] > 0.8 and all(b >= a - 0.05 for a, b in itertools.pairwise(interp))
    var = m["latent"]["variation"]["distance_from_call"]
    assert var["0"] < var["free"]
    assert inside(m["respond_test@1"]["answers"]["in_call_key"], RESPOND_BANDS["in_key"])


def test_shipped_rl_tuner_card_holds_its_tables():
    """rl-tuner: the rule statistics before and after tuning, on validation calls and once on
    test calls, with the log-likelihood under the frozen note RNN (what tuning gave up)."""
    card = read_card(SHIPPED / "rl-tuner" / "card.json")
    assert card.family == "rl" and card.data["model"]["stage"] == "tuned"
    m = card.data["metrics"]
    assert m["onnx_parity_max_abs"] <= 1e-4
    for key, stages in (("rl_table", ("note_rnn", "tuned")), ("rl_table_test", ("note-rnn", "rl-tuner"))):
        for stage in stages:
            t = m[key][stage]
            assert t["compositions"] == 1000 and "log_likelihood_per_step" in t and "in_motif" in t
    assert m["rl_table_test"]["reference"] == "note-rnn" and m["rl_table_test"]["calls"] == "test"
    assert card.data["training"]["tune"]["steps"] == 1_000_000
    # measured at the temperature it plays at, and inside the bands (the paper's Q-learning
    # row: 0.0, 1.0, 91.1, 75.7), giving up at most 0.1 nats a step of the note RNN's likelihood
    test = m["rl_table_test"]
    assert test["temperatures"]["rl-tuner"] == card.defaults["temperature"]
    tuned, before = test["rl-tuner"], test["note-rnn"]
    assert not outside(tuned, RL_BANDS), tuned
    assert tuned["log_likelihood_per_step"] >= before["log_likelihood_per_step"] - 0.1
    assert card.data["model"]["in_c"]  # tuned on calls moved to the white keys: its runner moves them too


def test_shipped_vrash_near_dials_from_near_copy_to_free():
    """vrash-near: its latent carries the phrase, so the variation amount goes from near the
    call to as far as a free draw, in order."""
    card = read_card(SHIPPED / "vrash-near" / "card.json")
    var = card.data["metrics"]["latent"]["variation"]["distance_from_call"]
    steps = [var[k] for k in ("0", "0.5", "1", "2", "3", "free")]
    assert steps[0] < 0.3 and steps[-1] > 0.9 and steps == sorted(steps)
    assert min(card.data["metrics"]["held_out"]["kl_per_dim"]) > 1.0  # every dimension in use
    assert inside(card.data["metrics"]["respond_test@1"]["answers"]["in_call_key"], RESPOND_BANDS["in_key"])
