"""The control panel (PyQt6): a window onto ``accompanist.live.Engine`` and nothing else.

It builds ``Settings`` from its controls, starts and stops the engine, changes settings while it
plays through ``Engine.set``, and draws what the engine's events say. It never touches the
clock, the ports or the models: a Qt timer only reads events, it never decides when a note goes
out. Installed as ``accompanist.ui``; started by ``accompanist ui``.
"""
