"""The duet family end to end: rolls, the model's two variants, sampling, ONNX export and parity,
the step-by-step player behind `accompanist duet`, its harmony figures and the bench."""

from __future__ import annotations

import itertools
import json

import mido
import numpy as np
import pytest
import torch
from helpers import (
    TINY_DUET,
    TINY_DUET_LISTEN,
    TINY_DUET_WINDOW,
    assert_clean_error,
    melody_of_length,
    run_cli,
    write_melody,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from accompanist.inference.cards import load_card
from accompanist.inference.duet_runner import DuetRunner
from accompanist.inference.sampling import sample_roll_step
from accompanist.metrics.harmony_poly import poly_stats, summarize_poly
from accompanist.models.duet import STEP, DuetConfig, DuetHLSTM, DuetStep
from accompanist.music import roll
from accompanist.music.notes import Note
from accompanist.music.tokens import HOLD, REST

# --- rolls ---------------------------------------------------------------------------------------


def test_repeated_note_stays_two_notes_and_held_note_one():
    repeated = [Note(60, 0, 4), Note(60, 4, 8)]
    held = [Note(60, 0, 8)]
    r1, r2 = roll.notes_to_roll(repeated, 1.0), roll.notes_to_roll(held, 1.0)
    assert (r1[:, roll.FRAME] == r2[:, roll.FRAME]).all()  # the seed's frame plane alone cannot tell
    assert r1[:, roll.ONSET, 60 - roll.PITCH_LO].tolist() == [1, 0, 0, 0, 1, 0, 0, 0]
    assert roll.roll_to_notes(r1, 1.0) == [Note(60, 0, 4), Note(60, 4, 8)]
    assert roll.roll_to_notes(r2, 1.0) == [Note(60, 0, 8)]


def test_pitches_outside_the_range_fold_by_octaves():
    r = roll.notes_to_roll([Note(12, 0, 1), Note(120, 0, 1), Note(24, 1, 2), Note(107, 1, 2)], 1.0)
    assert set(np.flatnonzero(r[0, roll.FRAME]) + roll.PITCH_LO) == {24, 108 - 12}
    assert set(np.flatnonzero(r[1, roll.FRAME]) + roll.PITCH_LO) == {24, 107}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(24, 107), st.integers(0, 40), st.integers(1, 9)),
        max_size=25,
    )
)
def test_roll_round_trip(spec):
    """Notes on the grid that never overlap on one pitch come back exactly."""
    notes, busy = [], set()
    for pitch, start, length in spec:
        steps = set(range(start, start + length))
        if any((pitch, s) in busy for s in steps):
            continue
        busy |= {(pitch, s) for s in steps}
        notes.append(Note(pitch, start * 120, (start + length) * 120))
    r = roll.notes_to_roll(notes, 120.0, length=60)
    assert (r[:, roll.ONSET] <= r[:, roll.FRAME]).all()
    assert roll.roll_to_notes(r, 120.0) == sorted(notes, key=lambda n: (n.start, n.pitch))
    assert (roll.unpack(roll.pack(r)) == r).all()


def test_transpose_drops_what_leaves_the_range():
    r = roll.notes_to_roll([Note(100, 0, 1), Note(60, 0, 1)], 1.0)
    up = roll.transpose(r, 10)
    assert set(np.flatnonzero(up[0, roll.FRAME]) + roll.PITCH_LO) == {70}
    assert (roll.transpose(up, -10)[0, roll.FRAME, 60 - roll.PITCH_LO]) == 1


def test_tokens_to_roll_matches_the_token_grid():
    from accompanist.music.roll import tokens_to_roll

    tokens = np.array([60, HOLD, 60, REST, 62, HOLD, HOLD, 64])
    r = tokens_to_roll(tokens)
    c, d, e = (p - roll.PITCH_LO for p in (60, 62, 64))
    assert r[:, roll.FRAME, c].tolist() == [1, 1, 1, 0, 0, 0, 0, 0]
    assert r[:, roll.ONSET, c].tolist() == [1, 0, 1, 0, 0, 0, 0, 0]
    assert r[:, roll.FRAME, d].tolist() == [0, 0, 0, 0, 1, 1, 1, 0]
    assert r[7, roll.ONSET, e] == 1


# --- sampling ------------------------------------------------------------------------------------


def test_sampling_caps_simultaneous_notes_keeping_the_likeliest():
    logits = np.full(STEP, -20.0)
    logits[:10] = np.linspace(20, 11, 10)  # ten sure notes, in falling order of likelihood
    out = sample_roll_step(logits, np.zeros(84, np.uint8), 1.0, np.random.default_rng(0), max_notes=3)
    assert np.flatnonzero(out[roll.FRAME]).tolist() == [0, 1, 2]
    assert (out[roll.ONSET] == out[roll.FRAME]).all()  # nothing sounded before: all are new notes


