"""The accompanist played from the instrument: the control map alone, then pads, knobs, a pedal
and program changes sent through real JACK ports to a running engine."""

from __future__ import annotations

import time

import mido
import pytest
from helpers import TINY_BI, assert_clean_error, run_cli
from jack_rig import Rig, drain, no_stuck_notes, sleep_to, wait_for

from accompanist.errors import AccompanistError
from accompanist.live.control_actions import knob_value
from accompanist.live.controls import Control, ControlMap, parse_control
from accompanist.live.tap_tempo import TapTempo
from accompanist.live.terminal import key_action


def test_a_map_is_read_and_a_clash_or_an_unknown_action_is_refused_in_one_line():
    m = ControlMap.parse(["temperature=cc:21", "panic=note:36@10", "mode=pc", "tap=cc:64@1"])
    assert m.texts == ["temperature=cc:21", "panic=note:36@10", "mode=pc", "tap=cc:64@1"]
    assert m.find("cc", 21, 4).action == "temperature"
    assert m.find("note", 36, 9).action == "panic" and m.find("note", 36, 0) is None  # @10 is channel 9
    assert m.find("pc", None, 3).action == "mode"
    for bad, said in (
        (["tempo=cc:1"], "no action 'tempo'"),
        (["panic=note:36", "clear=note:36@2"], "both take note 36 on channel 2"),
        (["temperature=note:3"], "temperature is a knob"),
        (["panic=pc"], "a program change picks a mode or a model"),
        (["panic=cc:128"], "SPEC is cc:N"),
        (["panic=cc:1@17"], "the channel is 1-16"),
        (["panic"], "write ACTION=SPEC"),
    ):
        with pytest.raises(AccompanistError, match=said) as exc:
            ControlMap.parse(bad)
        assert "\n" not in str(exc.value)


def test_learning_replaces_the_actions_own_mapping_and_any_on_the_same_message():
    m = ControlMap.parse(["temperature=cc:21", "panic=note:36"])
    m = m.learned(Control("refresh", "note", 36))  # the pad that was panic is now refresh
    assert m.texts == ["temperature=cc:21", "refresh=note:36"]
    m = m.learned(parse_control("temperature=cc:22"))
    assert m.texts == ["refresh=note:36", "temperature=cc:22"]
    assert m.without("refresh").texts == ["temperature=cc:22"]


def test_a_knob_spans_the_settings_range_and_taps_make_a_tempo():
    assert knob_value("temperature", 0) == 0.0 and knob_value("temperature", 127) == 3.0  # the slider's reach
    assert knob_value("variation", 127) == 4.0
    taps = TapTempo()
    assert taps.tap(10.0) is None
    bpm = [taps.tap(t) for t in (10.6, 11.2, 11.83, 12.4)][-1]  # one tap a little late: the median holds
    assert bpm == pytest.approx(100, abs=1)
    assert taps.tap(20.0) is None  # a long pause: a new count


def send(rig: Rig, *msgs: mido.Message, gap: float = 0.03) -> None:
    for m in msgs:
        rig.player.send(m)
        time.sleep(gap)


def pad(note: int, channel: int = 0) -> list[mido.Message]:
    return [
        mido.Message("note_on", note=note, velocity=100, channel=channel),
        mido.Message("note_off", note=note, channel=channel),
    ]


