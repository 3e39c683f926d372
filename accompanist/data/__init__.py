"""Every corpus loader, cached on disk: music21's Bach chorales, folk melodies and the held-out
tune sets (``tunes``), MIDI folders and music21 corpora as shards, and their training arrays
and batches."""
