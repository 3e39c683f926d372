"""DuetHLSTM: a hierarchical LSTM over two piano-roll tracks.

After Jocelyn Huang, Menglan Ji and Daniel Martin, "DuetHLSTM: A Hierarchical LSTM Model for
Two-Track Music Generation" (Carnegie Mellon University student paper, undated; 2018 or later from
its references), trained there on the Lakh Pianoroll Dataset.

The paper's hierarchy, as its authors' code built it:

    melody steps -> melody LSTM 1 -> melody LSTM 2 -> dense -> next melody step
                         |
                         v
                    accompaniment LSTM 1 --+
    accompaniment steps -------------------+-> accompaniment LSTM 2 -> dense -> next accompaniment step

Sigmoid outputs and binary cross-entropy: a step of a track is a set of sounding pitches, so each
pitch is its own yes/no question (the paper's text says "softmax"; its code and its loss are
multi-label sigmoid, which is right).

Three variants, the same layers:

* ``window`` (the paper's): the model reads the last ``window`` steps (4, as in the paper) of both
  tracks from a zero state and predicts the next step.
* ``stateful`` (ours): the LSTMs carry their state from step to step, so the model remembers
  the whole session instead of half a bar; one step in, one step out. Its cells grow without
  bound in a long looped session (measured), so it does not ship.
* ``listen`` (ours, the live default): a window model that *hears the note it answers*. It
  predicts the accompaniment of step k from the melody up to and including step k and its own
  accompaniment up to k - 1 (the paper predicts both tracks of step k from steps before k, so
  every new melody note met a chord chosen for the note before). It also reads each melody
  step's place in the bar and beat (``music.meter``: the paper has no meter, and its changes
  fell anywhere in the beat) and a memory of the two bars before k: the share of steps in
  which each pitch class sounded, in each part. That summary carries key and harmony over
  32 steps for the cost of 24 numbers; an LSTM window of 32 steps would cost eight times the
  paper's per step, and a carried state drifts (see ``stateful``). The live engine waits a
  short listen window after each boundary before asking (``Settings.listen_ms``).

Departures from the paper, and why:

* Each track carries two planes of 84 pitches, sounding and onset (``accompanist.music.roll``),
  in and out: with sounding alone a repeated note cannot be told from a held one, and the
  live engine must know when to strike a key again.
* Layer sizes are configurable (the paper: 84, 32, 84, 32); our defaults are larger because the
  duet model is the live engine's only source of harmony in duet mode, and still well under a
  millisecond a step in ONNX Runtime.
* Each head also reads the step just played, a linear skip past the LSTMs. Most grid steps of
  an accompaniment continue the chord before them; without the skip the LSTMs must learn that
  identity through their gates, and on the chorales training sat for thousands of updates
  near the "predict how often each pitch sounds" plateau (measured: loss 19 after 150 updates
  without, 16 with).
* Dropout between layers; the paper had none and trained 50 epochs on far more data.
* The melody head is trained as in the paper (the hierarchy learns from both tracks), but at
  play time only the accompaniment head is read: the melody is the player's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from accompanist.music.meter import CONTEXT, POSITION
from accompanist.music.roll import N_PITCHES

#: Two planes (sounding, onset) of 84 pitches per track.
STEP = 2 * N_PITCHES


@dataclass
class DuetConfig:
    variant: str = "stateful"  #: "listen" (ours, live), "stateful" (ours) or "window" (the paper's)
    window: int = 4  #: steps read by the window variant (the paper: 4, half a bar)
    mel1: int = 128  #: melody LSTM 1 (the paper: 84)
    mel2: int = 64  #: melody LSTM 2 (the paper: 32)
    acc1: int = 128  #: accompaniment LSTM 1 (the paper: 84)
    acc2: int = 128  #: accompaniment LSTM 2 (the paper: 32)
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if self.variant not in ("stateful", "window", "listen"):
            raise ValueError(f"unknown duet variant {self.variant!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def state_size(self) -> int:
        """Length of the flat state vector of one step: (h, c) of the four LSTMs."""
        return 2 * (self.mel1 + self.mel2 + self.acc1 + self.acc2)


State = tuple[tuple[torch.Tensor, torch.Tensor], ...]


class DuetHLSTM(nn.Module):
    def __init__(self, cfg: DuetConfig):
        super().__init__()
        self.cfg = cfg
        listen = cfg.variant == "listen"
        self.mel1 = nn.LSTM(STEP + (POSITION if listen else 0), cfg.mel1, batch_first=True)
        self.mel2 = nn.LSTM(cfg.mel1, cfg.mel2, batch_first=True)
        self.acc1 = nn.LSTM(cfg.mel1, cfg.acc1, batch_first=True)
        self.acc2 = nn.LSTM(cfg.acc1 + STEP, cfg.acc2, batch_first=True)
        # The heads also read the step just played (a skip past the LSTMs): see the docstring.
        # Hearing, the accompaniment head also reads the melody note it answers, where that note
        # lies in the bar, and the two bars' memory, each straight past the LSTMs.
        self.mel_out = nn.Linear(cfg.mel2 + STEP + (CONTEXT if listen else 0), STEP)
        self.acc_out = nn.Linear(cfg.acc2 + STEP + ((STEP + CONTEXT + POSITION) if listen else 0), STEP)
        self.drop = nn.Dropout(cfg.dropout)

    def hear(
        self, mel: torch.Tensor, acc: torch.Tensor, pos: torch.Tensor, ctx: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The listen variant: melody steps k-W+1..k (B, W, 168) with their positions (B, W, 8),
        accompaniment steps k-W..k-1 (B, W, 168), the memory (B, 24) -> logits (B, 168) of the
        accompaniment at step k and of the melody at step k + 1."""
        m1, _ = self.mel1(torch.cat([mel, pos], dim=-1))
        m1d = self.drop(m1)
        m2, _ = self.mel2(m1d)
        a1, _ = self.acc1(m1d)
        a2, _ = self.acc2(torch.cat([self.drop(a1), acc], dim=-1))
        now, before = mel[:, -1], acc[:, -1]
        acc_logits = self.acc_out(torch.cat([self.drop(a2[:, -1]), before, now, ctx, pos[:, -1]], dim=-1))
        mel_logits = self.mel_out(torch.cat([self.drop(m2[:, -1]), now, ctx], dim=-1))
        return acc_logits, mel_logits

    def run(
        self, mel: torch.Tensor, acc: torch.Tensor, state: State | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, State]:
        """Read (B, T, 168) of both tracks; logits for the step after each one, (B, T, 168) each,
        and the state after the last step."""
        s = state or (None, None, None, None)
        m1, s1 = self.mel1(mel, s[0])
        m1d = self.drop(m1)
        m2, s2 = self.mel2(m1d, s[1])
        a1, s3 = self.acc1(m1d, s[2])
        a2, s4 = self.acc2(torch.cat([self.drop(a1), acc], dim=-1), s[3])
        mel_logits = self.mel_out(torch.cat([self.drop(m2), mel], dim=-1))
        acc_logits = self.acc_out(torch.cat([self.drop(a2), acc], dim=-1))
        return mel_logits, acc_logits, (s1, s2, s3, s4)

    def forward(
        self,
        mel: torch.Tensor,
        acc: torch.Tensor,
        state: State | None = None,
        pos: torch.Tensor | None = None,
        ctx: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, State | None]:
        """Training: stateful reads whole chunks from ``state`` (logits at every step); window
        reads (B, W, 168) windows from a zero state and returns the last step's logits, (B, 168).
        Both also return the state after the last step read. listen: see ``hear`` (no state)."""
        if self.cfg.variant == "listen":
            acc_logits, mel_logits = self.hear(mel, acc, pos, ctx)
            return mel_logits, acc_logits, None
        mel_logits, acc_logits, new = self.run(mel, acc, None if self.cfg.variant == "window" else state)
        if self.cfg.variant == "window":
            return mel_logits[:, -1], acc_logits[:, -1], new
        return mel_logits, acc_logits, new


