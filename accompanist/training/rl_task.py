"""The RL tuner's two stages: the note RNN by maximum likelihood, then its copy by deep Q-learning.

Q-learning as upstream (Jaques et al. 2017 and Magenta's rl_tuner code): the Q-network and a
target network start as copies of the note RNN, a third copy stays frozen as the reward model;
reward = log p(a | s) under the frozen model + ``scaler`` x the music-theory reward; replay of
100,000, minibatches of 32, a training step every 5 actions, soft target updates of 0.01, Adam,
gradients clipped at 5, discount 0.5, epsilon-greedy from 1.0 to 0.1 over the first half of the
steps; the Q-network's logits are the Q-values.

Where we depart, and why:
- Episodes start from a call: two bars of a training melody, transposed at random, read into all
  three networks; the rules' key is the key heard in that call (upstream: a random note, C major).
  So the tuned model learns to answer in the player's key, which is what respond mode asks.
- 64 compositions are played side by side (one batched network step serves all 64), and a
  training step is still taken once per 5 actions on average: the same number of updates per
  action, far fewer Python calls on two cores.
- The last step of a composition is terminal (upstream bootstrapped across compositions).
- The replay stores the action actually taken (upstream's Boltzmann mode stored the greedy one).
- ``explore``: what an exploring step plays. Upstream's epsilon-greedy draws it uniformly from
  the 38 events ("uniform"); a uniform note is out of key five times in twelve, often an octave
  or more away, and under the frozen model some 6 nats less likely than a plausible one, so what
  exploration teaches the Q-network is that striking a note costs: it learned to hold on every
  step while a planner on the same reward moved (in motif 25-33 %). "note-rnn" draws it from the
  frozen note RNN instead (explores the notes a melody would play; epsilon still decides when);
  "boltzmann" acts by sampling softmax(Q) throughout, which stops exploring once one action's Q
  leads by a few units.
- Optional, off by default: Huber loss (``huber``: the TD error's gradient capped at 1, as in
  Mnih et al. 2015's DQN; upstream squared it, and a -100 repeat penalty times the scale then
  drowns every other sample in its minibatch) and double Q-learning (``double``: van Hasselt et
  al. 2016, the online network picks the next action and the target network values it; the max
  over 38 noisy estimates otherwise inflates whatever is chosen most, here the hold). And n-step
  returns (``n_step``), so a motif's reward, paid when its last note lands, reaches the step that
  began it in one update rather than n.
"""

from __future__ import annotations

import copy
import math
import shlex
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from accompanist.data.melodies import MelodyDataConfig, load_melodies
from accompanist.data.rl_batches import EventRows, calls, fitting_shifts
from accompanist.metrics.rl_rules import LENGTH, Leaps, Stats, last_note, step_reward
from accompanist.models.rl_tuner import NoteRNN, NoteRNNConfig
from accompanist.music.keys import find_key, home_key, home_shifts, key_heard
from accompanist.music.rl_tokens import N_CLASSES, to_rl
from accompanist.music.tokens import transpose
from accompanist.training.checkpoints import load_checkpoint
from accompanist.training.loop import Job, RunState, score_on_test, seed_everything, train
from accompanist.training.melody_task import begin_run


def note_loss(model: NoteRNN, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int, int]:
    logits, _ = model(batch["events"][:, :-1])
    keep = batch["mask"][:, 1:].reshape(-1) > 0
    target = batch["events"][:, 1:].reshape(-1)[keep]
    flat = logits.reshape(-1, N_CLASSES)[keep]
    return F.cross_entropy(flat, target), int((flat.argmax(-1) == target).sum()), len(target)


def run_notes(job: Job, model_cfg: NoteRNNConfig, data_cfg: MelodyDataConfig) -> RunState:
    """Stage 1: the note RNN, by maximum likelihood on the melody corpus."""
    data, model, meta = begin_run(job, "rl", NoteRNN, model_cfg, data_cfg)
    meta |= {"stage": "note-rnn"}
    src = EventRows(data.train, data_cfg.transpositions)
    state = train(model, note_loss, src, EventRows(data.val, (0,)), job.folder, job.train, meta, resume=job.resume)
    best = score_on_test(job.folder, model, note_loss, EventRows(data.test, (0,)), 64)
    print(f"test melodies: {best['test_loss']:.4f} nats a step, accuracy {best['test_accuracy']:.3f}", file=sys.stderr)
    return state


