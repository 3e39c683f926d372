"""Training windows for the hearing duet model (``DuetConfig.variant == "listen"``).

For step k of a piece the model reads the melody up to and including step k (the note it
answers), its own accompaniment up to step k - 1, where each melody step lies in its bar, and
which pitch classes both parts sounded over the two bars before k; it is scored on the
accompaniment of step k (and, as in the seed, the melody head on the melody of step k + 1).

A live player is not a sequencer: a note struck a little after the beat is not yet heard when
the answer for that step must be chosen. So with probability ``late`` a window's current
melody step is replaced by what the engine would have heard by then: no new onset, and either
the previous note still held (legato) or silence. The model learns both to use the note it
hears and to answer sensibly when the note has not come yet.
"""

from __future__ import annotations

import numpy as np
import torch

from accompanist.data.duet_data import PositionBatches
from accompanist.music import roll
from accompanist.music.meter import CONTEXT_STEPS, pitch_classes, position_features


def unheard(melody_now: np.ndarray, melody_before: np.ndarray, held: bool) -> np.ndarray:
    """The melody's step k as heard before its new onset arrives: (2, 84) uint8."""
    if not melody_now[roll.ONSET].any():
        return melody_now
    out = np.zeros_like(melody_now)
    if held:
        out[roll.FRAME] = melody_before[roll.FRAME]
    return out


def context_of(mel_pc_cum: np.ndarray, acc_pc_cum: np.ndarray, k: int) -> np.ndarray:
    """(24,) share of the ``CONTEXT_STEPS`` steps before k in which each pitch class sounded, in
    the melody then the accompaniment; from cumulative sums (steps + 1, 12) of ``pitch_classes``."""
    lo = max(k - CONTEXT_STEPS, 0)
    return np.concatenate([mel_pc_cum[k] - mel_pc_cum[lo], acc_pc_cum[k] - acc_pc_cum[lo]]) / CONTEXT_STEPS


def cumulative_pcs(rolls: np.ndarray) -> np.ndarray:
    """(steps, 2, 84) -> (steps + 1, 12) running sums of the pitch classes sounding."""
    pcs = pitch_classes(rolls[:, roll.FRAME])
    return np.concatenate([np.zeros((1, 12), np.float32), np.cumsum(pcs, axis=0, dtype=np.float32)])


class ListenBatches(PositionBatches):
    def __init__(
        self,
        pieces,
        window: int,
        transpositions: list[int],
        repeats: int = 1,
        late: float = 0.0,
        steps_per_beat: int = 4,
    ):
        self.pieces, self.window, self.transpositions = pieces, window, transpositions or [0]
        self.repeats, self.late, self.spb = repeats, late, steps_per_beat
        pos = [(i, k) for i in range(len(pieces)) for k in range(pieces.length(i))]
        self.positions = np.array(pos, dtype=np.int64).reshape(-1, 2)
        self._cum: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _piece(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cumulative pitch classes of both parts and the position features, computed once."""
        if i not in self._cum:
            m, a = self.pieces.read(i)
            feats = position_features(self.pieces.phase(i, self.spb), self.spb)
            self._cum[i] = (cumulative_pcs(m), cumulative_pcs(a), feats)
        return self._cum[i]

    def _make(self, pick: np.ndarray, shifts: np.ndarray, rng: np.random.Generator | None) -> dict[str, torch.Tensor]:
        w, n = self.window, len(pick)
        rows = np.zeros((n, w + 2, 2, 2, roll.N_PITCHES), np.uint8)  # steps k-W .. k+1, (melody, accomp.)
        pos = np.zeros((n, w, 8), np.float32)
        ctx = np.zeros((n, 24), np.float32)
        mel_mask = np.zeros(n, np.float32)
        for j, (i, k) in enumerate(pick):
            i, k = int(i), int(k)
            length = self.pieces.length(i)
            lo, hi = max(k - w, 0), min(k + 2, length)
            m, a = self.pieces.read(i, lo, hi)
            rows[j, lo - (k - w) : hi - (k - w), 0] = m
            rows[j, lo - (k - w) : hi - (k - w), 1] = a
            mel_cum, acc_cum, feats = self._piece(i)
            p0 = max(k - w + 1, 0)
            pos[j, p0 - (k - w + 1) :] = feats[p0 : k + 1]
            c = context_of(mel_cum, acc_cum, k)
            shift = int(shifts[j])
            if shift:
                rows[j] = roll.transpose(rows[j], shift)
                c = np.concatenate([np.roll(c[:12], shift), np.roll(c[12:], shift)])
            ctx[j] = c
            mel_mask[j] = float(k + 1 < length)
            if rng is not None and self.late > 0 and rng.random() < self.late:
                rows[j, w, 0] = unheard(rows[j, w, 0], rows[j, w - 1, 0], held=bool(rng.random() < 0.5))
        feats = lambda x: torch.from_numpy(roll.features(x))  # noqa: E731
        return {
            "mel": feats(rows[:, 1 : w + 1, 0]),
            "acc": feats(rows[:, 0:w, 1]),
            "pos": torch.from_numpy(pos),
            "ctx": torch.from_numpy(ctx),
            "acc_t": feats(rows[:, w, 1]),
            "mel_t": feats(rows[:, w + 1, 0]),
            "mel_mask": torch.from_numpy(mel_mask),
        }
