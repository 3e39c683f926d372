"""The real-time engine: clock, ports, input quantiser, modes, scheduler, recorder, synth.

``Engine`` and ``Settings`` (from ``engine.py``) are the face everything else holds."""

from __future__ import annotations

__all__ = ["Engine", "Settings"]


def __getattr__(name: str):
    # lazily, so that `accompanist ports` and the tests of one module do not load the models
    if name in __all__:
        from accompanist.live import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'accompanist.live' has no attribute {name!r}")
