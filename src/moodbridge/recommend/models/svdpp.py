"""SVD++ (Koren 2008, Eq. 15; EMID's best EMI-Adapter).

``s(u, i) = μ + b_u + b_i + q_iᵀ (p_u + |N(u)|^{-1/2} Σ_{j ∈ N(u)} y_j)``

``N(u)`` is the clip's implicit feedback: here its **training** images (the
held-out image is what is predicted, so it is not in ``N(u)``).  The sum is an
``embedding_bag`` with weights ``|N(u)|^{-1/2}``; the sets are kept as CSR
buffers in the model (and in its saved ``state_dict``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from moodbridge.recommend.models.base import init_normal
from moodbridge.recommend.models.bmf import BiasedMF

if TYPE_CHECKING:
    from moodbridge.recommend.data import Interactions

__all__ = ["SVDpp"]


class SVDpp(BiasedMF):
    """Biased MF plus the implicit-feedback term (Koren 2008, Eq. 15).

    Parameters
    ----------
    n_users, n_items, dim, init_std, seed
        As :class:`~.bmf.BiasedMF`.
    implicit
        ``(indptr, indices)``: the images of each clip (CSR over clips), e.g.
        :meth:`Interactions.csr` of the training pairs; none if omitted.
    """

    name: ClassVar[str] = "svdpp"

    def __init__(self, n_users: int, n_items: int, *, dim: int = 64, init_std: float = 0.1, seed: int = 0,
                 implicit: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        super().__init__(n_users, n_items, dim=dim, init_std=init_std, seed=seed)
        self.Y = nn.Embedding(n_items, dim)
        g = self.generator()
        g.manual_seed(self.seed + 1)
        init_normal(self.Y.weight, init_std, g)
        if implicit is None:
            implicit = (np.zeros(n_users + 1, dtype=np.int64), np.zeros(0, dtype=np.int64))
        indptr, indices = (torch.as_tensor(np.asarray(a, dtype=np.int64)) for a in implicit)
        if indptr.shape != (n_users + 1,) or int(indptr[-1]) != len(indices):
            raise ValueError(f"implicit sets: indptr must have n_users + 1 = {n_users + 1} entries ending at "
                             f"len(indices) = {len(indices)}")
        self.register_buffer("implicit_indptr", indptr)
        self.register_buffer("implicit_indices", indices)

    @classmethod
    def build(cls, train: Interactions, *, seed: int = 0, **options: Any) -> SVDpp:
        return cls(train.n_users, train.n_items, seed=seed, implicit=train.csr(), **options)

    @classmethod
    def from_checkpoint(cls, config: dict[str, Any], state: dict[str, torch.Tensor]) -> SVDpp:
        implicit = (state["implicit_indptr"].numpy(), state["implicit_indices"].numpy())
        model = cls(**config, implicit=implicit)
        model.load_state_dict(state)
        return model

    def implicit_vectors(self, users: torch.Tensor) -> torch.Tensor:
        """``|N(u)|^{-1/2} Σ_{j ∈ N(u)} y_j`` for each user (zeros for a clip without training images)."""
        uniq, inverse = torch.unique(users, return_inverse=True)
        starts = self.implicit_indptr[uniq]
        lengths = self.implicit_indptr[uniq + 1] - starts
        offsets = torch.cumsum(lengths, 0) - lengths
        total = int(lengths.sum())
        position = (torch.arange(total, device=users.device)
                    - torch.repeat_interleave(offsets, lengths) + torch.repeat_interleave(starts, lengths))
        weights = torch.repeat_interleave(lengths.clamp(min=1).to(self.Y.weight.dtype).rsqrt(), lengths)
        bags = F.embedding_bag(self.implicit_indices[position], self.Y.weight, offsets, mode="sum",
                               per_sample_weights=weights)
        return bags[inverse]

    def user_vectors(self, users: torch.Tensor) -> torch.Tensor:
        return self.P(users) + self.implicit_vectors(users)
