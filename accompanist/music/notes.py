"""Notes in ticks, and their passage to and from the token grid."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accompanist.music.tokens import HOLD, REST
from accompanist.wording import count


@dataclass(frozen=True)
class Note:
    """One note: MIDI pitch, start and end in ticks (end exclusive), velocity and channel."""

    pitch: int
    start: int
    end: int
    velocity: int = 80
    channel: int = 0


#: the answer plays a little under the player: this share of the player's velocity, kept audible
#: and short of the loudest (live and offline alike)
ANSWER_SHARE, ANSWER_SOFTEST, ANSWER_LOUDEST = 0.85, 25, 120


def answer_velocity(player_velocity: float) -> int:
    """The velocity of the answer's notes under a player playing at ``player_velocity`` (a
    mean, or the live quantiser's running figure): 85 % of it, within 25..120."""
    return int(min(max(player_velocity * ANSWER_SHARE, ANSWER_SOFTEST), ANSWER_LOUDEST))


@dataclass
class QuantizeReport:
    """What the grid had to change to represent the notes."""

    notes_in: int = 0
    snapped: int = 0  #: notes whose start or end was off the grid
    chord_notes_dropped: int = 0  #: notes under the top note of a chord
    overlaps_cut: int = 0  #: notes shortened because the next note began first
    warnings: list[str] = field(default_factory=list)


def notes_to_tokens(
    notes: list[Note], ticks_per_step: float, length: int | None = None
) -> tuple[np.ndarray, QuantizeReport]:
    """Quantise notes to the grid and reduce them to one voice.

    Starts and ends are rounded to the nearest step; a note that rounds to nothing keeps one
    step. Notes that start on the same step are a chord: the top note stays. A note that begins
    while another sounds cuts it, as a singer would.
    """
    report = QuantizeReport(notes_in=len(notes))
    by_step: dict[int, Note] = {}
    ends: dict[int, int] = {}
    for n in notes:
        s = n.start / ticks_per_step
        e = n.end / ticks_per_step
        qs, qe = int(round(s)), int(round(e))
        if qs != s or qe != e:
            report.snapped += 1
        qe = max(qe, qs + 1)
        if qs in by_step:
            report.chord_notes_dropped += 1
            if n.pitch < by_step[qs].pitch:
                continue
        by_step[qs] = n
        ends[qs] = qe
    if report.chord_notes_dropped:
        n = report.chord_notes_dropped
        report.warnings.append(
            f"{count(n, 'chord note')} {'was' if n == 1 else 'were'} dropped: the melody keeps the top note"
        )
    last = max(ends.values(), default=0)
    n_steps = last if length is None else length
    tokens = np.full(n_steps, REST, dtype=np.int64)
    starts = sorted(by_step)
    for i, s in enumerate(starts):
        if s >= n_steps:
            break
        e = min(ends[s], n_steps)
        if i + 1 < len(starts) and starts[i + 1] < e:
            e = starts[i + 1]
            report.overlaps_cut += 1
        tokens[s] = by_step[s].pitch
        tokens[s + 1 : e] = HOLD
    return tokens, report


def tokens_to_notes(
    tokens: np.ndarray,
    ticks_per_step: float,
    velocity: int | np.ndarray = 80,
    channel: int = 0,
    offset_ticks: int = 0,
) -> list[Note]:
    """Decode tokens to notes; a HOLD after silence stays silent."""
    tokens = np.asarray(tokens)
    vel = np.broadcast_to(np.asarray(velocity), tokens.shape)
    notes: list[Note] = []
    start = pitch = None
    for i, t in enumerate(list(tokens) + [REST]):
        if t == HOLD and pitch is not None:
            continue
        if pitch is not None:
            notes.append(
                Note(
                    pitch,
                    offset_ticks + round(start * ticks_per_step),
                    offset_ticks + round(i * ticks_per_step),
                    int(vel[start]),
                    channel,
                )
            )
            pitch = None
        if t < 128:
            start, pitch = i, int(t)
    return notes
