"""Respond mode: the call's end (a silent bar, the length limit, the player's key), the answer's
place (from the next bar line, as long as the call), through real JACK ports too."""

from __future__ import annotations

import time

import mido
import numpy as np
import pytest
from helpers import TINY_MELODY, TINY_VRASH
from jack_rig import Rig, no_stuck_notes, on_grid, sleep_to

from accompanist.inference.cards import read_card
from accompanist.inference.sampling_config import sampling_of
from accompanist.live.respond_mode import RespondMode
from accompanist.music import roll

BAR = 16


def quarter_notes(bars: int, pitches=(67, 71, 74, 72)) -> list[np.ndarray]:
    """Roll steps of quarter notes, each held three 16ths."""
    steps = []
    for i in range(bars * BAR):
        s = roll.empty(1)[0]
        if i % 4 < 3:
            p = pitches[(i // 4) % len(pitches)] - roll.PITCH_LO
            s[roll.FRAME, p] = 1
            s[roll.ONSET, p] = i % 4 == 0
        steps.append(s)
    return steps


def silence(bars: int) -> list[np.ndarray]:
    return [roll.empty(1)[0] for _ in range(bars * BAR)]


@pytest.fixture
def respond(tiny_models):
    def make(**kw):
        card = read_card(tiny_models / TINY_MELODY / "card.json")
        given = {k: kw.pop(k) for k in ("key_lock", "variation") if k in kw}
        return RespondMode(card, sampling_of(card, temperature=1.0, **given), BAR, np.random.default_rng(0), **kw)

    return make


def feed(mode, steps, first: int = 0) -> dict[int, dict]:
    """Hear each step; the answers given, by the bar line they start on."""
    out = {}
    for i, s in enumerate(steps):
        got = mode.hear(first + i, s)
        if got is not None:
            out[first + i + 1] = got
    return out


def play_out(mode, first: int) -> int:
    """Play the answer out as the engine does: each step's close, then the next step taken;
    the number of steps the answer lasted."""
    steps = 0
    index = first
    while mode.answering:
        mode.next_step()
        steps += 1
        mode.hear(index, roll.empty(1)[0])
        index += 1
        assert steps <= 64 * BAR
    return steps


def test_a_call_ends_after_a_silent_bar_and_is_answered_for_as_long(respond):
    mode = respond()
    got = feed(mode, silence(1) + quarter_notes(2) + silence(1))
    assert list(got) == [4 * BAR] and got[4 * BAR]["call_bars"] == 2 and got[4 * BAR]["answer_bars"] == 2
    assert len(mode.queue) == BAR  # made a bar at a time, the first at the call's end
    assert play_out(mode, 4 * BAR) == 2 * BAR  # the answer's steps, from that bar line on
    assert not mode.answering and not mode.next_step().any()


def test_a_long_answer_is_made_a_bar_ahead_and_never_more(respond):
    mode = respond(answer_bars=16)
    feed(mode, quarter_notes(1) + silence(1))
    most, index = 0, 2 * BAR
    while mode.answering:
        mode.next_step()
        mode.hear(index, roll.empty(1)[0])
        most = max(most, len(mode.queue))
        index += 1
    assert index - 2 * BAR == 16 * BAR and most <= 2 * BAR


def test_silence_is_no_call(respond):
    mode = respond()
    assert feed(mode, silence(6)) == {} and not mode.answering


def test_a_long_call_is_answered_at_its_limit_and_the_player_goes_on(respond):
    mode = respond(max_bars=3, answer_bars=1)
    got = feed(mode, quarter_notes(7))
    # answered at bars 3 and 6; what is played after a limit is the next call
    assert sorted(got) == [3 * BAR, 6 * BAR]
    assert all(g["answer_bars"] == 1 for g in got.values())


def test_the_player_can_end_the_call_at_the_next_bar_line(respond):
    mode = respond()
    assert feed(mode, quarter_notes(1)[:10]) == {}
    mode.end_call()
    got = feed(mode, quarter_notes(1)[10:], first=10)
    assert list(got) == [BAR] and got[BAR]["call_bars"] == 1


def test_a_call_in_three_four_is_answered_from_a_three_four_bar_line(tiny_models):
    card = read_card(tiny_models / TINY_MELODY / "card.json")
    waltz = 12  # steps in a 3/4 bar of 16ths (live: --beats-per-bar 3)
    mode = RespondMode(card, sampling_of(card, temperature=1.0), waltz, np.random.default_rng(0))
    call = [s for i, s in enumerate(quarter_notes(2)) if i % BAR < waltz][: 2 * waltz]  # two bars of three
    got = feed(mode, [roll.empty(1)[0]] * waltz + call + [roll.empty(1)[0]] * waltz)
    assert list(got) == [4 * waltz] and got[4 * waltz]["call_bars"] == 2
    assert play_out(mode, 4 * waltz) == 2 * waltz


def heard_notes(rig, start: float) -> list[tuple[float, mido.Message]]:
    return [(t, m) for t, m in rig.sent_at if t >= start and m.type == "note_on" and m.velocity > 0]


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_respond_mode_answers_a_call_from_the_next_bar_line_through_jack(tmp_path):
    rig = Rig(tmp_path, mode="respond", model=TINY_MELODY, key_lock=50.0)
    clock = rig.engine.clock
    try:
        bar0 = (clock.step_at(time.perf_counter()) // BAR + 1) * BAR
        notes = (67, 71, 74, 72, 71, 69, 67, 66)  # G major, two bars of quarters
        for i, note in enumerate(notes):
            sleep_to(clock.boundary(bar0 + 4 * i))
            rig.player.send(mido.Message("note_on", note=note, velocity=90))
            sleep_to(clock.boundary(bar0 + 4 * i + 3))
            rig.player.send(mido.Message("note_off", note=note, velocity=0))
        sleep_to(clock.boundary(bar0 + 6 * BAR) + 0.1)  # a silent bar, then the two-bar answer
    finally:
        heard = rig.stop()
    answer = heard_notes(rig, clock.boundary(bar0))
    assert answer, "no answer"
    steps = [round((t - clock.boundary(0)) / clock.step_seconds) for t, _ in answer]
    assert min(steps) >= bar0 + 3 * BAR and max(steps) < bar0 + 5 * BAR, (steps, bar0)
    on_grid(rig, heard)
    g_major = {7, 9, 11, 0, 2, 4, 6}
    assert np.mean([m.note % 12 in g_major for _, m in answer]) >= 0.9
    no_stuck_notes(rig.sent)
    names = [t.name for t in mido.MidiFile(tmp_path / "session.mid").tracks]
    assert names == ["conductor", "player", "answer"]  # as `accompanist respond` names its tracks


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_a_model_switch_while_answering_releases_and_the_next_call_is_answered(tmp_path):
    rig = Rig(tmp_path, mode="respond", model=TINY_MELODY, answer_bars=4)
    clock = rig.engine.clock
    events = rig.events
    try:
        bar0 = (clock.step_at(time.perf_counter()) // BAR + 1) * BAR
        for i in range(4):
            sleep_to(clock.boundary(bar0 + 4 * i))
            rig.player.send(mido.Message("note_on", note=64 + i, velocity=90))
            sleep_to(clock.boundary(bar0 + 4 * i + 2))
            rig.player.send(mido.Message("note_off", note=64 + i, velocity=0))
        sleep_to(clock.boundary(bar0 + 3 * BAR))  # answering now, for four bars
        rig.engine.set(model=TINY_VRASH)
        bar1 = bar0 + 4 * BAR
        for i in range(4):
            sleep_to(clock.boundary(bar1 + 4 * i))
            rig.player.send(mido.Message("note_on", note=60 + i, velocity=90))
            sleep_to(clock.boundary(bar1 + 4 * i + 2))
            rig.player.send(mido.Message("note_off", note=60 + i, velocity=0))
        sleep_to(clock.boundary(bar1 + 3 * BAR) + 0.1)
    finally:
        rig.stop()
    kinds = []
    while not events.empty():
        kinds.append(events.get())
    responses = [e for e in kinds if e["type"] == "response"]
    assert len(responses) == 2, responses  # one for each call, the second by the new model
    assert rig.engine.card.name == TINY_VRASH
    no_stuck_notes(rig.sent)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"call_bars": 0}, "call-bars 0 must be 1..16"),
        ({"answer_bars": 40}, "answer-bars 40 must be 1..16"),
        ({"variation": -1.0}, "variation -1 must be 0..4"),
        ({"mode": "respond", "model": "tiny-duet"}, "respond mode runs melody or vrash or rl models"),
    ],
)
def test_respond_settings_are_checked_in_one_line(use_tiny_models, change, words):
    from accompanist.errors import AccompanistError
    from accompanist.live.settings import Settings, card_for, check_settings

    s = Settings(**{"mode": "respond", **{k: v for k, v in change.items() if k != "model"}})
    with pytest.raises(AccompanistError, match=words):
        check_settings(s)
        card_for(s.mode, change.get("model"))


