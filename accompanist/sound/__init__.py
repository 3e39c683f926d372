"""Sound through FluidSynth: finding a SoundFont and rendering MIDI to audio."""
