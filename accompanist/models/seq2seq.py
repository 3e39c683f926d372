"""Encoder-decoder LSTMs that write an accompaniment of equal length to a melody.

Paper: A. Faitas, S. Baumann, T. R. Naess, J. Torresen and C. P. Martin, "Generating Convincing
Harmony Parts with Bidirectional Long Short-Term Memory Networks" (NIME 2019): uni- vs
bidirectional LSTM seq2seq on Bach chorales, 130-token 16th-note grid, teacher forcing,
categorical cross-entropy, Adam, batch 128, temperature sampling at 1.0 and 1.1.

Faithful: one encoder layer of 256 units, or a bidirectional encoder of 2 x 256 whose final
states are concatenated into a 512-unit decoder; the decoder starts from the encoder's final
state and sees only that (``aligned=False``).

Departures, and why:
- ``aligned=True`` also feeds the decoder the encoder output at the same step. Melody and
  accompaniment have equal length, so step t of the answer can look at step t of the melody
  instead of recovering it from one vector: a named improvement on the paper.
- Tokens enter through an embedding (a one-hot input times a matrix, learned) of ``embed`` size.
- Keras' recurrent dropout (0.2 on the hidden-to-hidden path) is replaced by dropout 0.2 on the
  LSTM inputs and on the decoder output, because PyTorch's fused LSTM has no recurrent dropout
  and the fused kernel is what exports cleanly to ONNX.
- The decoder's first input is a START symbol (index 130), since every window has a first step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from accompanist.music.tokens import VOCAB


@dataclass
class Seq2SeqConfig:
    hidden: int = 256  #: encoder units per direction
    bidirectional: bool = True
    aligned: bool = True
    embed: int = 64
    dropout: float = 0.2
    vocab: int = VOCAB

    @property
    def enc_out(self) -> int:
        return self.hidden * (2 if self.bidirectional else 1)

    @property
    def dec_hidden(self) -> int:
        return self.enc_out

    @property
    def variant(self) -> str:
        return ("bi" if self.bidirectional else "uni") + ("-aligned" if self.aligned else "-faithful")

    def to_dict(self) -> dict:
        return asdict(self)


class Encoder(nn.Module):
    def __init__(self, cfg: Seq2SeqConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab, cfg.embed)
        self.drop = nn.Dropout(cfg.dropout)
        self.lstm = nn.LSTM(cfg.embed, cfg.hidden, batch_first=True, bidirectional=cfg.bidirectional)

    def forward(self, melody: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """melody (B, T) -> outputs (B, T, enc_out), and the decoder's first state h, c (1, B, enc_out)."""
        out, (h, c) = self.lstm(self.drop(self.embed(melody)))
        if self.cfg.bidirectional:
            # (2, B, H) forward and backward finals -> (1, B, 2H), as the paper concatenates them.
            h = torch.cat([h[0], h[1]], dim=-1).unsqueeze(0)
            c = torch.cat([c[0], c[1]], dim=-1).unsqueeze(0)
        return out, h, c


class Decoder(nn.Module):
    def __init__(self, cfg: Seq2SeqConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab + 1, cfg.embed)  # + START
        self.drop = nn.Dropout(cfg.dropout)
        n_in = cfg.embed + (cfg.enc_out if cfg.aligned else 0)
        self.lstm = nn.LSTM(n_in, cfg.dec_hidden, batch_first=True)
        self.head = nn.Linear(cfg.dec_hidden, cfg.vocab)

    def forward(
        self, prev: torch.Tensor, enc_out: torch.Tensor | None, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """prev (B, T) tokens, enc_out (B, T, enc_out) or None -> logits (B, T, vocab), h, c."""
        x = self.embed(prev)
        if self.cfg.aligned:
            x = torch.cat([x, enc_out], dim=-1)
        out, (h, c) = self.lstm(self.drop(x), (h, c))
        return self.head(self.drop(out)), h, c


class Seq2Seq(nn.Module):
    def __init__(self, cfg: Seq2SeqConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)

    def forward(self, melody: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits (B, T, vocab) for every step given the true previous tokens."""
        enc_out, h, c = self.encoder(melody)
        logits, _, _ = self.decoder(prev, enc_out, h, c)
        return logits


class DecoderStep(nn.Module):
    """One decoder step with the state as explicit inputs and outputs: the graph the runtime loops."""

    def __init__(self, decoder: Decoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, prev: torch.Tensor, enc_t: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
        """prev (B,), enc_t (B, enc_out), h, c (1, B, dec_hidden) -> logits (B, vocab), h, c."""
        logits, h, c = self.decoder(prev.unsqueeze(1), enc_t.unsqueeze(1), h, c)
        return logits[:, 0], h, c
