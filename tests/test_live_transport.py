"""MIDI clock through real JACK ports: the engine following a DAW's clock (Start, Stop, Song
Position, Continue), and the engine as master sending its own."""

from __future__ import annotations

import itertools
import statistics
import threading
import time

import mido
import pytest
from helpers import TINY_DUET
from jack_rig import Rig, drain, no_stuck_notes, sleep_to, wait_for

DAW_BPM = 100.0  # not the engine's starting guess (120): it has to learn the tempo from the ticks
TICK = 60.0 / DAW_BPM / 24


class Daw:
    """Plays a DAW's transport into the rig's player port: 24 ticks a quarter, and a quarter
    note on every beat of its song (a track of the DAW playing the melody); remembers when it
    sent each tick."""

    NOTES = (60, 64, 67, 72)

    def __init__(self, rig: Rig):
        self.rig, self.ticks, self.position = rig, [], 0  # position: ticks since song start

    def send(self, msg: mido.Message) -> None:
        self.rig.player.send(msg)

    def start(self) -> None:
        """Start, the downbeat's tick and the song's first note, in the same JACK cycle."""
        self.position = 0
        self.send(mido.Message("start"))
        self.send(mido.Message("clock"))
        self.ticks.append((0, time.perf_counter()))
        self.send(mido.Message("note_on", note=self.NOTES[0], velocity=90))
        self.position = 1

    def run(self, n_ticks: int, drop: frozenset[int] = frozenset()) -> None:
        """``n_ticks`` ticks on; those at the song positions in ``drop`` are lost on the way (not
        sent), as JACK drops the events of a client that runs late."""
        t0 = time.perf_counter() + TICK
        for i in range(n_ticks):
            sleep_to(t0 + i * TICK)
            if self.position not in drop:
                self.send(mido.Message("clock"))
            self.ticks.append((self.position, time.perf_counter()))
            beat, within = divmod(self.position, 24)
            note = self.NOTES[beat % 4]
            if within == 0:
                self.send(mido.Message("note_on", note=note, velocity=90))
            elif within == 18:
                self.send(mido.Message("note_off", note=note, velocity=0))
            self.position += 1

    def sixteenths(self) -> list[float]:
        """When each tick that begins a 16th of the song was sent."""
        return [t for pos, t in self.ticks if pos % 6 == 0]


def transport(rig: Rig, state: str) -> dict:
    return wait_for(rig.events, lambda e: e["type"] == "transport" and e["state"] == state, 1.0)


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_following_a_daws_clock_lands_on_its_sixteenths_and_obeys_its_transport(tmp_path):
    """One retry: the followed grid once slipped by a tick or two (answers 25-50 ms off the DAW's
    16ths) in about one run in four. Two causes were found: ticks stamped when the input thread
    polled rather than when they came (now stamped from rtmidi's own deltas, ``live.stamps``),
    and this VM's JACK at a 64-frame period failing thousands of cycles a minute, in which a
    tick can be lost between clients (the bench counts them). The second is the machine's:
    twice in a row is a failure."""
    for attempt in ("first", "again"):
        (tmp_path / attempt).mkdir()
        try:
            _follow_a_daw(tmp_path / attempt)
            return
        except AssertionError:
            if attempt == "again":
                raise


