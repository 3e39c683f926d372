"""`accompanist bench live`: the engine in duet, loop and respond mode against a JACK loopback,
and a naive loop.

A rig process (``live_rig.py``) plays a known melody into the engine's input port and stamps what
arrives from its output port. We report, from those stamps and the engine's own figures:

* output timing error: arrival of each answer note-on minus the grid time it was planned for
  (so JACK's period and the port-to-port latency are included), median, p99 and max;
* input-to-engine delay: the engine's stamp of each player note-on minus the rig's send stamp;
* inference time per step and missed deadlines;
* the same timing for a naive loop, run in this process against a second rig: read the input,
  run the model, send the answer, then ``sleep(step length)`` (how simple duet scripts keep time,
  so every step's work and every wake-up's lateness pushes the rest of the session later),
  and the ratio of its p99 error to the engine's.

Without a JACK server we start one (dummy driver, period 64, 48 kHz) and stop it afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from accompanist.errors import AccompanistError


def _pct(xs: list[float]) -> dict:
    if not xs:
        return {"n": 0}  # nothing measured
    a = np.abs(np.asarray(xs)) * 1e3
    return {
        "n": len(a),
        "median_ms": round(float(np.median(a)), 3),
        "p99_ms": round(float(np.percentile(a, 99)), 3),
        "max_ms": round(float(a.max()), 3),
    }


def ensure_jack(period: int = 64) -> subprocess.Popen | None:
    """None if a JACK server answers; else a dummy-driver server we started (stop it after)."""
    from accompanist.live.ports import resolve_api

    try:
        resolve_api("jack")
        return None
    except AccompanistError:
        pass
    if not shutil.which("jackd"):
        raise AccompanistError("bench live needs JACK: install jackd2 (Debian: apt-get install jackd2)") from None
    # realtime scheduling where the system grants it, else a plain process
    log = tempfile.NamedTemporaryFile(prefix="accompanist-jackd-", suffix=".log", delete=False)
    for rt in (["-R", "-P", "70"], ["--no-realtime"]):
        proc = subprocess.Popen(
            ["jackd", *rt, "-d", "dummy", "-r", "48000", "-p", str(period)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        proc.log_path = log.name
        if subprocess.run(["jack_wait", "-w", "-t", "10"], capture_output=True).returncode == 0 and proc.poll() is None:
            break
        proc.kill()
        proc.wait()
    else:
        raise AccompanistError("could not start a JACK server (jackd -d dummy); start one yourself and retry")
    time.sleep(0.3)
    return proc


def jack_cycles_lost(jack: subprocess.Popen | None) -> int | None:
    """Cycles our JACK server could not finish in time (its log's "Process error" lines): MIDI
    in such a cycle can be lost between clients, whatever the engine does. None: not our server."""
    path = getattr(jack, "log_path", None)
    if path is None:
        return None
    with open(path, errors="replace") as f:
        return sum("Process error" in line for line in f)


def stop_jack(jack: subprocess.Popen | None) -> None:
    if jack is None:
        return
    from accompanist.live.ports import quiet_native_stderr

    with quiet_native_stderr():  # libjack's threads lament the server they lose
        jack.terminate()
        jack.wait(5)
        time.sleep(0.3)
    os.unlink(jack.log_path)


def _connect(src: str, dst: str) -> None:
    r = subprocess.run(["jack_connect", src, dst], capture_output=True, text=True)
    if r.returncode != 0:
        raise AccompanistError(f"jack_connect {src} {dst} failed: {r.stderr.strip()}")


def spawn_ready(module: str, *args: str) -> subprocess.Popen:
    """``python -m module args`` as a process of its own, once it has said ``ready`` (its ports
    exist); it then waits for ``go T`` on its standard input."""
    cmd = [sys.executable, "-m", module, *args]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != "ready":
        raise AccompanistError(f"{module} did not start: {proc.stderr.read()[-500:]}")
    return proc


class Rig:
    def __init__(self, name: str, seconds: float, bpm: float, clock: bool = False, jitter_ms: float = 0.0):
        self.name = name
        args = ["--name", name, "--seconds", str(seconds), "--bpm", str(bpm), "--jitter-ms", str(jitter_ms)]
        args += ["--clock"] if clock else []
        self.proc = spawn_ready("accompanist.bench.live_rig", *args)

    def wire(self, engine_client: str) -> None:
        _connect(f"{self.name}-player-out:out", f"{engine_client}-in:in")
        _connect(f"{engine_client}-out:out", f"{self.name}-ear-in:in")

    def go(self, at: float, script: Path | None = None) -> None:
        """Begin playing at ``at`` (a ``perf_counter`` time), the known melody or ``script``."""
        self.proc.stdin.write(f"go {at!r}" + (f" {script}" if script else "") + "\n")
        self.proc.stdin.flush()

    def played(self) -> None:
        """Wait until the rig has played its last note (it goes on listening a moment)."""
        while (line := self.proc.stdout.readline()) and line.strip() != "played":
            pass

    def result(self, timeout: float) -> dict:
        # read through the same buffered pipe as ``played``: its readline may already hold the
        # result (communicate reads the raw pipe and would miss it); killed if it hangs
        import threading

        timer = threading.Timer(timeout, self.proc.kill)
        timer.start()
        try:
            out, err = self.proc.stdout.read(), self.proc.stderr.read()
            self.proc.wait()
        finally:
            timer.cancel()
        if self.proc.returncode != 0:
            raise AccompanistError(f"bench rig failed: {err[-500:]}")
        return json.loads(out.strip().splitlines()[-1])


def trace_answers(engine) -> list[tuple[float, int, float]]:
    """The answer's note-ons as the engine sends them, ``(grid time, note, grid time)``, in a list
    that fills while it plays (the engine's own ``on_sent`` still runs)."""
    planned: list[tuple[float, int, float]] = []
    inner = engine.output.on_sent

    def trace(t: float, msg) -> None:
        if msg.type == "note_on" and msg.velocity > 0 and msg.channel == engine.settings.channel:
            planned.append((t, msg.note, t))
        inner(t, msg)

    engine.output.on_sent = trace
    return planned


def _next_bar_line(engine, after: float) -> float:
    """The first bar line of an internally clocked engine's grid ``after`` seconds from now."""
    k = engine.clock.step_at(time.perf_counter() + after) + 1
    return engine.clock.boundary(-(-k // engine.steps_per_bar) * engine.steps_per_bar)


def _errors(planned: list[tuple[float, int, float]], heard: list) -> tuple[list[float], int]:
    """Arrival minus grid time for each planned note-on ``(sent or due time, note, grid time)``,
    matched to the arrival of the same note nearest its send time (within 50 ms); and how many
    found no arrival. Matching by note and time, not by order: a JACK cycle that runs late can
    drop an event, and one lost note must not shift every later pairing by a step."""
    arrivals: dict[int, list[float]] = {}
    for t, kind, note, vel, _ in heard:
        if kind == "note_on" and vel:
            arrivals.setdefault(note, []).append(t)
    errors, lost = [], 0
    for sent, note, grid in planned:
        cands = arrivals.get(note, [])
        best = min(range(len(cands)), key=lambda i: abs(cands[i] - sent), default=None)
        if best is None or not -0.005 < cands[best] - sent < 0.05:
            lost += 1
            continue
        errors.append(cands.pop(best) - grid)
    return errors, lost


#: the duet run's player: a person's spread about the beat (SD), the figure the follower and the
#: listen window are chosen for
HUMAN_MS = 10.0


def run_engine(
    model: str | None,
    seconds: float,
    bpm: float,
    temperature: float | None,
    mode: str = "duet",
    clock: str = "internal",
    listen_ms: float | None = None,
    jitter_ms: float = 0.0,
) -> dict:
    """One engine run against a rig (its player with ``jitter_ms`` of human spread). Following the
    rig's clock (``clock="external"``), each answer is judged against the 16th of the rig's own
    clock it belongs to (the tick as it left the rig), not against the engine's prediction of it."""
    from accompanist.live.engine import Engine, Settings

    client = "accompanist-bench"
    rig = Rig("rig", seconds, bpm, clock=clock == "external", jitter_ms=jitter_ms)
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(
            Settings(
                mode=mode,
                model=model,
                inp="virtual",
                out="virtual",
                api="jack",
                bpm=bpm,
                temperature=temperature,
                record=Path(tmp) / "bench.mid",
                client_name=client,
                seed=0,
                clock=clock,
                listen_ms=listen_ms if mode == "duet" else None,
                # the rig's player rarely rests a whole bar: 2-bar calls, so answers come often
                call_bars=2,
            )
        )
        events = engine.subscribe(100000)
        engine.start()
        planned = trace_answers(engine)
        rig.wire(client)
        rig.go(time.perf_counter() + 0.3 if clock == "external" else _next_bar_line(engine, 0.3))
        rig.played()
        engine.stop()
        data = rig.result(30)
    ins, passes, responses = [], [], []
    while not events.empty():
        ev = events.get()
        if ev["type"] == "note_in" and ev["velocity"] > 0:
            ins.append((ev["t"] + engine.output.lead, ev["note"]))
        elif ev["type"] == "pass":
            passes.append(ev)
        elif ev["type"] == "response":
            responses.append(ev)
    sent = data["sent"]
    fig = engine.figures()
    extra = {}
    if clock == "external":
        sixteenths = np.asarray(data["ticks"][::6])
        last = data["ticks"][-1]  # after the rig's clock stops, there is no 16th to judge by
        lag = engine.listen  # a hearing model answers each 16th its listen window after it
        planned = [
            (t, note, float(sixteenths[np.abs(sixteenths - t + lag).argmin()]) + lag)
            for t, note, _ in planned
            if t < last
        ]
        extra["daw_bpm_estimate"] = round(engine.clock.bpm, 2)
    errors, lost = _errors(planned, data["heard"])
    if mode == "loop":  # how long each pass took to harmonise, and how much of the step was left
        timed = [p["harmonize_ms"] for p in passes if p.get("harmonize_ms") is not None]
        extra["harmonise_pass"] = _pct([ms / 1e3 for ms in timed])
        # the first pass, harmonised when the session is youngest (the warm-up's work)
        extra["first_pass_ms"] = timed[0] if timed else None
        extra["lead_before_next_pass_ms_min"] = min((p["lead_ms"] for p in passes), default=None)
    if mode == "respond":  # how long each answer took to make, before its bar line
        extra["answers"] = len(responses)
        extra["make_answer"] = _pct([r["answer_ms"] / 1e3 for r in responses])
    return {
        **extra,
        "mode": mode,
        "clock": clock,
        "model": engine.card.name,
        # answers are judged against the grid they were planned on: boundary + listen window
        "listen_ms": round(engine.listen * 1e3, 3),
        "steps": fig["steps"],
        "output_error": _pct(errors),
        "lost_at_listener": lost,
        # the engine reads input as sent half a JACK period before it came: added back above,
        # so this is the measured delay, send to arrival
        "input_delay": _pct(
            _errors([(t, note, t) for t, note in sent], [(t, "note_on", n, 1, None) for t, n in ins])[0]
        ),
        "inference": _pct(engine.stats.inference),
        "missed_deadlines": fig["missed_deadlines"],
        "late_inputs": fig["late_inputs"],
        "player_notes": len(sent),
        "player_jitter_ms": jitter_ms,
        # strike to the first answer that heard it (duet), as the engine measured it
        "lag_felt": {k: fig.get(k) for k in ("lag_ms_median", "lag_ms_p90", "heard_in_time", "strikes")},
    }


def run_naive(model: str | None, seconds: float, bpm: float, temperature: float | None) -> dict:
    """read, infer, send, sleep(step): the loop most duet scripts use (a hearing model answers
    the step it just read, an anticipating one the next)."""
    import mido

    from accompanist.inference.cards import load_card
    from accompanist.inference.duet_runner import DuetRunner
    from accompanist.inference.sampling import sample_roll_step
    from accompanist.live.ports import open_input, open_output
    from accompanist.live.settings import DEFAULT_MODELS
    from accompanist.music import roll

    card = load_card(model or DEFAULT_MODELS["duet"], family="duet")
    runner = DuetRunner(card)
    temp = card.default("temperature") if temperature is None else float(temperature)
    cap = card.default("max_notes")
    client = "naive-bench"
    rig = Rig("rig2", seconds, bpm)
    inp = open_input("virtual", "jack", client_name=client)
    out = open_output("virtual", "jack", client_name=client)
    rig.wire(client)
    rig.go(time.perf_counter() + 0.3)
    rng = np.random.default_rng(0)
    step_len = 60.0 / bpm / card.steps_per_beat
    held: set[int] = set()
    last = roll.empty(1)[0]
    sounding: set[int] = set()
    planned: list[tuple[float, int, float]] = []
    t0 = time.perf_counter()
    k = 0
    while time.perf_counter() - t0 < seconds + 2.0:
        mel = roll.empty(1)[0]
        for _, m in inp.poll(time.perf_counter()):
            if m.type == "note_on" and m.velocity:
                p = roll.fold_pitch(m.note) - roll.PITCH_LO
                held.add(p)
                mel[roll.ONSET, p] = 1
            elif m.type in ("note_on", "note_off"):
                held.discard(roll.fold_pitch(m.note) - roll.PITCH_LO)
        mel[roll.FRAME, list(held)] = 1
        mel[roll.FRAME] |= mel[roll.ONSET]
        logits = runner.hear(mel, k % 16) if runner.listens else runner.step(mel, last)
        step = sample_roll_step(logits, last[roll.FRAME], temp, rng, cap)
        if runner.listens:
            runner.commit(mel, step, k % 16)
        frame = set(np.flatnonzero(step[roll.FRAME]).tolist())
        onset = set(np.flatnonzero(step[roll.ONSET]).tolist())
        for p in sounding - frame | (onset & sounding):
            out.send(mido.Message("note_off", channel=1, note=p + roll.PITCH_LO))
        for p in onset | (frame - sounding):
            out.send(mido.Message("note_on", channel=1, note=p + roll.PITCH_LO, velocity=80))
            planned.append((time.perf_counter(), p + roll.PITCH_LO, t0 + k * step_len))  # its grid time
        sounding, last = frame, step
        time.sleep(step_len)
        k += 1
    for p in sounding:
        out.send(mido.Message("note_off", channel=1, note=p + roll.PITCH_LO))
    rig.played()
    data = rig.result(30)
    inp.close()
    out.close()
    errors, lost = _errors(planned, data["heard"])
    return {"steps": k, "output_error": _pct(errors), "lost_at_listener": lost}


def bench_live(
    model: str | None = None,
    seconds: float = 20.0,
    bpm: float = 120.0,
    temperature: float | None = None,
    loop_model: str | None = None,
    listen_ms: float | None = None,
    respond_model: str | None = None,
) -> dict:
    from accompanist.bench.wakeups import wakeups

    machine = wakeups(10.0)  # before JACK starts: the machine alone
    jack = ensure_jack()
    env_note = "started a JACK server (dummy driver, period 64)" if jack else "used the running JACK server"
    try:
        # the duet's player keeps the metronome as a person does: within 10 ms (the lag it feels)
        engine = run_engine(model, seconds, bpm, temperature, listen_ms=listen_ms, jitter_ms=HUMAN_MS)
        naive = run_naive(model, seconds, bpm, temperature)
        loop = run_engine(loop_model, seconds, bpm, temperature, mode="loop")
        respond = run_engine(respond_model, seconds, bpm, temperature, mode="respond")
        follow = run_engine(model, seconds, bpm, temperature, clock="external", listen_ms=listen_ms)
        lost_cycles = jack_cycles_lost(jack)
    finally:
        stop_jack(jack)
    ratio = None
    e, n = engine["output_error"].get("p99_ms"), naive["output_error"].get("p99_ms")
    if e and n:
        ratio = round(n / e, 1)
    return {
        "bpm": bpm,
        "seconds": seconds,
        "jack": env_note,
        "machine": f"{os.cpu_count()} cores",
        "wakeups": machine,
        "jack_cycles_lost": lost_cycles,
        "engine": engine,
        "naive_sleep_loop": naive,
        "loop_mode": loop,
        "respond_mode": respond,
        "following_daw_clock": follow,
        "naive_over_engine_p99": ratio,
    }


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def soak(model: str | None, minutes: float, bpm: float = 120.0, listen_ms: float | None = None) -> dict:
    """Duet mode against an improvising player (``bench.medley``) for ``minutes``: missed deadlines, memory over time
    (resident set of this process, sampled every 10 s after the first minute's warm-up), the
    answer's polyphony minute by minute (mean notes sounding over the steps where any sound),
    and notes left sounding at the listener when it ends."""
    import threading

    from accompanist.bench.medley import medley
    from accompanist.bench.wakeups import wakeups
    from accompanist.live.engine import Engine, Settings

    machine = wakeups(10.0)
    jack = ensure_jack()
    try:
        seconds = minutes * 60
        rig = Rig("soak", seconds, bpm)
        script = medley(seconds, bpm, 16)
        with tempfile.TemporaryDirectory() as tmp:
            engine = Engine(
                Settings(mode="duet", model=model, inp="virtual", out="virtual", api="jack", bpm=bpm,
                         record=Path(tmp) / "soak.mid", client_name="accompanist-soak", seed=0,
                         listen_ms=listen_ms)
            )  # fmt: skip
            events = engine.subscribe(1_000_000)
            engine.start()
            rig.wire("accompanist-soak")
            start = _next_bar_line(engine, 0.5)
            path = Path(tmp) / "medley.json"
            path.write_text(json.dumps([(t + start, *rest) for t, *rest in script]))
            rig.go(start, path)
            rss: list[tuple[float, float]] = []
            stop = threading.Event()

            def sample() -> None:
                t0 = time.perf_counter()
                while not stop.wait(10):
                    rss.append((time.perf_counter() - t0, _rss_mb()))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            rig.played()
            engine.stop()
            stop.set()
            data = rig.result(60)
            recording_mb = (Path(tmp) / "soak.mid").stat().st_size / 2**20
        lost_cycles = jack_cycles_lost(jack)
    finally:
        stop_jack(jack)
    on: dict[tuple[int, int], int] = {}  #: (channel, note) -> strikes not yet released
    last: dict[tuple[int, int], float] = {}
    lost_offs = 0  #: notes a note-off never ended (an All Notes Off did, or nothing)
    for t, kind, note, vel, ch in data["heard"]:  # "note" is the controller for control changes
        if kind == "note_on" and vel:
            lost_offs += on.get((ch, note), 0)  # struck again unreleased: its note-off was lost
            on[ch, note] = 1
            last[ch, note] = t
        elif kind in ("note_on", "note_off") and on.get((ch, note), 0) > 0:
            on[ch, note] -= 1
        elif kind == "control_change" and note == 123:  # All Notes Off: what a synth does
            ended = [k for k, v in on.items() if k[0] == ch and v > 0]
            lost_offs += len(ended)
            for k in ended:
                on[k] = 0
    end = data["heard"][-1][0] if data["heard"] else 0.0
    fig = engine.figures()
    after_warmup = [m for t, m in rss if t >= 60] or [m for _, m in rss]
    start, per_minute = None, {}
    while not events.empty():
        ev = events.get()
        if ev["type"] == "planned" and ev["sounding"]:
            start = ev["at"] if start is None else start
            per_minute.setdefault(int((ev["at"] - start) // 60), []).append(ev["sounding"])
    polyphony = [round(float(np.mean(v)), 2) for _, v in sorted(per_minute.items())]
    return {
        "minutes": minutes,
        "steps": fig["steps"],
        "missed_deadlines": fig["missed_deadlines"],
        "missed_share": round(fig["missed_deadlines"] / max(fig["steps"], 1), 5),
        "player_notes": len(data["sent"]),
        "answer_notes": sum(1 for h in data["heard"] if h[1] == "note_on" and h[3]),
        "stuck_notes": sum(1 for v in on.values() if v > 0),
        "note_offs_lost": lost_offs,
        # channel 1-16, note, and how long before the last message heard it was struck
        "stuck": [(ch + 1, n, round(end - last[ch, n], 3)) for (ch, n), v in on.items() if v > 0],
        "rss_mb_first": round(after_warmup[0], 1) if after_warmup else None,
        "rss_mb_last": round(after_warmup[-1], 1) if after_warmup else None,
        "rss_growth_mb": round(after_warmup[-1] - after_warmup[0], 1) if after_warmup else None,
        "recording_mb": round(recording_mb, 2),
        "inference_ms_p99": fig["inference_ms_p99"],
        "output_error_ms_p99": fig["output_error_ms_p99"],
        "listen_ms": round(engine.listen * 1e3, 3),
        "polyphony_per_minute": polyphony,
        "machine_wakeups": machine,
        "jack_cycles_lost": lost_cycles,
    }
