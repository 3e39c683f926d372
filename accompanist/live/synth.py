"""accompanist's own sound: FluidSynth playing the answer live, beside or instead of MIDI out.

The audio driver is JACK where a JACK server runs (the dummy-driver server of the tests, or a
musician's), else the platform's default. On JACK the synth is a client named ``NAME-synth``
whose ``left`` and ``right`` are connected to the system's playback ports, as JACK tools do by
default (or to the ports given), so a musician hears it without wiring anything. It opens no
MIDI input of its own: pyfluidsynth's ``start()`` would register sixteen (``midi_00``..), and
every note it plays comes from the engine. FluidSynth reports success even when a driver
failed, so we check the driver it made.
"""

from __future__ import annotations

import subprocess
import sys

import mido

from accompanist.errors import AccompanistError
from accompanist.live.output import Sink
from accompanist.sound.render import load_fluidsynth
from accompanist.sound.soundfont import find_soundfont

#: FluidSynth's gain live: a player and a three-voice answer then sound at about the renders'
#: loudness target (``sound.render.TARGET_RMS_DBFS``, -20 dBFS; measured -19.6 through JACK, where
#: 0.5 gave -15 with peaks at -1 dBFS, next to clipping).
LIVE_GAIN = 0.3


class LiveSynth(Sink):
    def __init__(
        self,
        soundfont: str | None = None,
        driver: str | None = None,
        gain: float = LIVE_GAIN,
        client: str = "accompanist",
        ports: list[str] | None = None,
    ):
        fs = load_fluidsynth()
        sf = find_soundfont(soundfont)
        self.synth = fs.Synth(gain=gain, samplerate=48000.0)
        self.client = f"{client}-synth"
        drivers = [driver] if driver else (["jack"] if sys.platform.startswith("linux") else []) + [None]
        started = False
        for d in drivers:
            d = d or self.synth.get_setting("audio.driver")
            self.synth.setting("audio.driver", d)
            if d == "jack":
                self.synth.setting("audio.jack.id", self.client)
                self.synth.setting("audio.jack.autoconnect", 0 if ports else 1)
            # the audio driver alone: no MIDI driver, so no MIDI inputs of our own
            self.synth.audio_driver = fs.new_fluid_audio_driver(self.synth.settings, self.synth.synth)
            if self.synth.audio_driver:
                started = True
                self.driver = d
                break
            self.synth.audio_driver = None
        if not started:
            self.synth.delete()
            raise AccompanistError("FluidSynth found no audio output; start JACK or check the sound settings")
        self.sfid = self.synth.sfload(str(sf))
        if self.sfid < 0:
            raise AccompanistError(f"{sf}: FluidSynth could not load this SoundFont; give another with --soundfont")
        for ch in range(16):  # channel 10 a drum kit: FluidSynth leaves it silent until it is chosen
            self.synth.program_select(ch, self.sfid, 128 if ch == 9 else 0, 0)
        if ports and self.driver == "jack":
            for side, port in zip(("left", "right"), ports * (2 // len(ports)), strict=False):
                done = subprocess.run(["jack_connect", f"{self.client}:{side}", port], capture_output=True, text=True)
                if done.returncode != 0:
                    self.close()
                    raise AccompanistError(
                        f"cannot connect the synth to '{port}' ({done.stderr.strip() or 'jack_connect failed'}); "
                        "see the audio ports with: jack_lsp"
                    )

    def volume(self, scale: float) -> None:
        """Loudness, 0..2 of the live gain (1: the renders' loudness target); takes effect at once."""
        self.synth.setting("synth.gain", LIVE_GAIN * scale)

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
