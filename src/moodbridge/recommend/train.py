"""The one training loop of every recommender: seeded, sampled negatives, per-epoch history.

Each epoch visits every training pair once in a seeded random order, in
mini-batches; each positive gets ``n_negatives`` images sampled uniformly
among those the clip has no training pair with
(:class:`~moodbridge.recommend.sampling.NegativeSampler`).  Losses on the
scores ``s`` (logits):

* ``"bce"`` — pointwise log loss, positives 1 and negatives 0 (He et al. 2017, Eq. 7);
* ``"bpr"`` — ``−log σ(s_pos − s_neg)`` per (positive, negative) (Rendle et al. 2009);
* ``"mse"`` — squared error to 1 / 0 on the raw score (Koren 2008's objective on implicit 0/1 targets).

Adam, optional L2 through ``weight_decay``.  After every ``eval_every``
epochs the model is evaluated on ``monitor`` (a :class:`~.split.Split`;
HR/NDCG, full ranking and, given ``negatives``, sampled) — the curves of EMID's
Figure 4.  Monitoring the *test* split is for plotting only; choose
hyperparameters on :func:`~.split.validation_split`.

Reproducible: the model's initialisation is seeded at build, the order and
the negatives here by ``seed``; no dropout.  Device: ``"auto"`` (CUDA when
available, else CPU), ``"cpu"`` or ``"cuda"``; on CPU, torch runs on
``cpu_threads`` threads during training (restored afterwards).
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from moodbridge.errors import InvalidValueError
from moodbridge.recommend.data import Interactions
from moodbridge.recommend.evaluate import evaluate
from moodbridge.recommend.models.base import Recommender
from moodbridge.recommend.sampling import EvalNegatives, NegativeSampler
from moodbridge.recommend.split import Split

__all__ = ["LOSSES", "History", "resolve_device", "train"]

LOSSES: tuple[str, ...] = ("bce", "bpr", "mse")


@dataclass
class History:
    """Per-epoch record of a training run.

    Attributes
    ----------
    epoch, loss, seconds
        1-based epoch, mean training loss and wall time (training only) per epoch.
    metrics
        ``{"full_hr@10": [...], "full_ndcg@10": [...], "sampled_hr@10": [...], …}``, one value per
        evaluated epoch, aligned with :attr:`eval_epoch`.
    settings
        The training options.
    """

    epoch: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    eval_epoch: list[int] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "loss": self.loss, "seconds": self.seconds, "eval_epoch": self.eval_epoch,
                "metrics": self.metrics, "settings": self.settings}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        return cls(**{k: data.get(k, v) for k, v in cls().as_dict().items()})


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; ``"cuda"`` without a GPU is an error."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidValueError("device 'cuda' asked for, but torch sees no CUDA device here; use 'cpu' or 'auto'")
    return dev


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    previous = torch.get_num_threads()
    if n:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _loss(kind: str, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    if kind == "bce":
        logits = torch.cat([pos[:, None], neg], 1)
        targets = torch.zeros_like(logits)
        targets[:, 0] = 1.0
        return F.binary_cross_entropy_with_logits(logits, targets)
    if kind == "bpr":
        return -F.logsigmoid(pos[:, None] - neg).mean()
    return torch.cat([(pos - 1.0) ** 2, neg.reshape(-1) ** 2]).mean()


def train(model: Recommender, train_pairs: Interactions, *, epochs: int = 50, batch_size: int = 1024,
          lr: float = 1e-3, weight_decay: float = 0.0, n_negatives: int = 4, loss: str | None = None,
          seed: int = 0, device: str | torch.device = "auto", cpu_threads: int | None = 1,
          monitor: Split | None = None, negatives: EvalNegatives | None = None, eval_every: int = 1,
          k: int = 10, progress: bool = True) -> History:
    """Train ``model`` in place on ``train_pairs``; returns the :class:`History`.

    Parameters
    ----------
    model
        A model built for ``train_pairs``' clips and images (``registry.build_model``).
    train_pairs
        The training interactions (``split.train``).
    epochs, batch_size, lr, weight_decay
        Adam settings; ``batch_size`` counts positive pairs.
    n_negatives
        Sampled negatives per positive.
    loss
        ``"bce"``, ``"bpr"`` or ``"mse"``; default the model's ``default_loss``.
    seed
        Seeds the pair order and the negative sampler.
    device, cpu_threads
        See the module docstring.
    monitor, negatives, eval_every, k
        Evaluate on ``monitor`` (full ranking, plus sampled with ``negatives``) every
        ``eval_every`` epochs and after the last, at cut-off ``k``; no evaluation without ``monitor``.
    progress
        Show a tqdm bar over epochs.

    Raises
    ------
    InvalidValueError
        On an unknown loss, non-positive sizes, a model built for other data, or a NaN loss.
    """
    loss = loss or model.default_loss
    if loss not in LOSSES:
        raise InvalidValueError(f"unknown loss {loss!r}; known: {', '.join(LOSSES)}")
    if epochs < 0 or batch_size < 1 or n_negatives < 1 or eval_every < 1:
        raise InvalidValueError(f"epochs >= 0, batch_size, n_negatives and eval_every >= 1 expected, got "
                                f"{epochs}, {batch_size}, {n_negatives}, {eval_every}")
    if (model.n_users, model.n_items) != (train_pairs.n_users, train_pairs.n_items):
        raise InvalidValueError(f"{model.name}: built for {model.n_users} clips × {model.n_items} images, but the "
                                f"training pairs have {train_pairs.n_users} × {train_pairs.n_items}")
    dev = resolve_device(device)
    settings = {"model": model.name, "loss": loss, "epochs": epochs, "batch_size": batch_size, "lr": lr,
                "weight_decay": weight_decay, "n_negatives": n_negatives, "seed": seed, "device": str(dev),
                "cpu_threads": cpu_threads, "k": k}
    history = History(settings=settings)
    rng = np.random.default_rng(seed)
    sampler = NegativeSampler(train_pairs, seed=int(rng.integers(2**63)))
    users_all = torch.as_tensor(train_pairs.user_idx, device=dev)
    items_all = torch.as_tensor(train_pairs.item_idx, device=dev)
    with _threads(cpu_threads if dev.type == "cpu" else None):
        model.to(dev)
        optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        bar = tqdm(range(1, epochs + 1), desc=f"train {model.name}", unit="epoch", disable=not progress, leave=False)
        for epoch in bar:
            start, total, n = time.perf_counter(), 0.0, 0
            model.train()
            order = rng.permutation(train_pairs.n_pairs)
            for b in range(0, len(order), batch_size):
                rows = order[b:b + batch_size]
                neg = torch.as_tensor(sampler.sample(train_pairs.user_idx[rows], n_negatives), device=dev)
                idx = torch.as_tensor(rows, device=dev)
                users = users_all[idx]
                scores = model.score(users[:, None], torch.cat([items_all[idx][:, None], neg], 1))
                value = _loss(loss, scores[:, 0], scores[:, 1:])
                optimiser.zero_grad(set_to_none=True)
                value.backward()
                optimiser.step()
                total += float(value.detach()) * len(rows)
                n += len(rows)
            mean = total / max(n, 1)
            if not np.isfinite(mean):
                raise InvalidValueError(f"{model.name}: the training loss became {mean} in epoch {epoch}; "
                                        f"lower the learning rate (lr={lr})")
            history.epoch.append(epoch)
            history.loss.append(mean)
            history.seconds.append(time.perf_counter() - start)
            postfix = {"loss": f"{mean:.4f}"}
            if monitor is not None and (epoch % eval_every == 0 or epoch == epochs):
                results = evaluate(model, monitor, negatives=negatives, k=k)
                history.eval_epoch.append(epoch)
                for protocol, r in results.items():
                    history.metrics.setdefault(f"{protocol}_hr@{k}", []).append(r.hr)
                    history.metrics.setdefault(f"{protocol}_ndcg@{k}", []).append(r.ndcg)
                postfix[f"HR@{k}"] = f"{results['full'].hr:.3f}"
            bar.set_postfix(postfix)
    model.eval()
    return history
