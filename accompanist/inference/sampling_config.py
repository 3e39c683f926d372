"""One sampling configuration a model carries whole: a frozen dataclass per family, holding
every setting its sampler reads, with its limits (``accompanist.limits.LIMITS``), ``check``,
``from_card`` and ``to_card``.

The card's ``defaults`` are the model's own configuration; settings, presets, the command line
(its flags are made from the fields), the panel, export and eval all pass it whole, so no
layer orders the priors its own way and none can drop one. ``None`` given for a field means
"the card's".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from accompanist.inference.cards import ModelCard, fallback
from accompanist.limits import LIMITS


@dataclass(frozen=True)
class Sampling:
    FAMILIES: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def check(self) -> Sampling:
        """Refuse a field outside its limit, in one line; the configuration itself otherwise."""
        for name in self.names():
            LIMITS[name].check(getattr(self, name))
        return self

    @classmethod
    def from_defaults(cls, defaults: dict, **given) -> Sampling:
        """From a card's ``defaults`` (the fallback for what it leaves out), with ``given``
        fields in place of them where not None; checked."""
        unknown = set(given) - set(cls.names())
        if unknown:
            raise TypeError(f"{cls.__name__} has no {', '.join(sorted(unknown))}")
        values = {}
        for name in cls.names():
            value = given.get(name)
            value = defaults.get(name, fallback(name)) if value is None else value
            values[name] = LIMITS[name].kind(value)
        return cls(**values).check()

    @classmethod
    def from_card(cls, card: ModelCard, **given) -> Sampling:
        return cls.from_defaults(card.data.get("defaults", {}), **given)

    def to_card(self) -> dict:
        """The card's ``defaults`` entries for this configuration."""
        return dataclasses.asdict(self)

    def replace(self, **changes) -> Sampling:
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None}).check()


@dataclass(frozen=True)
class DuetSampling(Sampling):
    """The duet's step sampler (``inference.duet_priors.StepSampler``): every prior."""

    FAMILIES: ClassVar[tuple[str, ...]] = ("duet",)
    temperature: float = 1.0
    max_notes: int = 4
    key_lock: float = 0.0
    two_part: float = 0.0
    hold: float = 0.0  #: hearing models only
    cover: int = 0
    spacing: int = 0
    pulse: float = 0.0  #: hearing models only


@dataclass(frozen=True)
class HarmonySampling(Sampling):
    """The harmoniser's token sampler (seq2seq)."""

    FAMILIES: ClassVar[tuple[str, ...]] = ("seq2seq",)
    temperature: float = 1.0
    top_p: float = 1.0
    key_lock: float = 0.0
    two_part: float = 0.0


@dataclass(frozen=True)
class MelodySampling(Sampling):
    """A melody model's answer (the pitch + duration LSTM, the RL tuner)."""

    FAMILIES: ClassVar[tuple[str, ...]] = ("melody", "rl")
    temperature: float = 1.0
    key_lock: float = 0.0


@dataclass(frozen=True)
class VrashSampling(Sampling):
    """VRASH's answer: how far from the call (``variation``) and how free its octave."""

    FAMILIES: ClassVar[tuple[str, ...]] = ("vrash",)
    temperature: float = 1.0
    key_lock: float = 0.0
    variation: float = 1.0
    octave_temperature: float = 1.0


CONFIGS: tuple[type[Sampling], ...] = (DuetSampling, HarmonySampling, MelodySampling, VrashSampling)
#: every field of every family's configuration, in a stable order: the settings a session samples by
SAMPLING_FIELDS: tuple[str, ...] = tuple(dict.fromkeys(name for cls in CONFIGS for name in cls.names()))
SAMPLING_SETTINGS = frozenset(SAMPLING_FIELDS)


def sampling_for(family: str) -> type[Sampling]:
    """The configuration class of a model family."""
    for cls in CONFIGS:
        if family in cls.FAMILIES:
            return cls
    raise KeyError(f"no sampling configuration for the family '{family}'")


def sampling_of(card: ModelCard, **given) -> Sampling:
    """A card's configuration, with ``given`` (None: the card's) in place; the fields of other
    families' configurations are ignored (a session's settings hold them all)."""
    cls = sampling_for(card.family)
    return cls.from_card(card, **{k: v for k, v in given.items() if k in cls.names()})
