"""The note RNN and its Q-network of the RL tuner.

Papers: N. Jaques, S. Gu, R. E. Turner and D. Eck, "Tuning recurrent neural networks with
reinforcement learning" (2017; Magenta's rl_tuner), and H. Qiu and C. Wang, "Classic Monophonic
Melody Generation with LSTM and Reinforcement Learning" (2018 or later), a student paper that applies the
same method to a monophonic melody LSTM. A note RNN (one LSTM of 100 cells over 38 events a 16th
step: note off, no event, MIDI 48..83) is trained on melodies; a copy of it is then tuned by deep
Q-learning, its logits read as Q-values, with the reward log p(a | s) under the frozen note RNN
plus a music-theory reward (``metrics.rl_rules``) times a scale (1 / c in the paper).

This file holds the network; the Q-learning loop is ``training/rl_task.py``. Departures are
listed there and in ``metrics/rl_rules.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from accompanist.music.rl_tokens import N_CLASSES


@dataclass
class NoteRNNConfig:
    hidden: int = 100

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def state_size(self) -> int:
        return 2 * self.hidden


class NoteRNN(nn.Module):
    """One-hot events (B, T) -> logits of the next event (B, T, 38); the state is (h, c)."""

    def __init__(self, cfg: NoteRNNConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.register_buffer("eye", torch.eye(N_CLASSES), persistent=False)
        self.lstm = nn.LSTM(N_CLASSES, cfg.hidden, batch_first=True)
        self.out = nn.Linear(cfg.hidden, N_CLASSES)

    def forward(self, events: torch.Tensor, state=None):
        y, state = self.lstm(self.eye[events], state)
        return self.out(y), state

    def step(self, event: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
        """One event (B,) from state h, c (B, H) -> logits (B, 38), h, c."""
        y, (h2, c2) = self.lstm(self.eye[event][:, None], (h[None], c[None]))
        return self.out(y[:, 0]), h2[0], c2[0]


class NoteStep(nn.Module):
    """Export wrapper: event (B,), state (B, 2H: h then c) -> logits (B, 38), state_out."""

    def __init__(self, model: NoteRNN) -> None:
        super().__init__()
        self.model = model

    def forward(self, event, state):
        hid = self.model.cfg.hidden
        logits, h, c = self.model.step(event, state[:, :hid], state[:, hid:])
        return logits, torch.cat([h, c], dim=-1)
