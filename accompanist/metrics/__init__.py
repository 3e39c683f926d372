"""Music metrics as pure functions of the notes they are given (no corpus loading): harmony
figures of melody/accompaniment pairs, melody figures, Yang & Lerch's distributions, the RL
tuner's rules, the bands the figures should lie in, and Bach's own figures (read from the file
they ship in) to compare with."""