def _follow_a_daw(tmp_path) -> None:
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET, temperature=3.0, clock="external", bpm=120)
    daw = Daw(rig)
    log = rig.engine.subscribe()
    try:
        time.sleep(0.3)
        assert rig.engine.figures()["steps"] == 0  # nothing moves before the DAW starts
        daw.start()
        daw.run(24 * 8 - 1)  # two bars
        assert rig.engine.clock.bpm == pytest.approx(DAW_BPM, rel=0.01)
        assert transport(rig, "playing")["step"] == 0

        daw.send(mido.Message("stop"))
        transport(rig, "stopped")
        time.sleep(0.2)
        assert not rig.engine.output.sounding  # the DAW stopped: nothing of ours sounds on
        steps_when_stopped = rig.engine.figures()["steps"]
        time.sleep(0.3)
        assert rig.engine.figures()["steps"] == steps_when_stopped

        daw.send(mido.Message("songpos", pos=64))  # bar 5, in 16ths
        daw.position = 64 * 6
        daw.send(mido.Message("continue"))
        daw.run(24 * 4)
        assert transport(rig, "playing")["step"] == 64

        daw.send(mido.Message("stop"))  # and on from where it stopped, without a song position
        transport(rig, "stopped")
        daw.send(mido.Message("continue"))
        daw.run(24 * 2)
        assert transport(rig, "playing")["step"] == 80  # 64 + 4 beats of 4 sixteenths

        # then the ticks cease without a Stop (a DAW that crashed): the clock is lost, all released
        transport(rig, "lost")
        time.sleep(0.1)
        assert not rig.engine.output.sounding
    finally:
        heard = rig.stop()
    no_stuck_notes(rig.sent)

    # every answer the engine sent was due on one of the DAW's 16ths (within a quarter of a
    # 16th: the starting guess of 120 bpm would be 25 ms a 16th off, and growing)
    grid = daw.sixteenths()
    step = 6 * TICK
    last = daw.ticks[-1][1]
    errors = []
    for t, m in rig.sent_at:
        if m.type == "note_on" and m.velocity and m.channel == rig.engine.settings.channel and t < last:
            near = min(grid, key=lambda g: abs(g - t))
            assert abs(t - near) < step / 4, (t - near, m)
            errors.append(t - near)
    assert len(errors) > 8
    # the DAW's sends stamp the grid; ours land a JACK period or two after its ticks reach us
    assert abs(statistics.median(errors)) < 0.005, statistics.median(errors)
    # and what the listener heard arrived on those 16ths too (the sent times above are the
    # engine's own account; these are another client's stamps)
    near = [min(abs(t - g) for g in grid) for t, m in heard if m.type == "note_on" and m.velocity and t < last]
    assert len(near) > 8 and statistics.median(near) < 0.004 and max(near) < step / 4
    # the recording is on the DAW's grid: its notes on beats, ours on 16ths, through all three takes
    song = mido.MidiFile(tmp_path / "session.mid")
    for name, unit in (("player", 480), ("accompaniment", 120)):
        track = next(t for t in song.tracks if t.name == name)
        at, off_grid, n, ons = 0, [], 0, []
        for m in track:
            at += m.time
            if m.type == "note_on" and m.velocity:
                n += 1
                ons.append(at)
                off_grid.append(min(at % unit, unit - at % unit))
        assert n > 8 and max(off_grid) <= 12, (name, off_grid, ons)  # 12 ticks: 15 ms at 100 bpm
    steps = [e for e in drain(log) if e["type"] == "step"]
    assert [e["step"] for e in steps[:8]] == list(range(8))  # from the DAW's Start: song step 0 on
    assert steps[0]["heard"] == [60]  # the note that came with Start is the song's first
    numbers = [e["step"] for e in steps]
    at = numbers.index(64)
    assert numbers[at : at + 8] == list(range(64, 72)) and max(numbers[:at]) < 40  # from where it jumped


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_as_master_it_sends_start_24_ticks_a_quarter_on_its_grid_and_stop(tmp_path):
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET, temperature=3.0, send_clock=True)
    try:
        player = threading.Thread(target=lambda: rig.play(16), daemon=True)
        player.start()
        time.sleep(0.8)
        rig.engine.panic()  # drops the planned notes, never the planned clock
        rig.engine.set(bpm=180)
        time.sleep(0.8)
        player.join()
    finally:
        heard = rig.stop()
    clock = rig.engine.clock
    sent = [(t, m.type) for t, m in rig.sent_at if m.type in ("start", "clock", "stop")]
    assert sent[0][1] == "start" and sent[-1][1] == "stop"
    ticks = [t for t, kind in sent if kind == "clock"]
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    # 240 bpm, then 180: a tick every 10.4 ms, then every 13.9 ms, never a hole (a panic between)
    bad = [(i, round(g * 1e3, 3)) for i, g in enumerate(gaps) if not 0.009 < g < 0.0145]
    assert not bad, bad
    assert any(abs(g - 60 / 240 / 24) < 1e-4 for g in gaps) and any(abs(g - 60 / 180 / 24) < 1e-4 for g in gaps)
    # every sixth tick is a step boundary of the engine's own grid
    k0 = round((ticks[0] - clock.boundary(0)) / (60 / 240 / 4))
    assert ticks[0] == pytest.approx(clock.boundary(k0), abs=1e-6)
    # and it arrives through JACK: the listener heard Start, most ticks (a late JACK cycle on
    # this machine can drop an event), and Stop
    kinds = [m.type for _, m in heard]
    assert kinds.count("start") == 1 and kinds.count("stop") == 1
    assert kinds.count("clock") >= 0.95 * len(ticks)
    no_stuck_notes(rig.sent)


