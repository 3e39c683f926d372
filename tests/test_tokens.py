"""The 130-token grid: MIDI files through mido to tokens and back, quantisation reports, transforms."""

from __future__ import annotations

import mido
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accompanist.music.midi_io import Part, note_events, read_midi, write_midi
from accompanist.music.notes import Note, notes_to_tokens, tokens_to_notes
from accompanist.music.tokens import (
    HOLD,
    REST,
    STEPS_PER_BEAT,
    invert,
    onsets,
    pitch_range,
    sounding_pitches,
    transpose,
    window_at,
)

TICKS_PER_BEAT = (96, 120, 480, 960)


@st.composite
def grid_melodies(draw):
    """Non-overlapping on-grid notes as (pitch, start step, end step), plus a file resolution."""
    tpb = draw(st.sampled_from(TICKS_PER_BEAT))
    n = draw(st.integers(0, 25))
    notes, t = [], 0
    for _ in range(n):
        t += draw(st.integers(0, 9))  # 0: the next note starts as the last one ends (a re-strike if same pitch)
        length = draw(st.integers(1, 17))
        notes.append((draw(st.integers(0, 127)), t, t + length, draw(st.integers(1, 127))))
        t += length
    return tpb, notes, draw(st.booleans()), draw(st.integers(0, 15))


def write_file(path, tpb: int, notes, offs_as_note_on: bool, channel: int) -> None:
    """Write notes given in steps as a type-0 file, note offs before note ons at the same tick."""
    step = tpb // STEPS_PER_BEAT
    events = []
    for pitch, s, e, vel in notes:
        events.append((s * step, 1, mido.Message("note_on", note=pitch, velocity=vel, channel=channel)))
        off = (
            mido.Message("note_on", note=pitch, velocity=0, channel=channel)
            if offs_as_note_on
            else mido.Message("note_off", note=pitch, velocity=0, channel=channel)
        )
        events.append((e * step, 0, off))
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=600000, time=0)])
    now = 0
    for t, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=t - now))
        now = t
    mf = mido.MidiFile(type=0, ticks_per_beat=tpb)
    mf.tracks.append(track)
    mf.save(path)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("tokens")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(grid_melodies())
def test_on_grid_melodies_survive_midi_file_and_tokens(scratch, case):
    tpb, notes, offs_as_note_on, channel = case
    path = scratch / "melody.mid"
    write_file(path, tpb, notes, offs_as_note_on, channel)
    step = tpb // STEPS_PER_BEAT
    want = [(p, s * step, e * step) for p, s, e, _ in notes]

    song = read_midi(path)
    assert song.ticks_per_beat == tpb
    (track,) = song.tracks
    assert [(n.pitch, n.start, n.end) for n in track.notes] == want
    assert [(n.velocity, n.channel) for n in track.notes] == [(v, channel) for *_, v in notes]

    tokens, report = notes_to_tokens(track.notes, tpb / STEPS_PER_BEAT)
    assert (report.notes_in, report.snapped, report.chord_notes_dropped, report.overlaps_cut) == (len(notes), 0, 0, 0)
    assert report.warnings == []
    assert len(tokens) == (notes[-1][2] if notes else 0)
    assert tokens.min(initial=0) >= 0 and tokens.max(initial=0) <= HOLD
    assert int(onsets(tokens).sum()) == len(notes)

    back = tokens_to_notes(tokens, tpb / STEPS_PER_BEAT, channel=channel)
    assert [(n.pitch, n.start, n.end) for n in back] == want

    # and out again through the writer the harmoniser uses
    out = scratch / "again.mid"
    write_midi(out, tpb, [Part("melody", note_events(back), channel=channel)])
    again = read_midi(out)
    assert again.tracks[0].name == "conductor" and again.tracks[1].name == "melody"
    assert [(n.pitch, n.start, n.end) for n in again.tracks[1].notes] == want


def test_off_grid_notes_are_snapped_and_counted():
    step = 120  # 480 ticks per beat
    notes = [Note(60, 0, 240), Note(62, 250, 470), Note(64, 480, 500), Note(65, 600, 840)]
    tokens, report = notes_to_tokens(notes, step)
    # 250 -> step 2, 470 -> 4; 480..500 rounds to nothing and keeps one step; 600..840 is on the grid
    assert tokens.tolist() == [60, HOLD, 62, HOLD, 64, 65, HOLD]
    assert report.snapped == 2
    assert report.chord_notes_dropped == 0


