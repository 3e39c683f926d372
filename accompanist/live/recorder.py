"""Every session on disk as it happens: the player's part and the accompaniment on named tracks of
a standard MIDI file, with the tempo, rewritten atomically (write beside, then rename) at least
once a bar. A crash or a pulled plug loses at most the bar being played.

Times are kept as the session's perf_counter seconds and written as ticks at the session tempo,
so a recording reads back on the grid it was played on.
"""

from __future__ import annotations

import threading
from pathlib import Path

import mido

from accompanist.music.midi_io import Part, write_midi

TICKS_PER_BEAT = 480


class Recorder:
    def __init__(self, path: Path, bpm: float, start: float, program: int, channel: int):
        self.path = Path(path)
        self.bpm, self.start = bpm, start
        self.program, self.channel = program, channel
        self.player: list[tuple[float, mido.Message]] = []
        self.answer: list[tuple[float, mido.Message]] = []
        self._lock = threading.Lock()
        self.writes = 0

    def _ticks(self, t: float) -> int:
        return max(0, int(round((t - self.start) * self.bpm / 60.0 * TICKS_PER_BEAT)))

    def played(self, t: float, msg: mido.Message) -> None:
        if msg.type in ("note_on", "note_off", "control_change"):
            with self._lock:
                self.player.append((t, msg))

    def answered(self, t: float, msg: mido.Message) -> None:
        if msg.type in ("note_on", "note_off", "control_change"):
            with self._lock:
                self.answer.append((t, msg))

    def write(self) -> Path:
        with self._lock:
            player = [(self._ticks(t), m) for t, m in self.player]
            answer = [(self._ticks(t), m) for t, m in self.answer]
        tempo = [(0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(self.bpm)))]
        parts = [Part("player", player), Part("accompaniment", answer, program=self.program, channel=self.channel)]
        write_midi(self.path, TICKS_PER_BEAT, parts, tempo)
        self.writes += 1
        return self.path