def test_the_clock_settings_refuse_what_cannot_work(use_tiny_models):
    from accompanist.errors import AccompanistError
    from accompanist.live.engine import Engine, Settings

    with pytest.raises(AccompanistError, match="cannot follow"):
        Engine(Settings(model=TINY_DUET, clock="external", send_clock=True))
    with pytest.raises(AccompanistError, match="needs a MIDI output"):
        Engine(Settings(model=TINY_DUET, out=None, send_clock=True))
    with pytest.raises(AccompanistError, match="unknown clock"):
        Engine(Settings(model=TINY_DUET, clock="sundial"))
    with pytest.raises(AccompanistError, match=r"outside 20\.\.400"):
        Engine(Settings(model=TINY_DUET, bpm=1000))
    with pytest.raises(AccompanistError, match="the model's deadline"):
        Engine(Settings(model=TINY_DUET, latency=0.04))  # more than the 30 ms a step closes early
    with pytest.raises(AccompanistError, match="DAW sets the tempo"):
        Engine(Settings(model=TINY_DUET, clock="external")).set(bpm=90)


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_a_downbeat_note_sent_just_before_the_daws_start_is_heard_on_step_0(tmp_path):
    """A DAW compensating its latency sends a region's first notes a few ms before MIDI Start
    (Ardour 7.3: 4 ms at 48 kHz): a note up to ``early`` before a step counts for it, across a
    Start too. A note held from long before the Start is not the song's."""
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET, temperature=3.0, clock="external", bpm=120)
    daw = Daw(rig)
    try:
        time.sleep(0.3)
        daw.send(mido.Message("note_on", note=55, velocity=90))  # held since long before: not the song's
        time.sleep(0.2)
        daw.send(mido.Message("note_on", note=60, velocity=90))
        time.sleep(0.004)
        daw.position = 0
        daw.send(mido.Message("start"))
        daw.send(mido.Message("clock"))
        daw.ticks.append((0, time.perf_counter()))
        daw.position = 1
        daw.run(24 * 2 - 1)
        transport(rig, "playing")
    finally:
        rig.stop()
    steps = [e for e in drain(rig.events) if e["type"] == "step"]
    assert steps[0]["step"] == 0 and steps[0]["heard"] == [60], steps[:2]


@pytest.mark.usefixtures("jack_server", "use_tiny_models")
def test_ticks_lost_on_the_way_leave_the_answers_on_the_daws_sixteenths(tmp_path):
    """Issue 22 item 9: each lost tick counted as none left the grid a tick (25 ms at 100 bpm)
    late until the next Start. Ticks dropped on purpose, one at a time, between normal ones. One
    retry, as for following a DAW above: this VM's JACK loses and delays ticks of its own."""
    for attempt in ("first", "again"):
        (tmp_path / attempt).mkdir()
        try:
            _lose_ticks(tmp_path / attempt)
            return
        except AssertionError:
            if attempt == "again":
                raise


def _lose_ticks(tmp_path) -> None:
    rig = Rig(tmp_path, mode="duet", model=TINY_DUET, temperature=3.0, clock="external", bpm=120)
    daw = Daw(rig)
    lost = frozenset({100, 175, 250, 331, 410})  # after the tempo is learned (4 beats), odd places
    try:
        time.sleep(0.3)
        daw.start()
        daw.run(24 * 20 - 1, drop=lost)  # five bars
    finally:
        rig.stop()
    assert rig.engine.clock.lost >= len(lost) - 1  # (JACK itself may drop one more, or hide one)
    assert rig.engine.clock.bpm == pytest.approx(DAW_BPM, rel=0.01)  # a gap is not a slower tempo
    grid = daw.sixteenths()  # when each 16th's tick was due, sent or not
    after, last = daw.ticks[110][1], daw.ticks[-1][1]  # from the first loss to the DAW's last tick
    errors = [
        t - min(grid, key=lambda g: abs(g - t))
        for t, m in rig.sent_at
        if m.type == "note_on" and m.velocity and m.channel == rig.engine.settings.channel and after < t < last
    ]
    assert len(errors) > 20
    print(
        f"ticks dropped {len(lost)}, counted lost {rig.engine.clock.lost}; answers after the first loss vs the "
        f"DAW's 16ths: median {1e3 * statistics.median(errors):.2f} ms, worst {1e3 * max(map(abs, errors)):.2f} ms"
    )
    # on the DAW's grid, not a tick (25 ms) late: within 2 ms at the median, 5 ms for nineteen
    # in twenty, and none half a tick off (this VM's JACK loses and delays a few ticks of its own)
    size = sorted(abs(e) for e in errors)
    assert abs(statistics.median(errors)) < 0.002, statistics.median(errors)
    assert size[int(0.95 * len(size))] < 0.005 and size[-1] < TICK / 2, size[-5:]
