"""Train a two-modality joint emotion space on frozen features (Emo-CLIM / EIMG).

:func:`train_joint_space` fits one :class:`~moodbridge.align.heads.ProjectionHead`
per modality with

* Emo-CLIM's SupCon total (Eq. 6) when the labels are emotion classes, or
* EIMG's continuous-label contrastive total (Eq. 12) when they are
  valence-arousal points,

on class-balanced paired batches (Emo-CLIM Sec. 4.3; quadrant-balanced for VA),
with AdamW, the checkpoint of lowest validation loss kept and early stopping
(Emo-CLIM Sec. 4.4: batch 64, τ = 0.07, λ = 0.25, lr 1e-4, 15 epochs, lowest
validation loss kept).  It works for any pair of modalities (image, audio,
MIDI, text): they are only names.  Training runs on CUDA when available, else
on the CPU, and is seeded.

The result is a :class:`JointSpace`: ``embed(modality, features)`` maps raw
encoder features into the joint space; ``save`` / ``load`` write a folder with
the torch state dict (``model.pt``) and a JSON description (``config.json``).
"""
from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from moodbridge.align.heads import ProjectionHead
from moodbridge.align.losses import LOSS_FOR_LABELS, LOSSES
from moodbridge.align.samplers import ClassBalancedPairSampler, QuadrantBalancedPairSampler, stratified_split
from moodbridge.align.config import AlignConfig, History
from moodbridge.align.space import JointSpace, torch_device
from moodbridge.emotion import as_va_array, quadrants
from moodbridge.errors import InvalidValueError

__all__ = ["AlignConfig", "History", "JointSpace", "train_joint_space"]



# ----------------------------------------------------------------------------- training
def train_joint_space(
    feats_a: Any,
    labels_a: Any,
    feats_b: Any,
    labels_b: Any,
    *,
    config: AlignConfig | None = None,
    validation: tuple[Any, Any, Any, Any] | None = None,
) -> tuple[JointSpace, History]:
    """Train projection heads of two modalities into a joint emotion space.

    Parameters
    ----------
    feats_a, feats_b
        ``(N_a, d_a)`` and ``(N_b, d_b)`` frozen encoder features of modality
        ``config.modalities[0]`` and ``[1]``.
    labels_a, labels_b
        Emotion classes ``(N,)`` (any hashable values; Emo-CLIM's SupCon), or
        valence-arousal points ``(N, 2)`` in ``[-1, 1]`` (EIMG's losses).
    config
        Hyper-parameters (:class:`AlignConfig`; default: the paper's).
    validation
        ``(feats_a, labels_a, feats_b, labels_b)`` for the validation loss;
        default: a stratified ``config.val_fraction`` of each modality's
        training data is held out.

    Returns
    -------
    (JointSpace, History)
        The model with the weights of the lowest validation loss, and the history.

    Raises
    ------
    InvalidValueError
        On features that are not finite 2-D arrays, a label count that differs
        from the feature count, missing labels (None / NaN; the message says
        how many), labels of different kinds, fewer than two shared classes, or
        a batch too small for the EIMG sets.
    """
    cfg = config or AlignConfig()
    name_a, name_b = cfg.modalities
    xa, xb = _features(feats_a, name_a), _features(feats_b, name_b)
    kind = _label_kind(labels_a, labels_b, cfg.labels)
    encode = _Labels(kind, labels_a, labels_b, names=(name_a, name_b), counts=(len(xa), len(xb)))
    ya, yb = encode.train
    if validation is None:
        rng = np.random.default_rng(cfg.seed)
        tr_a, va_a = stratified_split(encode.strata(ya), cfg.val_fraction, rng)
        tr_b, va_b = stratified_split(encode.strata(yb), cfg.val_fraction, rng)
        train = (xa[tr_a], ya[tr_a], xb[tr_b], yb[tr_b])
        valid = (xa[va_a], ya[va_a], xb[va_b], yb[va_b])
    else:
        fa, la, fb, lb = validation
        vxa, vxb = _features(fa, name_a), _features(fb, name_b)
        for name, x, vx in ((name_a, xa, vxa), (name_b, xb, vxb)):
            if vx.shape[1] != x.shape[1]:
                raise InvalidValueError(
                    f"{name} validation features: feature dimension mismatch: the head expects {x.shape[1]}"
                    f" (training features), the features have {vx.shape[1]}"
                )
        vya, vyb = encode.more(la, lb, counts=(len(vxa), len(vxb)), which="validation")
        train = (xa, ya, xb, yb)
        valid = (vxa, vya, vxb, vyb)
    if kind == "va" and cfg.batch_size < 2 * cfg.va_n:
        raise InvalidValueError(f"batch_size {cfg.batch_size} is too small for EIMG sets of n={cfg.va_n} (need 2n)")

    device = torch_device(cfg.device)
    with _threads(cfg.cpu_threads if device.type == "cpu" else None), torch.random.fork_rng(
        devices=[device] if device.type == "cuda" else []
    ):
        torch.manual_seed(cfg.seed)
        heads = {}
        for name, x in ((name_a, train[0]), (name_b, train[2])):
            head = ProjectionHead(x.shape[1], embed_dim=cfg.embed_dim, hidden_dim=cfg.hidden_dim, dropout=cfg.dropout)
            heads[name] = head.fit_standardisation(x)
        space = JointSpace(heads, config=cfg, label_kind=kind, classes=encode.classes).to(device)
        history = _fit(space, train, valid, cfg, device)
    space.history = history
    return space.eval(), history


