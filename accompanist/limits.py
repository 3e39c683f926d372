"""Every range a setting may take, written once: ``LIMITS``, by the ``Settings`` field it bounds.

Each entry holds its low and high ends, its unit, a line of help, and how its one-line error
reads. The engine's ``check_settings``, the clocks, the panel's controls, the presets and the
command line's flags all read it here, at the moment they check or build, so a limit changed in
the table changes every one of them.

MIDI channels are counted 1..16 here, as every control, flag and preset shows them; the engine
keeps them 0..15. ``channel_from_user`` and ``channel_to_user`` are the one conversion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accompanist.errors import AccompanistError

#: the settings that hold a MIDI channel (0-based in ``Settings``, 1..16 wherever a person sees them)
CHANNEL_SETTINGS = ("channel", "in_channel", "click_channel")
#: whose time the grid keeps: each clock and what it means (the --help line and the panel's tip)
CLOCKS = {
    "internal": "the tempo set (--bpm)",
    "external": "a DAW's MIDI clock and transport",
    "player": "your own tempo, followed from your notes (the tempo set is the first guess; without a "
    "metronome or count-in the grid starts at your first note)",
}


def clocks_said() -> str:
    """Every clock and its meaning, in one line."""
    return "; ".join(f"{name}: {meaning}" for name, meaning in CLOCKS.items())


def channel_from_user(channel: int) -> int:
    """A channel as a person counts it (1..16) to the engine's (0..15)."""
    return channel - 1


def channel_to_user(channel: int) -> int:
    """The engine's channel (0..15) as a person counts it (1..16)."""
    return channel + 1


@dataclass(frozen=True)
class Limit:
    """The range one setting may take: ``lo..hi`` (both inside), of ``kind`` (int or float)."""

    name: str  #: the ``Settings`` field
    lo: float
    hi: float  #: ``math.inf``: no upper end (then ``reach`` is where a control stops)
    kind: type = float
    unit: str = ""  #: said after the value and the range ("ms", "bpm"); "" for none
    help: str = ""  #: what the setting does, for --help and the panel
    label: str = ""  #: how the error names it (default: the name with dashes)
    note: str = ""  #: a hint at the end of the error ("0: the answer never rests")
    #: the error's shape: ``{label}``, ``{value}`` (with its unit), ``{range}`` (with its unit), ``{note}``
    shape: str = "{label} {value} must be {range}{note}"
    reach: float | None = None  #: the far end of a control where ``hi`` is unbounded

    @property
    def said(self) -> str:
        return self.label or self.name.replace("_", "-")

    @property
    def top(self) -> float:
        """Where a control (slider, spin box) ends: ``hi``, or ``reach`` where ``hi`` is unbounded."""
        return self.hi if math.isfinite(self.hi) or self.reach is None else self.reach

    def span(self, scale: float = 1) -> tuple[int, int]:
        """The range as whole numbers for a control, in units of 1/``scale`` (100: hundredths)."""
        return round(self.lo * scale), round(self.top * scale)

    def range_text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if not math.isfinite(self.hi):
            return f">= {_num(self.lo)}{unit}"
        return f"{_num(self.lo)}..{_num(self.hi)}{unit}"

    def holds(self, value: float) -> bool:
        """Inside the range (NaN and infinities never are)."""
        return math.isfinite(value) and self.lo <= value <= self.hi

    def error(self, value: float) -> str:
        unit = f" {self.unit}" if self.unit else ""
        note = f" ({self.note})" if self.note else ""
        shown = self.range_text() if math.isfinite(self.hi) else f"a number {self.range_text()}"
        return self.shape.format(label=self.said, value=f"{_num(value)}{unit}", range=shown, note=note)

    def check(self, value: float, error: type[Exception] = AccompanistError) -> None:
        """Refuse ``value`` outside the range, in the entry's one line."""
        if not self.holds(value):
            raise error(self.error(value))

    def flag_help(self, extra: str = "") -> str:
        """The --help text of a flag: the help, the range, and ``extra`` (its default, say)."""
        return ", ".join(p for p in (self.help, self.range_text(), extra) if p)


def _num(value) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


