"""Evaluation drivers: load a set of tunes, play a model against them as live, score the answers
with ``accompanist.metrics``, and write tables and pictures."""
