"""The engine: the one face the command line, the control panel and the tests hold.

    with Engine(Settings(mode="duet", inp="virtual", out="virtual")) as engine:   # start ... stop
        engine.set(temperature=0.9); engine.panic(); engine.lock(True); engine.refresh(); engine.clear()
        events = engine.subscribe()      # a queue of dicts: what happened, as it happened

Behind it, the parts of a session (``session.py``), built at start with their collaborators:
the ports and their watch (``port_set.py``), the input thread (``input_thread.py``, where a
message enters), the quantiser (``quantize.py``, where it becomes a grid step), the clock thread
(``clock_thread.py``, which owns time), the model worker (``model_worker.py``, where the step
meets the mode and its model), the answer planner and the scheduler (``planner.py``,
``output.py``, where the answer leaves), the recorder and its one writer (``recorder.py``).
docs/ARCHITECTURE.md draws them, their threads, and where each timing margin lives
(``timing.py``).
"""

from __future__ import annotations

import dataclasses
import queue
import time

import numpy as np

from accompanist.errors import AccompanistError
from accompanist.inference.cards import ModelCard
from accompanist.inference.sampling_config import SAMPLING_SETTINGS, Sampling
from accompanist.limits import LIMITS
from accompanist.live.clock import TICKS_PER_BEAT, InternalClock
from accompanist.live.control_actions import perform
from accompanist.live.controls import ACTIONS, Control, ControlMap
from accompanist.live.events import EventBus
from accompanist.live.input_guard import InputGuard
from accompanist.live.mode import Mode
from accompanist.live.modes import make_mode, session_sampling
from accompanist.live.output import Sink
from accompanist.live.player_clock import PlayerClock
from accompanist.live.session import Session, card_listens, listen_seconds, open_session
from accompanist.live.settings import (
    DEFAULT_MODELS,
    LIVE_SETTINGS,
    METRONOME_CHANNEL,
    MODE_FAMILY,
    MODE_SETTINGS,
    Settings,
    Stats,
    card_for,
    check_settings,
)
from accompanist.live.tap_tempo import TapTempo

__all__ = [
    "DEFAULT_MODELS",
    "LIVE_SETTINGS",
    "METRONOME_CHANNEL",
    "MODE_FAMILY",
    "Engine",
    "Settings",
    "card_for",
    "check_settings",
]

#: what the live controls say on an engine that is not playing
NOT_PLAYING = "the engine is not playing: start it first"


