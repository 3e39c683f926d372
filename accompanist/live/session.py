"""One playing session's parts, built at start in the order they depend on each other, each
given its collaborators, and closed once. The engine (``engine.py``) is the face over them.

    ports ─▶ input thread ─▶ quantiser ◀─ clock thread ─▶ work queue ─▶ model worker ─▶ mode
                 │                             │                            │
                 ▼                             ▼                            ▼
             recorder ◀──── writer        transport (a DAW)          answer planner ─▶ scheduler ─▶ sinks
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import mido

from accompanist.errors import AccompanistError
from accompanist.inference.cards import ModelCard
from accompanist.live.clock import ExternalClock, InternalClock
from accompanist.live.clock_thread import ClockThread
from accompanist.live.control_input import ControlInput
from accompanist.live.controls import Control
from accompanist.live.events import EventBus
from accompanist.live.input_guard import InputGuard
from accompanist.live.input_thread import InputThread
from accompanist.live.lag_meter import LagMeter
from accompanist.live.mode import Mode
from accompanist.live.model_worker import ModelWorker
from accompanist.live.output import Scheduler, Sink
from accompanist.live.planner import AnswerPlanner
from accompanist.live.player_clock import PlayerClock
from accompanist.live.port_set import PortSet
from accompanist.live.quantize import InputQuantizer
from accompanist.live.recorder import Recorder, RecordingWriter
from accompanist.live.settings import Settings, Stats, waits_for_first_note
from accompanist.live.take_anchors import TakeAnchors
from accompanist.live.timing import FIRST_BOUNDARY, StepBudget
from accompanist.live.transport import DawTransport
from accompanist.live.work import Stop, WorkQueue
from accompanist.user_data import sessions_folder


def card_listens(card: ModelCard) -> bool:
    """Whether a card's model hears the step it answers (a hearing duet model: its io says so)."""
    return card.family == "duet" and any(bool(spec.get("listens")) for spec in card.data.get("io", {}).values())


def listen_seconds(s: Settings, card: ModelCard, listens: bool) -> float:
    """Seconds each answer waits after its boundary to hear the player: the duet's constant
    lag (0 for a mode that does not listen)."""
    if not listens:
        return 0.0
    ms = s.listen_ms if s.listen_ms is not None else float(card.default("listen_ms"))
    return ms / 1e3


@dataclass
class Session:
    ports: PortSet
    output: Scheduler
    planner: AnswerPlanner
    worker: ModelWorker
    clock: InternalClock | ExternalClock | PlayerClock
    quantizer: InputQuantizer
    recorder: Recorder
    writer: RecordingWriter
    transport: DawTransport | None
    controls: ControlInput
    running: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def budget(self, s: Settings, card: ModelCard, mode: Mode) -> StepBudget:
        listen = listen_seconds(s, card, mode.listens)
        return StepBudget(early=s.early, lead=self.output.lead, listen=listen, answers_steps=s.mode == "duet")

    def close(self) -> None:
        """Stop every thread; release everything sounding (and send CC 123); write the recording
        a last time; close the ports."""
        self.running.clear()
        self.worker.work.give(Stop())
        for t in self.threads:
            t.join(2)
        if self.ports.settings.send_clock:
            self.output.now(mido.Message("stop"))
        self.output.stop()
        # the releases sit in rtmidi's ring buffer until JACK's next cycles carry them out;
        # closing the port at once would drop them (seen: notes left sounding at the listener).
        # All Notes Off goes out once more after that: a JACK cycle that failed can lose a message
        # between clients, and this is the last chance to end what it left sounding
        time.sleep(0.05)
        self.output.panic()
        time.sleep(0.02)
        self.writer.close()
        self.ports.close()
        gc.unfreeze()  # what this session held may be collected again (a panel starts many)