def test_a_chord_keeps_its_top_note_and_warns():
    notes = [Note(60, 0, 480), Note(67, 0, 480), Note(64, 0, 480), Note(62, 480, 960)]
    tokens, report = notes_to_tokens(notes, 120)
    assert tokens.tolist() == [67, HOLD, HOLD, HOLD, 62, HOLD, HOLD, HOLD]
    assert report.chord_notes_dropped == 2
    assert len(report.warnings) == 1 and "top note" in report.warnings[0]
    # the order the chord's notes arrive in does not matter
    shuffled, _ = notes_to_tokens([notes[1], notes[2], notes[0], notes[3]], 120)
    assert shuffled.tolist() == tokens.tolist()


def test_a_note_that_begins_while_another_sounds_cuts_it():
    notes = [Note(60, 0, 480), Note(62, 240, 720)]
    tokens, report = notes_to_tokens(notes, 120)
    assert tokens.tolist() == [60, HOLD, 62, HOLD, HOLD, HOLD]
    assert report.overlaps_cut == 1
    assert [(n.pitch, n.start, n.end) for n in tokens_to_notes(tokens, 120)] == [(60, 0, 240), (62, 240, 720)]


def test_length_pads_with_rests_and_cuts_notes():
    tokens, _ = notes_to_tokens([Note(60, 120, 480)], 120, length=6)
    assert tokens.tolist() == [REST, 60, HOLD, HOLD, REST, REST]
    tokens, _ = notes_to_tokens([Note(60, 0, 480), Note(62, 480, 960)], 120, length=3)
    assert tokens.tolist() == [60, HOLD, HOLD]


def test_hold_after_rest_decodes_as_silence():
    tokens = np.array([HOLD, REST, HOLD, HOLD, 60, HOLD, REST, HOLD, 62])
    notes = tokens_to_notes(tokens, 120, velocity=70, channel=3, offset_ticks=1000)
    assert notes == [Note(60, 1000 + 480, 1000 + 720, 70, 3), Note(62, 1000 + 960, 1000 + 1080, 70, 3)]
    assert sounding_pitches(tokens).tolist() == [-1, -1, -1, -1, 60, 60, -1, -1, 62]


def test_velocity_per_step_is_taken_at_the_onset():
    notes = tokens_to_notes(np.array([60, HOLD, 62]), 120, velocity=np.array([90, 10, 50]))
    assert [n.velocity for n in notes] == [90, 50]


def test_transpose_moves_pitches_only_and_refuses_to_leave_the_range():
    tokens = np.array([60, HOLD, REST, 127 - 5, HOLD])
    assert transpose(tokens, 5).tolist() == [65, HOLD, REST, 127, HOLD]
    assert transpose(tokens, -60).tolist() == [0, HOLD, REST, 62, HOLD]
    with pytest.raises(ValueError, match="range"):
        transpose(tokens, 6)
    with pytest.raises(ValueError, match="range"):
        transpose(tokens, -61)
    assert transpose(np.array([REST, HOLD]), 100).tolist() == [REST, HOLD]


def test_invert_mirrors_about_half_the_given_axis():
    tokens = np.array([60, HOLD, 64, REST, 67])
    assert invert(tokens, 128).tolist() == [68, HOLD, 64, REST, 61]  # axis 64
    assert invert(tokens, 127).tolist() == [67, HOLD, 63, REST, 60]  # axis 63.5
    assert invert(invert(tokens, 131), 131).tolist() == tokens.tolist()
    with pytest.raises(ValueError, match="range"):
        invert(np.array([0, 127]), 200)
    assert pitch_range(tokens) == (60, 67)
    assert pitch_range(np.array([REST, HOLD])) is None


def test_window_at_makes_every_window_stand_on_its_own():
    tokens = np.array([60, HOLD, HOLD, 62, REST, HOLD, 64, HOLD])
    assert window_at(tokens, 0, 3).tolist() == [60, HOLD, HOLD]
    assert window_at(tokens, 1, 3).tolist() == [60, HOLD, 62]  # a held note starts again
    assert window_at(tokens, 2, 2).tolist() == [60, 62]
    assert window_at(tokens, 5, 3).tolist() == [REST, 64, HOLD]  # a hold after a rest is a rest
    assert window_at(tokens, 7, 4).tolist() == [64]  # past the end: shorter
    assert window_at(tokens, 8, 4).tolist() == []
    assert window_at(np.array([HOLD, HOLD, 60]), 1, 2).tolist() == [REST, 60]
    assert tokens.tolist() == [60, HOLD, HOLD, 62, REST, HOLD, 64, HOLD]  # the input is untouched
