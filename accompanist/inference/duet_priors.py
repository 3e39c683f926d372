"""Soft priors for the duet model's sampler, from what the player has played so far.

The duet model answers step t + 1 before the melody of step t + 1 exists, and samples each pitch
on its own; over folk tunes it strays from the tune's key and clashes with the note the player
holds (measured on folk melodies, plain sampler: consonance 0.55, in key 0.75, against Bach's
0.77 and 0.90 for alto + tenor + bass). As for the harmoniser, two penalties on the sounding
logits, both off at 0:

* ``key_lock``: pitches outside the melody's key, estimated (Krumhansl-Kessler) from the
  duration-weighted pitch classes heard so far, and only once a bar's worth has been heard;
* ``two_part``: pitches that sound a second, fourth, tritone or seventh against the melody note
  sounding at the step just closed (the likeliest note at the next step: most steps hold).
"""

from __future__ import annotations

import numpy as np

from accompanist.metrics.harmony import DISSONANT_IC
from accompanist.music import roll
from accompanist.music.keys import key_of_histogram

_PC = (np.arange(roll.N_PITCHES) + roll.PITCH_LO) % 12
#: steps of melody heard before the key is trusted (a 4/4 bar of 16ths)
MIN_STEPS = 16


class MelodyContext:
    def __init__(self) -> None:
        self.hist = np.zeros(12)
        self.steps = 0
        self.top = -1  #: the melody's top sounding pitch at the last step, or -1

    def hear(self, melody_step: np.ndarray) -> None:
        sounding = np.flatnonzero(melody_step[roll.FRAME])
        self.top = int(sounding.max()) + roll.PITCH_LO if len(sounding) else -1
        if len(sounding):
            np.add.at(self.hist, _PC[sounding], 1.0)
            self.steps += 1

    def bias(self, key_lock: float, two_part: float) -> np.ndarray | None:
        """(84,) additive logits for the sounding plane, or None if there is nothing to add."""
        out = np.zeros(roll.N_PITCHES)
        if key_lock > 0 and self.steps >= MIN_STEPS:
            key = key_of_histogram(self.hist)
            if key is not None:
                out -= key_lock * ~np.isin(_PC, list(key.pitch_classes))
        if two_part > 0 and self.top >= 0:
            out -= two_part * DISSONANT_IC[(self.top - (np.arange(roll.N_PITCHES) + roll.PITCH_LO)) % 12]
        return out if out.any() else None

    def reset(self) -> None:
        self.__init__()
