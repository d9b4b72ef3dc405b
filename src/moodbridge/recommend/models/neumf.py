"""NeuMF: generalised MF fused with an MLP (He et al. 2017, Sec. 3.4, Eq. 12; EMID's "NCF").

``φ_GMF = p^G_u ⊙ q^G_i``; ``φ_MLP = a_L(W_L … a_1(W_1 [p^M_u; q^M_i] + b_1) … + b_L)``;
``s(u, i) = hᵀ [φ_GMF; φ_MLP] + b`` (a logit; ``σ(s)`` is He et al.'s ŷ).
The two towers have their own embeddings, as in the paper; with ``content``
all four come from the feature towers plus factors (:mod:`.base`).

:meth:`NeuMF.score_all` splits the first MLP layer into its clip and image
halves, ``W_1 [p; q] = W_1ᵘ p + W_1ⁱ q``, so each half is computed once per
clip or image and only the later (narrower) layers run on the clip × image grid,
in blocks of images.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from moodbridge.recommend.models.base import ContentOptions, Recommender

__all__ = ["NeuMF"]

#: Clip × image × width floats per block of :meth:`NeuMF.score_all` (16 M floats = 64 MB).
GRID_BLOCK = 1 << 24


class NeuMF(Recommender):
    """NeuMF (He et al. 2017).

    Parameters
    ----------
    n_users, n_items
        Clips and images.
    gmf_dim
        GMF factors (the paper's "predictive factors").
    mlp_layers
        Widths of the MLP: ``mlp_layers[0]`` is the concatenated embedding (half per
        side), then each hidden layer; He et al.'s tower halves the width per layer.
    init_std
        Std of the embeddings' normal initialisation (He et al.: 0.01); layers are Xavier-uniform.
    seed
        Seeds the initialisation.
    content
        The content-aware option (:class:`~.base.ContentOptions`), or ``None``.
    """

    name: ClassVar[str] = "ncf"
    default_loss: ClassVar[str] = "bce"

    def __init__(self, n_users: int, n_items: int, *, gmf_dim: int = 16, mlp_layers: Sequence[int] = (32, 16, 8),
                 init_std: float = 0.01, seed: int = 0, content: ContentOptions | Mapping[str, Any] | None = None) -> None:
        super().__init__(n_users, n_items, seed=seed, content=content)
        layers = [int(w) for w in mlp_layers]
        if len(layers) < 2 or layers[0] % 2:
            raise ValueError(f"mlp_layers needs an even input width and at least one hidden layer, got {layers}")
        self.gmf_dim, self.mlp_layers, self.init_std = int(gmf_dim), layers, float(init_std)
        half = layers[0] // 2
        g = self.generator()
        self.make_tables({"P_gmf": (gmf_dim, init_std), "P_mlp": (half, init_std)},
                         {"Q_gmf": (gmf_dim, init_std), "Q_mlp": (half, init_std)}, g)
        self.mlp = nn.ModuleList(nn.Linear(a, b) for a, b in zip(layers[:-1], layers[1:]))
        self.head = nn.Linear(gmf_dim + layers[-1], 1)
        for linear in [*self.mlp, self.head]:
            nn.init.xavier_uniform_(linear.weight, generator=g)
            nn.init.zeros_(linear.bias)

    def config(self) -> dict[str, Any]:
        return {**super().config(), "gmf_dim": self.gmf_dim, "mlp_layers": list(self.mlp_layers),
                "init_std": self.init_std}

    def _first_layer_halves(self) -> tuple[torch.Tensor, torch.Tensor]:
        half = self.mlp_layers[0] // 2
        return self.mlp[0].weight[:, :half], self.mlp[0].weight[:, half:]

    def _tower(self, pre: torch.Tensor) -> torch.Tensor:
        """The MLP from the first layer's pre-activation on (in place when no gradient is needed)."""
        relu = torch.relu if torch.is_grad_enabled() else torch.relu_
        x = relu(pre)
        for layer in self.mlp[1:]:
            x = relu(layer(x))
        return x

    def _head_split(self) -> tuple[torch.Tensor, torch.Tensor]:
        w = self.head.weight[0]
        return w[: self.gmf_dim], w[self.gmf_dim:]

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        u, i = self.user_rows(users), self.item_rows(items)
        w_user, w_item = self._first_layer_halves()
        pre = u["P_mlp"] @ w_user.T + i["Q_mlp"] @ w_item.T + self.mlp[0].bias
        h_gmf, h_mlp = self._head_split()
        gmf = (u["P_gmf"] * i["Q_gmf"]) @ h_gmf
        return gmf + self._tower(pre) @ h_mlp + self.head.bias[0]

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        w_user, w_item = self._first_layer_halves()
        h_gmf, h_mlp = self._head_split()
        u, i = self.user_rows(users), self.item_rows(self.all_items())
        user_pre = u["P_mlp"] @ w_user.T + self.mlp[0].bias  # (B, h1)
        item_pre = i["Q_mlp"] @ w_item.T  # (N, h1)
        gmf = (u["P_gmf"] * h_gmf) @ i["Q_gmf"].T + self.head.bias[0]  # (B, N)
        block = max(1, GRID_BLOCK // max(1, len(users) * self.mlp_layers[1]))
        mlp = [self._tower(user_pre[:, None, :] + item_pre[None, start:start + block, :]) @ h_mlp
               for start in range(0, self.n_items, block)]
        return gmf + torch.cat(mlp, dim=1)
