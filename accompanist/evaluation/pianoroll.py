"""Piano-roll pictures of a duet: the player's melody and the model's answer in two colours,
beats and bar lines marked, so a reader sees what the figures may hide (a lone note in a far
register, a cluster, an answer that starts anywhere in the beat).

matplotlib comes with the training extras (through music21); as in ``metrics.plots`` we draw on
a ``Figure`` with the Agg canvas, never ``pyplot``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from accompanist.music import roll

MELODY_COLOUR = "#1f5fbf"
ANSWER_COLOUR = "#d9730d"


def _rect(xy, w, h, colour):
    from matplotlib.patches import Rectangle

    return Rectangle(xy, w, h, facecolor=colour, edgecolor="black", linewidth=0.3, alpha=0.9)


def draw_duet(
    melody: np.ndarray,
    answer: np.ndarray,
    phases: np.ndarray,
    path: str | Path,
    title: str,
    steps_per_beat: int = 4,
    steps: int | None = None,
    labels: tuple[str, str] = ("melody (player)", "answer"),
) -> Path:
    """Write a PNG of the first ``steps`` steps of a melody roll and an answer roll."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    n = min(len(melody), steps or len(melody))
    melody, answer, phases = melody[:n], answer[:n], np.asarray(phases)[:n]
    fig = Figure(figsize=(max(8.0, n / 12), 5.0), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for k in range(n):
        if phases[k] == 0:
            ax.axvline(k, color="black", linewidth=0.9, alpha=0.6)
        elif phases[k] % steps_per_beat == 0:
            ax.axvline(k, color="grey", linewidth=0.5, alpha=0.4, linestyle="--")
    for r, colour in ((answer, ANSWER_COLOUR), (melody, MELODY_COLOUR)):
        for note in roll.roll_to_notes(r, 1.0):
            ax.add_patch(_rect((note.start, note.pitch - 0.45), note.end - note.start, 0.9, colour))
    pitches = [p for r in (melody, answer) for p in np.flatnonzero(r[:, roll.FRAME].any(axis=0)) + roll.PITCH_LO]
    lo, hi = (min(pitches) - 2, max(pitches) + 2) if pitches else (48, 84)
    ax.set_xlim(0, n)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("16th steps (bar lines solid, beats dashed)")
    ax.set_ylabel("MIDI pitch")
    ax.set_title(title, fontsize=10)
    ax.legend(
        handles=[Patch(color=MELODY_COLOUR, label=labels[0]), Patch(color=ANSWER_COLOUR, label=labels[1])],
        loc="upper right",
        fontsize=8,
    )
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
