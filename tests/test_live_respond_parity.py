"""Every melody model answers a call live, through real JACK ports, exactly as `accompanist
respond` answers the same call offline with the same seed: the same notes on the same steps."""

from __future__ import annotations

import time

import mido
import pytest
from helpers import TINY_LM, TINY_MELODY, TINY_NOTES, TINY_RL, TINY_VRASH, write_melody
from jack_rig import METRONOME_CHANNEL, Rig, sleep_to

from accompanist.offline.respond_file import respond_file

BAR = 16
#: two bars of quarters, each key let go a 16th early, as a keyboard player plays them
CALL = (67, 71, 74, 72, 71, 69, 67, 66)


def offline_answer(tmp_path, model: str) -> list[tuple[int, int]]:
    """(step from the answer's bar line, pitch) of each note `respond` writes for the call."""
    notes = [x for p in CALL for x in ((p, 3), (None, 1))]
    src = write_melody(tmp_path / "call.mid", notes)
    r = respond_file(src, tmp_path / "answered.mid", model=model, seed=0)
    assert r.answer_bar == 3
    song = mido.MidiFile(tmp_path / "answered.mid")
    track = next(t for t in song.tracks if any(m.type == "track_name" and m.name == "answer" for m in t))
    out, tick = [], 0
    for m in track:
        tick += m.time
        if m.type == "note_on" and m.velocity:
            out.append((round(tick / (song.ticks_per_beat / 4)) - 2 * BAR, m.note))
    return out


def live_answer(tmp_path, model: str) -> list[tuple[int, int]]:
    """The same call played live (the player says it is over in its last bar, as `e` does), and
    the answer as it left the engine's port."""
    rig = Rig(tmp_path, mode="respond", model=model, seed=0, answer_bars=2)
    clock = rig.engine.clock
    try:
        bar0 = (clock.step_at(time.perf_counter()) // BAR + 1) * BAR
        for i, note in enumerate(CALL):
            sleep_to(clock.boundary(bar0 + 4 * i))
            rig.player.send(mido.Message("note_on", note=note, velocity=90))
            sleep_to(clock.boundary(bar0 + 4 * i + 3))
            rig.player.send(mido.Message("note_off", note=note, velocity=0))
            if i == len(CALL) - 1:
                rig.engine.end_call()
        sleep_to(clock.boundary(bar0 + 4 * BAR) + 0.1)
    finally:
        rig.stop()
    start = bar0 + 2 * BAR
    ch = rig.engine.settings.channel
    out = []
    for t, m in rig.sent_at:
        if m.type == "note_on" and m.velocity and m.channel == ch and m.channel != METRONOME_CHANNEL:
            k = round((t - clock.boundary(0)) / clock.step_seconds)
            if k >= start:
                out.append((k - start, m.note))
    return out


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
@pytest.mark.parametrize("model", [TINY_MELODY, TINY_VRASH, TINY_LM, TINY_NOTES, TINY_RL])
def test_every_melody_model_answers_live_as_it_does_offline(tmp_path, model):
    offline = offline_answer(tmp_path, model)
    live = live_answer(tmp_path, model)
    assert offline, "no answer offline"
    assert live == offline
