"""A small on-disk cache of numpy arrays, keyed by a hash of everything that made them."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np


def cache_dir() -> Path:
    """The user's cache folder for accompanist (ACCOMPANIST_CACHE overrides it)."""
    env = os.environ.get("ACCOMPANIST_CACHE")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("accompanist"))


def key_of(**settings: object) -> str:
    """A short stable hash of the settings (JSON with sorted keys)."""
    blob = json.dumps(settings, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def load(name: str, key: str) -> dict[str, np.ndarray] | None:
    path = cache_dir() / f"{name}-{key}.npz"
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError):
        return None  # a torn cache file is rebuilt, never trusted


def save(name: str, key: str, arrays: dict[str, np.ndarray]) -> Path:
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{key}.npz"
    tmp = folder / f".{name}-{key}.{os.getpid()}.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)
    return path


def data_hash(arrays: dict[str, np.ndarray]) -> str:
    """sha256 over the arrays' names, shapes and bytes: the data hash in a model card."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()