PADS = {"lock": 36, "refresh": 37, "clear": 38, "panic": 39, "start_stop": 40, "tap": 41}


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_each_action_moves_the_engine_as_its_terminal_key_does(tmp_path):
    controls = [f"{a}=note:{n}" for a, n in PADS.items()] + ["temperature=cc:21", "model=pc", "mode=cc:80"]
    rig = Rig(tmp_path, mode="loop", model=TINY_BI, bars=1, controls=controls, clock="player", bpm=100)
    engine, events = rig.engine, rig.events
    try:
        send(rig, *pad(PADS["lock"]))
        assert wait_for(events, lambda e: e["type"] == "lock", 2)["on"] and engine.locked
        assert key_action(engine, "l") is None and not engine.locked  # the key undoes what the pad did
        for action in ("refresh", "clear", "panic"):
            send(rig, *pad(PADS[action]))
            wait_for(events, lambda e, a=action: e["type"] == a, 2)
        send(rig, *pad(PADS["start_stop"]))
        assert wait_for(events, lambda e: e["type"] == "paused", 2)["on"] and engine.paused
        key_action(engine, " ")
        assert not engine.paused
        steps = 60 / 96 / 4 * 4  # a beat at 96 bpm
        for i in range(4):
            sleep_to(time.perf_counter() + (steps if i else 0))
            send(rig, *pad(PADS["tap"]), gap=0)
        wait_for(events, lambda e: e["type"] == "settings" and "bpm" in e, 2)
        assert engine.settings.bpm == pytest.approx(96, abs=2)
        # a knob: the latest value of a turn is the temperature
        send(rig, *(mido.Message("control_change", control=21, value=v) for v in (10, 40, 127)), gap=0.002)
        time.sleep(0.3)
        assert engine.temperature == 3.0
        send(rig, mido.Message("control_change", control=21, value=0))
        time.sleep(0.3)
        assert engine.temperature == 0.0
        # a program change picks the model; a button steps through the modes
        send(rig, mido.Message("program_change", program=99))
        said = wait_for(events, lambda e: e["type"] == "control", 2)["said"]
        assert "program change 99 picks no model" in said and engine.card.name == TINY_BI
        send(
            rig,
            mido.Message("control_change", control=80, value=127),
            mido.Message("control_change", control=80, value=0),
        )
        wait_for(events, lambda e: e["type"] == "settings" and e.get("mode") == "respond", 10)  # loop -> respond
    finally:
        rig.stop()
    no_stuck_notes(rig.sent)


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_a_mapped_pad_never_reaches_the_players_track_and_the_pedal_keeps_its_meaning(tmp_path):
    rig = Rig(tmp_path, mode="loop", model=TINY_BI, bars=1, controls=["panic=note:36", "tap=cc:67"])
    try:
        clock = rig.engine.clock
        k = clock.step_at(time.perf_counter()) + 2
        for i, note in enumerate((60, 62, 64, 65)):
            sleep_to(clock.boundary(k + 4 * i))
            send(rig, mido.Message("note_on", note=note, velocity=90), gap=0)
            send(rig, *pad(36), gap=0.005)  # a pad struck with each note
            send(rig, mido.Message("control_change", control=64, value=127), gap=0)  # the sustain pedal
            send(rig, mido.Message("control_change", control=67, value=127), gap=0)  # the soft pedal: mapped
            sleep_to(clock.boundary(k + 4 * i + 3))
            send(rig, mido.Message("note_off", note=note), mido.Message("control_change", control=64, value=0), gap=0)
        time.sleep(0.3)
    finally:
        rig.stop()
    events = drain(rig.events)
    assert [e["note"] for e in events if e["type"] == "note_in" and e["velocity"]] == [60, 62, 64, 65]
    assert sum(1 for e in events if e["type"] == "panic") >= 4
    song = mido.MidiFile(tmp_path / "session.mid")
    player = next(t for t in song.tracks if any(m.type == "track_name" and m.name == "player" for m in t))
    assert [m.note for m in player if m.type == "note_on" and m.velocity] == [60, 62, 64, 65]
    pedals = {m.control for m in player if m.type == "control_change"}
    assert 64 in pedals and 67 not in pedals  # the sustain pedal is the player's; the mapped one is not


def test_a_bad_map_on_the_command_line_is_one_line_and_a_non_zero_exit():
    for args, said in (
        (["--control", "tempo=cc:1"], "no action 'tempo'"),
        (["--control", "panic=note:36", "--control", "clear=note:36"], "both take note 36"),
    ):
        assert_clean_error(run_cli("live", *args, "--api", "jack"), said)


def test_a_preset_stores_and_restores_the_map(tmp_path, monkeypatch):
    from accompanist.live.settings import Settings
    from accompanist.presets import load_preset, save_preset, settings_to_preset

    monkeypatch.setenv("ACCOMPANIST_PRESETS", str(tmp_path))
    s = Settings(mode="loop", controls=["temperature=cc:21", "lock=note:36@10"])
    save_preset("pads", "with pads", settings_to_preset(s))
    assert load_preset("pads").settings["controls"] == ["temperature=cc:21", "lock=note:36@10"]
    (tmp_path / "bad.json").write_text('{"settings": {"controls": ["lock=note:36", "panic=note:36"]}}')
    with pytest.raises(AccompanistError, match="both take note 36"):
        load_preset("bad")


def test_a_knob_swept_is_acted_on_a_few_times_and_ends_where_it_rests():
    import threading

    from accompanist.live.control_input import KNOB_EVERY, ControlInput
    from accompanist.live.settings import Settings

    s = Settings(controls=["temperature=cc:74", "panic=note:36"])
    inp = ControlInput(lambda: s, lambda line: None)
    acted: list[tuple[str, int | None]] = []
    running = threading.Event()
    running.set()
    serve = threading.Thread(target=inp.serve, args=(running, lambda c, v: acted.append((c.action, v)), print))
    serve.start()
    try:
        for v in range(64, 128, 8):  # eight values in 80 ms
            assert inp.take(mido.Message("control_change", control=74, value=v))
            time.sleep(0.01)
        inp.take(mido.Message("note_on", note=36, velocity=100))  # a pad meanwhile: at once
        time.sleep(3 * KNOB_EVERY)
    finally:
        running.clear()
        serve.join(1)
    knob = [v for a, v in acted if a == "temperature"]
    assert knob[0] == 64 and knob[-1] == 120 and len(knob) <= 3
    order = [a for a, _ in acted]
    assert "panic" in order and order.index("panic") < len(order) - 1  # before the knob came to rest
