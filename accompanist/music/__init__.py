"""Representations and their rules: the 130-token monophonic grid, notes, rolls, events, RL
events, MIDI files; the conversions between them, meters and keys (``keys``: key finding, the
scale, the home key a call moves to)."""
