"""The input guard: what a flood at the input port costs, and what it may never lose."""

from __future__ import annotations

from accompanist.live.input_guard import InputGuard
from accompanist.live.ports import MidiDecoder


def flood(guard: InputGuard, data: list[int], n: int, seconds: float, start: float = 0.0) -> int:
    """``n`` copies of one raw message spread over ``seconds`` from ``start``; how many were let in."""
    return sum(guard.admit(data, start + i * seconds / n) for i in range(n))


def test_kinds_the_engine_never_reads_are_ignored_and_counted():
    g = InputGuard()
    for data in ([0xE0, 0, 64], [0xD3, 90], [0xA0, 60, 10], [0xF8], [0xFA], [0xF1, 3], [0xFE]):
        assert not g.admit(data, 0.0), data
    assert g.ignored == {
        "pitchwheel": 1,
        "aftertouch": 1,
        "polytouch": 1,
        "clock": 1,
        "start": 1,
        "system": 2,
    }
    assert not g.dropped
    # a program change may pick a mode or a model (a control): read, up to its rate
    assert flood(g, [0xC0, 5], 1000, 1.0) <= 210 and g.dropped["program_change"] >= 790


def test_clock_and_transport_pass_when_following_a_daw_up_to_their_rate():
    g = InputGuard(follow_clock=True)
    assert g.admit([0xFA], 0.0) and g.admit([0xF2, 0, 0], 0.0)
    assert flood(g, [0xF8], 1200, 1.0) >= 1100  # a DAW's 120 ticks a second pass many times over
    # a burst of 10,000 in the next second: the rate passes, and what the bucket had saved (< 1 s worth)
    burst = flood(g, [0xF8], 10_000, 1.0, start=1.0)
    assert 1000 <= burst <= 2000 and g.dropped["clock"] == 10_000 - burst
    # a tick flood never takes the DAW's Stop, Start or Song Position with it
    assert g.admit([0xFC], 2.0) and g.admit([0xFA], 2.0) and g.admit([0xF2, 0, 0], 2.0)


def test_note_ons_over_their_rate_are_dropped_but_no_note_off_ever_is():
    g = InputGuard()
    ons = flood(g, [0x90, 60, 100], 50_000, 1.0)
    assert 1000 <= ons <= 2100  # a second's worth at once, then the rate
    assert g.dropped["note_on"] == 50_000 - ons
    assert flood(g, [0x80, 60, 0], 50_000, 1.0, start=1.0) == 50_000
    assert flood(g, [0x90, 60, 0], 50_000, 1.0, start=2.0) == 50_000  # a note-on of velocity 0 ends a note too


def test_control_changes_pass_at_a_hands_speed_and_are_capped_in_a_flood():
    g = InputGuard()
    assert flood(g, [0xB0, 1, 64], 200, 1.0) == 200  # a fast mod-wheel sweep
    assert flood(g, [0xB0, 1, 5], 20_000, 1.0, start=1.0) < 2100
    # with the bucket empty, a pedal let up (it ends the notes it held) and All Notes Off still pass
    assert g.admit([0xB0, 64, 0], 2.0) and g.admit([0xB0, 123, 0], 2.0) and g.admit([0xB0, 66, 0], 2.0)


def test_with_an_input_channel_other_channels_are_ignored_before_decoding():
    g = InputGuard(channel=0)
    assert g.admit([0x90, 60, 100], 0.0) and g.admit([0x80, 60, 0], 0.0)
    assert not g.admit([0x99, 36, 100], 0.0) and not g.admit([0x89, 36, 0], 0.0)
    assert g.ignored["other_channel"] == 2


def test_a_packet_that_is_not_one_whole_message_is_always_decoded():
    g = InputGuard()
    assert g.admit([0xE0, 0, 64, 0x80, 60, 0], 0.0)  # a bend and a note-off in one packet
    assert g.admit([60, 0], 0.0)  # running status: only the decoder knows its kind
    assert not g.admit([], 0.0)


def test_running_status_stays_right_across_a_message_the_guard_skipped():
    d = MidiDecoder()
    d.decode([0x90, 60, 100])
    d.passed(0xE0)  # a pitch bend went by undecoded: data bytes after it are bends, not notes
    assert [m.type for m in d.decode([0, 64])] == ["pitchwheel"]
    d.passed(0x80)
    assert d.decode([61, 0])[0].type == "note_off"
