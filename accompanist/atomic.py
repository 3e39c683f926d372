"""Files written in one step: beside their destination first, then renamed over it, so a reader
(a DAW, a player, a later run) never sees half a file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from accompanist.errors import AccompanistError


@contextmanager
def atomic_write(path: str | os.PathLike, what: str) -> Iterator[Path]:
    """The temporary path to write ``what`` (e.g. "MIDI file") to; when the block ends it
    replaces ``path``. A missing folder, or a write the system refuses, is an AccompanistError
    naming the file; the temporary file never stays behind."""
    path = Path(path)
    if not path.parent.exists():
        raise AccompanistError(f"{path.parent}: output folder does not exist; create it or choose another path")
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise AccompanistError(f"{path}: cannot write the {what} ({exc.strerror})") from None
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # the folder refused the write itself, so there is nothing to remove
