"""One table of limits (``accompanist.limits``): a range changed there changes the command line,
the presets check, the engine's check, the clock and the panel's controls; and the facts kept
once beside it (channel conversion, setting names, card fallbacks, the answer's velocity, bands)."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from accompanist.errors import AccompanistError
from accompanist.limits import LIMITS, channel_from_user, channel_to_user


@pytest.fixture
def narrow(monkeypatch):
    """Narrow a setting's range in the one table, for this test only."""

    def narrow(name: str, **ends) -> None:
        monkeypatch.setitem(LIMITS, name, dataclasses.replace(LIMITS[name], **ends))

    return narrow


def test_the_command_line_refuses_past_the_tables_limit(narrow, monkeypatch, capsys):
    from accompanist import cli

    parse = cli.build_parser().parse_args
    assert parse(["live", "--bpm", "300", "--channel", "12"]).bpm == 300
    narrow("bpm", hi=200)
    narrow("channel", hi=8)
    with pytest.raises(AccompanistError, match=r"--bpm 300: tempo 300 bpm is outside 20\.\.200"):
        parse(["live", "--bpm", "300"])
    with pytest.raises(AccompanistError, match=r"--channel 12: channel 12 must be 1\.\.8"):
        parse(["live", "--channel", "12"])
    assert parse(["live", "--bpm", "200", "--channel", "8"]).channel == 8  # the ends are inside
    # through main: one line, exit 2, and the verb never runs
    ran = []
    monkeypatch.setitem(cli.COMMANDS, "live", lambda a: ran.append(a) or 0)
    assert cli.main(["live", "--bpm", "300"]) == 2 and not ran
    err = capsys.readouterr().err
    assert err.startswith("accompanist: error: --bpm 300") and len(err.strip().splitlines()) == 1, err
    assert cli.main(["live", "--bpm", "150"]) == 0 and ran
    # the help says the range the table holds
    help_text = cli.build_parser()._subparsers._group_actions[0].choices["live"].format_help()
    assert "20..200 bpm" in help_text and "1..8" in help_text


def test_the_presets_check_reads_the_table(narrow):
    from accompanist.presets import from_preset_form

    assert from_preset_form({"bpm": 150, "channel": 12}, "mine.json")["channel"] == 11  # 0-based
    narrow("bpm", hi=140)
    with pytest.raises(AccompanistError, match=r"mine\.json: tempo 150 bpm is outside 20\.\.140"):
        from_preset_form({"bpm": 150}, "mine.json")
    narrow("channel", hi=8)
    with pytest.raises(AccompanistError, match=r"mine\.json: channel 10 must be 1\.\.8"):
        from_preset_form({"channel": 10}, "mine.json")


def test_the_engines_check_and_the_clock_read_the_table(narrow):
    from accompanist.live.clock import InternalClock
    from accompanist.live.settings import Settings, check_settings

    check_settings(Settings(bpm=350, count_in=4))
    InternalClock(350, 4).set_tempo(390, 8)
    narrow("bpm", hi=300)
    narrow("count_in", hi=2)
    with pytest.raises(AccompanistError, match=r"tempo 350 bpm is outside 20\.\.300"):
        check_settings(Settings(bpm=350))
    with pytest.raises(AccompanistError, match=r"count-in 4 must be 0\.\.2"):
        check_settings(Settings(count_in=4))
    with pytest.raises(ValueError, match="outside"):
        InternalClock(350, 4)
    with pytest.raises(ValueError, match="outside"):
        InternalClock(120, 4).set_tempo(310, 8)


def test_the_panels_ranges_are_the_tables(qtbot, narrow):
    from accompanist.live.settings import Settings
    from accompanist.ui.panel import Panel

    def built() -> Panel:
        panel = Panel(Settings())
        qtbot.addWidget(panel)
        return panel

    panel = built()
    assert (panel.bpm.minimum(), panel.bpm.maximum()) == (20, 400)
    assert panel.channel.maximum() == 16 and panel.sound.click_channel.maximum() == 16
    narrow("bpm", hi=300)
    narrow("max_notes", hi=8)
    narrow("channel", hi=12)
    narrow("click_channel", hi=11)
    narrow("listen_ms", hi=40.0)
    narrow("temperature", reach=2.0)
    narrow("synth_volume", hi=1.5)
    panel = built()
    assert panel.bpm.maximum() == 300 and panel.max_notes.maximum() == 8 and panel.listen.maximum() == 40
    assert panel.channel.maximum() == 12 and panel.sound.click_channel.maximum() == 11
    assert panel.temperature.maximum() == 200 and panel.sound.volume.maximum() == 150  # hundredths


