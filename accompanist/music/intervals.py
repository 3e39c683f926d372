"""Which intervals between two pitches count as consonant: one definition for the metrics that
measure harmony and for the samplers that steer towards it."""

from __future__ import annotations

import numpy as np

#: (melody - accompaniment) mod 12 that count as consonant: unison and octave, thirds, fifths,
#: sixths (the perfect fourth counts as dissonant against the melody, as in two-part writing).
CONSONANT_IC = frozenset({0, 3, 4, 7, 8, 9})
#: DISSONANT_IC[ic] is True for the other six interval classes: seconds, fourths, tritones, sevenths.
DISSONANT_IC = np.array([ic not in CONSONANT_IC for ic in range(12)])
