"""accompanist: a real-time AI accompanist for MIDI keyboards.

The public surface for scripts is small: harmonise a melody file with a named model.

    >>> from accompanist import harmonize_file
    >>> result = harmonize_file("melody.mid", "out.mid", model="chorale-alto", seed=1)

Everything a script or a panel needs is reached through functions like this one and the model
cards (``accompanist.inference.cards``); the modules below them are free to change.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from accompanist.errors import AccompanistError

if TYPE_CHECKING:
    from accompanist.offline.harmonize import HarmonizeResult

__version__ = "0.1.0"

__all__ = ["AccompanistError", "__version__", "harmonize_file"]


def harmonize_file(in_path: str | os.PathLike, out_path: str | os.PathLike, **options: object) -> HarmonizeResult:
    """Accompany the melody in ``in_path`` and write a two-track file to ``out_path``.

    Options are those of :func:`accompanist.offline.harmonize.harmonize_file` (model,
    temperature, seed, wav, track, soundfont, top_p, two_part, key_lock). Imported lazily so that
    ``import accompanist`` stays instant.
    """
    from accompanist.offline.harmonize import harmonize_file as _impl

    return _impl(in_path, out_path, **options)