#: every range a setting may take, by its ``Settings`` name (channels counted 1..16)
LIMITS: dict[str, Limit] = {
    limit.name: limit
    for limit in (
        Limit("bpm", 20, 400, unit="bpm", help="tempo", label="tempo", shape="{label} {value} is outside {range}"),
        Limit("beats_per_bar", 1, 16, int, help="beats a bar"),
        Limit("bars", 1, 64, int, help="loop mode: bars a pass"),
        Limit("call_bars", 1, 16, int, help="respond: a call is answered after at most this many bars"),
        Limit("answer_bars", 1, 16, int, help="respond: bars of each answer"),
        Limit("count_in", 0, 16, int, help="bars of metronome before the model listens"),
        Limit("channel", 1, 16, int, help="MIDI channel of the answer"),
        Limit("in_channel", 1, 16, int, help="channel the player is heard on", label="input channel"),
        Limit("click_channel", 1, 16, int, help="metronome channel", label="click channel"),
        Limit("program", 0, 127, int, help="General MIDI program"),
        Limit("max_notes", 1, 16, int, help="duet: cap on simultaneous notes"),
        Limit(
            "listen_ms",
            0.0,
            60.0,
            unit="ms",
            help="duet, hearing models: ms each answer waits after its beat to hear its note",
            label="listen window",
            note="0: answer on the beat, unheard",
        ),
        Limit(
            "rest_after",
            0.0,
            16.0,
            unit="bars",
            help="duet: bars of your silence before the answer rests too",
            note="0: the answer never rests",
        ),
        Limit(
            "variation",
            0.0,
            4.0,
            help="respond, VRASH: 0 near your phrase, 1 as trained",
            note="0: near the call, 1: as trained",
        ),
        Limit(
            "synth_volume",
            0.0,
            2.0,
            help="the synth's loudness",
            label="synth volume",
            note="1: as loud as the renders",
        ),
        Limit(
            "temperature",
            0.0,
            math.inf,
            help="sampling temperature",
            note="0 takes the likeliest note",
            reach=3.0,
        ),
        # the sampling priors (``inference.sampling_config``): penalties and bonuses in logits
        Limit("top_p", 0.001, 1.0, help="nucleus: the share of probability sampled from", note="1 samples every note"),
        Limit(
            "key_lock", 0.0, math.inf, help="penalty on notes outside the key heard", note="0 turns it off", reach=10
        ),
        Limit(
            "two_part",
            0.0,
            math.inf,
            help="duet: penalty on dissonance with the melody",
            note="0 turns it off",
            reach=10,
        ),
        Limit(
            "hold",
            0.0,
            math.inf,
            help="duet, hearing: penalty on strikes off the pulse",
            note="0 turns it off",
            reach=10,
        ),
        Limit(
            "pulse",
            0.0,
            math.inf,
            help="duet, hearing: bonus on striking with the melody",
            note="0 turns it off",
            reach=20,
        ),
        Limit("cover", 0, 8, int, help="duet: notes at least under a sounding melody"),
        Limit("spacing", 0, 12, int, help="duet: least semitones between answer notes", note="3: no seconds"),
        Limit("octave_temperature", 0.0, math.inf, help="VRASH: cap on the octave head's temperature", reach=3.0),
    )
}


def check(name: str, value: float | None, error: type[Exception] = AccompanistError) -> None:
    """Refuse a value of setting ``name`` outside its range; None ("the card's default") passes."""
    if value is not None:
        LIMITS[name].check(value, error)


def flag_type(name: str):
    """An argparse ``type`` for setting ``name``: the number, refused outside the table's range
    when the command line is read (the range is looked up then, not when the flag is made). The
    refusal is an ``AccompanistError`` naming the flag, so ``accompanist`` says it in one line."""
    kind = LIMITS[name].kind

    def parse(text: str):
        value = kind(text)  # ValueError: argparse says "invalid int value"
        limit = LIMITS[name]
        if not limit.holds(value):
            raise AccompanistError(f"--{name.replace('_', '-')} {text}: {limit.error(value)}")
        return value

    parse.__name__ = kind.__name__
    return parse


def flag(name: str, extra: str = "") -> dict:
    """``add_argument`` keywords for the flag of setting ``name``: its type (range-checked) and help."""
    return {"type": flag_type(name), "help": LIMITS[name].flag_help(extra)}
