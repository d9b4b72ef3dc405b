"""Contrastive losses for learning an emotion-aligned joint space (vectorised torch).

Two families:

* **Categorical labels** — Emo-CLIM's supervised contrastive (SupCon) losses:
  cross-modal (Eq. 2-3), intra-modal (Eq. 4-5) and their weighted total (Eq. 6).
* **Continuous valence-arousal labels** — EIMG's contrastive learning on
  continuous labels: positive / negative sets are the top-n / bottom-n items by
  VA similarity (Eq. 4-5), an inter-modal loss (Eq. 6-7), intra-modal losses
  (Eq. 8-11) and their sum (Eq. 12).

Interpretations of the papers (also in ``docs/align-notes.md``):

* Eq. 2 / Eq. 4 divide by ``|P(i)|``, undefined when an anchor has no
  positive; such anchors are **left out of the mean** (the mean runs over the
  anchors that have at least one positive), as in the reference SupCon code
  and ``pytorch_metric_learning``.  A batch where no anchor has a positive
  gives a loss of exactly 0 whose gradient is zero (never NaN).
* Emo-CLIM uses the dot product ``z_i · z_p``; the embeddings of
  :class:`~moodbridge.align.heads.ProjectionHead` are unit-norm, so it is the
  cosine.  The SupCon losses do not re-normalise; the EIMG losses do (Eq. 6
  writes ``cos``).
* EIMG selects **one** random anchor image ``x*`` per step.  Here every item
  of the anchor modality in the batch is an anchor in turn, the top-n /
  bottom-n sets are taken **within the batch**, and the loss is the mean over
  anchors — the expectation the paper's single random anchor estimates.
* EIMG Eq. 5: ``T_n`` over all images includes the anchor itself (its own
  VA similarity is maximal), so ``{x}+`` normally contains ``x*``.
* Ties in VA similarity are broken by batch position (stable sort), and the
  bottom-n set is taken from the end of the same ordering, so ``{·}+`` and
  ``{·}-`` never overlap; a batch needs at least ``2n`` items per modality.
* EIMG Eq. 7 sums over the anchors ``x ∈ {x}+`` (no 1/n) and averages over
  the positives ``y ∈ {y}+``; the denominator runs over ``{y}+ ∪ {y}-``.  Kept
  literally.
* EIMG Eq. 9 (images) and Eq. 11 (music) disagree: Eq. 9 sums over ``{x}+``
  with a denominator over ``{x}+`` although it defines ``{x}±`` without using
  it; Eq. 11 sums over and normalises by ``{y}±``.  The text says ``P(x1)`` may
  lie in ``{x}+`` *or* ``{x}-``, which only makes sense with the outer sum over
  ``{x}±``, so **Eq. 11's form is used for both modalities**.
* Eq. 9 / 11 let the denominator include ``a = x1`` itself, a constant
  ``exp(1/τ)`` that dominates at small τ and bounds the loss away from 0.  As
  in SupCon (which EIMG cites as its inspiration) **self is excluded** from
  the denominator.
* EIMG's music intra-modal sets ``{y}±`` are defined around the *image*
  anchor, so :func:`intra_modal_va_contrastive` takes ``anchor_va`` (default:
  each item's own VA).
* EIMG gives no value of τ; the default is SupCon's (and Emo-CLIM's) 0.07.
  EIMG's VA similarity is inverse Euclidean (Eq. 1); ``metric`` accepts any
  :func:`moodbridge.emotion.pairwise_similarity` name.
* EIMG's total (Eq. 12) is anchored on images only.  ``symmetric=True`` in
  :func:`eimg_loss` averages it with the same loss anchored on the other
  modality (Emo-CLIM's argument for a modality-symmetric loss, Sec. 3.3.3).

References
----------
S. Stewart, K. Avramidis, T. Feng, S. Narayanan, "Emotion-Aligned Contrastive
Learning Between Images and Music" (Emo-CLIM), ICASSP 2024, Sec. 3.3.
Y. Wang, M. Chen, X. Li, "Continuous Emotion-Based Image-to-Music Generation"
(EIMG), IEEE Trans. Multimedia 2023, Sec. IV-B.
P. Khosla et al., "Supervised contrastive learning", NeurIPS 2020.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from moodbridge.emotion import as_va_array, pairwise_similarity
from moodbridge.errors import InvalidValueError
from moodbridge.registry import Registry

__all__ = [
    "DEFAULT_LAMBDAS",
    "DEFAULT_N",
    "DEFAULT_TAU",
    "DEFAULT_VA_METRIC",
    "cross_modal_supcon",
    "eimg_loss",
    "eimg_terms",
    "emo_clim_loss",
    "emo_clim_terms",
    "inter_modal_va_contrastive",
    "intra_modal_supcon",
    "intra_modal_va_contrastive",
    "va_rank_sets",
]

#: SupCon temperature (Emo-CLIM Sec. 4.4); also used for EIMG, which gives none
DEFAULT_TAU = 0.07
#: λ1..λ4 of Emo-CLIM Eq. 6 (Sec. 4.4)
DEFAULT_LAMBDAS: tuple[float, float, float, float] = (0.25, 0.25, 0.25, 0.25)
#: size of EIMG's positive and negative sets (EIMG Sec. V-A, Table IV)
DEFAULT_N = 8
#: EIMG's VA similarity (inverse Euclidean distance, EIMG Eq. 1)
DEFAULT_VA_METRIC = "inverse-euclidean"


# ----------------------------------------------------------------------------- validation
def _embeddings(z: Any, name: str) -> torch.Tensor:
    if not isinstance(z, torch.Tensor):
        z = torch.as_tensor(np.asarray(z, dtype=np.float32))
    if z.ndim != 2 or z.shape[0] == 0:
        raise InvalidValueError(f"{name} must be a non-empty 2-D (N, d) tensor, got shape {tuple(z.shape)}")
    return z


def _labels(y: Any, z: torch.Tensor, name: str) -> torch.Tensor:
    y = torch.as_tensor(y.detach() if isinstance(y, torch.Tensor) else np.asarray(y), device=z.device)
    if y.ndim != 1 or y.shape[0] != z.shape[0]:
        raise InvalidValueError(
            f"{name} must be 1-D with one label per embedding ({z.shape[0]}), got shape {tuple(y.shape)}"
        )
    if y.is_floating_point() and not torch.isfinite(y).all():
        raise InvalidValueError(f"{name}: {int((~torch.isfinite(y)).sum())} label(s) are NaN or infinite")
    return y


def _same_dim(z1: torch.Tensor, z2: torch.Tensor, names: str) -> None:
    if z1.shape[1] != z2.shape[1]:
        raise InvalidValueError(f"{names}: embedding dimensions differ ({z1.shape[1]} vs {z2.shape[1]})")


def _tau(tau: float) -> float:
    tau = float(tau)
    if not (np.isfinite(tau) and tau > 0):
        raise InvalidValueError(f"tau must be a positive number, got {tau!r}")
    return tau


def _va(va: Any, z: torch.Tensor, name: str) -> np.ndarray:
    if isinstance(va, torch.Tensor):
        va = va.detach().cpu().numpy()
    arr = as_va_array(va, name=name)
    if arr.shape[0] != z.shape[0]:
        raise InvalidValueError(f"{name}: {arr.shape[0]} VA labels for {z.shape[0]} embeddings")
    return arr


def _zero(*tensors: torch.Tensor) -> torch.Tensor:
    """A scalar 0 attached to the graph of ``tensors``: its gradient is zero, not None or NaN."""
    return sum((t.sum() for t in tensors), start=torch.zeros((), device=tensors[0].device)) * 0.0


def _mean_over_anchors(log_prob: torch.Tensor, positives: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
    """``-mean_i (1/|P(i)|) Σ_{p∈P(i)} log_prob[i, p]`` over the anchors with ``|P(i)| > 0``."""
    n_pos = positives.sum(dim=1)
    valid = n_pos > 0
    if not bool(valid.any()):
        return _zero(*inputs)
    summed = torch.where(positives, log_prob, torch.zeros_like(log_prob)).sum(dim=1)
    return -(summed[valid] / n_pos[valid]).mean()


# ----------------------------------------------------------------------------- Emo-CLIM
def cross_modal_supcon(
    z1: torch.Tensor, y1: Any, z2: torch.Tensor, y2: Any, *, tau: float = DEFAULT_TAU
) -> torch.Tensor:
    r"""Cross-modal SupCon loss :math:`L_{M_1 \to M_2}` (Emo-CLIM Eq. 2, positives Eq. 3).

    .. math::

        L = -\frac{1}{N} \sum_i \frac{1}{|P(i)|} \sum_{p \in P(i)}
            \log \frac{\exp(z^{(1)}_i \cdot z^{(2)}_p / \tau)}{\sum_{k \in I} \exp(z^{(1)}_i \cdot z^{(2)}_k / \tau)},
        \quad P(i) = \{p : y^{(1)}_i = y^{(2)}_p\}

    Anchors of modality 1 with no same-label item of modality 2 in the batch
    are excluded from the mean (``N`` counts only anchors with a positive); if
    there is none the loss is 0 with zero gradient.

    Parameters
    ----------
    z1, z2
        ``(N, d)`` embeddings of modality 1 (anchors) and 2 (candidates), unit-norm.
    y1, y2
        ``(N,)`` integer class labels.
    tau
        Temperature (default 0.07, Emo-CLIM Sec. 4.4).

    Raises
    ------
    InvalidValueError
        If shapes disagree: label counts, embedding dimensions, or batch sizes
        (Eq. 2 pairs N items of each modality).
    """
    z1, z2 = _embeddings(z1, "z1"), _embeddings(z2, "z2")
    y1, y2 = _labels(y1, z1, "y1"), _labels(y2, z2, "y2")
    _same_dim(z1, z2, "cross_modal_supcon")
    if z1.shape[0] != z2.shape[0]:
        raise InvalidValueError(f"cross_modal_supcon: batch sizes differ ({z1.shape[0]} vs {z2.shape[0]})")
    logits = z1 @ z2.T / _tau(tau)
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return _mean_over_anchors(log_prob, y1[:, None] == y2[None, :], z1, z2)


def intra_modal_supcon(z: torch.Tensor, y: Any, *, tau: float = DEFAULT_TAU) -> torch.Tensor:
    r"""Intra-modal SupCon loss :math:`L_{M \to M}` (Emo-CLIM Eq. 4, positives Eq. 5).

    .. math::

        L = -\frac{1}{N} \sum_i \frac{1}{|P(i)|} \sum_{p \in P(i)}
            \log \frac{\exp(z_i \cdot z_p / \tau)}{\sum_{k \ne i} \exp(z_i \cdot z_k / \tau)},
        \quad P(i) = \{p \ne i : y_p = y_i\}

    The anchor itself is in neither the numerator nor the denominator.
    Anchors with no other item of their class (a single-member class) are
    excluded from the mean; with none left the loss is 0 with zero gradient.

    This is Khosla et al.'s SupCon "out" loss with one view per item, the same
    as ``pytorch_metric_learning.losses.SupConLoss`` on unit-norm embeddings,
    except that the latter's reducer also drops anchors whose loss happens to
    be exactly 0.

    Parameters
    ----------
    z
        ``(N, d)`` unit-norm embeddings.
    y
        ``(N,)`` integer class labels.
    tau
        Temperature.

    Raises
    ------
    InvalidValueError
        If ``y`` does not have one label per embedding.
    """
    z = _embeddings(z, "z")
    y = _labels(y, z, "y")
    logits = z @ z.T / _tau(tau)
    self_mask = torch.eye(z.shape[0], dtype=torch.bool, device=z.device)
    if z.shape[0] < 2:
        return _zero(z)
    denominator = torch.logsumexp(logits.masked_fill(self_mask, float("-inf")), dim=1, keepdim=True)
    positives = (y[:, None] == y[None, :]) & ~self_mask
    return _mean_over_anchors(logits - denominator, positives, z)


def emo_clim_terms(
    z1: torch.Tensor, y1: Any, z2: torch.Tensor, y2: Any, *, tau: float = DEFAULT_TAU
) -> dict[str, torch.Tensor]:
    """The four terms of Emo-CLIM Eq. 6: ``cross_12``, ``cross_21``, ``intra_1``, ``intra_2``.

    ``cross_12`` is :math:`L_{M_1 \\to M_2}` (Eq. 2), ``intra_1`` is :math:`L_{M_1 \\to M_1}` (Eq. 4).
    """
    return {
        "cross_12": cross_modal_supcon(z1, y1, z2, y2, tau=tau),
        "cross_21": cross_modal_supcon(z2, y2, z1, y1, tau=tau),
        "intra_1": intra_modal_supcon(z1, y1, tau=tau),
        "intra_2": intra_modal_supcon(z2, y2, tau=tau),
    }


def emo_clim_loss(
    z1: torch.Tensor,
    y1: Any,
    z2: torch.Tensor,
    y2: Any,
    *,
    tau: float = DEFAULT_TAU,
    lambdas: Sequence[float] = DEFAULT_LAMBDAS,
) -> torch.Tensor:
    r"""Emo-CLIM's total loss (Eq. 6).

    .. math::

        L = \lambda_1 L_{1 \to 2} + \lambda_2 L_{2 \to 1} + \lambda_3 L_{1 \to 1} + \lambda_4 L_{2 \to 2}

    Parameters
    ----------
    z1, y1, z2, y2, tau
        As :func:`cross_modal_supcon`.
    lambdas
        ``(λ1, λ2, λ3, λ4)``, default 0.25 each (Emo-CLIM Sec. 4.4).

    Raises
    ------
    InvalidValueError
        If ``lambdas`` is not four finite non-negative numbers, or as the terms.
    """
    weights = np.asarray(lambdas, dtype=np.float64)
    if weights.shape != (4,) or not np.all(np.isfinite(weights)) or (weights < 0).any():
        raise InvalidValueError(f"lambdas must be four non-negative numbers, got {lambdas!r}")
    terms = emo_clim_terms(z1, y1, z2, y2, tau=tau)
    return sum((float(w) * t for w, t in zip(weights, terms.values(), strict=True)), start=_zero(*terms.values()))


# ----------------------------------------------------------------------------- EIMG
def va_rank_sets(
    anchor_va: Any, va: Any, *, n: int = DEFAULT_N, metric: str = DEFAULT_VA_METRIC
) -> tuple[np.ndarray, np.ndarray]:
    """EIMG's positive and negative sets (Eq. 4-5): top-n and bottom-n by VA similarity.

    Parameters
    ----------
    anchor_va
        ``(K, 2)`` VA of the anchors.
    va
        ``(N, 2)`` VA of the candidates (``N >= 2n``).
    n
        Set size (EIMG uses 8).
    metric
        A :func:`moodbridge.emotion.pairwise_similarity` metric.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``(K, n)`` indices of the most similar candidates (most similar first)
        and ``(K, n)`` indices of the least similar (least similar first).
        Ties are broken by position (stable order); the two sets never overlap.

    Raises
    ------
    InvalidValueError
        If ``n < 1`` or there are fewer than ``2n`` candidates.
    """
    anchors = as_va_array(anchor_va, name="anchor_va")
    candidates = as_va_array(va, name="va")
    if int(n) != n or n < 1:
        raise InvalidValueError(f"n must be a positive integer, got {n!r}")
    if candidates.shape[0] < 2 * n:
        raise InvalidValueError(
            f"top-{n} and bottom-{n} sets need at least {2 * n} candidates, got {candidates.shape[0]}"
        )
    sim = np.asarray(pairwise_similarity(anchors, candidates, metric=metric)).reshape(len(anchors), len(candidates))
    order = np.argsort(-sim, axis=1, kind="stable")
    return order[:, :n], order[:, ::-1][:, :n].copy()


def _cosine_logits(za: torch.Tensor, zb: torch.Tensor, tau: float) -> torch.Tensor:
    """``S(x, y) = cos(z_x, z_y) / τ`` for all pairs (EIMG Eq. 6, 8, 10)."""
    return F.normalize(za, dim=-1) @ F.normalize(zb, dim=-1).T / _tau(tau)


def _index(device: torch.device, *arrays: np.ndarray) -> list[torch.Tensor]:
    return [torch.as_tensor(a, dtype=torch.long, device=device) for a in arrays]


def inter_modal_va_contrastive(
    z_a: torch.Tensor,
    va_a: Any,
    z_b: torch.Tensor,
    va_b: Any,
    *,
    n: int = DEFAULT_N,
    tau: float = DEFAULT_TAU,
    metric: str = DEFAULT_VA_METRIC,
) -> torch.Tensor:
    r"""EIMG's inter-modal contrastive loss on continuous labels (Eq. 4-7), anchored on modality a.

    For each anchor :math:`x^*` of modality a: :math:`\{x\}_+` = top-n items of
    a, :math:`\{y\}_\pm` = top-n / bottom-n items of b, by VA similarity to
    :math:`x^*` (Eq. 4-5), and

    .. math::

        L(x^*) = \sum_{x \in \{x\}_+} -\frac{1}{n} \sum_{y \in \{y\}_+}
            \log \frac{\exp S(x, y)}{\sum_{a \in \{y\}_+ \cup \{y\}_-} \exp S(x, a)},
        \qquad S(x, y) = \cos(z_x, z_y) / \tau

    The loss is the mean of :math:`L(x^*)` over every item of a as anchor
    (see the module notes).

    Parameters
    ----------
    z_a, z_b
        ``(N_a, d)`` and ``(N_b, d)`` embeddings (normalised here).
    va_a, va_b
        ``(N_a, 2)`` and ``(N_b, 2)`` VA labels in ``[-1, 1]``.
    n
        Set size (EIMG uses 8); both batches need at least ``2n`` items.
    tau
        Temperature (not given by EIMG; default 0.07).
    metric
        VA similarity ranking the sets (default inverse Euclidean, EIMG Eq. 1).

    Raises
    ------
    InvalidValueError
        On mismatched shapes or dimensions, or batches smaller than ``2n``.
    """
    z_a, z_b = _embeddings(z_a, "z_a"), _embeddings(z_b, "z_b")
    _same_dim(z_a, z_b, "inter_modal_va_contrastive")
    va_a, va_b = _va(va_a, z_a, "va_a"), _va(va_b, z_b, "va_b")
    if z_a.shape[0] < 2 * n:
        raise InvalidValueError(
            f"inter_modal_va_contrastive: need at least {2 * n} items of modality a, got {z_a.shape[0]}"
        )
    x_pos, _ = va_rank_sets(va_a, va_a, n=n, metric=metric)
    y_pos, y_neg = va_rank_sets(va_a, va_b, n=n, metric=metric)
    x_pos, columns = _index(z_a.device, x_pos, np.concatenate([y_pos, y_neg], axis=1))
    logits = _cosine_logits(z_a, z_b, tau)[x_pos[:, :, None], columns[:, None, :]]  # (K, n, 2n)
    log_prob = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
    return -log_prob[..., :n].mean(dim=-1).sum(dim=-1).mean()


def intra_modal_va_contrastive(
    z: torch.Tensor,
    va: Any,
    *,
    anchor_va: Any = None,
    n: int = DEFAULT_N,
    tau: float = DEFAULT_TAU,
    metric: str = DEFAULT_VA_METRIC,
) -> torch.Tensor:
    r"""EIMG's intra-modal contrastive loss on continuous labels (Eq. 8-11).

    For each anchor VA :math:`v^*`: :math:`\{x\}_+` / :math:`\{x\}_-` = top-n /
    bottom-n items by VA similarity to :math:`v^*`,
    :math:`\{x\}_\pm = \{x\}_+ \cup \{x\}_-`, :math:`P(x_1)` = the other members
    of :math:`x_1`'s own set, and

    .. math::

        L(v^*) = \sum_{x_1 \in \{x\}_\pm} -\frac{1}{n - 1} \sum_{x_2 \in P(x_1)}
            \log \frac{\exp S(x_1, x_2)}{\sum_{a \in \{x\}_\pm,\, a \ne x_1} \exp S(x_1, a)}

    (Eq. 11's form, used for both modalities; self excluded from the
    denominator — see the module notes).  The loss is the mean over anchors.
    With ``n = 1`` no item has a positive and the loss is 0 with zero gradient.

    Parameters
    ----------
    z
        ``(N, d)`` embeddings (normalised here), ``N >= 2n``.
    va
        ``(N, 2)`` VA labels.
    anchor_va
        ``(K, 2)`` VA of the anchors the sets are built around; default ``va``
        (each item anchors once).  EIMG builds the music sets around the image
        anchor: pass the other modality's VA.
    n, tau, metric
        As :func:`inter_modal_va_contrastive`.

    Raises
    ------
    InvalidValueError
        On mismatched shapes or a batch smaller than ``2n``.
    """
    z = _embeddings(z, "z")
    va = _va(va, z, "va")
    anchors = va if anchor_va is None else as_va_array(
        anchor_va.detach().cpu().numpy() if isinstance(anchor_va, torch.Tensor) else anchor_va, name="anchor_va"
    )
    top, bottom = va_rank_sets(anchors, va, n=n, metric=metric)
    if n < 2:
        return _zero(z)
    (members,) = _index(z.device, np.concatenate([top, bottom], axis=1))  # (K, 2n)
    logits = _cosine_logits(z, z, tau)[members[:, :, None], members[:, None, :]]  # (K, 2n, 2n)
    self_mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)
    in_top = torch.arange(2 * n, device=z.device) < n
    positives = (in_top[:, None] == in_top[None, :]) & ~self_mask
    log_prob = logits - torch.logsumexp(logits.masked_fill(self_mask, float("-inf")), dim=-1, keepdim=True)
    per_item = -torch.where(positives, log_prob, torch.zeros_like(log_prob)).sum(dim=-1) / (n - 1)
    return per_item.sum(dim=-1).mean()


def eimg_terms(
    z_a: torch.Tensor,
    va_a: Any,
    z_b: torch.Tensor,
    va_b: Any,
    *,
    n: int = DEFAULT_N,
    tau: float = DEFAULT_TAU,
    metric: str = DEFAULT_VA_METRIC,
) -> dict[str, torch.Tensor]:
    """The three terms of EIMG Eq. 12 anchored on modality a: ``inter``, ``intra_a``, ``intra_b``.

    ``inter`` is Eq. 7, ``intra_a`` Eq. 9 (sets around a's anchors in a),
    ``intra_b`` Eq. 11 (sets of b around the same anchors).
    """
    kwargs: dict[str, Any] = {"n": n, "tau": tau, "metric": metric}
    z_a, z_b = _embeddings(z_a, "z_a"), _embeddings(z_b, "z_b")
    va_a_arr = _va(va_a, z_a, "va_a")
    return {
        "inter": inter_modal_va_contrastive(z_a, va_a_arr, z_b, va_b, **kwargs),
        "intra_a": intra_modal_va_contrastive(z_a, va_a_arr, **kwargs),
        "intra_b": intra_modal_va_contrastive(z_b, va_b, anchor_va=va_a_arr, **kwargs),
    }


def eimg_loss(
    z_a: torch.Tensor,
    va_a: Any,
    z_b: torch.Tensor,
    va_b: Any,
    *,
    n: int = DEFAULT_N,
    tau: float = DEFAULT_TAU,
    metric: str = DEFAULT_VA_METRIC,
    symmetric: bool = False,
) -> torch.Tensor:
    r"""EIMG's cross-modal contrastive loss :math:`L_c = L_{inter} + L_{intra_x} + L_{intra_y}` (Eq. 12).

    Parameters
    ----------
    z_a, va_a, z_b, va_b, n, tau, metric
        As :func:`inter_modal_va_contrastive`; modality a plays EIMG's images
        (the anchors).
    symmetric
        ``False`` (the paper): anchored on a only.  ``True``: the mean of the
        loss anchored on a and the loss anchored on b, so neither modality is
        favoured (our extension, after Emo-CLIM Sec. 3.3.3).
    """
    total = sum(eimg_terms(z_a, va_a, z_b, va_b, n=n, tau=tau, metric=metric).values())
    if symmetric:
        total = 0.5 * (total + sum(eimg_terms(z_b, va_b, z_a, va_a, n=n, tau=tau, metric=metric).values()))
    return total  # type: ignore[return-value]


#: The total losses by name: Emo-CLIM's SupCon total for class labels, EIMG's for valence-arousal labels.
LOSSES: Registry[Callable[..., torch.Tensor]] = Registry("loss")
LOSSES.register("emo-clim", emo_clim_loss)
LOSSES.register("eimg", eimg_loss)
#: Which total each label kind trains with.
LOSS_FOR_LABELS: dict[str, str] = {"categorical": "emo-clim", "va": "eimg"}
