"""Vary a phrase with an exported VRASH model (ONNX Runtime and numpy only).

The call is encoded to its posterior N(mu, sigma^2); the answer is decoded from
z = mu + variation x sigma x noise. ``variation`` 0 decodes from the call's own mean (a near
copy), 1 draws as the model was trained to, and beyond 1 moves further from the call; ``free``
ignores the call and draws z from the prior, N(0, I). Each phrase of ``phrase_bars`` bars is
encoded and answered in turn, so a call of four bars gets a four-bar answer that follows it phrase
by phrase. A language-model card (latent 0) has no encoder: it answers as a plain LSTM would,
reading the call as its history.

Notes are drawn one at a time with a temperature (pitch class and octave share it, the length
has its own, and the octave's is capped at the card's ``octave_temperature``), each at the bar
position the caller's meter gives, until the answer fills its length; ``key_lock`` penalises
pitch classes outside the key heard in the call.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

from accompanist.inference.answerers import Answerer, Draw, call_key, open_step
from accompanist.inference.cards import ModelCard
from accompanist.inference.sampling import draw, key_bias
from accompanist.inference.session import open_session
from accompanist.music.events import (
    MAX_PHASE,
    OCTAVE_LO,
    PITCH_HI,
    PITCH_LO,
    REST_CLASS,
    START_CLASS,
    Events,
    events_to_tokens,
    pitch_class_octave,
    tokens_to_events,
)
from accompanist.music.keys import Key

#: the pitch class of each index of the pitch-class head (-1: the rest), as the key lock reads them
_CLASSES = np.array([-1 if pc == REST_CLASS else pc for pc in range(REST_CLASS + 1)])


class VrashRunner(Answerer):
    def __init__(self, card: ModelCard, threads: int = 1) -> None:
        super().__init__(card, "vrash", "a VRASH model")
        self.latent = int(card.data["io"]["decoder_step"].get("latent", 0))
        self.step_graph, self.state_size = open_step(card, "decoder_step", threads)
        self.encoder = open_session(card.graph("encoder"), threads) if self.latent else None
        self.start = open_session(card.graph("start"), threads) if self.latent else None
        self.phrase_bars = int(card.data["grid"].get("phrase_bars", 2))
        self.variation = card.default("variation")
        #: the octave head's temperature: the heads are independent given the state, so an octave
        #: drawn freely at T = 1 beside the pitch class leaps an octave now and then
        self.octave_temperature = card.default("octave_temperature")

    def encode(self, phrase: Events) -> tuple[np.ndarray, np.ndarray]:
        pc, octave = pitch_class_octave(phrase.pitch)
        feed = {
            "pc": pc[None],
            "octave": octave[None],
            "dur": phrase.duration_index()[None],
            "phase": phrase.phase_index()[None],
        }
        mu, logvar = self.encoder.run(None, feed)
        return mu, logvar

    def step(self, prev: tuple[int, int, int, int], next_phase: int, z: np.ndarray | None, state: np.ndarray):
        feed = {
            "pc": np.array([prev[0]], np.int64),
            "octave": np.array([prev[1]], np.int64),
            "dur": np.array([prev[2]], np.int64),
            "phase": np.array([min(prev[3], MAX_PHASE - 1)], np.int64),
            "next_phase": np.array([min(next_phase, MAX_PHASE - 1)], np.int64),
            "state": state,
        }
        if z is not None:
            feed["z"] = z
        p, o, d, state = self.step_graph.run(None, feed)
        return p[0], o[0], d[0], state

    def latent_of(self, phrase: Events, variation: float, rng: np.random.Generator, free: bool = False):
        """z for one phrase: the posterior mean moved by ``variation`` standard deviations of noise."""
        if free:
            return rng.standard_normal((1, self.latent)).astype(np.float32)
        mu, logvar = self.encode(phrase)
        return (mu + variation * np.exp(0.5 * logvar) * rng.standard_normal(mu.shape)).astype(np.float32)

    def decode(
        self,
        z: np.ndarray | None,
        steps: int,
        phase_of,
        at: int,
        how: Draw,
        bias: np.ndarray | None,
        history: Events | None = None,
    ) -> Events:
        """``steps`` of melody from step ``at`` on. A language model first reads ``history``."""
        state = self.start.run(None, {"z": z})[0] if z is not None else np.zeros((1, self.state_size), np.float32)
        prev = (START_CLASS, 0, 0, 0)
        if history is not None and len(history):
            pcs, octs = pitch_class_octave(history.pitch)
            for pc, o, d, ph in zip(pcs, octs, history.duration_index(), history.phase_index(), strict=True):
                _, _, _, state = self.step(prev, int(ph), z, state)
                prev = (int(pc), int(o), int(d), int(ph))
        pitch, lengths, phases = [], [], []
        left = steps
        while left > 0:
            ph = phase_of(at)
            p, o, d, state = self.step(prev, ph, z, state)
            pc = draw(p, how.temperature, how.rng, bias)
            octave = draw(o, min(how.temperature, self.octave_temperature), how.rng)
            di = draw(d, how.duration_temperature, how.rng)
            length = min(di + 1, left)
            midi = -1 if pc == REST_CLASS else int(np.clip(12 * (octave + OCTAVE_LO) + pc, PITCH_LO, PITCH_HI))
            pitch.append(midi)
            lengths.append(length)
            phases.append(ph)
            prev = (pc, octave if pc != REST_CLASS else 0, di, ph)
            at += length
            left -= length
        return Events(np.array(pitch, np.int64), np.array(lengths, np.int64), np.array(phases, np.int64))

    def answer_tokens(
        self,
        call: Events,
        phase_of,
        gap: int,
        how: Draw,
        key: Key | None,
        variation: float | None = None,
        free: bool = False,
    ) -> Iterator[int]:
        """A variation of each of the call's phrases in turn (a language model: its own
        continuation, a phrase at a time, reading the call and what it has answered so far);
        ``variation`` defaults to the card's, ``free`` draws every phrase's z from the prior."""
        amount = self.variation if variation is None else variation
        bias = key_bias(_CLASSES, call_key(call, key), how.key_lock)
        at = call.total_steps + gap
        phrases = split_phrases(call, phase_of, self.phrase_bars)
        history, i = call, 0
        while True:
            phrase = phrases[i % len(phrases)] if phrases else call
            span = max(phrase.total_steps, 1) if phrases else 16 * self.phrase_bars
            if self.latent:
                z = self.latent_of(phrase, amount, how.rng, free or not len(phrase))
                part = self.decode(z, span, phase_of, at, how, bias)
            else:
                part = self.decode(None, span, phase_of, at, how, bias, history=history)
                history = Events(
                    *(np.concatenate([getattr(history, k), getattr(part, k)]) for k in ("pitch", "steps", "phase"))
                )
            yield from events_to_tokens(part).tolist()
            at, i = at + span, i + 1


def split_phrases(call: Events, phase_of, bars: int) -> list[Events]:
    """The call cut into phrases of ``bars`` bars on its bar lines (a pickup joins the first)."""
    tokens = events_to_tokens(call)
    phase = np.array([phase_of(s) for s in range(len(tokens))])
    downbeats = [int(s) for s in np.flatnonzero(phase == 0)]
    cuts = sorted({0, len(tokens), *(d for i, d in enumerate(downbeats) if i > 0 and i % bars == 0)})
    out = []
    for lo, hi in itertools.pairwise(cuts):
        if hi - lo >= 4 and (tokens[lo:hi] < 128).any():
            out.append(tokens_to_events(tokens[lo:hi], phase[lo:hi]))
    return out
