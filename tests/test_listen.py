"""The hearing duet's rule off the live path: the quantiser's peek, the human-timed player, the
training windows, the runner, and the listen setting's checks."""

from __future__ import annotations

import mido
import numpy as np
import pytest
from helpers import TINY_DUET, TINY_DUET_LISTEN, assert_clean_error, run_cli, write_melody

from accompanist.data.duet_data import Pieces
from accompanist.data.listen_batches import ListenBatches, unheard
from accompanist.errors import AccompanistError
from accompanist.evaluation.player import PlayerConfig, perform
from accompanist.live.quantize import InputQuantizer
from accompanist.music import roll
from accompanist.music.meter import position_features, steady_phase
from accompanist.music.notes import Note

STEP = 0.125  # a 16th at 120 bpm


def quantizer() -> InputQuantizer:
    return InputQuantizer(lambda t: int(np.floor(t / STEP)))


def test_peek_shows_the_open_step_as_far_as_it_was_played_and_close_keeps_what_came_later():
    q = quantizer()
    q.feed(0.0, mido.Message("note_on", note=60, velocity=80))
    q.close(0)
    q.feed(STEP - 0.01, mido.Message("note_off", note=60))  # released just before step 1
    assert not q.peek(1).any()
    q.feed(STEP + 0.03, mido.Message("note_on", note=64, velocity=80))  # struck 30 ms into step 1
    seen = q.peek(1)
    assert seen[roll.ONSET].nonzero()[0].tolist() == [64 - roll.PITCH_LO]
    q.feed(STEP + 0.05, mido.Message("note_on", note=67, velocity=80))  # after the peek: still step 1
    closed = q.close(1).roll
    assert sorted(closed[roll.ONSET].nonzero()[0] + roll.PITCH_LO) == [64, 67]
    assert 67 - roll.PITCH_LO not in q.peek(2)[roll.ONSET].nonzero()[0]


