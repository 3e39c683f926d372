"""The session recorder: a standard MIDI file, rewritten as the session goes, with a tempo map that
follows the tempo as it changes."""

from __future__ import annotations

import mido
import pytest

from accompanist.errors import AccompanistError
from accompanist.live.recorder import SETTLE, TICKS_PER_BEAT, Recorder


def on(note: int, channel: int = 0) -> mido.Message:
    return mido.Message("note_on", note=note, velocity=90, channel=channel)


def off(note: int, channel: int = 0) -> mido.Message:
    return mido.Message("note_off", note=note, channel=channel)


def absolute(track: mido.MidiTrack) -> list[tuple[int, mido.Message]]:
    t, out = 0, []
    for m in track:
        t += m.time
        out.append((t, m))
    return out


def read(path) -> dict[str, list[tuple[int, mido.Message]]]:
    song = mido.MidiFile(path)
    assert song.type == 1 and song.ticks_per_beat == TICKS_PER_BEAT
    return {next(m.name for m in t if m.type == "track_name"): absolute(t) for t in song.tracks}


def test_events_land_on_ticks_through_the_tempo_map(tmp_path):
    rec = Recorder(tmp_path / "s.mid", bpm=120, start=100.0, program=48, channel=1)
    rec.played(100.5, on(60))  # one beat at 120
    rec.played(101.0, off(60))
    rec.tempo(101.0, 60)  # from beat 2 on, 60 bpm
    rec.answered(102.0, on(48, 1))  # one more beat: at 60 bpm a beat is a second
    rec.answered(103.5, off(48, 1))
    rec.played(102.0, mido.Message("pitchwheel", pitch=100))  # not kept: notes and controllers only
    rec.write()
    tracks = read(tmp_path / "s.mid")
    assert [(t, m.type) for t, m in tracks["player"] if not m.is_meta] == [(480, "note_on"), (960, "note_off")]
    answer = [(t, m.type) for t, m in tracks["accompaniment"] if not m.is_meta]
    assert answer == [(0, "program_change"), (1440, "note_on"), (2160, "note_off")]
    tempi = [(t, round(mido.tempo2bpm(m.tempo), 3)) for t, m in tracks["conductor"] if m.type == "set_tempo"]
    assert tempi == [(0, 120.0), (960, 60.0)]
    # and a reader that follows the tempo map hears them at the times they were played
    song = mido.MidiFile(tmp_path / "s.mid")
    times, now = [], 0.0
    for m in song:
        now += m.time
        if m.type == "note_on":
            times.append(round(now, 6))
    assert times == [0.5, 2.0]


def test_each_write_is_a_whole_file_and_young_events_wait_for_the_next(tmp_path):
    path = tmp_path / "s.mid"
    rec = Recorder(path, bpm=120, start=0.0, program=0, channel=0)
    rec.write()
    assert read(path)["player"][-1][1].type == "end_of_track"  # a valid file from the start
    for i in range(100):
        rec.played(i * 0.25, on(60 + i % 12))
        rec.played(i * 0.25 + 0.2, off(60 + i % 12))
    rec.write(now=25.0)  # events in the last SETTLE seconds may still have older ones behind them
    notes = [m for _, m in read(path)["player"] if m.type in ("note_on", "note_off")]
    assert len(notes) == 200 - sum(1 for i in range(100) for d in (0, 0.2) if i * 0.25 + d >= 25.0 - SETTLE)
    rec.played(24.95, off(1))  # a straggler older than what was written sounds with the last event
    rec.write()
    player = read(path)["player"]
    ticks = [t for t, m in player if not m.is_meta]
    assert len(ticks) == 201 and ticks == sorted(ticks)
    assert rec.events == 201 and rec.writes == 3


def test_a_recording_that_cannot_be_written_says_where(tmp_path):
    rec = Recorder(tmp_path / "missing" / "s.mid", bpm=120, start=0.0, program=0, channel=0)
    with pytest.raises(AccompanistError, match="cannot write the recording"):
        rec.write()


