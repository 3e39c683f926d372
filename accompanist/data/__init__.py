"""Corpora to training arrays: music21's Bach chorales and folk melodies, cached on disk."""
