"""A flooded input through real JACK ports: another client sends 10,000 messages a second
into the engine's input while the player plays; the answers stay on the grid, nothing the player
ends is lost, and the guard says what it ignored and dropped."""

from __future__ import annotations

import pytest
from helpers import TINY_DUET_LISTEN

from accompanist.bench.flood_bench import flood_run


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_a_flood_at_the_input_is_ignored_and_the_answers_keep_time():
    r = flood_run(10_000, 4.0, model=TINY_DUET_LISTEN)
    assert r["flood_sent"] >= 36_000  # the flood ran
    # bends, pressure, aftertouch, the drum pad on channel 10 and clock ticks: never decoded
    ignored = r["input_ignored"]
    assert {"pitchwheel", "aftertouch", "polytouch", "other_channel", "clock"} <= set(ignored)
    assert sum(ignored.values()) >= 0.6 * r["flood_sent"]
    # the mod wheel on the player's channel is read at most 1,000 a second, the rest dropped
    assert r["input_dropped"].get("control_change", 0) > 0 and "note_on" not in r["input_dropped"]
    assert r["player_note_offs_heard"] == r["player_note_offs_sent"] > 0  # no note the player ended is lost
    assert r["output_error"]["n"] > 0, "no answer"
    # on the grid within a quarter of a step (how close: bench live --flood measures it)
    assert r["output_error"]["p99_ms"] < 31.25
    assert r["missed_deadlines"] <= 0.02 * r["steps"]
