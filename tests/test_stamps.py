"""Arrival times from rtmidi's deltas: a late poll does not make its messages late."""

import pytest

from accompanist.live.stamps import ArrivalClock


def _play(clock: ArrivalClock, arrivals: list[float], polls: list[float]) -> list[float]:
    """Messages arriving at ``arrivals`` (true times), polled at ``polls``: the stamps."""
    out, i, last = [], 0, None
    for now in polls:
        batch = []
        while i < len(arrivals) and arrivals[i] <= now:
            batch.append(0.0 if last is None else arrivals[i] - last)
            last = arrivals[i]
            i += 1
        out += clock.stamp(batch, now)
    return out


def test_a_stalled_poll_keeps_its_messages_on_time():
    arrivals = [100.0 + 0.02 * n for n in range(200)]  # a DAW's clock at 125 bpm
    polls = [100.0 + 0.0005 * n + 0.0001 for n in range(8000)]
    stalled = [p for p in polls if not 101.0 < p < 101.008]  # 8 ms without a poll
    stamps = _play(ArrivalClock(), arrivals, stalled)
    late = [s - a for s, a in zip(stamps, arrivals, strict=True)]
    assert max(late) == pytest.approx(0.0001, abs=1e-9)
    assert min(late) >= -1e-9


def test_time_rtmidi_drops_is_followed_within_the_window():
    clock = ArrivalClock(window=1.0)
    first = clock.stamp([0.0], 10.0)
    assert first == [10.0]
    # a message 5 s later whose delta says 3 s (two seconds lost on rtmidi's side)
    assert clock.stamp([3.0], 15.0) == [13.0 + 2.0]
    # the older, tighter bound has left the window: stamps follow the poll again
    assert clock.stamp([0.5], 15.5) == [pytest.approx(15.5)]


def test_messages_of_one_poll_keep_their_spacing_and_order():
    clock = ArrivalClock()
    clock.stamp([0.0], 1.0)
    got = clock.stamp([0.25, 0.001, 0.0], 1.26)
    assert got == pytest.approx([1.25, 1.251, 1.251])
    assert clock.stamp([], 2.0) == []
