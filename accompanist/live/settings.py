"""The engine's settings: what each means, their limits checked in one place, and the
model card each mode runs."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from accompanist.errors import AccompanistError
from accompanist.inference.cards import ModelCard, load_card
from accompanist.inference.duet_partner import REST_AFTER
from accompanist.inference.sampling_config import SAMPLING_SETTINGS
from accompanist.limits import CHANNEL_SETTINGS, CLOCKS, LIMITS, channel_to_user
from accompanist.live.controls import ControlMap
from accompanist.live.timing import EARLY

#: the modes, each with the model it runs unless told
MODES = ("duet", "loop", "respond")
DEFAULT_MODELS = {"duet": "duet-chorale", "loop": "chorale-alto", "respond": "melody-lstm"}
#: the model families each mode runs
MODE_FAMILY = {"duet": ("duet",), "loop": ("seq2seq",), "respond": ("melody", "vrash", "rl")}
METRONOME_CHANNEL = 9  #: 0-based: General MIDI's percussion channel, the click's by default
#: a name for the MIDI system's client list (JACK's and ALSA's: no ':' and no spaces)
CLIENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
#: per-step figures kept: the last few hours of a session, so memory stays flat
KEEP_STEPS = 100_000
#: what ``Engine.set`` may change while playing; the rest (ports, clock source) need a restart
LIVE_SETTINGS = frozenset(
    {
        "mode",
        "model",
        "temperature",
        "max_notes",
        "key_lock",
        "two_part",
        "bars",
        "bpm",
        "channel",
        "program",
        "metronome",
        "listen_ms",
        "rest_after",
        "call_bars",
        "answer_bars",
        "variation",
        "synth_volume",
        "controls",
    }
    | SAMPLING_SETTINGS
)
#: the live settings a mode is built from: changing one makes the mode anew (the rest are read
#: as they are, each step or by the output; the sampling configuration is handed to the mode whole)
MODE_SETTINGS = (
    LIVE_SETTINGS
    - {"bpm", "channel", "program", "metronome", "listen_ms", "synth_volume", "controls"}
    - SAMPLING_SETTINGS
)


@dataclass
class Settings:
    #: "duet" (streaming, duet model), "loop" (pass by pass, seq2seq) or "respond" (call and
    #: response, a melody model)
    mode: str = "duet"
    model: str | None = None  #: default: the mode's (``DEFAULT_MODELS``)
    inp: str = "virtual"  #: input port name, unique substring, or "virtual"
    out: str | None = "virtual"  #: output port, "virtual", or None for no MIDI out
    api: str = "auto"
    bpm: float = 120.0
    beats_per_bar: int = 4
    bars: int = 2  #: loop mode: bars a pass
    clock: str = "internal"  #: one of CLOCKS
    send_clock: bool = False  #: internal clock: send MIDI clock, Start and Stop on the output
    temperature: float | None = None  #: default: the model card's
    max_notes: int | None = None  #: duet: cap on simultaneous notes (default: the card's)
    key_lock: float | None = None  #: duet: penalty on notes outside the melody's key (default: the card's)
    two_part: float | None = None  #: duet: penalty on dissonance with the held melody note (default: the card's)
    #: duet, hearing models: ms after each boundary the answer waits to hear the player (default: the card's)
    listen_ms: float | None = None
    #: duet: bars of the player's silence after which the answer falls silent too (0: plays on)
    rest_after: float = REST_AFTER
    #: respond: a call longer than this is answered at this many bars (reading a 16-bar call and
    #: making the answer's first bar took ~19 ms on this machine under load, inside the 30 ms
    #: between a step's close and its boundary)
    call_bars: int = 8
    answer_bars: int | None = None  #: respond: bars of each answer (default: as long as the call)
    variation: float | None = None  #: respond, VRASH: 0 near the call, 1 as trained (default: the card's)
    # the rest of every family's sampling configuration (``inference.sampling_config``); None: the card's
    top_p: float | None = None  #: loop: the nucleus sampled from
    hold: float | None = None  #: duet, hearing: penalty on strikes off the pulse
    cover: int | None = None  #: duet: notes at least under a sounding melody
    spacing: int | None = None  #: duet: least semitones between answer notes
    pulse: float | None = None  #: duet, hearing: bonus on striking with the melody
    octave_temperature: float | None = None  #: respond, VRASH: cap on the octave head's temperature
    channel: int = 1  #: 0-based MIDI channel of the answer
    #: 0-based channel the player is heard on; None: every channel but the answer's (so the
    #: answer coming back through a DAW or a cable is never taken for the player)
    in_channel: int | None = None
    program: int | None = None  #: default: the card's
    synth: bool = False  #: FluidSynth sound as well as (or instead of) MIDI out
    synth_volume: float = 1.0  #: the synth's loudness, 0..2 (1: the renders' loudness target)
    synth_ports: list[str] | None = None  #: JACK ports for the synth's audio (default: the system's playback)
    #: the synth also plays the player's notes (piano, on a channel of their own); None: when
    #: there is a synth and no MIDI out, since then nothing else sounds them
    monitor: bool | None = None
    soundfont: str | None = None
    record: Path | None = None  #: default: a dated file in the user data folder (``user_data.sessions_folder``)
    early: float = EARLY  #: seconds before a boundary that a note already counts for it
    #: seconds to send early, what the way out adds on average (None: half a JACK period on JACK)
    latency: float | None = None
    count_in: int = 0  #: bars of metronome before the model listens (internal clock only)
    metronome: bool = False
    #: where the clicks go: None, the answer's port; "virtual", a port of their own
    #: (NAME-click:out); else a port's name
    click_out: str | None = None
    click_channel: int = METRONOME_CHANNEL  #: 0-based
    seed: int | None = None
    client_name: str = "accompanist"
    #: controller messages that are actions, ``ACTION=SPEC`` each (``live.controls``)
    controls: list[str] | None = None


@dataclass
class Stats:
    steps: int = 0
    missed: int = 0
    inference: deque[float] = field(default_factory=lambda: deque(maxlen=KEEP_STEPS))  #: seconds per answer


def check_settings(s: Settings) -> None:
    """One readable error for a setting that cannot work (before start, and for each change)."""
    if s.mode not in MODES:
        raise AccompanistError(f"unknown mode '{s.mode}'; use {', '.join(MODES[:-1])} or {MODES[-1]}")
    for name, limit in LIMITS.items():  # every range in the one table; channels as a person counts them
        value = getattr(s, name)
        if value is not None:
            limit.check(channel_to_user(value) if name in CHANNEL_SETTINGS else value)
    if s.click_channel == s.channel:
        raise AccompanistError(
            f"click channel {channel_to_user(s.click_channel)} must not be the answer's channel: "
            "a click would sound in the answer's instrument"
        )
    if s.latency is not None and not 0 <= s.latency < s.early:
        raise AccompanistError(f"latency {s.latency * 1e3:g} ms must be 0..{s.early * 1e3:g} ms (the model's deadline)")
    if not CLIENT_NAME.fullmatch(s.client_name):
        raise AccompanistError(
            f"name '{s.client_name}' must be 1-32 letters, digits, '_', '.' or '-', starting with a letter or digit"
        )
    if s.controls is not None:
        if not isinstance(s.controls, list):
            raise AccompanistError('controls are a list of ACTION=SPEC, for example ["temperature=cc:21"]')
        ControlMap.parse(s.controls)
    if s.clock not in CLOCKS:
        raise AccompanistError(f"unknown clock '{s.clock}'; use {', '.join(CLOCKS)}")
    if s.send_clock and s.clock == "external":
        raise AccompanistError("cannot follow the DAW's clock and send one: drop --send-clock or --clock external")
    if s.send_clock and s.out is None:
        raise AccompanistError("--send-clock needs a MIDI output to send it on")


def is_players(s: Settings, channel: int) -> bool:
    """Whether a message on ``channel`` (0-based) is the player's: the input channel, if one is
    set; else any but the answer's, so the answer coming back is never taken for the player."""
    return channel == s.in_channel if s.in_channel is not None else channel != s.channel


def waits_for_first_note(s: Settings) -> bool:
    """Following the player with nothing of ours keeping the beat from the start (a metronome, a
    count-in, MIDI clock sent to a DAW): the grid starts at the player's first note."""
    return s.clock == "player" and not (s.metronome or s.count_in or s.send_clock)


def card_for(mode: str, model: str | None) -> ModelCard:
    """The card of ``model`` (default: the mode's), checked to be of a family the mode runs."""
    card = load_card(model or DEFAULT_MODELS[mode])
    if card.family not in MODE_FAMILY[mode]:
        from accompanist.inference.cards import find_models

        fits = sorted(name for name, c in find_models().items() if c.family in MODE_FAMILY[mode])
        raise AccompanistError(
            f"model '{card.name}' is a {card.family} model; {mode} mode runs "
            f"{' or '.join(MODE_FAMILY[mode])} models: {', '.join(fits) or 'none installed'}"
        )
    return card