@dataclass
class TuneConfig:
    steps: int = 1_000_000  #: actions taken in all
    parallel: int = 64
    replay: int = 100_000
    batch: int = 32
    train_every: int = 5
    target_rate: float = 0.01
    discount: float = 0.5
    lr: float = 1e-3
    clip: float = 5.0
    epsilon_start: float = 1.0
    epsilon_end: float = 0.1
    exploration: float = 0.5  #: share of the steps over which epsilon falls
    scaler: float = 0.1  #: music-theory weight, 1 / c (upstream's script: 0.1; the paper liked c = 0.5)
    seed: int = 0
    threads: int = 2
    report_every: int = 50_000
    n_step: int = 1  #: rewards summed before bootstrapping (upstream: 1)
    explore: str = "uniform"  #: an exploring step's action: uniform (upstream), note-rnn or boltzmann
    huber: bool = False  #: Huber loss on the TD error (upstream: squared)
    double: bool = False  #: double Q-learning targets (upstream: the target network's max)
    in_c: bool = False  #: every call moved to C major or A minor (upstream: all in C)


class Replay:
    """A ring of transitions held as arrays: obs, state, action, return, the observation and
    state it bootstraps from, and that bootstrap's weight (discount^k, 0 at a composition's end)."""

    def __init__(self, size: int, state: int) -> None:
        self.size, self.n, self.at = size, 0, 0
        self.obs = np.zeros(size, np.int64)
        self.state = np.zeros((size, state), np.float32)
        self.action = np.zeros(size, np.int64)
        self.reward = np.zeros(size, np.float32)
        self.next_obs = np.zeros(size, np.int64)
        self.next_state = np.zeros((size, state), np.float32)
        self.bootstrap = np.zeros(size, np.float32)

    def add(self, obs, state, action, rew, next_obs, next_state, bootstrap) -> None:
        for i in range(len(obs)):
            k = self.at
            self.obs[k], self.state[k], self.action[k] = obs[i], state[i], action[i]
            self.reward[k], self.next_obs[k], self.next_state[k] = rew[i], next_obs[i], next_state[i]
            self.bootstrap[k] = bootstrap[i]
            self.at = (k + 1) % self.size
            self.n = min(self.n + 1, self.size)

    def sample(self, k: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        idx = rng.choice(self.n, k, replace=False)
        pick = lambda a: torch.from_numpy(a[idx])  # noqa: E731
        return {
            "obs": pick(self.obs),
            "state": pick(self.state),
            "action": pick(self.action),
            "reward": pick(self.reward),
            "next_obs": pick(self.next_obs),
            "next_state": pick(self.next_state),
            "bootstrap": pick(self.bootstrap),
        }


def n_step_transitions(steps: list[tuple], n: int, discount: float, ended: bool = True):
    """Steps (obs, state, action, reward, next state), each (b, ...), as n-step transitions: the
    discounted sum of up to ``n`` rewards, and the observation (the last action summed), state
    and weight to bootstrap from; if ``ended``, the last step closes the composition and
    bootstraps nothing."""
    length = len(steps)
    for t, (obs, state, action, _, _) in enumerate(steps):
        last = min(t + n, length) - 1
        ret = sum(discount ** (i - t) * steps[i][3] for i in range(t, last + 1))
        weight = 0.0 if ended and last == length - 1 else discount ** (last - t + 1)
        yield obs, state, action, ret, steps[last][2], steps[last][4], np.full(len(obs), weight, np.float32)


def rnn_step(model: NoteRNN, obs: torch.Tensor, state: torch.Tensor):
    hid = model.cfg.hidden
    logits, h, c = model.step(obs, state[:, :hid], state[:, hid:])
    return logits, torch.cat([h, c], dim=-1)


def load_note_rnn(run: Path) -> tuple[NoteRNN, dict]:
    """The note RNN (or a tuned copy) of a run folder's best.pt, and that checkpoint."""
    ck = load_checkpoint(Path(run) / "best.pt")
    model = NoteRNN(NoteRNNConfig(**ck["meta"]["model"]))
    model.load_state_dict(ck["model"])
    return model, ck


def prime(model: NoteRNN, call_events: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Read each call but its last event; the last event is the first observation."""
    b = len(call_events)
    state = torch.zeros(b, model.cfg.state_size)
    length = max(len(c) for c in call_events)
    pad = np.full((b, length), -1, np.int64)
    for i, c in enumerate(call_events):
        pad[i, length - len(c) :] = c  # right-aligned, so every call ends at the same step
    with torch.no_grad():
        for t in range(length - 1):
            col = torch.from_numpy(pad[:, t])
            live = col >= 0
            if live.any():
                _, new = rnn_step(model, col.clamp(min=0), state)
                state = torch.where(live[:, None], new, state)
    return torch.from_numpy(pad[:, -1]), state


class Episodes:
    """``parallel`` compositions played side by side, each primed with a random call; with
    ``in_c``, each call moved to C major or A minor (``home_key``), the white keys, as upstream's
    compositions were all in C."""

    def __init__(
        self, pool: list[np.ndarray], shifts: tuple[int, ...], rng: np.random.Generator, in_c: bool = False
    ) -> None:
        self.pool, self.shifts, self.rng, self.in_c = pool, shifts, rng, in_c

    def draw(self, n: int):
        picks = [self.pool[i] for i in self.rng.integers(0, len(self.pool), n)]
        out_calls, keys = [], []
        for c in picks:
            heard = key_heard(c)
            if self.in_c:
                s = int(self.rng.choice(home_shifts(c, heard)))
            else:
                s = int(self.rng.choice(fitting_shifts(c, self.shifts)))
            t = transpose(c, s) if s else c
            out_calls.append(to_rl(t))
            keys.append(home_key(heard) if self.in_c else find_key(t))
        return out_calls, keys


def log_likelihood(model: NoteRNN, comps, calls_ev) -> float:
    """Mean log p per step of compositions under ``model``, each after its own call."""
    total, n = 0.0, 0
    with torch.no_grad():
        for lo in range(0, len(comps), 256):
            cs, ce = comps[lo : lo + 256], calls_ev[lo : lo + 256]
            obs, state = prime(model, ce)
            for t in range(LENGTH):
                logits, state = rnn_step(model, obs, state)
                a = torch.tensor([c[t] for c in cs])
                total += float(F.log_softmax(logits, -1).gather(1, a[:, None]).sum())
                n += len(cs)
                obs = a
    return total / max(n, 1)


def composition_table(
    model: NoteRNN,
    reward_model: NoteRNN,
    pool,
    shifts,
    n: int,
    seed: int,
    temperature: float = 1.0,
    in_c: bool = False,
) -> dict:
    """The paper's table over ``n`` compositions sampled from softmax(logits / temperature), and
    their log-likelihood under the frozen note RNN (``in_c``: each call moved to C first)."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    episodes = Episodes(pool, shifts, rng, in_c)
    comps, keys, calls_ev = [], [], []
    with torch.no_grad():
        for lo in range(0, n, 256):
            b = min(256, n - lo)
            ce, k = episodes.draw(b)
            obs, state = prime(model, ce)
            out = np.zeros((b, LENGTH), np.int64)
            for t in range(LENGTH):
                logits, state = rnn_step(model, obs, state)
                obs = torch.distributions.Categorical(logits=logits / max(temperature, 1e-3)).sample()
                out[:, t] = obs.numpy()
            comps += out.tolist()
            keys += k
            calls_ev += ce
    stats = Stats()
    for c, k in zip(comps, keys, strict=True):
        stats.add(c, k)
    return stats.table() | {"log_likelihood_per_step": round(log_likelihood(reward_model, comps, calls_ev), 4)}


def tune(
    name: str, note_run: Path, data_cfg: MelodyDataConfig, cfg: TuneConfig, run_dir: Path, n_eval: int = 1000
) -> dict:
    """Stage 2: deep Q-learning from the note RNN of ``note_run``; writes best.pt with both tables."""
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    base, ck = load_note_rnn(note_run)
    data = load_melodies(data_cfg)
    pool, val_pool = calls(data.train), calls(data.val)
    shifts = tuple(data_cfg.transpositions)
    q, target, frozen = base, copy.deepcopy(base), copy.deepcopy(base)
    for p in (*target.parameters(), *frozen.parameters()):
        p.requires_grad_(False)
    print("scoring the note RNN on validation calls ...", file=sys.stderr, flush=True)
    before = composition_table(frozen, frozen, val_pool, (0,), n_eval, cfg.seed)
    opt = torch.optim.Adam(q.parameters(), lr=cfg.lr)
    rng = np.random.default_rng(cfg.seed)
    episodes = Episodes(pool, shifts, rng, cfg.in_c)
    replay = Replay(cfg.replay, base.cfg.state_size)
    b = cfg.parallel
    taken, updates, due, t0 = 0, 0, 0.0, time.perf_counter()
    history = []
    rewards_seen: deque[float] = deque(maxlen=5000)
    while taken < cfg.steps:
        call_ev, keys = episodes.draw(b)
        obs, q_state = prime(q, call_ev)
        _, r_state = prime(frozen, call_ev)
        comps: list[list[int]] = [[] for _ in range(b)]
        leaps = [Leaps() for _ in range(b)]
        lead = [last_note(c) for c in call_ev]
        steps: list[tuple] = []  # this composition's steps, replayed once its n-step returns are known
        for t in range(LENGTH):
            eps = max(
                cfg.epsilon_end,
                cfg.epsilon_start - (cfg.epsilon_start - cfg.epsilon_end) * taken / (cfg.exploration * cfg.steps),
            )
            with torch.no_grad():
                qv, q_next = rnn_step(q, obs, q_state)
                rl, r_state = rnn_step(frozen, obs, r_state)
            if cfg.explore == "boltzmann":
                action = torch.distributions.Categorical(logits=qv).sample().numpy()
            else:
                explore = rng.random(b) < eps
                if cfg.explore == "note-rnn":
                    tried = torch.distributions.Categorical(logits=rl).sample().numpy()
                else:
                    tried = rng.integers(0, N_CLASSES, b)
                action = np.where(explore, tried, qv.argmax(-1).numpy())
            logp = F.log_softmax(rl, -1).numpy()[np.arange(b), action]
            theory = np.array([step_reward(comps[i], int(action[i]), keys[i], leaps[i], lead[i]) for i in range(b)])
            for i in range(b):
                comps[i].append(int(action[i]))
            rew = logp + cfg.scaler * theory
            rewards_seen.extend(rew.tolist())
            steps.append((obs.numpy(), q_state.numpy(), action, rew, q_next.numpy()))
            if cfg.n_step == 1 or t == LENGTH - 1:  # one step is known at once; n steps at the end
                for tr in n_step_transitions(steps, cfg.n_step, cfg.discount, ended=t == LENGTH - 1):
                    replay.add(*tr)
                steps = []
            obs, q_state = torch.from_numpy(action), q_next
            taken += b
            due += b / cfg.train_every
            while due >= 1 and replay.n >= cfg.batch:
                due -= 1
                _update(q, target, opt, replay.sample(cfg.batch, rng), cfg)
                updates += 1
        if taken // cfg.report_every != (taken - b * LENGTH) // cfg.report_every:
            row = {
                "steps": taken,
                "updates": updates,
                "epsilon": round(eps, 3),
                "mean_reward": round(float(np.mean(rewards_seen)), 3),
                "seconds": round(time.perf_counter() - t0, 1),
            }
            history.append(row)
            print(f"rl: {row}", file=sys.stderr, flush=True)
    print("scoring the tuned model on validation calls ...", file=sys.stderr, flush=True)
    after = composition_table(q, frozen, val_pool, (0,), n_eval, cfg.seed, in_c=cfg.in_c)
    run_dir.mkdir(parents=True, exist_ok=True)
    meta = dict(ck["meta"]) | {
        "command": "accompanist " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "name": name,
        "stage": "tuned",
        "tune": asdict(cfg),
        "note_rnn_run": str(note_run),
    }
    out = {
        "model": q.state_dict(),
        "meta": meta,
        "epoch": 0,
        "val_loss": math.nan,
        "val_accuracy": math.nan,
        "tables": {"note_rnn": before, "tuned": after},
        "history": history,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    torch.save(out, run_dir / "best.pt")
    return out


def td_targets(q: NoteRNN, target: NoteRNN, b: dict[str, torch.Tensor], double: bool) -> torch.Tensor:
    """What each replayed Q(s, a) is moved toward: its return plus the bootstrap weight times the
    next state's value, read by the target network at the action the target network (DQN) or
    the online network (double Q-learning) likes best."""
    with torch.no_grad():
        nxt, _ = rnn_step(target, b["next_obs"], b["next_state"])
        if double:
            pick, _ = rnn_step(q, b["next_obs"], b["next_state"])
            best = nxt.gather(1, pick.argmax(-1, keepdim=True))[:, 0]
        else:
            best = nxt.max(-1).values
        return b["reward"] + b["bootstrap"] * best


def _update(q: NoteRNN, target: NoteRNN, opt, b: dict[str, torch.Tensor], cfg: TuneConfig) -> None:
    qv, _ = rnn_step(q, b["obs"], b["state"])
    chosen = qv.gather(1, b["action"][:, None])[:, 0]
    goal = td_targets(q, target, b, cfg.double)
    loss = F.smooth_l1_loss(chosen, goal) if cfg.huber else F.mse_loss(chosen, goal)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(q.parameters(), cfg.clip)
    opt.step()
    with torch.no_grad():
        for tp, qp in zip(target.parameters(), q.parameters(), strict=True):
            tp.mul_(1 - cfg.target_rate).add_(qp, alpha=cfg.target_rate)
