"""The pitch + duration melody LSTM.

Paper: M. Conner, L. Gral, K. Adams, D. Hunger, R. Strelow and A. Neuwirth, "Music Generation
Using an LSTM" (2022), with separate one-hot inputs for pitch and duration; it extends S. Skúli's 2017 article
"How to Generate Music using a LSTM Neural Network in Keras"). Each note is a pitch (or rest) and
a duration; both enter as separate one-hot vectors, concatenated, into stacked LSTMs with
dropout, a dense layer, and two softmax outputs, one for the next pitch and one for the next
duration, each sampled with a temperature of its own.

Where we depart, and why:
- Size: two LSTMs of 256 (the article: three of 512, dense 256, dropout 0.3). This machine has
  two cores and the live answer must be ready within a quarter of a bar; the held-out
  cross-entropy in the card says what the smaller model reaches.
- Training predicts every next note of a window at once (teacher forcing), not only the one
  note after a 100-note window: the same objective, every window used fully.
- A third one-hot input, the note's onset position in its bar (``position=True``, the default),
  so a continuation knows where the bar lines are; the paper's two-input model is
  ``position=False``. Live, the engine's clock gives the position of each next note.
- The two heads are conditionally independent given the LSTM state, as in the paper (the
  duration is not told the pitch just chosen).
- Chords: melodies here are monophonic (a chord keeps its top note), so there is no
  chord-as-a-symbol vocabulary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from accompanist.music.events import MAX_PHASE, N_DUR, N_PITCH


@dataclass
class MelodyConfig:
    hidden: int = 256
    layers: int = 2
    dense: int = 256
    dropout: float = 0.3
    position: bool = True  #: read the onset's bar position (our addition; False = the paper's)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def inputs(self) -> int:
        return N_PITCH + N_DUR + (MAX_PHASE if self.position else 0)

    @property
    def state_size(self) -> int:
        return 2 * self.layers * self.hidden


class PitchDurationLSTM(nn.Module):
    """(pitch, duration, phase) indices of notes 0..T-1 -> logits of pitch and duration of notes 1..T."""

    def __init__(self, cfg: MelodyConfig) -> None:
        super().__init__()
        self.cfg = cfg
        # one-hot rows: a fixed identity lookup keeps the paper's input encoding exactly
        self.register_buffer("eye_pitch", torch.eye(N_PITCH), persistent=False)
        self.register_buffer("eye_dur", torch.eye(N_DUR), persistent=False)
        self.register_buffer("eye_phase", torch.eye(MAX_PHASE), persistent=False)
        self.lstm = nn.LSTM(cfg.inputs, cfg.hidden, cfg.layers, batch_first=True, dropout=cfg.dropout)
        self.drop = nn.Dropout(cfg.dropout)
        self.dense = nn.Linear(cfg.hidden, cfg.dense)
        self.pitch_head = nn.Linear(cfg.dense, N_PITCH)
        self.dur_head = nn.Linear(cfg.dense, N_DUR)

    def one_hot(self, pitch: torch.Tensor, dur: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        parts = [self.eye_pitch[pitch], self.eye_dur[dur]]
        if self.cfg.position:
            parts.append(self.eye_phase[phase])
        return torch.cat(parts, dim=-1)

    def forward(
        self,
        pitch: torch.Tensor,
        dur: torch.Tensor,
        phase: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        y, state = self.lstm(self.one_hot(pitch, dur, phase), state)
        z = torch.relu(self.dense(self.drop(y)))
        z = self.drop(z)
        return self.pitch_head(z), self.dur_head(z), state


class MelodyStep(nn.Module):
    """One note at a time with the state as one flat vector (h then c of every layer), as the
    ONNX runner carries it: pitch (B,), dur (B,), phase (B,), state (B, S) -> logits, state."""

    def __init__(self, model: PitchDurationLSTM) -> None:
        super().__init__()
        self.model = model

    def forward(self, pitch, dur, phase, state):
        cfg = self.model.cfg
        b = state.shape[0]
        hc = state.reshape(b, 2, cfg.layers, cfg.hidden).permute(1, 2, 0, 3)
        start = (hc[0].contiguous(), hc[1].contiguous())
        p, d, (h, c) = self.model(pitch[:, None], dur[:, None], phase[:, None], start)
        out = torch.stack([h, c]).permute(2, 0, 1, 3).reshape(b, -1)
        return p[:, 0], d[:, 0], out