def test_a_tempo_with_a_tick_puts_that_time_exactly_there(tmp_path):
    """Following a DAW, each bar re-anchors the file at the DAW's song position: an estimate a
    little off never drifts."""
    rec = Recorder(tmp_path / "s.mid", bpm=120, start=0.0, program=0, channel=0)
    rec.tempo(2.0, 100.4, tick=1920)  # bar 2 at 2.0 s: estimated 100.4 bpm
    rec.tempo(4.39, 100.4, tick=3840)  # bar 3: where the song says, not where 100.4 would put it
    rec.played(4.39, on(60))
    rec.write()
    notes = [t for t, m in read(tmp_path / "s.mid")["player"] if m.type == "note_on"]
    assert notes == [3840]
    tempi = [
        (t, round(mido.tempo2bpm(m.tempo), 1))
        for t, m in read(tmp_path / "s.mid")["conductor"]
        if m.type == "set_tempo"
    ]
    # the file starts at the first beat's tempo (not the guess before the DAW was heard), and
    # the same tempo again is no new event
    assert tempi == [(0, 100.4)]


def test_following_a_daw_the_tempo_map_starts_at_the_tempo_it_plays(tmp_path):
    # a steady 90 bpm clock, the guess 120, the take on the file's next whole bar: the map read
    # 120 -> 143.7 -> 90.5 -> 90 (issue 22 item 17); now 90 from tick 0
    rec = Recorder(tmp_path / "s.mid", bpm=120, start=0.0, program=0, channel=0)
    beat = 60 / 90
    for i in range(8):
        rec.tempo(1.3 + i * beat, 90.0, tick=1920 + 480 * i)
    rec.played(1.3 + 2 * beat, on(60))
    rec.write()
    song = read(tmp_path / "s.mid")
    tempi = [(t, round(mido.tempo2bpm(m.tempo), 2)) for t, m in song["conductor"] if m.type == "set_tempo"]
    assert tempi == [(0, 90.0)]
    assert [t for t, m in song["player"] if m.type == "note_on"] == [1920 + 960]


def test_two_tempo_changes_for_one_step_keep_the_second(tmp_path):
    rec = Recorder(tmp_path / "s.mid", bpm=120, start=0.0, program=0, channel=0)
    rec.tempo(1.0, 100)
    rec.tempo(1.0, 90)  # a slider dragged within one step
    rec.played(1.0 + 60 / 90, on(60))  # one beat at 90
    rec.write()
    tracks = read(tmp_path / "s.mid")
    assert [t for t, m in tracks["player"] if m.type == "note_on"] == [960 + 480]
    song = mido.MidiFile(tmp_path / "s.mid")  # a player following the tempo map hears it in time
    now = 0.0
    for m in song:
        now += m.time
        if m.type == "note_on":
            assert now == pytest.approx(1.0 + 60 / 90, abs=1e-3)


def test_events_between_anchors_are_placed_by_the_true_tempo_between_them(tmp_path):
    rec = Recorder(tmp_path / "s.mid", bpm=120, start=0.0, program=0, channel=0)
    rec.tempo(1.0, 120, tick=960)  # anchors a second apart, two beats apart in the file
    rec.played(1.5, on(60))  # halfway: beat 3 exactly
    rec.played(1.75, off(60))
    rec.write(now=2.0)
    assert read(tmp_path / "s.mid")["player"][-1][1].type == "end_of_track"
    assert [t for t, m in read(tmp_path / "s.mid")["player"] if not m.is_meta] == []  # waits for an anchor
    rec.tempo(2.0, 120, tick=1920)  # the DAW really played at 120
    rec.tempo(3.0, 120, tick=2400)  # and then at 60: the second between these is one beat
    rec.played(2.5, on(62))
    rec.write(now=3.2)
    ticks = [(t, m.note) for t, m in read(tmp_path / "s.mid")["player"] if m.type == "note_on"]
    assert ticks == [(1440, 60), (2160, 62)]
    assert rec.end_tick(3.0) >= 2400


def test_a_panic_release_is_recorded_after_the_note_it_releases():
    """Sends go ``lead`` early and are recorded at their grid time; a panic's release, sent at
    once, must be recorded ``lead`` later too, or the file would hold it before its note."""
    import time

    from accompanist.live.output import Scheduler, Sink

    class Keep(Sink):
        def send(self, msg):
            pass

    recorded = []
    sched = Scheduler([Keep()], on_sent=lambda t, m: recorded.append((t, m.type)), lead=0.02)
    sched.start()
    sched.at(time.perf_counter() + 0.05, on(60))
    deadline = time.perf_counter() + 1
    while not sched.sounding and time.perf_counter() < deadline:
        time.sleep(0.001)
    sched.panic()  # the note left 20 ms before its grid time; the release leaves now
    sched.stop()
    kinds = [k for _, k in sorted(recorded)]
    assert kinds[:2] == ["note_on", "note_off"], recorded