def test_a_key_let_go_a_16th_early_is_no_rest_in_the_call():
    from accompanist.music.melody_line import legato
    from accompanist.music.tokens import HOLD, REST

    played = [67, HOLD, HOLD, REST, 71, REST, 74, REST, REST, 72, REST, REST, REST]
    assert legato(np.array(played)).tolist() == [
        67, HOLD, HOLD, HOLD, 71, HOLD, 74, REST, REST, 72, REST, REST, REST,
    ]  # fmt: skip


def test_the_rl_tuner_answers_a_detached_call_on_the_8ths_as_a_legato_one():
    # a keyboard player lifts each key before the next strike: read as rests, the RL tuner put
    # every answer note on the 16th after the 8th (live), where the same call written legato
    # (a file) was answered on them
    from accompanist.inference.cards import load_card

    card = load_card("rl-tuner")
    odd = []
    for seed in range(4):
        mode = RespondMode(card, sampling_of(card), BAR, np.random.default_rng(seed))
        detached = [s.copy() for s in quarter_notes(2)]  # each quarter held three 16ths
        for i, s in enumerate(detached + silence(4)):
            mode.hear(i, s)
            step = mode.next_step()
            odd += [i % 2 == 0] * int(step[roll.ONSET].any())  # the step after i sounds at i + 1
    assert len(odd) > 20 and np.mean(odd) < 0.1