def test_one_channel_conversion_and_every_limit_bounds_a_setting():
    from accompanist.live.settings import LIVE_SETTINGS, MODE_SETTINGS, Settings

    assert [channel_from_user(c) for c in (1, 16)] == [0, 15]
    assert all(channel_to_user(channel_from_user(c)) == c for c in range(1, 17))
    fields = {f.name for f in dataclasses.fields(Settings)}
    assert set(LIMITS) <= fields and LIVE_SETTINGS <= fields and MODE_SETTINGS <= LIVE_SETTINGS
    for limit in LIMITS.values():
        assert limit.lo < limit.top and limit.holds(limit.lo) and not limit.holds(float("nan"))
        assert limit.error(limit.lo - 1).startswith(limit.said)


def test_preset_keys_are_the_settings_fields_and_each_is_a_live_flag():
    from accompanist.cli import build_parser
    from accompanist.live.settings import Settings
    from accompanist.presets import NOT_IN_PRESETS, PRESET_KEYS

    hints = typing.get_type_hints(Settings)
    assert set(PRESET_KEYS) == set(hints) - NOT_IN_PRESETS
    assert PRESET_KEYS["bpm"] == (int, float) and PRESET_KEYS["max_notes"] is int and PRESET_KEYS["out"] is str
    live = build_parser()._subparsers._group_actions[0].choices["live"]
    dests = {a.dest for a in live._actions}
    assert set(PRESET_KEYS) <= dests, set(PRESET_KEYS) - dests


def test_modes_and_their_default_models_are_said_once():
    from accompanist.cli import build_parser
    from accompanist.inference.cards import load_card
    from accompanist.live.settings import DEFAULT_MODELS, MODE_FAMILY, MODES

    assert tuple(DEFAULT_MODELS) == MODES == tuple(MODE_FAMILY)
    for mode, name in DEFAULT_MODELS.items():
        assert load_card(name).family in MODE_FAMILY[mode]
    verbs = build_parser()._subparsers._group_actions[0].choices
    assert verbs["harmonize"].get_default("model") == DEFAULT_MODELS["loop"]
    assert verbs["duet"].get_default("model") == DEFAULT_MODELS["duet"]
    assert verbs["respond"].get_default("model") == DEFAULT_MODELS["respond"]
    mode = next(a for a in verbs["live"]._actions if a.dest == "mode")
    assert tuple(mode.choices) == MODES


def test_a_card_leaving_a_setting_out_takes_the_one_fallback(tmp_path):
    import json

    from accompanist.inference.cards import FALLBACKS, SHIPPED, read_card

    data = json.loads((SHIPPED / "melody-lstm" / "card.json").read_text())
    data["defaults"] = {"temperature": 2, "key_lock": None}
    (tmp_path / "card.json").write_text(json.dumps(data))
    card = read_card(tmp_path / "card.json")
    assert card.default("temperature") == 2.0 and isinstance(card.default("temperature"), float)
    assert card.default("key_lock") == FALLBACKS["key_lock"] == 0.0
    assert card.default("channel") == FALLBACKS["channel"] and card.default("max_notes") == 4
    with pytest.raises(KeyError):
        card.default("voice")  # no fallback: the card must hold it


def test_the_answers_velocity_rule():
    from accompanist.music.notes import answer_velocity

    assert answer_velocity(100) == 85 and answer_velocity(10) == 25 and answer_velocity(127) == 107
    assert answer_velocity(200) == 120 and isinstance(answer_velocity(80.5), int)


def test_the_scorecard_holds_its_figures_to_the_evals_bands():
    from accompanist.evaluation.duet_listen import outside_bands
    from accompanist.metrics.bands import DUET_BANDS, SCORECARD
    from accompanist.ui.scorecard import BANDS

    assert BANDS == {k: DUET_BANDS[k] for k in SCORECARD}
    row = {k: (lo + hi) / 2 for k, (lo, hi) in DUET_BANDS.items()}
    assert outside_bands(row) == [] and outside_bands({**row, "crossing": 0.5}) == ["crossing"]
