"""One sampling configuration a model carries whole: from its card, to its card, through export,
and live into the sampler of the next step."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from helpers import TINY_DUET, TINY_DUET_LISTEN, run_cli

from accompanist.errors import AccompanistError
from accompanist.inference.cards import load_card
from accompanist.inference.duet_runner import DuetRunner
from accompanist.inference.sampling_config import (
    CONFIGS,
    SAMPLING_SETTINGS,
    DuetSampling,
    HarmonySampling,
    sampling_for,
)
from accompanist.limits import LIMITS
from accompanist.live.settings import LIVE_SETTINGS, MODE_SETTINGS, Settings
from accompanist.music import roll


def test_each_family_has_one_configuration_whose_every_field_has_a_limit_and_a_live_setting():
    for family in ("duet", "seq2seq", "melody", "rl", "vrash"):
        assert sampling_for(family) in CONFIGS
    fields = set(Settings.__dataclass_fields__)
    for name in SAMPLING_SETTINGS:
        assert name in LIMITS and name in fields and name in LIVE_SETTINGS and name not in MODE_SETTINGS
    with pytest.raises(AccompanistError, match=r"^spacing 40 must be 0\.\.12"):
        DuetSampling(spacing=40).check()
    with pytest.raises(AccompanistError, match="key-lock"):
        HarmonySampling.from_defaults({}, key_lock=float("nan"))


def test_a_card_round_trips_and_a_given_field_replaces_the_cards(use_tiny_models):
    card = load_card(TINY_DUET_LISTEN, family="duet")
    s = DuetSampling.from_card(card)
    assert s.to_card() == {k: card.default(k) for k in DuetSampling.names()}
    assert DuetSampling.from_defaults(s.to_card()) == s
    t = DuetSampling.from_card(card, spacing=5, temperature=None)
    assert t.spacing == 5 and t.temperature == s.temperature


@pytest.mark.usefixtures("use_tiny_models")
def test_a_re_export_without_flags_keeps_the_cards_sampling_and_a_stray_flag_is_refused(tiny_runs, tmp_path):
    run = tiny_runs[TINY_DUET_LISTEN]
    got = run_cli("export", run, "--dest", tmp_path, "--key-lock", "2.5", "--spacing", "3", "--pulse", "4")
    assert got.returncode == 0, got.stderr
    card = tmp_path / TINY_DUET_LISTEN / "card.json"
    first = json.loads(card.read_text())["defaults"]
    assert (first["key_lock"], first["spacing"], first["pulse"]) == (2.5, 3, 4.0)
    again = run_cli("export", run, "--dest", tmp_path)  # the same run again, no flags
    assert again.returncode == 0, again.stderr
    assert json.loads(card.read_text())["defaults"] == first
    stray = run_cli("export", run, "--dest", tmp_path, "--variation", "2")
    assert stray.returncode != 0 and "Traceback" not in stray.stderr
    assert (
        stray.stderr.strip()
        .splitlines()[-1]
        .endswith("--max-notes, --key-lock, --two-part, --hold, --cover, --spacing, --pulse")
    )
    assert json.loads(card.read_text())["defaults"] == first  # nothing written


def test_max_notes_from_the_configuration_bounds_every_answer(use_tiny_models):
    runner = DuetRunner(load_card(TINY_DUET, family="duet"))
    melody = roll.empty(64)
    melody[:, :, 36] = 1
    hot = runner.sampling(temperature=5.0)  # a hot model strikes many notes at once
    assert runner.accompany(melody, hot, np.random.default_rng(1))[:, roll.FRAME].sum(1).max() > 1
    one = runner.accompany(melody, hot.replace(max_notes=1), np.random.default_rng(1))
    assert one[:, roll.FRAME].sum(1).max() <= 1


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_each_prior_set_live_reaches_the_sampler_of_the_next_step_and_keeps_the_models_memory(tmp_path):
    from accompanist.live.engine import Engine

    engine = Engine(Settings(mode="duet", model=TINY_DUET_LISTEN, api="jack", record=tmp_path / "s.mid", seed=0))
    with engine:
        mode = engine.parts.worker.mode
        sampler = mode.partner.sampler
        for name, value in {
            "temperature": 0.4,
            "max_notes": 2,
            "key_lock": 1.5,
            "two_part": 0.5,
            "hold": 2.0,
            "cover": 1,
            "spacing": 4,
            "pulse": 6.0,
        }.items():
            engine.set(**{name: value})
            assert getattr(engine.sampling, name) == value and getattr(sampler, name) == value, name
        assert engine.parts.worker.mode is mode and mode.partner.sampler is sampler  # not made anew
        time.sleep(0.5)
        assert engine.figures()["steps"] > 0
