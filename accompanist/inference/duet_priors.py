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

And ``cover``: while the melody sounds, at least this many accompaniment notes sound (the
likeliest under the priors join when too few are drawn). The penalties above thin the answer,
and a hole of a beat under a held melody note sounds like a partner who lost the place (Bach's
alto, tenor and bass leave 0.1 % of soprano steps bare).

And ``spacing``: no two answer notes closer than this many semitones (3: never a second); the
likelier stays. The model samples each pitch on its own, so neighbours it finds likely come up
together: on the validation tunes 36 % of accompanied steps held a second, Bach's alto, tenor
and bass 3 %, and the ear hears a smear, not a chord.

A third penalty, for the hearing model, on the onset plane as well: ``hold`` keeps the texture still
between the pulse's events. On a step that is neither a beat nor a step where the melody
strikes, striking a note costs ``hold`` logits (a new pitch, or a repeated one). Bach's alto,
tenor and bass strike two thirds of their chords on a beat or with the soprano (0.66, measured);
the model, sampling each pitch on its own, struck more and anywhere in the beat.

And its counterpart, ``pulse``: on a step where the player's note is heard striking, each answer
note that goes on sounding is re-struck with ``pulse`` logits more (a note that starts is struck
anyway). The model learned the chorales' harmonic rhythm, a change about once a beat, so under
a jig's running eighths it struck 0.77 times per melody onset on the validation O'Neill tunes
and held through the rest (Bach's alto, tenor and bass: 1.57, over a soprano in quarters);
moving with the player's strikes is the hymn-book texture, and it keeps the answer on the
melody's rhythm rather than anywhere in the beat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from accompanist.inference.sampling_config import DuetSampling

from accompanist.music import roll
from accompanist.music.intervals import DISSONANT_IC
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


def pulse_bias(pulse: float, struck: bool) -> np.ndarray | None:
    """(168,) additive logits, or None: on a step the melody strikes, every onset gains ``pulse``."""
    if pulse <= 0 or not struck:
        return None
    out = np.zeros(2 * roll.N_PITCHES)
    out[roll.N_PITCHES :] += pulse
    return out


def hold_bias(hold: float, on_grid: bool, prev_frame: np.ndarray) -> np.ndarray | None:
    """(168,) additive logits, sounding plane then onset plane, or None: off the grid, a pitch
    that was silent and any onset cost ``hold``."""
    if hold <= 0 or on_grid:
        return None
    out = np.zeros(2 * roll.N_PITCHES)
    out[: roll.N_PITCHES] -= hold * ~np.asarray(prev_frame).astype(bool)
    out[roll.N_PITCHES :] -= hold
    return out


class StepSampler:
    """One step's answer from the model's logits under the priors, the same code live and
    offline: ``sample(logits, melody_step, prev_frame, rng, phase)``; ``phase`` (the step's bar
    phase) only for a hearing model, whose melody step is the one it answers."""

    def __init__(
        self,
        temperature: float,
        max_notes: int,
        key_lock: float,
        two_part: float,
        hold: float,
        steps_per_beat: int,
        cover: int = 0,
        spacing: int = 0,
        pulse: float = 0.0,
    ):
        self.temperature, self.max_notes, self.pulse = temperature, max_notes, pulse
        self.key_lock, self.two_part, self.hold, self.cover = key_lock, two_part, hold, cover
        self.steps_per_beat, self.spacing = steps_per_beat, spacing
        self.context = MelodyContext()

    @classmethod
    def of(cls, config: DuetSampling, steps_per_beat: int) -> StepSampler:
        """The sampler of a duet configuration (``inference.sampling_config.DuetSampling``)."""
        c = config
        return cls(
            c.temperature, c.max_notes, c.key_lock, c.two_part, c.hold, steps_per_beat, c.cover, c.spacing, c.pulse
        )

    def configure(self, config: DuetSampling) -> None:
        """Every prior from ``config``, from the next step on; what it heard of the melody stays."""
        self.temperature, self.max_notes, self.pulse = config.temperature, config.max_notes, config.pulse
        self.key_lock, self.two_part, self.hold = config.key_lock, config.two_part, config.hold
        self.cover, self.spacing = config.cover, config.spacing

    def sample(
        self,
        logits: np.ndarray,
        melody_step: np.ndarray,
        prev_frame: np.ndarray,
        rng: np.random.Generator,
        phase: int | None = None,
    ) -> np.ndarray:
        from accompanist.inference.sampling import sample_roll_step

        self.context.hear(melody_step)
        bias = self.context.bias(self.key_lock, self.two_part)
        if phase is not None:
            struck = bool(melody_step[roll.ONSET].any())
            on_grid = phase % self.steps_per_beat == 0 or struck
            bias = combine(bias, hold_bias(self.hold, on_grid, prev_frame), pulse_bias(self.pulse, struck))
        cover = self.cover if melody_step[roll.FRAME].any() else 0
        return sample_roll_step(logits, prev_frame, self.temperature, rng, self.max_notes, bias, cover, self.spacing)

    def reset(self) -> None:
        self.context.reset()


def combine(*biases: np.ndarray | None) -> np.ndarray | None:
    """Sum of (84,) sounding-plane and (168,) two-plane biases as one (168,), or None."""
    out = None
    for b in biases:
        if b is None:
            continue
        out = np.zeros(2 * roll.N_PITCHES) if out is None else out
        out[: len(b)] += b
    return out
