"""Plain matrix factorisation ``s(u, i) = p_uᵀ q_i``, trained with BPR (Rendle et al. 2009).

The tuned dot-product baseline that Rendle et al. 2020 ("Neural Collaborative
Filtering vs. Matrix Factorization Revisited") found hard to beat with NCF.
With ``content`` (:mod:`.base`), ``p_u = f_P(x_u) + P_u`` and ``q_i = g_Q(x_i) + Q_i``;
with ``id_dropout = 1`` it is a pure two-tower model over features and VA.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from moodbridge.recommend.models.base import ContentOptions, DotProductModel

__all__ = ["BPRMF"]


class BPRMF(DotProductModel):
    """Dot-product MF: ``s(u, i) = p_uᵀ q_i`` (Rendle et al. 2009, BPR-MF).

    Parameters
    ----------
    n_users, n_items
        Clips and images.
    dim
        Factors per vector.
    init_std
        Standard deviation of the normal initialisation.
    seed
        Seeds the initialisation.
    content
        The content-aware option (:class:`~.base.ContentOptions`), or ``None``.
    """

    name: ClassVar[str] = "mf"
    default_loss: ClassVar[str] = "bpr"

    def __init__(self, n_users: int, n_items: int, *, dim: int = 64, init_std: float = 0.1, seed: int = 0,
                 content: ContentOptions | Mapping[str, Any] | None = None) -> None:
        super().__init__(n_users, n_items, seed=seed, content=content)
        self.dim, self.init_std = int(dim), float(init_std)
        self.make_tables(*self.table_spec(), self.generator())

    def table_spec(self) -> tuple[dict[str, tuple[int, float]], dict[str, tuple[int, float]]]:
        """``(clip tables, image tables)``: name → (width, init std)."""
        return {"P": (self.dim, self.init_std)}, {"Q": (self.dim, self.init_std)}

    def config(self) -> dict[str, Any]:
        return {**super().config(), "dim": self.dim, "init_std": self.init_std}

    def user_parts(self, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.user_rows(users)["P"], None

    def item_parts(self, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.item_rows(items)["Q"], None
