"""Biased matrix factorisation (Koren 2008, Eq. 3; EMID's "BMF").

``s(u, i) = μ + b_u + b_i + p_uᵀ q_i``: a global bias, a bias per clip and per
image, and a dot product of factors.  It extends :class:`~.mf.BPRMF`'s factors
with the biases.  With ``content`` the biases have tower heads too: an image's
``b_i`` (its learned popularity) is then predicted from its features for an
unseen image.
"""
from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from moodbridge.recommend.models.mf import BPRMF

__all__ = ["BiasedMF"]


class BiasedMF(BPRMF):
    """``s(u, i) = μ + b_u + b_i + p_uᵀ q_i`` (Koren 2008, Eq. 3). Parameters as :class:`~.mf.BPRMF`; biases start at 0."""

    name: ClassVar[str] = "bmf"
    default_loss: ClassVar[str] = "bce"

    def table_spec(self) -> tuple[dict[str, tuple[int, float]], dict[str, tuple[int, float]]]:
        user, item = super().table_spec()
        return {**user, "b_user": (1, 0.0)}, {**item, "b_item": (1, 0.0)}

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - as BPRMF
        super().__init__(*args, **kwargs)
        self.mu = nn.Parameter(torch.zeros(()))

    def user_parts(self, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        rows = self.user_rows(users)
        return rows["P"], rows["b_user"].squeeze(-1)

    def item_parts(self, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        rows = self.item_rows(items)
        return rows["Q"], rows["b_item"].squeeze(-1)

    def global_bias(self) -> torch.Tensor:
        return self.mu