def held_on(steps: list[np.ndarray], pitch: int = 66) -> list[np.ndarray]:
    """The steps with ``pitch`` sounding on and on after them (its release lost on the way)."""
    out = [s.copy() for s in steps]
    p = pitch - roll.PITCH_LO
    for s in out[-4:]:
        s[roll.FRAME, p] = 1
    return out


def test_a_call_whose_last_release_was_lost_ends_a_bar_after_its_last_strike(respond):
    mode = respond()
    call = quarter_notes(2, pitches=(67, 71, 74, 66))  # its last note, 66, never let go:
    ringing = [s.copy() for s in silence(9)]
    for s in ringing:
        s[roll.FRAME, 66 - roll.PITCH_LO] = 1
    got = feed(mode, held_on(call) + ringing)
    # the bar after the call had no strike: answered from bar 4 (step 48) for the two bars struck,
    # not held open to the 8-bar limit
    assert next(iter(got)) == 3 * BAR and got[3 * BAR]["call_bars"] == 2


def test_an_open_call_says_its_bar_each_bar(respond):
    mode = respond(max_bars=8)
    said = []
    for i, s in enumerate(quarter_notes(3) + silence(2)):
        r = mode.closed(i, i, i % BAR, s, roll.empty(1)[0])
        if r.say is not None:
            said.append(r.say)
    calls = [d for kind, d in said if kind == "call"]
    assert [c["bar"] for c in calls] == [2, 3, 4] and all(c["of"] == 8 for c in calls)
    assert [kind for kind, _ in said][-1] == "response"
    from accompanist.live.terminal import describe

    assert describe({"type": "call", **calls[0]}) == "call: bar 2 of at most 8"


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_a_call_played_with_the_pedal_held_down_ends_on_silence_and_the_panel_says_its_bar(tmp_path, qtbot):
    from accompanist.ui.where import WhereAmI

    rig = Rig(tmp_path, mode="respond", model=TINY_MELODY)
    clock = rig.engine.clock
    try:
        bar0 = (clock.step_at(time.perf_counter()) // BAR + 1) * BAR
        sleep_to(clock.boundary(bar0) - 0.05)
        rig.player.send(mido.Message("control_change", control=64, value=127))  # and never let up
        for i, note in enumerate((67, 71, 74, 72, 71, 69, 67, 66)):
            sleep_to(clock.boundary(bar0 + 4 * i))
            rig.player.send(mido.Message("note_on", note=note, velocity=90))
            sleep_to(clock.boundary(bar0 + 4 * i + 3))
            rig.player.send(mido.Message("note_off", note=note, velocity=0))
        sleep_to(clock.boundary(bar0 + 5 * BAR) + 0.1)
    finally:
        rig.stop()
    events = []
    while not rig.events.empty():
        events.append(rig.events.get())
    responses = [e for e in events if e["type"] == "response"]
    assert responses and responses[0]["step"] == bar0 + 3 * BAR and responses[0]["call_bars"] == 2
    assert [e["bar"] for e in events if e["type"] == "call"][:2] == [2, 3]
    where = WhereAmI()
    qtbot.addWidget(where)  # (owned and closed by qtbot: its beat light's timer goes with it)
    where.begin(4, 4, 0, "internal", "respond")
    for e in events:
        where.feed(e)
        if e["type"] == "call" and e["bar"] == 3:
            where.feed({"type": "step", "step": e["step"]})
            assert "call: bar 3 of at most 8" in where.place.text()
    assert "call:" not in where.place.text()  # answered: no call open
    where._off.stop()
