"""Where the model is called and where its answer is planned: the model worker of the
engine, as a part of ``Engine`` (a mixin: it reads the engine's mode, output and settings)."""

from __future__ import annotations

import time
from collections.abc import Callable

import mido
import numpy as np

from accompanist.live.modes import DuetMode, LoopMode
from accompanist.live.respond import RespondMode
from accompanist.live.settings import SEND_MARGIN
from accompanist.music import roll


class Answering:
    def _model_worker(self) -> None:
        while self._running.is_set():
            item = self._work.get()
            if item is None:
                return
            try:
                with self._mode_lock:
                    if item[0] == "release":  # the DAW moved: release, and a loop starts over
                        self._release_all()
                        if item[1] and isinstance(self.mode, LoopMode):
                            self.mode.reset()
                        continue
                    kind, epoch, index, closed, deadline, k = item
                    if epoch != self._epoch:
                        continue  # heard before the DAW moved the grid
                    if isinstance(self.mode, DuetMode):
                        self._duet_item(kind, closed, deadline, k)
                    elif isinstance(self.mode, RespondMode):
                        if kind == "step":
                            self._respond_step(index, closed, deadline, k)
                    elif kind == "step":
                        self._loop_step(index, closed, deadline, k)
            except Exception as exc:  # the session goes on; the step is lost, and said so
                self._error(f"{item[0]}: {type(exc).__name__}: {exc}")

    def _duet_item(self, kind: str, heard, deadline: float, k: int) -> None:
        """Anticipating: a closed step k is answered with step k + 1 at its boundary. Hearing:
        "listen" answers step k from what was heard of it; "step" files the closed step."""
        mode: DuetMode = self.mode
        phase = k % self.steps_per_bar
        if not mode.listens:
            if kind == "step":
                self._duet_answer(k + 1, lambda: mode.answer(heard.roll), deadline)
        elif kind == "listen":
            pitches = (np.flatnonzero(heard[roll.FRAME]) + roll.PITCH_LO).tolist()
            self._duet_answer(k, lambda: mode.answer_now(heard, phase), deadline, heard=pitches)
        else:
            mode.commit(heard.roll, phase)

    def _duet_answer(
        self, step_no: int, answer: Callable[[], np.ndarray], deadline: float, heard: list[int] | None = None
    ) -> None:
        """Run the model, and plan its answer at ``deadline`` if it is ready in time."""
        t0 = time.perf_counter()
        step = answer()
        t1 = time.perf_counter()
        self.stats.inference.append(t1 - t0)
        extra = {} if heard is None else {"heard": heard}  # a hearing model: the melody it answered
        self._emit("answer", step=step_no, inference_ms=round((t1 - t0) * 1e3, 3), **extra)
        leave = deadline - self.output.lead  # when the answer's messages must go out
        if t1 > leave - SEND_MARGIN:
            self._missed(step_no, t1 - leave)
            held = roll.empty(1)[0]
            held[roll.FRAME, list(self._sounding)] = 1
            self.mode.played(held)
            return
        self.mode.played(step)
        self._plan_step(deadline, step, self._velocity(), step_no)
        if self.mode.fell_silent:  # only a duet mode comes here
            # The answer has just released everything to wait for the player. A note-off lost on
            # the way (a JACK cycle that failed: thousands a minute on a stalled VM) would leave a
            # note sounding through the rest; All Notes Off here costs nothing and ends it.
            ch = self.settings.channel
            self.output.at(deadline, mido.Message("control_change", channel=ch, control=123, value=0))

    def _loop_step(self, index: int, closed, deadline: float, k: int) -> None:
        """Hear step ``index`` of the pass; at the pass's last step, harmonise the pass; then
        plan the answer's next step at the coming boundary. Planning one step at a time keeps
        the answer on the grid through tempo changes and a DAW's drifting clock."""
        mode: LoopMode = self.mode
        n = mode.pass_steps
        mode.hear(index % n, closed.roll)
        if index % n == n - 1:
            t0 = time.perf_counter()
            fresh = self._pending_refresh
            was = mode.answer_steps
            steps = mode.close_pass(fresh=fresh)
            self._pending_refresh = False
            t1 = time.perf_counter()
            self.stats.inference.append(t1 - t0)
            source = "silent" if steps is None else "locked" if steps is was else "refreshed" if fresh else "harmonised"
            self._emit(
                "pass",
                index=index // n,
                source=source,
                notes=0 if steps is None else int(steps[:, roll.ONSET].sum()),
                harmonise_ms=round((t1 - t0) * 1e3, 3),
                lead_ms=round((deadline - self.output.lead - t1) * 1e3, 3),
                next_step=k + 1,  # the clock's step where the pass now planned begins
                plan=steps,  # (steps, 2, 84) or None: read by a panel, never changed after this
            )
        now = time.perf_counter()
        leave = deadline - self.output.lead
        if now > leave - SEND_MARGIN:  # a long harmonisation, or steps queued behind it
            self._missed(k + 1, now - leave)
            return  # this step is skipped; the rest stays on the grid
        steps = mode.answer_steps
        nxt = roll.empty(1)[0] if steps is None else steps[(index + 1) % n]
        self._plan_step(deadline, nxt, self._velocity(), k + 1)

    def _respond_step(self, index: int, closed, deadline: float, k: int) -> None:
        """Hear step ``index`` of the call; at a bar's end an ended call is answered (the answer
        starts at the coming bar line); then plan the answer's next step, one at a time like the
        loop, so the answer keeps to the grid through tempo changes."""
        mode: RespondMode = self.mode
        t0 = time.perf_counter()
        got = mode.hear(index, closed.roll)
        t1 = time.perf_counter()
        if got is not None:
            self.stats.inference.append(t1 - t0)
            self._emit("response", step=k + 1, answer_ms=round((t1 - t0) * 1e3, 3), **got)
        if t1 > deadline - self.output.lead - SEND_MARGIN:
            self._missed(k + 1, t1 - (deadline - self.output.lead))
            mode.next_step()  # that step is lost; the rest of the answer stays on the grid
            return
        self._plan_step(deadline, mode.next_step(), self._velocity(), k + 1)

    def _missed(self, step: int, late: float) -> None:
        self.stats.missed += 1
        self._emit("missed", step=step, late_ms=round(late * 1e3, 3))

    def _plan_step(self, t: float, step: np.ndarray, velocity: int, k: int) -> None:
        """Messages at time t that take the answer from what sounds to ``step`` (the clock's
        step ``k``): releases first, then strikes (the scheduler keeps their order at equal times)."""
        ch = self.settings.channel
        frame = set(np.flatnonzero(step[roll.FRAME]).tolist())
        onset = set(np.flatnonzero(step[roll.ONSET] & step[roll.FRAME]).tolist())
        for p in sorted(self._sounding - frame | (onset & self._sounding)):
            self.output.at(t, mido.Message("note_off", channel=ch, note=p + roll.PITCH_LO, velocity=0))
        struck = sorted(onset | (frame - self._sounding))
        for p in struck:
            self.output.at(t, mido.Message("note_on", channel=ch, note=p + roll.PITCH_LO, velocity=velocity))
        self._sounding = frame
        self._emit("planned", at=t, step=k, struck=[p + roll.PITCH_LO for p in struck], sounding=len(frame))

    def _velocity(self) -> int:
        return int(np.clip(self.quantizer.velocity * 0.85, 25, 120))
