"""The offline verbs' drivers: a melody file in, files out. ``harmonize`` (a harmoniser over
the whole melody), ``duet_play`` (the duet model answering step by step, as live), and
``respond_file`` (a melody model answering the call); ``two_track`` reads the melody and writes
the two-track file and its WAV for all three. The models' cards, runners and sampling they call
stay in ``accompanist.inference``."""
