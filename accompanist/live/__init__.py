"""The real-time engine: clock, ports, input quantiser, modes, scheduler, recorder, synth."""
