"""A long session, accelerated: hours of steps, notes and tempo anchors through the same code
paths a live session takes (the recorder following a DAW, the panel's roll and scorecard, the input
guard, the model worker's queue), with no clock to wait for. What grows must be what is kept on
purpose (the recording's own bytes); everything else stays within its stated bound."""

from __future__ import annotations

import tracemalloc

import mido

from accompanist.live.input_guard import InputGuard
from accompanist.live.recorder import TEMPO_MEMORY, Recorder

STEP = 0.125  # seconds a 16th at 120 bpm


def test_two_hours_following_a_daw_keep_the_recorders_memory_to_its_recording(tmp_path):
    steps = 2 * 3600 * 8
    rec = Recorder(tmp_path / "long.mid", 120.0, 0.0, 48, 1)
    tracemalloc.start()
    base = tracemalloc.take_snapshot()
    for k in range(1, steps + 1):
        t = k * STEP
        rec.tempo(t, 120.0 + (k % 7) * 0.001, tick=k * 120.0)  # the DAW's anchor at each 16th, drifting
        if k % 4 == 0:  # a note a beat from the player and a chord answer
            rec.played(t, mido.Message("note_on", note=60 + k % 12, velocity=80))
            rec.played(t + 0.1, mido.Message("note_off", note=60 + k % 12))
            for p in (48, 52, 55):
                rec.answered(t, mido.Message("note_on", channel=1, note=p, velocity=70))
                rec.answered(t + 0.12, mido.Message("note_off", channel=1, note=p))
        if k % (16 * 60) == 0:  # the encoding runs each bar live; the file is written here each minute
            rec.write(t)
    path = rec.write()
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(base, "filename"))
    tracemalloc.stop()
    # a minute of anchors and what still waits to be written (written each 2 minutes here, each
    # bar live), not 57,600
    assert len(rec._tempi) <= (TEMPO_MEMORY + 120) / STEP + 2
    recording = path.stat().st_size
    assert recording > 400_000  # two hours of notes (57,600 note-ons and offs a part), all kept
    assert grown < 2 * recording + 5_000_000, (grown, recording)  # the recording's bytes, little else
    # and the file reads back whole
    assert sum(1 for m in mido.MidiFile(path).tracks[1] if m.type == "note_on") == steps // 4


def test_a_note_played_before_a_long_daw_pause_is_placed_where_it_was_played(tmp_path):
    rec = Recorder(tmp_path / "pause.mid", 120.0, 0.0, 48, 1)
    for k in range(1, 65):  # four bars following the DAW, one anchor a 16th (120 ticks)
        rec.tempo(k * STEP, 120.0, tick=k * 120.0)
    rec.played(8.05, mido.Message("note_on", note=60, velocity=90))  # just after the last anchor
    rec.played(8.10, mido.Message("note_off", note=60))
    # the DAW stops for two minutes; the next take starts where the file has got to by then (the
    # engine's transport puts it on the next bar after the time that passed), and plays on
    resume = 128 * 120 * 8  # 120 s later at 120 bpm: 960 16ths on
    for k in range(64):
        rec.tempo(128.0 + k * STEP, 120.0, tick=resume + k * 120.0)
    path = rec.write()
    on = next(m for m in _absolute(mido.MidiFile(path).tracks[1]) if m[1].type == "note_on")
    assert on[0] == round(64 * 120 + 0.05 * 960), on  # the tick it was played at, not tick 0


def _absolute(track):
    t = 0
    for m in track:
        t += m.time
        yield t, m


def test_a_flooding_input_keeps_a_guard_of_fixed_size():
    g = InputGuard(channel=0)
    kinds = ([0xE0, 0, 64], [0xB0, 1, 5], [0x99, 36, 90], [0xF8], [0x90, 60, 90], [0x80, 60, 0])
    for i in range(600_000):  # a minute at 10,000 messages a second
        g.admit(kinds[i % len(kinds)], i / 10_000)
    assert len(g.ignored) + len(g.dropped) <= 8  # counters by kind, nothing kept per message


def test_the_model_workers_queue_never_makes_the_clock_wait():
    from accompanist.live.settings import Stats
    from accompanist.live.work import WORK_QUEUE, Closed, Listen, Release, WorkQueue

    stats = Stats()
    work = WorkQueue(on_drop=lambda: setattr(stats, "missed", stats.missed + 1))  # nobody takes the work
    work.give(Release(restart=True))  # a DAW's Start: never dropped, however far behind
    for k in range(1000):
        work.give(Listen(0, k, k, None, 0.0))
        work.give(Closed(0, k, k, None, 0.0))
    items = [work.get() for _ in range(work.qsize())]
    assert len(items) == WORK_QUEUE and stats.missed == 2001 - WORK_QUEUE
    assert items[0] == Release(restart=True)  # the answers went first, then the oldest steps
    assert all(type(w) is Closed for w in items[1:])
    assert [w.k for w in items[1:]] == list(range(1000 - WORK_QUEUE + 1, 1000))


def test_an_hour_on_the_panels_roll_keeps_what_its_window_shows(qtbot):
    from accompanist.ui.piano_roll import PianoRoll

    roll = PianoRoll()
    qtbot.addWidget(roll)
    for k in range(3600 * 8):
        at = k * STEP
        roll.feed({"type": "step", "step": k, "at": at, "seconds": STEP})
        if k % 2 == 0:
            roll.feed({"type": "note_in", "note": 60 + k % 12, "velocity": 80, "t": at})
            roll.feed({"type": "note_out", "note": 48 + k % 5, "velocity": 70, "t": at})
        else:
            roll.feed({"type": "note_in", "note": 60 + (k - 1) % 12, "velocity": 0, "t": at})
            roll.feed({"type": "note_out", "note": 48 + (k - 1) % 5, "velocity": 0, "t": at})
    m = roll.model
    shown = m.bars * m.steps_per_bar + 1
    assert len(m.player) <= shown and len(m.answer) <= shown  # what scrolled away is gone
    assert len(roll.scene.items()) < 400, len(roll.scene.items())  # and so are its items
