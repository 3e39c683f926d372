"""Representations: the 130-token monophonic grid, notes, MIDI files, and transforms."""
