"""What the RL tuner's reward asks for, without any learning: a planner that, at each step of a
composition, scores every event by the reward (log p under the frozen note RNN plus ``scaler``
times the music-theory rules) one step ahead, or two (the 8 best first events, each followed by
its best second, discounted), and plays the best. A Q-learner that learned perfectly would play
at least as well; when the planner holds notes, the rules ask for holding, whatever the learner.

    python -m accompanist.training.rl_plan --note-rnn runs/note-rnn --scaler 2 --calls 60
"""

from __future__ import annotations

import argparse
import copy
import sys

import numpy as np
import torch
import torch.nn.functional as F

from accompanist.data.melodies import MelodyDataConfig, load_melodies
from accompanist.data.rl_batches import calls
from accompanist.metrics.rl_rules import LENGTH, Leaps, Stats, judge, last_note, step_reward
from accompanist.models.rl_tuner import NoteRNN
from accompanist.music.keys import Key
from accompanist.music.rl_tokens import N_CLASSES
from accompanist.training.rl_task import Episodes, load_note_rnn, prime, rnn_step

SECOND_LOOK = 8  #: first events followed further when planning two steps ahead


def _scores(comp: list[int], leaps: Leaps, key: Key, logp: np.ndarray, scaler: float, lead: int | None) -> np.ndarray:
    return np.array(
        [logp[a] + scaler * step_reward(comp, a, key, copy.deepcopy(leaps), lead) for a in range(N_CLASSES)]
    )


def plan(
    net: NoteRNN, call_events: np.ndarray, key: Key, scaler: float, depth: int = 1, discount: float = 0.5
) -> tuple[list[int], float, float]:
    """One composition after ``call_events``; returns it, its reward and its log p, summed."""
    obs, state = prime(net, [call_events])
    lead = last_note(call_events)
    comp, leaps, total, ll = [], Leaps(), 0.0, 0.0
    for t in range(LENGTH):
        with torch.no_grad():
            logits, after = rnn_step(net, obs, state)
        logp = F.log_softmax(logits, -1)[0].numpy()
        score = _scores(comp, leaps, key, logp, scaler, lead)
        if depth >= 2 and t < LENGTH - 1:
            first = np.argsort(-score)[:SECOND_LOOK]
            with torch.no_grad():
                nxt, _ = rnn_step(net, torch.from_numpy(first), after.repeat(len(first), 1))
            nxt_logp = F.log_softmax(nxt, -1).numpy()
            for j, a in enumerate(first):
                then = copy.deepcopy(leaps)
                judge(comp, int(a), key, then, lead_in=lead)
                score[a] += discount * _scores(comp + [int(a)], then, key, nxt_logp[j], scaler, lead).max()
        a = int(score.argmax())
        total += logp[a] + scaler * step_reward(comp, a, key, leaps, lead)
        ll += logp[a]
        comp.append(a)
        obs = torch.tensor([a])
        with torch.no_grad():
            _, state = rnn_step(net, obs, state)
    return comp, total, ll


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m accompanist.training.rl_plan", description=__doc__.split("\n\n")[0])
    p.add_argument("--note-rnn", required=True, help="the note RNN's run folder")
    p.add_argument("--scaler", type=float, default=1.0, help="music-theory weight, as train rl --scaler")
    p.add_argument("--calls", type=int, default=60, help="validation calls planned after")
    p.add_argument("--depth", type=int, choices=(1, 2), default=1)
    p.add_argument("--in-c", action="store_true", help="each call moved to C, as train rl --in-c")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    net, ck = load_note_rnn(a.note_rnn)
    net.eval()
    data = load_melodies(MelodyDataConfig.from_description(ck["meta"]["data"]))
    call_events, keys = Episodes(calls(data.val), (0,), np.random.default_rng(0), a.in_c).draw(a.calls)
    stats, total, ll = Stats(), 0.0, 0.0
    for c, k in zip(call_events, keys, strict=True):
        comp, r, lp = plan(net, c, k, a.scaler, a.depth)
        stats.add(comp, k)
        total, ll = total + r, ll + lp
    steps = a.calls * LENGTH
    row = stats.table() | {
        "reward_per_step": round(float(total) / steps, 3),
        "log_likelihood_per_step": round(float(ll) / steps, 3),
    }
    print(", ".join(f"{k} {v}" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
