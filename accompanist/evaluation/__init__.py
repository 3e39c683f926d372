"""Evaluation drivers: play a model against a set of tunes (loaded by ``accompanist.data``) as
live, score the answers with ``accompanist.metrics``, and write tables and pictures; and the
making of Bach's reference figures (``bach_reference``) from the chorales."""
