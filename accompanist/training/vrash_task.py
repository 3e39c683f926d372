"""Glue between two-bar phrases, VRASH (or its language-model baseline) and the training loop.

Loss per note: the three heads' cross-entropy (the octave of a rest not scored) plus, for VRASH,
beta x the KL of each phrase's posterior from N(0, I), spread over the phrase's notes. beta rises
linearly from 0 to 1 over ``anneal_steps`` training batches; below ``free_bits`` nats a
dimension (averaged over the batch) the KL costs nothing. Validation and test score the true
bound: beta = 1, no free bits, z drawn from the posterior, so the figure is an upper bound on
the negative log-likelihood per note and can be set beside the language model's cross-entropy.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from accompanist.data.melodies import MelodyDataConfig, phrases_of
from accompanist.data.phrase_batches import PhraseBatches
from accompanist.models.vrash import Vrash, VrashConfig
from accompanist.music.events import REST_CLASS
from accompanist.training.checkpoints import load_checkpoint
from accompanist.training.loop import Job, RunState, score_on_test, train
from accompanist.training.melody_task import begin_run


@dataclass
class VrashTrainConfig:
    bars: int = 2
    anneal_steps: int = 3000
    free_bits: float = 0.1


def note_ce(model: Vrash, batch: dict[str, torch.Tensor], sample: bool = True):
    """Summed cross-entropy of every note (three heads), its notes, the number right, mu, logvar."""
    p, o, d, mu, logvar = model(batch, sample)
    keep = batch["mask"].reshape(-1) > 0
    flat = lambda x: x.reshape(-1, x.shape[-1])[keep]  # noqa: E731
    pc, octave, dur = (batch[k].reshape(-1)[keep] for k in ("pc", "octave", "dur"))
    sounding = (pc != REST_CLASS).float()
    ce_p = F.cross_entropy(flat(p), pc, reduction="sum")
    ce_o = (F.cross_entropy(flat(o), octave, reduction="none") * sounding).sum()
    ce_d = F.cross_entropy(flat(d), dur, reduction="sum")
    right = int(((flat(p).argmax(-1) == pc) & (flat(d).argmax(-1) == dur)).sum())
    return (ce_p, ce_o, ce_d), len(pc), right, mu, logvar


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """(B, L) KL of N(mu, exp(logvar)) from N(0, 1), per phrase and dimension."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)


class VrashLoss:
    def __init__(self, cfg: VrashTrainConfig) -> None:
        self.cfg = cfg
        self.steps = 0

    def __call__(self, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int, int]:
        (ce_p, ce_o, ce_d), n, right, mu, logvar = note_ce(model, batch)
        loss = ce_p + ce_o + ce_d
        if mu is not None:
            kl = kl_per_dim(mu, logvar)
            if model.training:
                self.steps += 1
                beta = min(1.0, self.steps / max(self.cfg.anneal_steps, 1))
                floor = torch.clamp(kl.mean(0), min=self.cfg.free_bits)  # free bits, per dimension
                loss = loss + beta * floor.sum() * len(mu)
            else:
                loss = loss + kl.sum()
        return loss / max(n, 1), right, n


def held_out_scores(model: Vrash, data: PhraseBatches, batch_size: int = 256, samples: int = 4) -> dict:
    """Cross-entropy per note by head, reconstruction at z = mu, the bound per note (z drawn,
    averaged over ``samples`` draws, + KL), and the KL per latent dimension."""
    model.eval()
    torch.manual_seed(0)
    sums = {"pitch": 0.0, "octave": 0.0, "dur": 0.0, "ce_mu": 0.0, "kl": 0.0, "n": 0}
    kl_dims = None
    phrases = 0
    with torch.no_grad():
        for b in data.batches(batch_size, None):
            for s in range(samples):
                (cp, co, cd), n, _, mu, logvar = note_ce(model, b, sample=True)
                sums["pitch"] += float(cp) / samples
                sums["octave"] += float(co) / samples
                sums["dur"] += float(cd) / samples
                if s == 0:
                    sums["n"] += n
            if model.cfg.latent:
                (cp, co, cd), _, _, mu, logvar = note_ce(model, b, sample=False)
                sums["ce_mu"] += float(cp + co + cd)
                kl = kl_per_dim(mu, logvar)
                sums["kl"] += float(kl.sum())
                kl_dims = kl.sum(0) if kl_dims is None else kl_dims + kl.sum(0)
                phrases += len(mu)
    n = max(sums["n"], 1)
    ce = (sums["pitch"] + sums["octave"] + sums["dur"]) / n
    out = {
        "pitch_class_ce": round(sums["pitch"] / n, 4),
        "octave_ce": round(sums["octave"] / n, 4),
        "duration_ce": round(sums["dur"] / n, 4),
        "ce_per_note": round(ce, 4),
        "notes": sums["n"],
        "phrases": len(data.phrases),
    }
    if model.cfg.latent:
        out |= {
            "reconstruction_ce_at_mean": round(sums["ce_mu"] / n, 4),
            "kl_per_note": round(sums["kl"] / n, 4),
            "bound_per_note": round(ce + sums["kl"] / n, 4),
            "kl_per_dim": [round(float(v) / max(phrases, 1), 4) for v in kl_dims],
            "active_dims": int(sum(float(v) / max(phrases, 1) > 0.01 for v in kl_dims)),
        }
    return out


def run(job: Job, model_cfg: VrashConfig, data_cfg: MelodyDataConfig, vcfg: VrashTrainConfig) -> RunState:
    data, model, meta = begin_run(job, "vrash", Vrash, model_cfg, data_cfg)
    sets = {k: phrases_of(getattr(data, k), vcfg.bars) for k in ("train", "val", "test")}
    meta["data"] |= {"phrase_bars": vcfg.bars}
    meta["counts"] = data.counts | {f"{k}_phrases": len(v) for k, v in sets.items()}
    meta["vrash"] = asdict(vcfg)
    train_src = PhraseBatches(sets["train"], data_cfg.transpositions)
    print(
        f"phrases of {vcfg.bars} bars: {len(sets['train'])} training ({train_src.notes} notes), "
        f"{len(sets['val'])} validation, {len(sets['test'])} test",
        file=sys.stderr,
    )
    loss = VrashLoss(vcfg)
    if job.resume and (job.folder / "last.pt").exists():  # the KL weight goes on from where it was
        done = load_checkpoint(job.folder / "last.pt")["state"]["epoch"]
        loss.steps = done * train_src.num_batches(job.train.batch_size)
    state = train(model, loss, train_src, PhraseBatches(sets["val"]), job.folder, job.train, meta, resume=job.resume)
    test = PhraseBatches(sets["test"])
    best = score_on_test(
        job.folder, model, loss, test, job.train.batch_size, lambda m: {"test_scores": held_out_scores(m, test)}
    )
    s = best["test_scores"]
    print(f"test phrases: {s}", file=sys.stderr)
    return state
