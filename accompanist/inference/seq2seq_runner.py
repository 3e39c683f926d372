"""Run a seq2seq harmoniser exported as an encoder graph and a one-step decoder graph.

Sampling has two optional refinements, both off in the seed's plain sampler: nucleus truncation
(``top_p``, see sampling.py) and a two-part bias (``two_part``): a logit penalty on any note, or
held note, that would sound a dissonant interval class (1, 2, 5, 6, 10, 11 semitones) against the
melody at that step. The model learned Bach's alto, written above a tenor and a bass that make a
fourth between soprano and alto sound consonant; our answer is heard as a duo, where (as in
two-part species counterpoint) a bare fourth is a dissonance. The penalty is soft: passing notes
and suspensions stay possible.

A third, ``key_lock``, penalises note-ons outside the melody's key (Krumhansl-Kessler, estimated
from the whole melody, which loop and offline modes always have). The chorale models modulate
and borrow as Bach does; over a folk tune the model often hears another mode than the tune's,
and a player who wants the answer in their key can say so.

A melody longer than the training window (32 steps) is covered by overlapping windows: each new
window is encoded whole, its decoder is primed with the accompaniment already written for the
overlap (fed as if it were the decoder's own output), and only then samples the rest. So every
step is accompanied, the answer runs on without seams, and every window looks like training.
"""

from __future__ import annotations

import numpy as np

from accompanist.errors import AccompanistError
from accompanist.inference.cards import ModelCard
from accompanist.inference.sampling import sample
from accompanist.inference.session import open_session
from accompanist.music.intervals import DISSONANT_IC
from accompanist.music.keys import find_key
from accompanist.music.tokens import HOLD, START, sounding_pitches, window_at

#: DISSONANT[pc] marks the note-on tokens 0..127 that sound a dissonance against a melody note of pitch class pc.
DISSONANT = np.stack([DISSONANT_IC[(pc - np.arange(128)) % 12] for pc in range(12)])


class Seq2SeqRunner:
    def __init__(self, card: ModelCard, threads: int = 1):
        if card.family != "seq2seq":
            raise ValueError(f"{card.name} is not a seq2seq model")
        self.card = card
        self.encoder = open_session(card.graph("encoder"), threads)
        self.decoder = open_session(card.graph("decoder_step"), threads)
        self.aligned = "enc_t" in card.data["io"]["decoder_step"]["inputs"]
        self.window = int(card.data["grid"].get("window", 32))
        self.prime = int(card.data["grid"].get("prime", 8))
        if not 0 <= self.prime < self.window:
            raise AccompanistError(
                f"model '{card.name}': grid prime {self.prime} must lie in 0..{self.window - 1}; re-export the model"
            )
        self.top_p = card.default("top_p")
        self.two_part = card.default("two_part")
        self.key_lock = card.default("key_lock")

    def decode(
        self,
        melody: np.ndarray,
        forced: np.ndarray,
        temperature: float,
        rng: np.random.Generator,
        top_p: float = 1.0,
        two_part: float = 0.0,
        out_of_key: np.ndarray | None = None,
    ) -> np.ndarray:
        """Accompany ``melody`` (B, T); the first ``forced.shape[1]`` output steps are given.
        ``out_of_key`` is a (130,) penalty taken from every sampled step's logits."""
        melody = np.ascontiguousarray(melody, dtype=np.int64)
        b, t = melody.shape
        mel_pitch = np.stack([sounding_pitches(m) for m in melody])
        acc_pitch = np.full(b, -1)
        enc_out, h, c = self.encoder.run(None, {"melody": melody})
        out = np.empty((b, t), np.int64)
        out[:, : forced.shape[1]] = forced
        prev = np.full(b, START, np.int64)
        for i in range(t):
            feeds = {"prev": prev, "h": h, "c": c}
            if self.aligned:
                feeds["enc_t"] = enc_out[:, i]
            logits, h, c = self.decoder.run(None, feeds)
            if i >= forced.shape[1]:
                if two_part:
                    logits = self._bias(logits, mel_pitch[:, i], acc_pitch, two_part)
                if out_of_key is not None:
                    logits = logits - out_of_key
                out[:, i] = sample(logits, temperature, rng, top_p)
            prev = out[:, i]
            acc_pitch = np.where(prev < 128, prev, np.where(prev == HOLD, acc_pitch, -1))
        return out

    @staticmethod
    def _bias(logits: np.ndarray, mel: np.ndarray, acc: np.ndarray, penalty: float) -> np.ndarray:
        logits = logits.copy()
        for r in np.nonzero(mel >= 0)[0]:
            logits[r, :128] -= penalty * DISSONANT[mel[r] % 12]
            if acc[r] >= 0 and DISSONANT_IC[(mel[r] - acc[r]) % 12]:
                logits[r, HOLD] -= penalty
        return logits

    def harmonize(
        self,
        melody: np.ndarray,
        temperature: float = 1.0,
        rng: np.random.Generator | None = None,
        top_p: float | None = None,
        two_part: float | None = None,
        key_lock: float | None = None,
    ) -> np.ndarray:
        """An accompaniment token for every step of a melody of any length (1-D tokens).

        ``top_p``, ``two_part`` and ``key_lock`` default to the model card's (the seed's plain
        sampler: 1, 0 and 0)."""
        top_p = self.top_p if top_p is None else top_p
        two_part = self.two_part if two_part is None else two_part
        key_lock = self.key_lock if key_lock is None else key_lock
        rng = rng or np.random.default_rng()
        melody = np.asarray(melody, np.int64)
        n, w = len(melody), self.window
        none = np.zeros((1, 0), np.int64)  # no forced steps
        penalty = key_penalty(melody, key_lock) if key_lock else None
        go = dict(top_p=top_p, two_part=two_part, out_of_key=penalty)
        if n == 0:
            return melody.copy()
        if n <= w:
            return self.decode(window_at(melody, 0, n)[None], none, temperature, rng, **go)[0]
        out = np.empty(n, np.int64)
        out[:w] = self.decode(window_at(melody, 0, w)[None], none, temperature, rng, **go)[0]
        done = w
        while done < n:
            start = min(done - self.prime, n - w)
            forced = window_at(out, start, done - start)
            res = self.decode(window_at(melody, start, w)[None], forced[None], temperature, rng, **go)[0]
            out[done : start + w] = res[done - start :]
            done = start + w
        return out


def key_penalty(melody: np.ndarray, strength: float) -> np.ndarray | None:
    """A (130,) logit penalty: ``strength`` on note-ons outside the melody's key, 0 elsewhere."""
    key = find_key(melody)
    if key is None:
        return None
    pcs = np.arange(128) % 12
    out = np.zeros(130)
    out[:128] = strength * ~np.isin(pcs, list(key.pitch_classes))
    return out
