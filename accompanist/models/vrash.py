"""VRASH: a variational recurrent autoencoder supported by history.

Paper: A. Tikhonov and I. P. Yamshchikov, "Music generation with variational recurrent
autoencoder supported by history" (2017). Each note enters as three embeddings, its pitch
(class), its octave and its length, concatenated. An encoder reads a phrase and compresses it
into a latent vector (16 dimensions, drawn with the reparameterisation trick); a decoder rebuilds
the phrase from that vector while also reading the notes it has already written (the
"history"), so it is a language model steered by the latent vector. The paper compares it by
cross-entropy with a plain LSTM language model of the same kind (2.34 LM, 2.11 VRASH).

Where we depart, and why:
- Phrases are two bars, cut on bar lines (the unit a call and its answer are made of here); the
  paper reads whole tracks.
- A fourth embedding, each note's onset position in its bar, as in our pitch + duration model, so
  an answer keeps to the meter; the paper's notes carry no position.
- The decoder reads the latent vector at every step (concatenated to the history embeddings) and
  starts from a state made from it; the paper's figure shows the vector only at the start. Read
  at every step, the vector cannot be forgotten over a phrase, which weakens posterior collapse.
- KL annealing (the weight rises linearly from 0 over the first epochs) and free bits (no KL
  penalty below a floor per dimension), the standard cures for posterior collapse in text VAEs
  (Bowman et al. 2016; Kingma et al. 2016). The card reports the KL per dimension. Optionally
  word dropout (Bowman et al. 2016): in training a share of the history's notes is replaced by
  the start symbol (its position kept), so the decoder must take what it cannot read from z.
- Three output heads: pitch class (with rest), octave and length, independent given the state;
  the octave of a rest is not scored.
- ``latent=0`` is the plain language model the paper compares against: the same embeddings,
  decoder and heads, and no encoder.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from accompanist.music.events import MAX_PHASE, N_DUR, OCTAVES, REST_CLASS, START_CLASS


@dataclass
class VrashConfig:
    latent: int = 16  #: 0: the plain LSTM language model (no encoder)
    hidden: int = 256
    encoder: int = 128  #: units per direction of the bidirectional encoder
    embed_pitch: int = 24
    embed_octave: int = 8
    embed_dur: int = 16
    embed_phase: int = 16
    dropout: float = 0.2
    word_dropout: float = 0.0  #: share of history notes hidden from the decoder in training

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def note_size(self) -> int:
        return self.embed_pitch + self.embed_octave + self.embed_dur + self.embed_phase


class NoteEmbedding(nn.Module):
    """A note's pitch class, octave, length and bar position, each embedded, concatenated."""

    def __init__(self, cfg: VrashConfig) -> None:
        super().__init__()
        self.pitch = nn.Embedding(START_CLASS + 1, cfg.embed_pitch)
        self.octave = nn.Embedding(OCTAVES, cfg.embed_octave)
        self.dur = nn.Embedding(N_DUR, cfg.embed_dur)
        self.phase = nn.Embedding(MAX_PHASE, cfg.embed_phase)

    def forward(self, pc, octave, dur, phase):
        return torch.cat([self.pitch(pc), self.octave(octave), self.dur(dur), self.phase(phase)], dim=-1)