def test_spacing_keeps_the_likelier_of_two_neighbours_and_fills_around_them():
    logits = np.full(STEP, -20.0)
    logits[[30, 31, 32, 36, 37]] = [20, 19, 18, 17, 16]  # five sure notes: two clusters
    rng = np.random.default_rng(0)
    out = sample_roll_step(logits, np.zeros(84, np.uint8), 1.0, rng, max_notes=4, spacing=3)
    assert np.flatnonzero(out[roll.FRAME]).tolist() == [30, 36]  # 31, 32 and 37 lie within a tone
    plain = sample_roll_step(logits, np.zeros(84, np.uint8), 1.0, rng, max_notes=4)
    assert np.flatnonzero(plain[roll.FRAME]).tolist() == [30, 31, 32, 36]  # spacing 0: the old rule
    # too few notes drawn: the likeliest others join, but only where they keep the spacing
    logits = np.full(STEP, -20.0)
    logits[40] = 20.0
    logits[[41, 42, 45]] = [-1.0, -2.0, -3.0]  # unlikely: seldom drawn, next in line to fill
    out = sample_roll_step(logits, np.zeros(84, np.uint8), 0.0, rng, min_notes=2, spacing=3)
    assert np.flatnonzero(out[roll.FRAME]).tolist() == [40, 45]


def test_a_held_pitch_is_restruck_only_when_its_onset_is_drawn():
    logits = np.full(STEP, -20.0)
    logits[[5, 6]] = 20.0  # both sound
    logits[84 + 6] = 20.0  # only pitch 6 is struck again
    prev = np.zeros(84, np.uint8)
    prev[[5, 6]] = 1
    out = sample_roll_step(logits, prev, 1.0, np.random.default_rng(0))
    assert out[roll.FRAME, [5, 6]].tolist() == [1, 1]
    assert out[roll.ONSET, [5, 6]].tolist() == [0, 1]


def test_temperature_zero_thresholds_and_higher_temperature_spreads():
    rng = np.random.default_rng(1)
    logits = np.full(STEP, -3.0)
    logits[[10, 20]] = 2.0
    greedy = sample_roll_step(logits, np.zeros(84, np.uint8), 0.0, rng, max_notes=0)
    assert np.flatnonzero(greedy[roll.FRAME]).tolist() == [10, 20]
    count = lambda t: np.mean(  # noqa: E731
        [sample_roll_step(logits, np.zeros(84), t, rng, 0)[roll.FRAME].sum() for _ in range(300)]
    )
    assert count(0.5) < count(1.0) < count(2.0)


# --- the model -----------------------------------------------------------------------------------


def test_stateful_steps_equal_the_whole_sequence():
    torch.manual_seed(0)
    model = DuetHLSTM(DuetConfig(mel1=12, mel2=6, acc1=10, acc2=8)).eval()
    x = (torch.rand(2, 9, 2, STEP) < 0.05).float()
    with torch.no_grad():
        mel_all, acc_all, _ = model(x[:, :, 0], x[:, :, 1])
        step = DuetStep(model)
        state = torch.zeros(2, model.cfg.state_size)
        for t in range(9):
            acc_t, mel_t, state = step(x[:, t, 0], x[:, t, 1], state)
            assert torch.allclose(acc_t, acc_all[:, t], atol=1e-6)
            assert torch.allclose(mel_t, mel_all[:, t], atol=1e-6)


def test_window_variant_reads_only_its_window():
    torch.manual_seed(0)
    model = DuetHLSTM(DuetConfig(variant="window", window=4, mel1=12, mel2=6, acc1=10, acc2=8)).eval()
    x = (torch.rand(1, 4, 2, STEP) < 0.05).float()
    with torch.no_grad():
        mel, acc, _ = model(x[:, :, 0], x[:, :, 1])
    assert mel.shape == acc.shape == (1, STEP)


# --- export, card and runner ---------------------------------------------------------------------


@pytest.mark.parametrize("name", [TINY_DUET, TINY_DUET_WINDOW, TINY_DUET_LISTEN])
def test_export_parity_and_card(tiny_models, tiny_runs, name):
    from accompanist.export.duet_onnx import check_parity, load_run

    card = json.loads((tiny_models / name / "card.json").read_text())
    assert card["family"] == "duet"
    assert card["metrics"]["onnx_parity_max_abs"] <= 1e-4
    assert card["metrics"]["onnx_parity_steps"] == 500
    assert card["training"]["data_hash"] and card["training"]["test_pieces"]
    assert card["grid"]["steps_per_beat"] == 4 and card["pitch_range"] == {"low": 24, "high": 107, "size": 84}
    model, _, _ = load_run(tiny_runs[name])
    assert check_parity(model, tiny_models / name, steps=500, seed=7) <= 1e-4


