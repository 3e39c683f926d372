"""The engine: the one face the command line, the control panel and the tests hold.

    engine = Engine(Settings(mode="duet", inp="virtual", out="virtual"))
    engine.start(); ...; engine.stop()
    engine.set(temperature=0.9); engine.panic(); engine.lock(True); engine.refresh(); engine.clear()
    events = engine.subscribe()      # a queue of dicts: what happened, as it happened

Threads, and what each owns:

* rtmidi stamps and queues input messages on its own thread, in C++ (``ports.MidiInput``).
* the input worker collects them every half millisecond: MIDI clock goes to the external
  clock, notes and the pedal to the quantiser (``quantize.py``), everything to the recorder.
* the clock thread owns time: it sleeps to each step's close (``boundary(k + 1) - early``),
  closes the step and hands it to the model worker; it never waits for the model. Following a
  DAW, it re-finds its step at each Start, Continue or Song Position, and releases everything
  at Stop. As master (``send_clock``) it plans the 24-a-quarter MIDI clock a step ahead.
* the model worker runs the mode (``modes.py``) and plans the answer at ``boundary(k + 1)``;
  an answer not ready by then is a missed deadline: counted, shown, and the accompaniment holds
  what it was playing for that step. The grid never moves.
* a hearing duet model (``listen_ms``) is asked for step k at ``boundary(k) + listen`` less a
  margin, with the notes struck for step k by then (the clock thread peeks at the open step);
  its answer sounds at ``boundary(k) + listen``, a constant lag the ``started`` event states.
* the output scheduler (``output.py``) sends each planned message at its time.
"""

from __future__ import annotations

import dataclasses
import gc
import queue
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import mido
import numpy as np

from accompanist.errors import AccompanistError
from accompanist.inference.cards import ModelCard
from accompanist.live.answering import Answering
from accompanist.live.clock import TICKS_PER_BEAT, ExternalClock, InternalClock
from accompanist.live.clock_thread import ClockThread
from accompanist.live.input_guard import InputGuard
from accompanist.live.input_thread import InputThread
from accompanist.live.modes import DuetMode, LoopMode
from accompanist.live.output import PortSink, Scheduler, Sink
from accompanist.live.port_watch import PortWatch
from accompanist.live.quantize import InputQuantizer
from accompanist.live.recorder import Recorder
from accompanist.live.respond import RespondMode
from accompanist.live.settings import (
    DEFAULT_MODELS,
    LISTEN_MAX_MS,
    LIVE_SETTINGS,
    METRONOME_CHANNEL,
    MODE_FAMILY,
    MODE_SETTINGS,
    WORK_QUEUE,
    Settings,
    Stats,
    card_for,
    check_listen,
    check_settings,
)
from accompanist.live.transport import Transport
from accompanist.music import roll

__all__ = [
    "DEFAULT_MODELS",
    "LISTEN_MAX_MS",
    "LIVE_SETTINGS",
    "METRONOME_CHANNEL",
    "MODE_FAMILY",
    "Engine",
    "Settings",
    "card_for",
    "check_listen",
    "check_settings",
]