class Engine:
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
        self.bus = EventBus()
        self.guard = InputGuard(follow_clock=s.clock == "external", channel=s.in_channel)  #: what the input lets in
        self.rng = np.random.default_rng(s.seed)
        self._sinks = sinks or []
        self._locked = False
        self._taps = TapTempo()
        self._session: Session | None = None  #: the parts while playing; None before start and after stop
        self._last_figures = self._figures(None)  #: the figures of the session that last stopped
        self._parts: Session | None = None  #: the session playing, or the last one, to look at

    # --- playing ----------------------------------------------------------------------------

    def start(self) -> None:
        """Open the ports, start the threads; if anything fails, what was opened is closed again."""
        if self._session is not None:
            raise AccompanistError("the engine is playing already")
        s = self.settings
        session = open_session(
            s,
            self.card,
            settings=lambda: self.settings,
            make_mode=lambda: self._make_mode(s, self.card),
            bus=self.bus,
            stats=self.stats,
            guard=self.guard,
            sinks=self._sinks,
            program=lambda: self.program,
            on_lost=self.panic,
            act=self._act,
            learned=self._learned,
        )
        self._session = self._parts = session
        self.bus.emit(
            "started",
            input=session.ports.in_name,
            output=session.ports.out_name,
            click=session.ports.click_name,
            record=str(session.recorder.path.resolve()),
            mode=s.mode,
            model=self.card.name,
            latency_ms=round(session.output.lead * 1e3, 3),
            listen_ms=round(self.listen * 1e3, 3),
        )

    def stop(self) -> None:
        """Stop everything; every sounding note is released (and CC 123 sent); the recording
        is written a last time. Stopping an engine that is not playing does nothing."""
        session, self._session = self._session, None
        if session is None:
            return
        session.close()
        self._last_figures = self._figures(session)
        self.bus.emit("stopped", **self._last_figures)

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def playing(self) -> bool:
        return self._session is not None

    def subscribe(self, maxsize: int = 10000) -> queue.Queue:
        return self.bus.subscribe(maxsize)

    # --- controls ---------------------------------------------------------------------------

    def panic(self) -> None:
        """Release everything sounding now, and send CC 123 on the channels used (nothing sounds
        on an engine that is not playing)."""
        session = self._session
        if session is not None:
            with session.worker.lock:
                session.worker.release()
        self.bus.emit("panic")

    def lock(self, on: bool = True) -> None:
        """Loop mode: keep the answer pass after pass (kept across a restart and a mode change)."""
        self._locked = on
        if self._session is not None:
            with self._session.worker.lock:
                self._session.worker.mode.lock(on)
        self.bus.emit("lock", on=on)

    def refresh(self) -> None:
        """Loop mode: when the pass now playing closes, harmonise it afresh, locked or not (a
        locked loop then keeps the new answer)."""
        worker = self._playing().worker
        with worker.lock:
            worker.mode.refresh()
        self.bus.emit("refresh")

    def end_call(self) -> None:
        """Respond mode: the call is over; it is answered from the next bar line."""
        worker = self._playing().worker
        with worker.lock:
            worker.mode.end_call()
        self.bus.emit("end_call")

    def clear(self) -> None:
        """Start over: forget the recorded pass and the answer; release what sounds."""
        worker = self._playing().worker
        with worker.lock:
            worker.release()
            worker.mode.reset()
        self.bus.emit("clear")

    def pause(self, on: bool = True) -> None:
        """Stop the accompaniment (every note released, the mode starts over) or start it again;
        the session, its ports and its grid go on, so the control that stopped it can start it."""
        worker = self._playing().worker
        with worker.lock:
            if worker.paused == on:
                return
            worker.paused = on
            worker.release()
            worker.mode.reset()
        self.bus.emit("paused", on=on)

    @property
    def paused(self) -> bool:
        return self._session is not None and self._session.worker.paused

    def tap(self, t: float | None = None) -> float | None:
        """A tap of the tempo at t (now by default); from the second tap of a count, the tempo
        it says is set (the player clock's first guess, the internal clock's tempo)."""
        bpm = self._taps.tap(time.perf_counter() if t is None else t)
        if bpm is None:
            return None
        if not LIMITS["bpm"].holds(bpm):
            raise AccompanistError(f"tapped {bpm:.0f} bpm, outside {LIMITS['bpm'].range_text()}: tap again")
        self.set(bpm=round(bpm, 1))
        return bpm

    def learn(self, action: str) -> None:
        """MIDI learn: the next controller, pad or program change the player sends becomes ``action``."""
        if action not in ACTIONS:
            raise AccompanistError(f"no action '{action}'; actions: {', '.join(ACTIONS)}")
        self._playing().controls.learn(action)
        self.bus.emit("learning", action=action)

    def forget(self, action: str) -> None:
        """``action`` is mapped to nothing."""
        self.set(controls=ControlMap.parse(self.settings.controls).without(action).texts)

    def _learned(self, control: Control) -> None:
        self.set(controls=ControlMap.parse(self.settings.controls).learned(control).texts)
        self.bus.emit("learned", action=control.action, source=control.source, text=control.text)

    def _act(self, control: Control, value: int | None) -> None:
        line = perform(self, control, value)
        if line is not None:
            self.bus.emit("control", action=control.action, said=line)

    def _playing(self) -> Session:
        if self._session is None:
            raise AccompanistError(NOT_PLAYING)
        return self._session

    def set(self, **changes) -> None:
        """Change settings, before or while playing (``LIVE_SETTINGS`` while playing): mode,
        model, temperature, sampling, loop bars, bpm (internal clock), channel, program,
        metronome. Sounding notes are released first where the change would strand them. A bad
        value is refused and changes nothing."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(Settings)}
        if unknown:
            raise AccompanistError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        session = self._session
        fixed = set(changes) - LIVE_SETTINGS
        if fixed and session is not None:
            raise AccompanistError(f"{', '.join(sorted(fixed))} cannot change while playing; stop, then start again")
        if "bpm" in changes and self.settings.clock == "external":
            raise AccompanistError("the DAW sets the tempo when following its clock")
        if "mode" in changes and "model" not in changes:
            changes["model"] = None  # the new mode's default model: the old one is of another family
        new = dataclasses.replace(self.settings, **changes)
        check_settings(new)
        remade = MODE_SETTINGS & set(changes)
        # the new model is loaded before anything changes: a bad name leaves the session as it was,
        # and the model worker is not held up while a graph loads
        card = card_for(new.mode, new.model) if remade else self.card
        if card.steps_per_beat != self.steps_per_beat:
            raise AccompanistError(
                f"model {card.name} has {card.steps_per_beat} steps a beat, this session "
                f"{self.steps_per_beat}: stop, then start with it"
            )
        if session is None:
            self.settings, self.card = new, card
            self.bus.emit("settings", **{k: str(v) for k, v in changes.items()})
            return
        self._set_live(session, new, card, changes, remade)

    def _set_live(self, session: Session, new: Settings, card: ModelCard, changes: dict, remade: set) -> None:
        worker = session.worker
        if "synth_volume" in changes and session.ports.synth is not None:
            session.ports.synth.volume(new.synth_volume)
        mode = self._make_mode(new, card) if remade else None
        release = {"model", "channel", "program", "mode"} & set(changes)
        with worker.lock:  # one step: the worker never plans between the release and the swap
            if release:
                worker.release()
            self.settings, self.card = new, card
            session.planner.channel = new.channel
            if mode is not None:
                worker.install(mode, session.budget(new, card, mode))
                session.planner.program_change(self.program)
            else:
                if SAMPLING_SETTINGS & set(changes):  # read at the next step: the model's memory stays
                    worker.mode.sampling = session_sampling(new, card)
                if "listen_ms" in changes:
                    worker.install(worker.mode, session.budget(new, card, worker.mode))
                if {"channel", "program"} & set(changes):
                    session.planner.program_change(self.program)
        if "bpm" in changes and isinstance(session.clock, PlayerClock):
            session.clock.set_tempo(changes["bpm"], self.stats.steps)  # a new guess: the player leads
        elif "bpm" in changes and isinstance(session.clock, InternalClock):
            at = self.stats.steps + 2
            session.clock.set_tempo(changes["bpm"], at)
            session.recorder.tempo(session.clock.boundary(at), changes["bpm"])
        if release:
            self.bus.emit("panic")
        self.bus.emit("settings", **{k: str(v) for k, v in changes.items()})

    def _make_mode(self, s: Settings, card: ModelCard) -> Mode:
        return make_mode(s, card, self.steps_per_bar, self.rng, self._locked)

    # --- what it is doing -------------------------------------------------------------------

    @property
    def listen(self) -> float:
        """Seconds each answer waits after its boundary to hear the player: the duet's constant
        lag (0 for loop and respond, and for models that anticipate)."""
        if self._session is not None:
            return self._session.worker.budget.listen
        return listen_seconds(self.settings, self.card, card_listens(self.card))

    @property
    def lag_felt(self) -> dict:
        """The lag a player feels over the recent strikes (``live.lag_meter``: median and p90 in
        ms, the share heard by their own step's answer); empty when not playing or not in duet."""
        s = self._session
        return s.worker.lag.figures() if s is not None and s.worker.budget.answers_steps else {}

    @property
    def locked(self) -> bool:
        return self._locked

    @property
    def temperature(self) -> float:
        """The temperature sampling uses now (the setting, or the model card's default)."""
        return float(self.sampling.temperature)

    @property
    def sampling(self) -> Sampling:
        """The sampling configuration the model runs by now (or will, at start)."""
        if self._session is not None:
            return self._session.worker.mode.sampling
        return session_sampling(self.settings, self.card)

    @property
    def program(self) -> int:
        s = self.settings
        return int(s.program if s.program is not None else self.card.default("program"))

    @property
    def steps_per_bar(self) -> int:
        return self.settings.beats_per_bar * self.steps_per_beat

    @property
    def parts(self) -> Session | None:
        """The parts of the session playing, or of the last one (None before the first start):
        for the benches and the tests to look at, never to drive."""
        return self._parts

    @property
    def output(self):
        return self._parts.output if self._parts else None

    @property
    def clock(self):
        return self._parts.clock if self._parts else None

    def figures(self) -> dict:
        """Timing so far (or of the last session): medians and percentiles in milliseconds, counts."""
        if self._session is not None:
            return self._figures(self._session)
        return self._last_figures

    def _figures(self, session: Session | None) -> dict:
        def pct(xs: list[float], q: float) -> float | None:
            return round(float(np.percentile(np.asarray(xs) * 1e3, q)), 3) if xs else None

        out = session.output if session else None
        err = [abs(e) for e in out.errors] if out else []
        return {
            "steps": self.stats.steps,
            "missed_deadlines": self.stats.missed,
            "late_inputs": session.quantizer.late if session else 0,
            "input_ignored": dict(self.guard.ignored),
            "input_dropped": dict(self.guard.dropped),
            "inference_ms_median": pct(self.stats.inference, 50),
            "inference_ms_p99": pct(self.stats.inference, 99),
            "output_error_ms_median": pct(err, 50),
            "output_error_ms_p99": pct(err, 99),
            "output_error_ms_max": pct(err, 100),
            "messages_out": out.sent if out else 0,
            "sent_early_ms": round(out.lead * 1e3, 3) if out else None,
            "listen_ms": round(self.listen * 1e3, 3),
            **self.lag_felt,
        }
