"""Projection heads that map frozen encoder features into a joint embedding space.

Emo-CLIM (Sec. 3.2, Eq. 1): each modality has its own small MLP ``h`` on top of
a frozen encoder ``f``, ``z = h(f(x))``: linear → BatchNorm → ReLU → dropout →
linear, L2-normalised, 128-d (Sec. 4.4: dropout 0.5).  The hidden width is
not given in the paper; :data:`DEFAULT_HIDDEN_DIM` is ours.

The head also standardises its input with per-feature mean and standard
deviation fitted on the training features and stored as buffers, so a saved
head embeds raw encoder outputs.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from moodbridge.errors import InvalidValueError

__all__ = ["DEFAULT_DROPOUT", "DEFAULT_EMBED_DIM", "DEFAULT_HIDDEN_DIM", "ProjectionHead"]

#: joint-space dimension (Emo-CLIM Sec. 3.2)
DEFAULT_EMBED_DIM = 128
#: hidden width of the MLP (not given by the paper)
DEFAULT_HIDDEN_DIM = 256
#: dropout probability (Emo-CLIM Sec. 4.4)
DEFAULT_DROPOUT = 0.5
#: standard deviations below this count as constant features (divided by 1)
MIN_STD = 1e-8


class ProjectionHead(nn.Module):
    """Standardise → Linear → BatchNorm1d → ReLU → Dropout → Linear → L2-normalise.

    Parameters
    ----------
    in_dim
        Dimension of the encoder features.
    embed_dim
        Dimension of the joint space (default 128, Emo-CLIM Sec. 3.2).
    hidden_dim
        Width of the hidden layer.
    dropout
        Dropout probability (default 0.5, Emo-CLIM Sec. 4.4).

    Raises
    ------
    InvalidValueError
        If a dimension is not a positive integer or ``dropout`` is not in ``[0, 1)``.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        in_dim: int,
        *,
        embed_dim: int = DEFAULT_EMBED_DIM,
        hidden_dim: int = DEFAULT_HIDDEN_DIM,
        dropout: float = DEFAULT_DROPOUT,
    ) -> None:
        super().__init__()
        for name, value in (("in_dim", in_dim), ("embed_dim", embed_dim), ("hidden_dim", hidden_dim)):
            if int(value) != value or value < 1:
                raise InvalidValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise InvalidValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.in_dim, self.embed_dim, self.hidden_dim = int(in_dim), int(embed_dim), int(hidden_dim)
        self.dropout = float(dropout)
        self.register_buffer("mean", torch.zeros(self.in_dim))
        self.register_buffer("std", torch.ones(self.in_dim))
        self.mlp = nn.Sequential(
            nn.Linear(self.in_dim, self.hidden_dim),
            nn.BatchNorm1d(self.hidden_dim),
            nn.ReLU(),
            nn.Dropout(self.dropout),
            nn.Linear(self.hidden_dim, self.embed_dim),
        )

    def fit_standardisation(self, features: np.ndarray | torch.Tensor) -> ProjectionHead:
        """Store the per-feature mean and standard deviation of training ``features`` ``(N, in_dim)``.

        Constant features get a standard deviation of 1 (they become 0).
        """
        x = self.check_features(features)
        mean = x.mean(dim=0)
        std = x.std(dim=0, unbiased=False) if x.shape[0] > 1 else torch.ones_like(mean)
        std = torch.where(std > MIN_STD, std, torch.ones_like(std))
        self.mean.copy_(mean.to(self.mean))
        self.std.copy_(std.to(self.std))
        return self

    def check_features(self, features: np.ndarray | torch.Tensor) -> torch.Tensor:
        """``features`` as a float32 ``(N, in_dim)`` tensor on the head's device.

        Raises
        ------
        InvalidValueError
            If the array is not 2-D, has another feature dimension, or holds NaN/inf.
        """
        x = torch.as_tensor(np.asarray(features) if not isinstance(features, torch.Tensor) else features)
        if x.ndim != 2:
            raise InvalidValueError(f"features must be a 2-D (N, {self.in_dim}) array, got shape {tuple(x.shape)}")
        if x.shape[1] != self.in_dim:
            raise InvalidValueError(
                f"feature dimension mismatch: the head expects {self.in_dim}, the features have {x.shape[1]}"
            )
        x = x.to(device=self.mean.device, dtype=torch.float32)
        if not torch.isfinite(x).all():
            raise InvalidValueError("features hold NaN or infinite values")
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Unit-norm ``(N, embed_dim)`` embeddings of raw ``(N, in_dim)`` features."""
        return F.normalize(self.mlp((x - self.mean) / self.std), dim=-1)

    def hparams(self) -> dict[str, float | int]:
        """The constructor arguments (JSON-able), to rebuild the head before loading its state."""
        return {
            "in_dim": self.in_dim,
            "embed_dim": self.embed_dim,
            "hidden_dim": self.hidden_dim,
            "dropout": self.dropout,
        }