class Engine(Answering, ClockThread, InputThread, PortWatch, Transport):
    def __init__(self, settings: Settings, sinks: list[Sink] | None = None):
        s = settings
        check_settings(s)
        self.settings = s
        self.card = card_for(s.mode, s.model)
        self.steps_per_beat = self.card.steps_per_beat
        if TICKS_PER_BEAT % self.steps_per_beat and (s.clock == "external" or s.send_clock):
            raise AccompanistError(
                f"model {self.card.name} has {self.steps_per_beat} steps a beat, "
                "which MIDI clock's 24 ticks a beat do not divide"
            )
        self.stats = Stats()
        self._events: list[queue.Queue] = []
        self._work: queue.Queue = queue.Queue()  #: items for the model worker, bounded by ``_give_work``
        self._qlock = threading.Lock()
        self._port_lock = threading.Lock()  #: held while the input port is polled or swapped
        self._mode_lock = threading.Lock()
        self._running = threading.Event()
        self._threads: list[threading.Thread] = []
        self._extra_sinks = sinks or []
        self.in_port = self.out_port = self.click_port = None
        self.guard = InputGuard(follow_clock=s.clock == "external", channel=s.in_channel)  #: what the input lets in
        self.synth = None
        self.recorder: Recorder | None = None
        self.rng = np.random.default_rng(s.seed)
        self._sounding: set[int] = set()  #: answer pitches (roll index) sounding, as planned
        self._locked = False
        self._epoch = 0  #: bumped when a DAW moves the grid: work from before is dropped
        self._song_offset = 0  #: following a DAW: the file tick of its song position 0, this take
        self._take_unanchored = False
        self._feedback_warned = False
        self._monitor_channel: int | None = None  #: the synth's channel for the player's own notes

    # --- the face ---------------------------------------------------------------------------

    def _give_work(self, item) -> None:
        """Hand the model worker an item without ever making the clock wait. A worker this far
        behind (``WORK_QUEUE`` items, 4-8 s of 16ths at 120 bpm) has missed those deadlines
        anyway: the oldest "listen" item goes (an answer only), else the oldest "step" (counted
        missed); a DAW's release and the stop sentinel are never dropped."""
        q = self._work
        with q.mutex:  # the queue's own lock: the check and the drop are one step
            if len(q.queue) >= WORK_QUEUE:
                for kind in ("listen", "step"):
                    at = next((i for i, w in enumerate(q.queue) if w is not None and w[0] == kind), None)
                    if at is not None:
                        del q.queue[at]
                        q.unfinished_tasks -= 1
                        self.stats.missed += 1
                        break
        q.put_nowait(item)  # unbounded underneath: never blocks

    def subscribe(self, maxsize: int = 10000) -> queue.Queue:
        q: queue.Queue = queue.Queue(maxsize)
        self._events.append(q)
        return q

    def start(self) -> None:
        """Open the ports, start the threads; if anything fails, what was opened is closed again."""
        try:
            self._start()
        except BaseException:
            self._running.clear()
            self._give_work(None)
            if hasattr(self, "output"):
                self.output.stop()
            self._close_ports()
            raise

    def _start(self) -> None:
        s = self.settings
        from accompanist.live.ports import open_input, open_output

        # Hand the GIL between threads every 0.5 ms instead of 5: rtmidi's callback runs on
        # JACK's process thread, and a cycle must not wait on a Python thread for 5 ms.
        sys.setswitchinterval(0.0005)
        self.in_port = open_input(s.inp, s.api, client_name=s.client_name)
        self.in_port.guard = self.guard
        sinks: list[Sink] = list(self._extra_sinks)
        try:
            if s.out is not None:
                self.out_port = open_output(s.out, s.api, client_name=s.client_name)
                sinks.append(PortSink(self.out_port, never=s.click_channel if s.click_out else None))
            if s.click_out:
                self.click_port = open_output(s.click_out, s.api, client_name=f"{s.client_name}-click")
                sinks.append(PortSink(self.click_port, only=s.click_channel))
            if s.synth:
                from accompanist.live.synth import LiveSynth

                self.synth = LiveSynth(s.soundfont, client=s.client_name, ports=s.synth_ports)
                self.synth.volume(s.synth_volume)
                sinks.append(self.synth)
                monitor = s.monitor if s.monitor is not None else s.out is None
                if monitor:  # the player's own notes on a channel of their own, piano
                    self._monitor_channel = 0 if s.channel != 0 else 2
                    self.synth.send(mido.Message("program_change", channel=self._monitor_channel, program=0))
        except BaseException:
            self._close_ports()
            raise
        self.output = Scheduler(sinks, on_error=self._error, on_sent=self._sent, lead=self._latency())
        self._install_mode(self._make_mode(s, self.card))
        # Python's full collection walks every object the process holds (the models, music21's
        # modules, numpy's): 50-100 ms with the GIL held, seen in the soak every 30 s or so, and
        # every thread that keeps time stops meanwhile. What exists now lives as long as the
        # session: frozen, the collector never walks it again.
        gc.collect()
        gc.freeze()
        start = time.perf_counter() + 0.2  # the first boundary, a moment away for the threads to start
        self.clock = (
            InternalClock(s.bpm, self.steps_per_beat, start)
            if s.clock == "internal"
            else ExternalClock(self.steps_per_beat, initial_bpm=s.bpm)
        )
        path = s.record or Path("accompanist-sessions") / f"session-{datetime.now():%Y%m%d-%H%M%S}.mid"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # named as `accompanist respond` names its tracks when the session starts answering calls
            answer_name = "answer" if s.mode == "respond" else "accompaniment"
            self.recorder = Recorder(path, s.bpm, start, self.program, s.channel, answer_name)
            self.recorder.write()
        except (OSError, AccompanistError) as exc:
            self._close_ports()
            if isinstance(exc, AccompanistError):
                raise
            raise AccompanistError(f"{path}: cannot record there ({exc.strerror}); give --record PATH") from None
        self.quantizer = InputQuantizer(self.clock.step_at, s.early)
        self._running.set()
        self.output.start()
        for target, name in (
            (self._input_worker, "input"),
            (self._clock_thread, "clock"),
            (self._model_worker, "model"),
            (self._port_watch, "ports"),
        ):
            t = threading.Thread(target=target, name=f"accompanist-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        self._emit(
            "started",
            input=getattr(self.in_port, "name", s.inp),
            output=self._out_name(),
            record=str(path.resolve()),
            mode=s.mode,
            model=self.card.name,
            latency_ms=round(self.output.lead * 1e3, 3),
            listen_ms=round(self.listen * 1e3, 3),
        )

    def stop(self) -> None:
        """Stop everything; every sounding note is released (and CC 123 sent); the recording
        is written a last time."""
        if not self._running.is_set():
            return
        self._running.clear()
        self._give_work(None)
        for t in self._threads:
            t.join(2)
        if self.settings.send_clock:
            self.output.now(mido.Message("stop"))
        self.output.stop()
        # the releases sit in rtmidi's ring buffer until JACK's next cycles carry them out;
        # closing the port at once would drop them (seen: notes left sounding at the listener).
        # All Notes Off goes out once more after that: a JACK cycle that failed can lose a message
        # between clients, and this is the last chance to end what it left sounding
        time.sleep(0.05)
        self.output.panic()
        time.sleep(0.02)
        if self.recorder:
            self._write_recording(final=True)
        self._close_ports()
        gc.unfreeze()  # what this session held may be collected again (a panel starts many)
        self._emit("stopped", **self.figures())

    def panic(self) -> None:
        """Release everything sounding now, and send CC 123 on the channels used."""
        with self._mode_lock:
            self._release_all()
        self._emit("panic")

    def _release_all(self) -> None:
        # under the mode lock: the model worker must not plan a note between the output's
        # release and our forgetting what sounds, or that note would never be released
        self.output.panic()
        self._sounding.clear()
        if isinstance(self.mode, DuetMode):
            self.mode.played(roll.empty(1)[0])

    def set(self, **changes) -> None:
        """Change settings while playing (``LIVE_SETTINGS``): mode, model, temperature, sampling,
        loop bars, bpm (internal clock), channel, program, metronome. Sounding notes are released
        first where the change would strand them. A bad value is refused and changes nothing."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(Settings)}
        if unknown:
            raise AccompanistError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        fixed = set(changes) - LIVE_SETTINGS
        if fixed and self._running.is_set():
            raise AccompanistError(f"{', '.join(sorted(fixed))} cannot change while playing; stop, then start again")
        if "bpm" in changes and self.settings.clock == "external":
            raise AccompanistError("the DAW sets the tempo when following its clock")
        if "mode" in changes and "model" not in changes:
            changes["model"] = None  # the new mode's default model: the old one is of another family
        new = dataclasses.replace(self.settings, **changes)
        check_settings(new)
        if "synth_volume" in changes and self.synth is not None:
            self.synth.volume(new.synth_volume)
        if set(changes) <= {"temperature", "listen_ms", "synth_volume"} and hasattr(self, "mode"):
            # sampling reads these at each step: the model, its memory and what sounds stay
            with self._mode_lock:
                self.settings = new
                if "temperature" in changes:
                    t = changes["temperature"]
                    self.mode.temperature = float(self.card.defaults.get("temperature", 1.0) if t is None else t)
            self._emit("settings", **{k: str(v) for k, v in changes.items()})
            return
        remade = MODE_SETTINGS & set(changes)
        # the new model is loaded before anything changes: a bad name leaves the session as it was,
        # and the model worker is not held up while a graph loads
        card = card_for(new.mode, new.model) if remade else self.card
        if card.steps_per_beat != self.steps_per_beat:
            raise AccompanistError(
                f"model {card.name} has {card.steps_per_beat} steps a beat, this session "
                f"{self.steps_per_beat}: stop, then start with it"
            )
        mode = self._make_mode(new, card) if remade else None
        release = {"model", "channel", "program", "mode"} & set(changes)
        with self._mode_lock:  # one step: the worker never plans between the release and the swap
            if release and self._running.is_set():
                self._release_all()
            self.settings, self.card = new, card
            if mode is not None:
                self._install_mode(mode)
            elif {"channel", "program"} & set(changes) and hasattr(self, "output"):
                self.output.soon(self._program_change())
        if "bpm" in changes and isinstance(getattr(self, "clock", None), InternalClock):
            at = self.stats.steps + 2
            self.clock.set_tempo(changes["bpm"], at)
            self.recorder.tempo(self.clock.boundary(at), changes["bpm"])
        if release and self._running.is_set():
            self._emit("panic")
        self._emit("settings", **{k: str(v) for k, v in changes.items()})

    def _out_name(self) -> str | None:
        if self.out_port is None:
            return None
        if self.settings.out == "virtual":  # mido names it "out"; others see it by its full name
            return f"{self.settings.client_name}-out:out"
        return getattr(self.out_port, "name", None)

    def _latency(self) -> float:
        s = self.settings
        if s.latency is not None:
            return s.latency
        if getattr(self.out_port, "name", None) is None:
            return 0.0
        from accompanist.live.ports import jack_period, resolve_api

        period = jack_period() if resolve_api(s.api) == "jack" else None
        # a long period (a big JACK buffer) must not eat the model's whole deadline
        return min(period / 2, s.early / 2) if period else 0.0

    @property
    def listen(self) -> float:
        """Seconds each answer waits after its boundary to hear the player: the duet's constant
        lag (0 for loop mode and for models that anticipate)."""
        mode = getattr(self, "mode", None)
        if not isinstance(mode, DuetMode) or not mode.listens:
            return 0.0
        s = self.settings
        ms = s.listen_ms if s.listen_ms is not None else float(self.card.defaults.get("listen_ms", 0.0))
        return ms / 1e3

    @property
    def locked(self) -> bool:
        return self._locked

    @property
    def temperature(self) -> float:
        """The temperature sampling uses now (the setting, or the model card's default)."""
        if hasattr(self, "mode"):
            return float(self.mode.temperature)
        return float(self.card.defaults.get("temperature", 1.0))

    def lock(self, on: bool = True) -> None:
        self._locked = on
        if isinstance(getattr(self, "mode", None), LoopMode):
            self.mode.locked = on
        self._emit("lock", on=on)

    def end_call(self) -> None:
        """Respond mode: the call is over; it is answered from the next bar line."""
        if isinstance(self.mode, RespondMode):
            with self._mode_lock:
                self.mode.end_call()
        self._emit("end_call")

    def refresh(self) -> None:
        """Loop mode: when the pass now playing closes, harmonise it afresh, locked or not (a
        locked loop then keeps the new answer)."""
        if isinstance(self.mode, LoopMode):
            with self._mode_lock:
                self._pending_refresh = True
        self._emit("refresh")

    def clear(self) -> None:
        """Start over: forget the recorded pass and the answer; release what sounds."""
        with self._mode_lock:
            self._release_all()
            self.mode.reset()
            self._pending_refresh = False
        self._emit("clear")

    def figures(self) -> dict:
        """Timing so far: medians and percentiles in milliseconds, counts."""

        def pct(xs: list[float], q: float) -> float | None:
            return round(float(np.percentile(np.asarray(xs) * 1e3, q)), 3) if xs else None

        err = list(self.output.errors) if hasattr(self, "output") else []
        return {
            "steps": self.stats.steps,
            "missed_deadlines": self.stats.missed,
            "late_inputs": self.quantizer.late if hasattr(self, "quantizer") else 0,
            "input_ignored": dict(self.guard.ignored),
            "input_dropped": dict(self.guard.dropped),
            "inference_ms_median": pct(self.stats.inference, 50),
            "inference_ms_p99": pct(self.stats.inference, 99),
            "output_error_ms_median": pct([abs(e) for e in err], 50),
            "output_error_ms_p99": pct([abs(e) for e in err], 99),
            "output_error_ms_max": pct([abs(e) for e in err], 100),
            "messages_out": self.output.sent if hasattr(self, "output") else 0,
            "sent_early_ms": round(self.output.lead * 1e3, 3) if hasattr(self, "output") else None,
        }

    # --- set-up -----------------------------------------------------------------------------

    @property
    def program(self) -> int:
        s = self.settings
        return int(s.program if s.program is not None else self.card.defaults.get("program", 0))

    def _make_mode(self, s: Settings, card: ModelCard) -> DuetMode | LoopMode | RespondMode:
        t = float(card.defaults.get("temperature", 1.0) if s.temperature is None else s.temperature)
        if s.mode == "respond":
            bar = self.steps_per_bar
            return RespondMode(card, t, bar, self.rng, s.call_bars, s.answer_bars, s.key_lock, s.variation)
        if s.mode == "duet":
            rest = round(s.rest_after * self.steps_per_bar) if s.rest_after > 0 else None
            return DuetMode(card, t, self.rng, s.max_notes, s.key_lock, s.two_part, rest)
        mode = LoopMode(card, t, s.bars * s.beats_per_bar * self.steps_per_beat, self.rng)
        mode.locked = self._locked
        return mode

    def _install_mode(self, mode: DuetMode | LoopMode | RespondMode) -> None:
        self.mode = mode
        self._pending_refresh = False
        if hasattr(self, "output"):
            self.output.soon(self._program_change())

    def _program_change(self) -> mido.Message:
        return mido.Message("program_change", channel=self.settings.channel, program=self.program)

    @property
    def steps_per_bar(self) -> int:
        return self.settings.beats_per_bar * self.steps_per_beat

    def _write_recording(self, final: bool = False) -> None:
        try:
            self.recorder.write(None if final else time.perf_counter())
        except Exception as exc:
            self._error(f"recording not written: {exc}")

    def _sent(self, t: float, msg: mido.Message) -> None:
        if getattr(msg, "channel", None) in (None, self.settings.click_channel):
            return
        if self.recorder is not None:
            self.recorder.answered(t, msg)
        if msg.type in ("note_on", "note_off"):
            self._emit("note_out", note=msg.note, velocity=msg.velocity if msg.type == "note_on" else 0, t=t)

    def _error(self, text: str) -> None:
        self._emit("error", text=text)

    def _emit(self, kind: str, **data) -> None:
        ev = {"type": kind, "time": time.perf_counter(), **data}
        for q in self._events:
            try:
                q.put_nowait(ev)
            except queue.Full:  # a listener that does not read must not stall the engine
                try:
                    q.get_nowait()
                    q.put_nowait(ev)
                except (queue.Empty, queue.Full):
                    pass
