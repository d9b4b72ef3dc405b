"""SVD++ (Koren 2008, Eq. 15; EMID's best EMI-Adapter).

``s(u, i) = μ + b_u + b_i + q_iᵀ (p_u + |N(u)|^{-1/2} Σ_{j ∈ N(u)} y_j)``

``N(u)`` is the clip's implicit feedback: here its **training** images (the
held-out image is what is predicted, so it is not in ``N(u)``).  The sets are
kept as CSR buffers in the model (and in its saved ``state_dict``); the sum is
a weighted segment sum over the looked-up ``y_j`` rows.  With ``content`` the
``y_j`` come from the image tower too; an unseen clip has no training images,
so its ``N(u)`` is empty and it is described by its own features alone.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch.nn import functional as F

from moodbridge.recommend.models.base import ContentOptions
from moodbridge.recommend.models.bmf import BiasedMF

if TYPE_CHECKING:
    from moodbridge.recommend.data import Interactions

__all__ = ["SVDpp"]


class SVDpp(BiasedMF):
    """Biased MF plus the implicit-feedback term (Koren 2008, Eq. 15).

    Parameters
    ----------
    n_users, n_items, dim, init_std, seed, content
        As :class:`~.bmf.BiasedMF`.
    implicit
        ``(indptr, indices)``: the images of each clip (CSR over clips), e.g.
        :meth:`Interactions.csr` of the training pairs; none if omitted.
    """

    name: ClassVar[str] = "svdpp"

    def __init__(self, n_users: int, n_items: int, *, dim: int = 64, init_std: float = 0.1, seed: int = 0,
                 content: ContentOptions | Mapping[str, Any] | None = None,
                 implicit: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        super().__init__(n_users, n_items, dim=dim, init_std=init_std, seed=seed, content=content)
        if implicit is None:
            implicit = (np.zeros(n_users + 1, dtype=np.int64), np.zeros(0, dtype=np.int64))
        indptr, indices = (torch.as_tensor(np.asarray(a, dtype=np.int64)) for a in implicit)
        if indptr.shape != (n_users + 1,) or int(indptr[-1]) != len(indices):
            raise ValueError(f"implicit sets: indptr must have n_users + 1 = {n_users + 1} entries ending at "
                             f"len(indices) = {len(indices)}")
        self.register_buffer("implicit_indptr", indptr)
        self.register_buffer("implicit_indices", indices)

    def table_spec(self) -> tuple[dict[str, tuple[int, float]], dict[str, tuple[int, float]]]:
        user, item = super().table_spec()
        return user, {**item, "Y": (self.dim, self.init_std)}

    @classmethod
    def data_options(cls, train: Interactions) -> dict[str, Any]:
        return {"implicit": train.csr()}

    @classmethod
    def from_checkpoint(cls, config: dict[str, Any], state: dict[str, torch.Tensor]) -> SVDpp:
        implicit = (state["implicit_indptr"].numpy(), state["implicit_indices"].numpy())
        model = cls(**config, implicit=implicit)
        model.load_state_dict(state)
        return model

    def implicit_vectors(self, users: torch.Tensor) -> torch.Tensor:
        """``|N(u)|^{-1/2} Σ_{j ∈ N(u)} y_j`` per user (zeros for a clip without training images or unseen)."""
        uniq, inverse = torch.unique(users.reshape(-1), return_inverse=True)
        seen = uniq < self.n_users
        row = uniq.clamp(max=self.n_users - 1)
        starts = self.implicit_indptr[row]
        lengths = torch.where(seen, self.implicit_indptr[row + 1] - starts, torch.zeros_like(starts))
        offsets = torch.cumsum(lengths, 0) - lengths
        total = int(lengths.sum())
        position = (torch.arange(total, device=users.device)
                    - torch.repeat_interleave(offsets, lengths) + torch.repeat_interleave(starts, lengths))
        images = self.implicit_indices[position]
        dtype = self.user_tower.mean.dtype if self.content is not None else self.Y.weight.dtype
        weights = torch.repeat_interleave(lengths.clamp(min=1).to(dtype).rsqrt(), lengths)
        if self.content is None:
            bags = F.embedding_bag(images, self.Y.weight, offsets, mode="sum", per_sample_weights=weights)
        else:
            y = self.item_rows(images)["Y"]
            bag = torch.repeat_interleave(torch.arange(len(uniq), device=users.device), lengths)
            bags = torch.zeros(len(uniq), self.dim, device=users.device, dtype=dtype).index_add(
                0, bag, y * weights[:, None])
        return bags[inverse].reshape(*users.shape, self.dim)

    def user_parts(self, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        rows = self.user_rows(users)
        return rows["P"] + self.implicit_vectors(users), rows["b_user"].squeeze(-1)