def test_runner_answers_each_step_without_hearing_the_future(use_tiny_models):
    """acc[t + 1] depends on the melody up to step t only: two melodies equal up to step k get
    the same answer up to step k + 1 (same seed), as the live engine would play them."""
    runner = DuetRunner(load_card(TINY_DUET, family="duet"))
    base = roll.notes_to_roll([Note(60 + (i % 5), 2 * i, 2 * i + 2) for i in range(24)], 1.0)
    other = base.copy()
    other[20:] = roll.transpose(base[20:], 5)
    a = runner.accompany(base, runner.sampling(temperature=1.0), np.random.default_rng(3))
    b = runner.accompany(other, runner.sampling(temperature=1.0), np.random.default_rng(3))
    assert (a[:21] == b[:21]).all()
    # a hearing model answers step k from the melody up to k: equal up to step 19, equal answers
    # up to 19, and from step 20 on it may answer the new note it hears
    assert not a[0].any()  # the first step: the model has heard nothing yet
    assert (a[:, roll.ONSET] <= a[:, roll.FRAME]).all()
    hearing = DuetRunner(load_card(TINY_DUET_LISTEN, family="duet"))
    ha = hearing.accompany(base, hearing.sampling(temperature=1.0), np.random.default_rng(3))
    hb = hearing.accompany(other, hearing.sampling(temperature=1.0), np.random.default_rng(3))
    assert (ha[:20] == hb[:20]).all()


def test_duet_cli_writes_two_tracks_on_the_grid(use_tiny_models, tmp_path):
    src = write_melody(tmp_path / "in.mid", melody_of_length(64), ticks_per_beat=96)
    out = tmp_path / "out.mid"
    proc = run_cli("duet", src, "-o", out, "--model", TINY_DUET, "--seed", "4", "--max-notes", "3")
    assert proc.returncode == 0, proc.stderr
    mf = mido.MidiFile(out)
    names = [next((m.name for m in t if m.type == "track_name"), "") for t in mf.tracks]
    assert names == ["conductor", "melody", "accompaniment"]
    src_notes = [m for m in mido.MidiFile(src).tracks[1] if m.type in ("note_on", "note_off")]
    out_notes = [m for m in mf.tracks[1] if m.type in ("note_on", "note_off")]
    assert out_notes == src_notes
    now, sounding, most = 0, set(), 0
    for m in mf.tracks[2]:
        now += m.time
        if m.type in ("note_on", "note_off"):
            assert now % 24 == 0  # a 16th at 96 ticks a beat
            if m.type == "note_on" and m.velocity:
                sounding.add(m.note)
            else:
                sounding.discard(m.note)
            most = max(most, len(sounding))
    assert not sounding and most <= 3
    again = tmp_path / "again.mid"
    assert run_cli("duet", src, "-o", again, "--model", TINY_DUET, "--seed", "4", "--max-notes", "3").returncode == 0
    assert [m for m in mido.MidiFile(again).tracks[2]] == [m for m in mf.tracks[2]]


def test_duet_cli_errors_are_one_line(use_tiny_models, tmp_path, tiny_models):
    src = write_melody(tmp_path / "in.mid", melody_of_length(16))
    assert_clean_error(run_cli("duet", src, "-o", tmp_path / "o.mid", "--model", "tiny-bi"), "seq2seq", "duet")
    assert_clean_error(run_cli("duet", src, "-o", tmp_path / "o.mid", "--model", TINY_DUET, "--max-notes", "0"))
    assert_clean_error(run_cli("duet", tmp_path / "none.mid", "-o", tmp_path / "o.mid", "--model", TINY_DUET))
    assert_clean_error(run_cli("duet", src, "-o", tmp_path / "no" / "o.mid", "--model", TINY_DUET), "folder")


# --- figures -------------------------------------------------------------------------------------


