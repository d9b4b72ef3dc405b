"""The scoring interface every recommender shares, and the dot-product family.

A model maps (clip, image) index pairs to a real score (a logit for the
pointwise losses); higher is better.  Every model exposes

* ``score(users, items)`` — scores of aligned index tensors (differentiable;
  the training loop calls it), any broadcastable shapes;
* ``score_all(users)`` — ``(len(users), n_items)``, every image for each clip,
  computed without building the pair grid where the model allows it;
* ``config()`` — the keyword arguments that rebuild it (saved in the manifest);
* ``build(train, ...)`` — construct it for a training set (a model that needs
  the data itself, like SVD++'s implicit sets, takes it from there).

:class:`DotProductModel` is the family ``s(u, i) = b(u) + b(i) + ⟨U(u), V(i)⟩``:
plain MF, BMF, SVD++ and the content towers only say how ``U``, ``V`` and the
biases are made, and share ``score`` / ``score_all``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

if TYPE_CHECKING:
    from moodbridge.recommend.data import Interactions

__all__ = ["DotProductModel", "Recommender", "init_normal"]


def init_normal(tensor: torch.Tensor, std: float, generator: torch.Generator) -> None:
    """In-place N(0, std²) from ``generator`` (so building a model never touches torch's global RNG)."""
    with torch.no_grad():
        tensor.normal_(0.0, std, generator=generator)


class Recommender(nn.Module):
    """Base of all recommenders: ``n_users`` clips × ``n_items`` images.

    Attributes
    ----------
    name
        Registry name.
    default_loss
        The loss :func:`moodbridge.recommend.train.train` uses unless told otherwise.
    uses_content
        True when the model scores from side information (features + VA), so it can
        score clips and images it was not trained on.
    """

    name: ClassVar[str] = ""
    default_loss: ClassVar[str] = "bce"
    uses_content: ClassVar[bool] = False

    def __init__(self, n_users: int, n_items: int, *, seed: int = 0) -> None:
        super().__init__()
        self.n_users, self.n_items, self.seed = int(n_users), int(n_items), int(seed)

    def generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed)

    @classmethod
    def build(cls, train: Interactions, *, seed: int = 0, **options: Any) -> Recommender:
        """The model for ``train``'s clips and images."""
        return cls(train.n_users, train.n_items, seed=seed, **options)

    @classmethod
    def from_checkpoint(cls, config: dict[str, Any], state: dict[str, torch.Tensor]) -> Recommender:
        """Rebuild from :meth:`config` and a ``state_dict``."""
        model = cls(**config)
        model.load_state_dict(state)
        return model

    def config(self) -> dict[str, Any]:
        return {"n_users": self.n_users, "n_items": self.n_items, "seed": self.seed}

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return self.score(users, items)

    def device(self) -> torch.device:
        """Where the model's tensors live (CPU for a model without any)."""
        for tensor in [*self.parameters(), *self.buffers()]:
            return tensor.device
        return torch.device("cpu")


class DotProductModel(Recommender):
    """``s(u, i) = μ + b_u + b_i + ⟨U(u), V(i)⟩``; subclasses define the pieces (no bias by default)."""

    def user_vectors(self, users: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def item_vectors(self, items: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def user_bias(self, users: torch.Tensor) -> torch.Tensor | None:
        return None

    def item_bias(self, items: torch.Tensor) -> torch.Tensor | None:
        return None

    def global_bias(self) -> torch.Tensor | None:
        return None

    def _all_items(self) -> torch.Tensor:
        return torch.arange(self.n_items, device=self.device())

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        users, items = torch.broadcast_tensors(users, items)
        flat_u, flat_i = users.reshape(-1), items.reshape(-1)
        out = (self.user_vectors(flat_u) * self.item_vectors(flat_i)).sum(-1)
        return self._add_biases(out, flat_u, flat_i, outer=False).reshape(users.shape)

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        items = self._all_items()
        out = self.user_vectors(users) @ self.item_vectors(items).T
        return self._add_biases(out, users, items, outer=True)

    def _add_biases(self, out: torch.Tensor, users: torch.Tensor, items: torch.Tensor, *, outer: bool) -> torch.Tensor:
        bu, bi, mu = self.user_bias(users), self.item_bias(items), self.global_bias()
        if bu is not None:
            out = out + (bu[:, None] if outer else bu)
        if bi is not None:
            out = out + (bi[None, :] if outer else bi)
        if mu is not None:
            out = out + mu
        return out