class DuetStep(nn.Module):
    """One step of the stateful model with its state as one flat vector, for ONNX export:
    (mel (1, 168), acc (1, 168), state (1, S)) -> (acc logits, mel logits, new state)."""

    def __init__(self, model: DuetHLSTM):
        super().__init__()
        self.model = model
        c = model.cfg
        self.sizes = [c.mel1, c.mel1, c.mel2, c.mel2, c.acc1, c.acc1, c.acc2, c.acc2]

    def forward(self, mel: torch.Tensor, acc: torch.Tensor, state: torch.Tensor):
        parts = torch.split(state, self.sizes, dim=1)
        s = tuple((parts[2 * i].unsqueeze(0), parts[2 * i + 1].unsqueeze(0)) for i in range(4))
        mel_logits, acc_logits, new = self.model.run(mel.unsqueeze(1), acc.unsqueeze(1), s)
        flat = torch.cat([t.squeeze(0) for pair in new for t in pair], dim=1)
        return acc_logits[:, 0], mel_logits[:, 0], flat


class DuetListen(nn.Module):
    """The listen variant for export: (mel, acc (1, W, 168), pos (1, W, 8), ctx (1, 24)) ->
    (acc logits of step k, mel logits of step k + 1)."""

    def __init__(self, model: DuetHLSTM):
        super().__init__()
        self.model = model

    def forward(self, mel: torch.Tensor, acc: torch.Tensor, pos: torch.Tensor, ctx: torch.Tensor):
        return self.model.hear(mel, acc, pos, ctx)


class DuetWindow(nn.Module):
    """The window variant for export: (mel (1, W, 168), acc (1, W, 168)) -> (acc logits, mel logits)."""

    def __init__(self, model: DuetHLSTM):
        super().__init__()
        self.model = model

    def forward(self, mel: torch.Tensor, acc: torch.Tensor):
        mel_logits, acc_logits, _ = self.model.run(mel, acc)
        return acc_logits[:, -1], mel_logits[:, -1]