def test_poly_stats_by_hand():
    mel = np.array([60, HOLD, HOLD, HOLD])  # C for four steps, key unknown -> pass C major
    from accompanist.music.keys import Key

    acc = roll.notes_to_roll([Note(52, 0, 4), Note(55, 0, 2), Note(62, 2, 4)], 1.0)  # E, G then D
    s = summarize_poly([poly_stats(mel, acc, key=Key(0, minor=False))])
    assert s["coverage"] == 1.0
    assert s["polyphony"] == 2.0
    # E a minor sixth under C: consonant; G a fourth under it and D a second above: not
    assert s["consonance"] == pytest.approx(4 / 8)
    assert s["crossing"] == pytest.approx(2 / 8)  # D above C
    assert s["in_key"] == 1.0
    # onset steps: 0 (E and G, one event) and 2 (D) against one melody onset
    assert s["onset_ratio"] == 2.0
    # step 0 has the melody's onset; step 2 is neither a melody onset nor a beat
    assert s["onsets_aligned"] == 0.5
    # with step 2 on a beat (a bar phase of 0 there), both onset steps are aligned
    on_beat = summarize_poly([poly_stats(mel, acc, key=Key(0, minor=False), phases=np.array([2, 3, 0, 1]))])
    assert on_beat["onsets_aligned"] == 1.0
    assert s["far_notes"] == 0.0 and s["clusters"] == 0.0


def test_texture_figures_find_a_lone_far_note_and_a_cluster():
    mel = np.array([60, HOLD, HOLD, HOLD])
    # a low E far under everything, A and B a tone apart for two steps, then B flat alone
    acc = roll.notes_to_roll([Note(40, 0, 4), Note(57, 0, 2), Note(59, 0, 2), Note(58, 2, 4)], 1.0)
    s = summarize_poly([poly_stats(mel, acc)])
    assert s["far_notes"] == pytest.approx(1 / 4)  # the E: 17 semitones from its nearest neighbour
    assert s["clusters"] == pytest.approx(2 / 4)  # steps 0 and 1 hold A against B


@pytest.mark.parametrize("name", [TINY_DUET, TINY_DUET_LISTEN])
def test_bench_duet_json(use_tiny_models, name):
    proc = run_cli("bench", "--model", name, "--runs", "20", "--json")
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["family"] == "duet"
    for k in ("ort_step", "ort_step_and_sample", "torch_step"):
        assert r[k]["median"] > 0 and r[k]["p99"] >= r[k]["median"] and r[k]["runs"] == 20
    assert r["torch_over_ort_step"] > 0


# --- stream batches ------------------------------------------------------------------------------


def _pieces(n: int, seed: int = 0):
    from accompanist.data.duet_data import Pieces

    rng = np.random.default_rng(seed)
    mels, accs = [], []
    for _ in range(n):
        steps = int(rng.integers(20, 60))
        mels.append((rng.random((steps, 2, 84)) < 0.05).astype(np.uint8))
        accs.append((rng.random((steps, 2, 84)) < 0.05).astype(np.uint8))
    return Pieces([f"p{i}" for i in range(n)], mels, accs)


@pytest.mark.parametrize("world", [1, 2])
def test_stream_chunks_continue_each_other_on_every_rank(world):
    """Chunk k + 1 of a row starts where chunk k ended (the carried state is right), and with two
    ranks the batch dealt to rank r (batch index mod world) continues rank r's own streams."""
    from accompanist.data.duet_data import StreamBatches

    sb = StreamBatches(_pieces(12), chunk=8, transpositions=[0], repeats=2, world=world)
    out = list(sb.batches(2, np.random.default_rng(0)))
    assert len(out) % world == 0 and len(out) >= 4 * world
    for r in range(world):
        mine = out[r::world]
        assert float(mine[0]["carry"]) == 0 and all(float(b["carry"]) == 1 for b in mine[1:])
        for a, b in itertools.pairwise(mine):
            assert torch.equal(a["mel"][:, -1], b["mel"][:, 0])
            assert torch.equal(a["acc"][:, -1], b["acc"][:, 0])
    if world == 2:
        assert not torch.equal(out[0]["mel"], out[1]["mel"])  # the ranks read different streams


def test_stream_holds_every_piece_whole_with_gaps():
    from accompanist.data.duet_data import StreamBatches

    pieces = _pieces(3)
    sb = StreamBatches(pieces, chunk=4, transpositions=[0], repeats=1, gap=4)
    rows = list(sb.batches(1, np.random.default_rng(1)))
    stream = torch.cat([rows[0]["mel"][0]] + [b["mel"][0, 1:] for b in rows[1:]]).numpy()
    starts = [m for m in pieces.melodies if np.array_equal(stream[: len(m)], roll.features(m))]
    assert len(starts) == 1  # the stream opens with one whole piece, untransposed here
    n = len(starts[0])
    assert not stream[n : n + 4].any() and stream[n + 4 :].any()  # four silent steps, then the next
