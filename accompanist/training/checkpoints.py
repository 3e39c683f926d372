"""Reading a training checkpoint without running anything it holds.

A ``.pt`` file is a pickle, and unpickling can call any Python function: a checkpoint someone
shares ("export my run") could run code on the machine that loads it. Every checkpoint we read
goes through here, with PyTorch's ``weights_only`` loader, which accepts tensors and plain values
(dicts, lists, numbers, strings) and nothing else; what we write holds only those. A file that
needs more is refused in one line, and nothing in it runs.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from accompanist.errors import AccompanistError


def load_checkpoint(path: str | Path, map_location: str | object = "cpu") -> dict:
    import torch

    path = Path(path)
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise AccompanistError(f"{path}: no such checkpoint") from None
    except pickle.UnpicklingError:  # the weights-only loader met something else: nothing ran
        raise AccompanistError(
            f"{path}: refused: it holds Python objects besides tensors and plain values, which could run "
            "code when loaded; train it again with this version, or convert it yourself only if you trust who made it"
        ) from None
    except (RuntimeError, EOFError, ValueError, TypeError, AttributeError, OSError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise AccompanistError(f"{path}: not a readable checkpoint ({first})") from None
    if not isinstance(ckpt, dict) or "model" not in ckpt:
        raise AccompanistError(f"{path}: not an accompanist training checkpoint (no model weights in it)")
    return ckpt
