"""accompanist's own sound: FluidSynth playing the answer live, beside or instead of MIDI out.

The audio driver is JACK where a JACK server runs (the dummy-driver server of the tests, or a
musician's), else the platform's default. FluidSynth's ``start()`` returns success even when the
driver failed, so we check the driver it made (PRACTICE.md).
"""

from __future__ import annotations

import sys

import mido

from accompanist.errors import AccompanistError
from accompanist.live.output import Sink
from accompanist.sound.render import load_fluidsynth
from accompanist.sound.soundfont import find_soundfont


class LiveSynth(Sink):
    def __init__(self, soundfont: str | None = None, driver: str | None = None, gain: float = 0.5):
        fs = load_fluidsynth()
        sf = find_soundfont(soundfont)
        self.synth = fs.Synth(gain=gain, samplerate=48000.0)
        drivers = [driver] if driver else (["jack"] if sys.platform.startswith("linux") else []) + [None]
        started = False
        for d in drivers:
            kw = {"driver": d} if d else {}
            if d == "jack":
                kw["midi_driver"] = "jack"
            self.synth.start(**kw)
            if getattr(self.synth, "audio_driver", None) is not None:
                started = True
                break
        if not started:
            self.synth.delete()
            raise AccompanistError("FluidSynth found no audio output; start JACK or check the sound settings")
        self.sfid = self.synth.sfload(str(sf))
        if self.sfid < 0:
            raise AccompanistError(f"{sf}: FluidSynth could not load this SoundFont; give another with --soundfont")
        for ch in range(16):
            if ch != 9:
                self.synth.program_select(ch, self.sfid, 0, 0)

    def send(self, msg: mido.Message) -> None:
        s = self.synth
        if msg.type == "note_on":
            s.noteon(msg.channel, msg.note, msg.velocity)
        elif msg.type == "note_off":
            s.noteoff(msg.channel, msg.note)
        elif msg.type == "program_change":
            s.program_select(msg.channel, self.sfid, 128 if msg.channel == 9 else 0, msg.program)
        elif msg.type == "control_change":
            s.cc(msg.channel, msg.control, msg.value)

    def close(self) -> None:
        self.synth.delete()