class Vrash(nn.Module):
    """Encode a phrase to (mu, logvar); decode its notes from a latent vector and the history.

    Decoder inputs at step t are note t-1 (the start symbol at t = 0) and the bar position of
    note t (known from the meter before the note is chosen); outputs score note t.
    """

    def __init__(self, cfg: VrashConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = NoteEmbedding(cfg)
        self.drop = nn.Dropout(cfg.dropout)
        if cfg.latent:
            self.encoder = nn.LSTM(cfg.note_size, cfg.encoder, batch_first=True, bidirectional=True)
            self.to_mu = nn.Linear(2 * cfg.encoder, cfg.latent)
            self.to_logvar = nn.Linear(2 * cfg.encoder, cfg.latent)
            self.to_state = nn.Linear(cfg.latent, 2 * cfg.hidden)
        # the next note's position enters as its own embedding beside the previous note
        self.decoder = nn.LSTM(cfg.note_size + cfg.embed_phase + cfg.latent, cfg.hidden, batch_first=True)
        self.pitch_head = nn.Linear(cfg.hidden, REST_CLASS + 1)
        self.octave_head = nn.Linear(cfg.hidden, OCTAVES)
        self.dur_head = nn.Linear(cfg.hidden, N_DUR)

    def encode(self, pc, octave, dur, phase, mask) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T) notes with a 0/1 mask -> mu, logvar (B, latent). Padding is skipped by packing."""
        x = self.embed(pc, octave, dur, phase)
        lengths = mask.sum(1).clamp(min=1).long().cpu()
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h, _) = self.encoder(packed)
        hcat = torch.cat([h[0], h[1]], dim=-1)
        return self.to_mu(hcat), self.to_logvar(hcat)

    def initial_state(self, z: torch.Tensor | None, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        if z is None:
            zeros = torch.zeros(1, batch, self.cfg.hidden, device=self.pitch_head.weight.device)
            return zeros, zeros.clone()
        h, c = torch.tanh(self.to_state(z)).chunk(2, dim=-1)
        return h[None].contiguous(), c[None].contiguous()

    def decode(self, prev, next_phase, z, state):
        """prev: (pc, octave, dur, phase) of notes t-1, each (B, T); next_phase (B, T); z (B, L) or None.
        Returns the three heads' logits (B, T, .) and the decoder state."""
        x = torch.cat([self.embed(*prev), self.embed.phase(next_phase)], dim=-1)
        if z is not None:
            x = torch.cat([x, z[:, None, :].expand(-1, x.shape[1], -1)], dim=-1)
        y, state = self.decoder(self.drop(x), state)
        y = self.drop(y)
        return self.pitch_head(y), self.octave_head(y), self.dur_head(y), state

    def forward(self, batch: dict[str, torch.Tensor], sample: bool = True):
        """Teacher-forced pass over a batch of phrases: logits, mu, logvar (None for the LM)."""
        pc, octave, dur, phase, mask = (batch[k] for k in ("pc", "octave", "dur", "phase", "mask"))
        b = pc.shape[0]
        mu = logvar = z = None
        if self.cfg.latent:
            mu, logvar = self.encode(pc, octave, dur, phase, mask)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if sample else mu
        start = lambda x, v: torch.cat([torch.full_like(x[:, :1], v), x[:, :-1]], dim=1)  # noqa: E731
        prev = (start(pc, START_CLASS), start(octave, 0), start(dur, 0), start(phase, 0))
        if self.training and self.cfg.word_dropout > 0:  # hide notes of the history: lean on z
            hide = torch.rand_like(pc, dtype=torch.float32) < self.cfg.word_dropout
            pc0, oct0, dur0, ph0 = prev
            prev = (pc0.masked_fill(hide, START_CLASS), oct0.masked_fill(hide, 0), dur0.masked_fill(hide, 0), ph0)
        p, o, d, _ = self.decode(prev, phase, z, self.initial_state(z, b))
        return p, o, d, mu, logvar


class VrashEncoder(nn.Module):
    """Export wrapper: a phrase (1, T) -> mu, logvar (the runner draws z itself)."""

    def __init__(self, model: Vrash) -> None:
        super().__init__()
        self.model = model

    def forward(self, pc, octave, dur, phase):
        x = self.model.embed(pc, octave, dur, phase)
        _, (h, _) = self.model.encoder(x)
        hcat = torch.cat([h[0], h[1]], dim=-1)
        return self.model.to_mu(hcat), self.model.to_logvar(hcat)


class VrashStep(nn.Module):
    """Export wrapper: one decoder step. prev note (B,) x4, next phase (B,), z (B, L),
    state (B, 2H: h then c) -> logits of the three heads and the new state."""

    def __init__(self, model: Vrash) -> None:
        super().__init__()
        self.model = model

    def forward(self, pc, octave, dur, phase, next_phase, z, state):
        hid = self.model.cfg.hidden
        h, c = state[:, :hid][None].contiguous(), state[:, hid:][None].contiguous()
        prev = (pc[:, None], octave[:, None], dur[:, None], phase[:, None])
        zz = z if self.model.cfg.latent else None
        p, o, d, (h, c) = self.model.decode(prev, next_phase[:, None], zz, (h, c))
        return p[:, 0], o[:, 0], d[:, 0], torch.cat([h[0], c[0]], dim=-1)


class VrashStart(nn.Module):
    """Export wrapper: z (B, L) -> the decoder's first state (B, 2H)."""

    def __init__(self, model: Vrash) -> None:
        super().__init__()
        self.model = model

    def forward(self, z):
        h, c = self.model.initial_state(z, z.shape[0])
        return torch.cat([h[0], c[0]], dim=-1)
