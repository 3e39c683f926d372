"""Where a musician's own things live: one data folder (the platform's, e.g.
``~/.local/share/accompanist`` on Linux), with a folder each for models, presets and recorded
sessions; an environment variable moves each elsewhere."""

from __future__ import annotations

import os
from pathlib import Path


def data_root() -> Path:
    """The user's data folder for accompanist (the platform's)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("accompanist"))


def user_folder(kind: str, env: str) -> Path:
    """``kind``'s folder in the user's data folder, or where ``env`` says."""
    given = os.environ.get(env)
    return Path(given) if given else data_root() / kind


def sessions_folder() -> Path:
    """Where live sessions are recorded unless ``--record`` says otherwise."""
    return user_folder("sessions", "ACCOMPANIST_SESSIONS")