def open_session(
    s: Settings,
    card: ModelCard,
    settings: Callable[[], Settings],
    make_mode: Callable[[], Mode],
    bus: EventBus,
    stats: Stats,
    guard: InputGuard,
    sinks: list[Sink],
    program: Callable[[], int],
    on_lost: Callable[[], None],
    act: Callable[[Control, int | None], None],
    learned: Callable[[Control], None],
) -> Session:
    """Open the ports, make the mode and start the threads; if anything fails, what was opened is
    closed again and nothing is left running."""
    # Hand the GIL between threads every 0.5 ms instead of 5: rtmidi's callback runs on JACK's
    # process thread, and a cycle must not wait on a Python thread for 5 ms.
    sys.setswitchinterval(0.0005)
    ports = PortSet(s, guard, sinks)
    output = None
    try:
        output = Scheduler(ports.sinks, on_error=bus.error, lead=ports.latency())
        mode = make_mode()
        # Python's full collection walks every object the process holds (the models, music21's
        # modules, numpy's): 50-100 ms with the GIL held, seen in the soak every 30 s or so, and
        # every thread that keeps time stops meanwhile. What exists now lives as long as the
        # session: frozen, the collector never walks it again.
        gc.collect()
        gc.freeze()
        spb = card.steps_per_beat
        recorder = _recorder(s, program())  # its first write (an fsync) before the clock starts counting
        start = time.perf_counter() + FIRST_BOUNDARY
        recorder.begin_at(start)
        clock = _clock(s, spb, start)
        quantizer = InputQuantizer(clock.step_at, s.early)
    except BaseException:
        if output is not None:
            output.stop()
        ports.close()
        raise
    bar = s.beats_per_bar * spb
    planner = AnswerPlanner(output, quantizer, bus, s.channel)
    work = WorkQueue(on_drop=lambda: setattr(stats, "missed", stats.missed + 1))
    lag = LagMeter()
    worker = ModelWorker(work, planner, bus, stats, bar, lag)
    writer = RecordingWriter(recorder, bus.error)
    transport = DawTransport(clock, recorder, work, bus, spb, bar) if isinstance(clock, ExternalClock) else None
    controls = ControlInput(settings, lambda line: bus.emit("warning", text=line))
    session = Session(ports, output, planner, worker, clock, quantizer, recorder, writer, transport, controls)
    worker.install(mode, session.budget(s, card, mode))
    output.on_sent = _on_sent(s.click_channel, recorder, bus)
    qlock = threading.Lock()
    inputs = InputThread(settings, ports, clock, quantizer, qlock, recorder, bus, output.lead, controls)
    prog = lambda: planner.program_change(program())  # noqa: E731
    anchors = (
        transport.anchors
        if transport
        else TakeAnchors(clock, recorder, spb, bar)
        if isinstance(clock, PlayerClock)
        else None
    )
    timer = ClockThread(
        settings, clock, quantizer, qlock, worker, output, writer, transport, anchors, stats, bus, spb, prog, lag
    )
    session.running.set()
    output.start()
    writer.start()
    for name, body in (
        ("input", lambda: inputs.run(session.running)),
        ("clock", lambda: timer.run(session.running)),
        ("model", worker.run),
        ("ports", lambda: ports.watch(session.running, on_lost, output.reopen_port, bus)),
        ("controls", lambda: controls.serve(session.running, act, learned)),
    ):
        t = threading.Thread(target=body, name=f"accompanist-{name}", daemon=True)
        t.start()
        session.threads.append(t)
    return session


def _recorder(s: Settings, program: int) -> Recorder:
    path = s.record or sessions_folder() / f"session-{datetime.now():%Y%m%d-%H%M%S}.mid"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # named as `accompanist respond` names its tracks when the session starts answering calls
        answer_name = "answer" if s.mode == "respond" else "accompaniment"
        recorder = Recorder(path, s.bpm, time.perf_counter(), program, s.channel, answer_name)
        recorder.write()
    except OSError as exc:
        raise AccompanistError(f"{path}: cannot record there ({exc.strerror}); give --record PATH") from None
    return recorder


def _on_sent(click_channel: int, recorder: Recorder, bus: EventBus) -> Callable[[float, mido.Message], None]:
    """What the scheduler tells when a message left: the answer's notes to the recording and
    the subscribers (the clicks are neither)."""

    def sent(t: float, msg: mido.Message) -> None:
        if getattr(msg, "channel", None) in (None, click_channel):
            return
        recorder.answered(t, msg)
        if msg.type in ("note_on", "note_off"):
            bus.emit("note_out", note=msg.note, velocity=msg.velocity if msg.type == "note_on" else 0, t=t)

    return sent


def _clock(s: Settings, steps_per_beat: int, start: float) -> InternalClock | ExternalClock | PlayerClock:
    """The session's clock. Following the player, the grid may wait for the first note."""
    if s.clock == "external":
        return ExternalClock(steps_per_beat, initial_bpm=s.bpm)
    if s.clock == "player":
        return PlayerClock(s.bpm, steps_per_beat, s.beats_per_bar, None if waits_for_first_note(s) else start)
    return InternalClock(s.bpm, steps_per_beat, start)