def _fit(space: JointSpace, train: tuple, valid: tuple, cfg: AlignConfig, device: torch.device) -> History:
    """The epoch loop: AdamW steps, validation loss, best checkpoint, early stopping."""
    from tqdm.auto import tqdm

    loss_fn = _loss_function(space.label_kind, cfg)
    train_sampler = _sampler(space.label_kind, train[1], train[3], cfg, seed=cfg.seed, steps=cfg.steps_per_epoch)
    val_sampler = _sampler(space.label_kind, valid[1], valid[3], cfg, seed=cfg.seed + 1, steps=cfg.val_batches)
    on_device = [[torch.as_tensor(arr, device=device) for arr in part] for part in (train, valid)]
    optimiser = torch.optim.AdamW(space.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    history = History(device=str(device))
    best_state, waited = copy.deepcopy(space.state_dict()), 0
    bar = tqdm(range(1, cfg.max_epochs + 1), desc="joint space", unit="epoch", disable=not cfg.progress, leave=False)
    for epoch in bar:
        space.train()
        train_losses = []
        for idx_a, idx_b in train_sampler:
            loss = _batch_loss(space, on_device[0], idx_a, idx_b, loss_fn)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            train_losses.append(float(loss.detach()))
        val_loss = _validation_loss(space, on_device[1], val_sampler, loss_fn)
        history.epochs.append({"epoch": epoch, "train_loss": float(np.mean(train_losses)), "val_loss": val_loss})
        bar.set_postfix(train=f"{history.epochs[-1]['train_loss']:.3f}", val=f"{val_loss:.3f}")
        if val_loss < history.best_val_loss:
            history.best_epoch, history.best_val_loss, waited = epoch, val_loss, 0
            best_state = copy.deepcopy(space.state_dict())
        else:
            waited += 1
            if cfg.patience is not None and waited >= cfg.patience:
                history.stopped_early = epoch < cfg.max_epochs
                break
    bar.close()
    space.load_state_dict(best_state)
    return history


def _batch_loss(
    space: JointSpace, data: list[torch.Tensor], idx_a: np.ndarray, idx_b: np.ndarray, loss_fn: Any
) -> torch.Tensor:
    xa, ya, xb, yb = data
    ia = torch.as_tensor(idx_a, device=xa.device)
    ib = torch.as_tensor(idx_b, device=xb.device)
    name_a, name_b = space.modalities
    return loss_fn(space.heads[name_a](xa[ia]), ya[ia], space.heads[name_b](xb[ib]), yb[ib])


@torch.no_grad()
def _validation_loss(
    space: JointSpace, data: list[torch.Tensor], sampler: ClassBalancedPairSampler, loss_fn: Any
) -> float:
    space.eval()
    sampler.reset()
    return float(np.mean([float(_batch_loss(space, data, ia, ib, loss_fn)) for ia, ib in sampler]))


def _loss_function(kind: str, cfg: AlignConfig) -> Any:
    loss = LOSSES.get(LOSS_FOR_LABELS[kind])
    if kind == "categorical":
        return lambda za, ya, zb, yb: loss(za, ya, zb, yb, tau=cfg.tau, lambdas=cfg.lambdas)
    return lambda za, va, zb, vb: loss(
        za, va, zb, vb, n=cfg.va_n, tau=cfg.tau, metric=cfg.va_metric, symmetric=cfg.va_symmetric
    )


def _sampler(
    kind: str, ya: np.ndarray, yb: np.ndarray, cfg: AlignConfig, *, seed: int, steps: int | None
) -> ClassBalancedPairSampler:
    cls = ClassBalancedPairSampler if kind == "categorical" else QuadrantBalancedPairSampler
    return cls(ya, yb, batch_size=cfg.batch_size, steps=steps, seed=seed)


# ----------------------------------------------------------------------------- inputs
class _Labels:
    """Validates labels of both modalities and encodes them (class ids, or VA float arrays)."""

    def __init__(
        self, kind: str, labels_a: Any, labels_b: Any, *, names: tuple[str, str], counts: tuple[int, int]
    ) -> None:
        self.kind = kind
        self.classes: list[Any] | None = None
        raw = [
            _checked_labels(kind, lab, n, name)
            for lab, n, name in zip((labels_a, labels_b), counts, names, strict=True)
        ]
        if kind == "categorical":
            shared = set(raw[0].tolist()) & set(raw[1].tolist())
            if len(shared) < 2:
                raise InvalidValueError(
                    f"{names[0]} and {names[1]} share {len(shared)} class label(s);"
                    " contrastive training needs 2 or more"
                )
            self.classes = sorted(set(raw[0].tolist()) | set(raw[1].tolist()), key=repr)
            self._ids = {c: i for i, c in enumerate(self.classes)}
        self.names = names
        self.train = tuple(self._encode(r) for r in raw)

    def _encode(self, labels: np.ndarray) -> np.ndarray:
        if self.kind == "va":
            return labels.astype(np.float32)
        return np.array([self._ids[c] for c in labels.tolist()], dtype=np.int64)

    def more(
        self, labels_a: Any, labels_b: Any, *, counts: tuple[int, int], which: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Encode another set of labels (validation) with the training classes."""
        out = []
        for lab, n, name in zip((labels_a, labels_b), counts, self.names, strict=True):
            checked = _checked_labels(self.kind, lab, n, f"{which} {name}")
            if self.kind == "categorical":
                unknown = set(checked.tolist()) - set(self._ids)
                if unknown:
                    raise InvalidValueError(
                        f"{which} {name} labels not seen in training: {sorted(unknown, key=repr)[:5]}"
                    )
            out.append(self._encode(checked))
        return out[0], out[1]

    def strata(self, encoded: np.ndarray) -> np.ndarray:
        """Groups for stratified splitting: the class, or the VA quadrant."""
        return encoded if self.kind == "categorical" else quadrants(encoded)


def _features(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise InvalidValueError(f"{name} features must be a non-empty 2-D (N, d) array, got shape {arr.shape}")
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise InvalidValueError(f"{name} features: {int(bad.sum())} of {len(arr)} rows hold NaN or infinite values")
    return arr


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, (float, np.floating)) and math.isnan(value))


def _label_kind(labels_a: Any, labels_b: Any, requested: str) -> str:
    if requested != "auto":
        return requested
    kinds = set()
    for labels in (labels_a, labels_b):
        arr = np.asarray(labels, dtype=object)
        kinds.add("va" if arr.ndim == 2 and arr.shape[1] == 2 else "categorical")
    if len(kinds) > 1:
        raise InvalidValueError("one modality has VA labels and the other class labels; give both the same kind")
    return kinds.pop()


def _checked_labels(kind: str, labels: Any, n: int, name: str) -> np.ndarray:
    if kind == "va":
        try:
            arr = np.array(
                [[np.nan if v is None else v for v in row] for row in labels] if isinstance(labels, list) else labels,
                dtype=np.float64,
            )
        except (TypeError, ValueError):
            raise InvalidValueError(f"{name} VA labels must be numbers of shape (N, 2)") from None
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise InvalidValueError(f"{name} VA labels must have shape (N, 2), got {arr.shape}")
        missing = int(np.isnan(arr).any(axis=1).sum())
    else:
        arr = np.asarray(labels.detach().cpu() if isinstance(labels, torch.Tensor) else labels, dtype=object)
        if arr.ndim != 1:
            raise InvalidValueError(f"{name} class labels must be 1-D, got shape {arr.shape}")
        missing = sum(_is_missing(v) for v in arr.tolist())
    if arr.shape[0] != n:
        raise InvalidValueError(f"{name}: {arr.shape[0]} labels for {n} feature rows")
    if missing:
        raise InvalidValueError(f"{name}: {missing} of {n} items have no label (None/NaN); drop or label them")
    if kind == "va":
        return as_va_array(arr, name=f"{name} VA labels")
    return np.array([v.item() if isinstance(v, np.generic) else v for v in arr.tolist()], dtype=object)


@contextlib.contextmanager
def _threads(n: int | None) -> Iterator[None]:
    """Run with ``n`` torch intra-op threads, restoring the previous number afterwards."""
    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(previous)
