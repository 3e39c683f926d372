"""Find a General MIDI SoundFont on the system."""

from __future__ import annotations

import os
from pathlib import Path

from accompanist.errors import AccompanistError

#: Debian's light default first (6 MB, loads in a fraction of a second), then the rich ones.
CANDIDATES = (
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/sounds/sf3/default-GM.sf3",
    "/opt/homebrew/share/soundfonts/default.sf2",
    "/usr/local/share/soundfonts/default.sf2",
)


def find_soundfont(explicit: str | os.PathLike | None = None) -> Path:
    """The SoundFont to use: the one given, $ACCOMPANIST_SOUNDFONT, or the first one installed."""
    if explicit:
        p = Path(explicit)
        if not p.is_file():
            raise AccompanistError(f"{p}: SoundFont not found; give the path of a .sf2 file")
        return p
    env = os.environ.get("ACCOMPANIST_SOUNDFONT")
    if env:
        return find_soundfont(env)
    for c in CANDIDATES:
        if Path(c).is_file():
            return Path(c)
    raise AccompanistError(
        "no SoundFont found; install one (Debian: apt-get install timgm6mb-soundfont) or pass --soundfont FILE.sf2"
    )
