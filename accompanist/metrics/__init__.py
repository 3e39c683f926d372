"""Music metrics: harmony figures of melody/accompaniment pairs, and Bach's own figures to compare with."""