def melody(steps: int = 32) -> np.ndarray:
    return roll.notes_to_roll([Note(60 + 2 * (i % 4), 4 * i, 4 * i + 4) for i in range(steps // 4)], 1.0, steps)


def test_a_sequencer_is_heard_inside_a_listen_window_and_never_before_the_beat():
    m = melody()
    on_time = perform(m, PlayerConfig(jitter_ms=0.0, listen_ms=20.0))
    assert on_time.late_onsets == 0 and np.array_equal(on_time.heard, on_time.played)
    assert np.array_equal(on_time.played[:, roll.ONSET], m[:, roll.ONSET])
    # with no window the answer is chosen before the beat, so no onset on the beat is heard
    anticipated = perform(m, PlayerConfig(jitter_ms=0.0, listen_ms=0.0))
    assert anticipated.late_onsets == anticipated.onsets == 8
    # the note not yet heard is the previous one still held (legato), or silence
    assert not anticipated.heard[4, roll.ONSET].any()


def test_human_timing_is_seeded_and_a_wider_window_hears_more():
    m = melody(256)
    a = perform(m, PlayerConfig(jitter_ms=15.0, listen_ms=10.0, seed=3))
    b = perform(m, PlayerConfig(jitter_ms=15.0, listen_ms=10.0, seed=3))
    assert np.array_equal(a.heard, b.heard) and a.late_onsets == b.late_onsets
    wide = perform(m, PlayerConfig(jitter_ms=15.0, listen_ms=30.0, seed=3))
    assert wide.late_onsets < a.late_onsets < a.onsets


def test_listen_windows_read_the_melody_up_to_the_step_they_answer():
    m, a = melody(16), roll.notes_to_roll([Note(48, 0, 8), Note(52, 8, 16)], 1.0, 16)
    pieces = Pieces(["x"], [m], [a], [steady_phase(16, 16, first=12)])  # a one-beat pickup
    b = ListenBatches(pieces, window=4, transpositions=[0])
    batch = next(b.batches(64, None))
    k = 8
    assert np.array_equal(batch["mel"][k, -1].numpy(), roll.features(m[k]))  # the step answered
    assert np.array_equal(batch["acc"][k, -1].numpy(), roll.features(a[k - 1]))  # its own step before
    assert np.array_equal(batch["acc_t"][k].numpy(), roll.features(a[k]))
    assert np.array_equal(batch["pos"][k, -1].numpy(), position_features(np.array([(12 + k) % 16]), 4)[0])
    assert batch["mel_mask"][15] == 0 and batch["mel_mask"][14] == 1
    # the memory: pitch classes of both parts over the steps before k
    assert batch["ctx"][k, 0] == pytest.approx(4 / 32)  # C sounded in steps 0..3 of the melody, of 32
    assert batch["ctx"][k, 12] == pytest.approx(8 / 32)  # the accompaniment's C for steps 0..7
    late = ListenBatches(pieces, window=4, transpositions=[0], late=1.0)
    lb = next(late.batches(64, np.random.default_rng(0)))
    onset_rows = [j for j in range(len(lb["mel"])) if m[int(b.positions[j][1]), roll.ONSET].any()]
    assert onset_rows and all(lb["mel"][j, -1, roll.N_PITCHES :].sum() == 0 for j in range(len(lb["mel"])))
    assert np.array_equal(unheard(m[5], m[4], held=True), m[5])  # no new onset: nothing to miss


def test_the_hearing_runner_answers_from_the_note_it_hears(use_tiny_models):
    from accompanist.inference.cards import load_card
    from accompanist.inference.duet_runner import DuetRunner

    runner = DuetRunner(load_card(TINY_DUET_LISTEN, family="duet"))
    assert runner.listens
    m = melody(16)
    for k in range(8):
        runner.hear(m[k], k)
        runner.commit(m[k], roll.empty(1)[0], k)
    c = runner.hear(roll.empty(1)[0], 8)
    e = runner.hear(m[8], 8)
    assert not np.allclose(c, e)  # the note struck for step 8 changes the answer for step 8
    with pytest.raises(AccompanistError, match="hears the step"):
        runner.step(m[0], m[0])
    out = runner.accompany(
        m,
        runner.sampling(temperature=1.0),
        np.random.default_rng(0),
        heard=perform(m, PlayerConfig(listen_ms=20.0)).heard,
    )
    assert out.shape == m.shape
    assert not DuetRunner(load_card(TINY_DUET, family="duet")).listens


def test_listen_settings_are_checked_in_one_clear_line(use_tiny_models, tmp_path):
    from accompanist.live.engine import Engine, Settings

    for bad in (-5.0, 500.0, float("nan")):
        with pytest.raises(AccompanistError, match="listen window"):
            Engine(Settings(mode="duet", model=TINY_DUET_LISTEN, listen_ms=bad))
    src = write_melody(tmp_path / "m.mid", [(60, 4), (62, 4), (64, 8)] * 4)
    out = tmp_path / "o.mid"
    assert_clean_error(run_cli("duet", src, "-o", out, "--model", TINY_DUET_LISTEN, "--listen-ms", "-1"), "listen")
    assert_clean_error(run_cli("duet", src, "-o", out, "--model", TINY_DUET_LISTEN, "--jitter-ms", "nan"), "jitter")
    proc = run_cli("duet", src, "-o", out, "--model", TINY_DUET_LISTEN, "--listen-ms", "20", "--jitter-ms", "15")
    assert proc.returncode == 0, proc.stderr


def test_the_hold_prior_keeps_the_texture_still_between_the_pulse_and_the_tune():
    from accompanist.inference.duet_priors import StepSampler

    logits = np.full(2 * roll.N_PITCHES, -8.0)
    logits[[36, 40, 43]] = 6.0  # a C major chord wants to sound, and to be struck
    logits[roll.N_PITCHES + np.array([36, 40, 43])] = 6.0
    before = np.zeros(roll.N_PITCHES, np.uint8)
    before[[36, 40]] = 1  # C and E already sound
    quiet = roll.empty(1)[0]
    quiet[roll.FRAME, 24] = 1  # the melody holds a note, no new onset
    struck = quiet.copy()
    struck[roll.ONSET, 24] = 1
    rng = np.random.default_rng(0)
    sampler = StepSampler(1.0, 4, 0.0, 0.0, hold=30.0, steps_per_beat=4)
    off_beat = sampler.sample(logits, quiet, before, rng, phase=2)
    assert not off_beat[roll.ONSET].any()  # nothing struck off the pulse with the melody still
    assert off_beat[roll.FRAME, [36, 40]].all() and not off_beat[roll.FRAME, 43]  # held on, G waits
    on_beat = sampler.sample(logits, quiet, before, rng, phase=4)
    assert on_beat[roll.ONSET, 43] and on_beat[roll.FRAME, [36, 40, 43]].all()
    with_the_tune = sampler.sample(logits, struck, before, rng, phase=2)
    assert with_the_tune[roll.ONSET, 43]  # the melody strikes: the answer may too
    free = StepSampler(1.0, 4, 0.0, 0.0, hold=0.0, steps_per_beat=4).sample(logits, quiet, before, rng, phase=2)
    assert free[roll.ONSET, 43]


def test_the_pulse_prior_re_strikes_held_notes_with_the_melody_only():
    from accompanist.inference.duet_priors import StepSampler

    logits = np.full(2 * roll.N_PITCHES, -8.0)
    logits[[36, 40, 43]] = 6.0  # C major goes on sounding ...
    logits[roll.N_PITCHES + np.array([36, 40, 43])] = -8.0  # ... and the model would rather not re-strike it
    before = np.zeros(roll.N_PITCHES, np.uint8)
    before[[36, 40, 43]] = 1
    quiet = roll.empty(1)[0]
    quiet[roll.FRAME, 24] = 1
    struck = quiet.copy()
    struck[roll.ONSET, 24] = 1
    rng = np.random.default_rng(0)
    sampler = StepSampler(1.0, 4, 0.0, 0.0, hold=0.0, steps_per_beat=4, pulse=20.0)
    with_the_tune = sampler.sample(logits, struck, before, rng, phase=2)
    assert with_the_tune[roll.ONSET, [36, 40, 43]].all()  # struck again with the player
    held = sampler.sample(logits, quiet, before, rng, phase=4)
    assert held[roll.FRAME, [36, 40, 43]].all() and not held[roll.ONSET].any()  # no strike, no pulse
    plain = StepSampler(1.0, 4, 0.0, 0.0, hold=0.0, steps_per_beat=4).sample(logits, struck, before, rng, phase=2)
    assert plain[roll.ONSET].sum() < 3


def test_the_two_bar_memory_cannot_drift_over_a_long_session(use_tiny_models):
    """The hearing model keeps no recurrent state: after 3,200 steps of a looped medley its
    memory is exactly the pitch classes of the last 32 steps, as on the first pass."""
    from accompanist.inference.cards import load_card
    from accompanist.inference.duet_runner import DuetRunner
    from accompanist.music.meter import CONTEXT_STEPS, pitch_classes

    runner = DuetRunner(load_card(TINY_DUET_LISTEN, family="duet"))
    medley = np.concatenate([roll.transpose(melody(64), s) for s in (0, 5, -3, 2)] * 13)[:3200]
    out = runner.accompany(medley, runner.sampling(temperature=1.0), np.random.default_rng(0))
    last = slice(len(medley) - CONTEXT_STEPS, len(medley))
    want = np.stack([pitch_classes(medley[last, roll.FRAME]).sum(0), pitch_classes(out[last, roll.FRAME]).sum(0)])
    assert np.allclose(runner.pc_sum, want, atol=1e-3)
    assert runner.mel_win.shape == (1, runner.window, 2 * roll.N_PITCHES)  # the window never grows
    first, late = roll.polyphony(out[:400]), roll.polyphony(out[-400:])
    assert abs(first.mean() - late.mean()) < 1.0  # the texture of the first minute, at the end


def test_cover_fills_a_hole_under_a_sounding_melody_with_the_likeliest_notes():
    from accompanist.inference.duet_priors import StepSampler

    logits = np.full(2 * roll.N_PITCHES, -9.0)  # nothing wants to sound...
    logits[[40, 43]] = [-2.0, -1.0]  # ...but G, then E, least unlikely
    before = np.zeros(roll.N_PITCHES, np.uint8)
    melody = roll.empty(1)[0]
    melody[roll.FRAME, 48] = 1
    rng = np.random.default_rng(0)
    out = StepSampler(0.0, 4, 0.0, 0.0, 0.0, 4, cover=2).sample(logits, melody, before, rng)
    assert sorted(np.flatnonzero(out[roll.FRAME])) == [40, 43] and out[roll.ONSET, [40, 43]].all()
    silent = StepSampler(0.0, 4, 0.0, 0.0, 0.0, 4, cover=2).sample(logits, roll.empty(1)[0], before, rng)
    assert not silent.any()  # no melody: no note forced


def test_training_can_start_from_another_runs_weights(tiny_runs, tmp_path):
    """--init: the new run's first weights are the given run's best, before any step is taken;
    a checkpoint of another shape, or none, is one clear line."""
    import torch

    from accompanist.cli import main

    src = tiny_runs[TINY_DUET_LISTEN] / "best.pt"
    base = ["train", "duet", "--variant", "listen", "--limit", "6", "--sizes", "16,8,16,16", "--repeats", "1"]
    base += ["--transpose", "0:1", "--threads", "1", "--lr", "1e-9"]
    out = tmp_path / "init"
    assert main([*base, "--name", "init", "--epochs", "1", "--init", str(src), "--out", str(out)]) == 0
    before = torch.load(src, weights_only=True)["model"]
    after = torch.load(out / "best.pt", weights_only=True)
    assert after["meta"]["init"] == str(src)
    for k, v in before.items():  # a learning rate of 1e-9: one epoch moves nothing visibly
        torch.testing.assert_close(after["model"][k], v, atol=1e-5, rtol=0)
    wrong = run_cli(*base, "--name", "w", "--sizes", "16,8,16,12", "--init", src, "--out", tmp_path / "w")
    assert_clean_error(wrong, str(src), "not a duet checkpoint of this shape")
    none = run_cli(*base, "--name", "n", "--init", tmp_path / "none.pt", "--out", tmp_path / "n")
    assert_clean_error(none, "none.pt", "no such checkpoint")


def test_a_midi_files_time_signatures_give_the_bar_phase():
    from accompanist.music.meter import bar_phase_of_midi

    sig = lambda n, d: mido.MetaMessage("time_signature", numerator=n, denominator=d)  # noqa: E731
    # 480 ticks a beat, 16ths: 120 ticks a step; 3/4 from the start, 6/8 from tick 2880 (step 24)
    meta = [(0, sig(3, 4)), (2880, sig(6, 8)), (0, mido.MetaMessage("set_tempo", tempo=500000))]
    phase = bar_phase_of_midi(meta, 40, 120.0, 4)
    assert phase[:24].tolist() == list(range(12)) * 2
    assert phase[24:40].tolist() == list(range(12)) + [0, 1, 2, 3]  # 6/8: six eighths, 12 16ths
    assert bar_phase_of_midi([], 20, 120.0, 4).tolist() == list(range(16)) + [0, 1, 2, 3]
    assert bar_phase_of_midi([(0, sig(2, 2))], 20, 120.0, 4).tolist() == list(range(16)) + [0, 1, 2, 3]
    assert bar_phase_of_midi([(0, sig(5, 4))], 22, 120.0, 4).tolist() == list(range(20)) + [0, 1]
