"""The scoring interface every recommender shares, its per-row tables, and the content-aware option.

A model maps (clip, image) index pairs to a real score (a logit for the
pointwise losses); higher is better.  Every model exposes

* ``score(users, items)`` — scores of index tensors of broadcastable shapes
  (differentiable; the training loop calls it);
* ``score_all(users)`` — ``(len(users), n_items)``, every catalogue image for
  each clip, computed without building the pair grid where the model allows it;
* ``config()`` — the keyword arguments that rebuild it (saved in the manifest);
* ``build(train, ...)`` — construct it for a training set (a model that needs
  the data itself, like SVD++'s implicit sets, takes it from there).

Tables.  A model's per-clip and per-image parameters (factors, biases, SVD++'s
``y_j``) are named tables declared once (:meth:`Recommender.make_tables`) and
read through :meth:`Recommender.user_rows` / :meth:`Recommender.item_rows`,
which return ``{table name: rows}``.

Content-aware option (``content=``).  The ID models only know the clips and
images they were trained on.  With ``content`` every table ``E`` of a side
becomes *factors plus a feature tower*:

``E'(r) = T_E(x_r) + keep(r) · E(r)``

where ``x_r`` is the row's side information (encoder features and its
valence–arousal point), ``T`` one small tower per side — standardise →
Linear → ReLU → Linear — whose output is split into one head per table, and
``keep(r)`` is 1 for a clip or image of the training catalogue and 0 for one
that is not.  During training ``keep`` is dropped to 0 for a random fraction
``id_dropout`` of the rows of each batch (DropoutNet, Volkovs et al. 2017), so
the towers alone must score well: that is what an unseen clip or image gets.
``id_dropout = 1`` drops the factors altogether (the model is then a pure
two-tower model over features).  The inputs themselves are not parameters:
they live in the library and are attached (:meth:`Recommender.attach`); rows
beyond the catalogue (unseen items) are appended for a call with
:meth:`Recommender.extended`.

:class:`DotProductModel` is the family ``s(u, i) = μ + b_u + b_i + ⟨U(u), V(i)⟩``:
plain MF, BMF and SVD++ only say how the vectors and biases are made.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import nn

from moodbridge.errors import InvalidValueError

if TYPE_CHECKING:
    from moodbridge.recommend.content import SideInfo
    from moodbridge.recommend.data import Interactions

__all__ = ["ContentOptions", "DotProductModel", "Recommender", "SideTower", "init_normal"]


def init_normal(tensor: torch.Tensor, std: float, generator: torch.Generator) -> None:
    """In-place N(0, std²) from ``generator`` (so building a model never touches torch's global RNG)."""
    with torch.no_grad():
        if std == 0:
            tensor.zero_()
        else:
            tensor.normal_(0.0, std, generator=generator)


@dataclass(frozen=True)
class ContentOptions:
    """The content-aware option of a model.

    Attributes
    ----------
    user_dim, item_dim
        Input widths (encoder features + 2 for VA) of clips and images.
    hidden
        Hidden width of each side's tower.
    id_dropout
        Fraction of rows per batch whose factors are dropped in training; 1 = no factors at all.
    """

    user_dim: int
    item_dim: int
    hidden: int = 128
    id_dropout: float = 0.5

    def __post_init__(self) -> None:
        if self.user_dim < 1 or self.item_dim < 1 or self.hidden < 1:
            raise InvalidValueError(f"content inputs and hidden width must be >= 1, got {self.user_dim}, "
                                    f"{self.item_dim}, {self.hidden}")
        if not 0.0 <= float(self.id_dropout) <= 1.0:
            raise InvalidValueError(f"id_dropout must be in [0, 1], got {self.id_dropout}")

    @property
    def ids(self) -> bool:
        """Whether the model keeps per-row factors beside the towers."""
        return float(self.id_dropout) < 1.0


class SideTower(nn.Module):
    """Standardise (statistics are buffers) → Linear → ReLU → Linear, split into named heads."""

    def __init__(self, dim_in: int, hidden: int, widths: Mapping[str, int]) -> None:
        super().__init__()
        self.widths = dict(widths)
        self.register_buffer("mean", torch.zeros(dim_in))
        self.register_buffer("scale", torch.ones(dim_in))
        self.net = nn.Sequential(nn.Linear(dim_in, hidden), nn.ReLU(), nn.Linear(hidden, sum(self.widths.values())))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.net((x - self.mean) * self.scale)
        return dict(zip(self.widths, torch.split(out, list(self.widths.values()), dim=-1)))

    def fit_standardisation(self, x: np.ndarray) -> None:
        """Input mean and 1 / std from training inputs (a constant column keeps scale 1)."""
        t = torch.as_tensor(np.asarray(x, dtype=np.float32))
        std = t.std(0, unbiased=False) if len(t) > 1 else torch.ones(t.shape[1])
        with torch.no_grad():
            self.mean.copy_(t.mean(0) if len(t) else torch.zeros(t.shape[1]))
            self.scale.copy_(torch.where(std > 1e-8, 1.0 / std.clamp(min=1e-8), torch.ones_like(std)))


class Recommender(nn.Module):
    """Base of all recommenders: ``n_users`` clips × ``n_items`` images (the training catalogue).

    Attributes
    ----------
    name
        Registry name.
    default_loss
        The loss :func:`moodbridge.recommend.train.train` uses unless told otherwise.
    content
        The :class:`ContentOptions`, or ``None`` for an ID-only model.
    """

    name: ClassVar[str] = ""
    default_loss: ClassVar[str] = "bce"

    def __init__(self, n_users: int, n_items: int, *, seed: int = 0,
                 content: ContentOptions | Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self.n_users, self.n_items, self.seed = int(n_users), int(n_items), int(seed)
        if content is not None and not isinstance(content, ContentOptions):
            content = ContentOptions(**content)
        self.content: ContentOptions | None = content
        self._tables: dict[str, dict[str, int]] = {"user": {}, "item": {}}
        self._dropout_generator: torch.Generator | None = None

    @property
    def uses_content(self) -> bool:
        """True when the model scores from side information, so it can score unseen clips and images."""
        return self.content is not None

    def generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed)

    # -- tables ---------------------------------------------------------------------------
    def make_tables(self, user: Mapping[str, tuple[int, float]], item: Mapping[str, tuple[int, float]],
                    generator: torch.Generator) -> None:
        """Declare the per-row tables ``{name: (width, init std)}`` of each side (std 0: zeros).

        Each becomes an ``nn.Embedding`` attribute of that name (the factors; not made
        when a content model has ``id_dropout = 1``) and, for a content model, a head of
        the side's tower.
        """
        self._tables = {"user": {k: int(w) for k, (w, _) in user.items()},
                        "item": {k: int(w) for k, (w, _) in item.items()}}
        if self.content is None or self.content.ids:
            for side, spec in (("user", user), ("item", item)):
                n = self.n_users if side == "user" else self.n_items
                for name, (width, std) in spec.items():
                    table = nn.Embedding(n, width)
                    init_normal(table.weight, std, generator)
                    setattr(self, name, table)
        if self.content is not None:
            c = self.content
            self.user_tower = SideTower(c.user_dim, c.hidden, self._tables["user"])
            self.item_tower = SideTower(c.item_dim, c.hidden, self._tables["item"])
            for tower in (self.user_tower, self.item_tower):
                for layer in tower.net:
                    if isinstance(layer, nn.Linear):
                        nn.init.xavier_uniform_(layer.weight, generator=generator)
                        nn.init.zeros_(layer.bias)
            self.register_buffer("user_inputs", torch.zeros(0, c.user_dim), persistent=False)
            self.register_buffer("item_inputs", torch.zeros(0, c.item_dim), persistent=False)

    def user_rows(self, users: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{table: users.shape + (width,)}`` for clip indices (``>= n_users``: unseen, content models only)."""
        return self._rows("user", users)

    def item_rows(self, items: torch.Tensor) -> dict[str, torch.Tensor]:
        """``{table: items.shape + (width,)}`` for image indices (``>= n_items``: unseen, content models only)."""
        return self._rows("item", items)

    def _rows(self, side: str, index: torch.Tensor) -> dict[str, torch.Tensor]:
        names = self._tables[side]
        if self.content is None:
            return {name: getattr(self, name)(index) for name in names}
        n = self.n_users if side == "user" else self.n_items
        inputs = self.user_inputs if side == "user" else self.item_inputs
        if len(inputs) < n:
            raise InvalidValueError(f"{self.name}: content model without inputs; attach the clips' and images' "
                                    "features and VA first (load_recommender(..., user_side=, item_side=))")
        uniq, inverse = torch.unique(index.reshape(-1), return_inverse=True)
        if len(uniq) and int(uniq[-1]) >= len(inputs):
            raise InvalidValueError(f"{self.name}: {side} index {int(uniq[-1])} has no attached inputs")
        tower = self.user_tower if side == "user" else self.item_tower
        out = tower(inputs[uniq])
        if self.content.ids:
            keep = (uniq < n).to(inputs.dtype)
            if self.training and self.content.id_dropout > 0:
                keep = keep * (torch.rand(len(uniq), generator=self._dropout_rng(uniq.device), device=uniq.device)
                               >= self.content.id_dropout).to(inputs.dtype)
            rows = uniq.clamp(max=n - 1)
            out = {name: v + getattr(self, name)(rows) * keep[:, None] for name, v in out.items()}
        return {name: v[inverse].reshape(*index.shape, v.shape[-1]) for name, v in out.items()}

    def _dropout_rng(self, device: torch.device) -> torch.Generator:
        if self._dropout_generator is None or self._dropout_generator.device != device:
            self._dropout_generator = torch.Generator(device=device).manual_seed(self.seed + 7)
        return self._dropout_generator

    # -- content inputs -------------------------------------------------------------------
    def fit_standardisation(self, user_x: np.ndarray, item_x: np.ndarray) -> None:
        """Set each tower's input statistics from training inputs."""
        self._require_content()
        self.user_tower.fit_standardisation(user_x)
        self.item_tower.fit_standardisation(item_x)

    def attach(self, user_x: np.ndarray, item_x: np.ndarray) -> None:
        """Set the inputs of the catalogue's clips and images (rows in index order)."""
        c = self._require_content()
        user_x, item_x = np.asarray(user_x, np.float32), np.asarray(item_x, np.float32)
        if user_x.shape != (self.n_users, c.user_dim) or item_x.shape != (self.n_items, c.item_dim):
            raise InvalidValueError(f"content inputs: expected clips {(self.n_users, c.user_dim)} and images "
                                    f"{(self.n_items, c.item_dim)}, got {user_x.shape} and {item_x.shape}")
        device = self.user_tower.mean.device
        self.user_inputs = torch.as_tensor(user_x, device=device)
        self.item_inputs = torch.as_tensor(item_x, device=device)

    @contextlib.contextmanager
    def extended(self, user_x: np.ndarray | None = None, item_x: np.ndarray | None = None) -> Iterator[None]:
        """Within the block, unseen clips / images are rows ``n_users …`` / ``n_items …`` (their inputs appended)."""
        self._require_content()
        saved = self.user_inputs, self.item_inputs
        try:
            for name, x, base in (("user_inputs", user_x, saved[0]), ("item_inputs", item_x, saved[1])):
                if x is not None and len(x):
                    extra = torch.as_tensor(np.asarray(x, np.float32), device=base.device)
                    if extra.shape[1] != base.shape[1]:
                        raise InvalidValueError(f"{self.name}: new inputs have {extra.shape[1]} columns, the model "
                                                f"reads {base.shape[1]} (features + VA)")
                    setattr(self, name, torch.cat([base, extra]))
            yield
        finally:
            self.user_inputs, self.item_inputs = saved

    def _require_content(self) -> ContentOptions:
        if self.content is None:
            raise InvalidValueError(f"{self.name}: not a content-aware model (train it with content)")
        return self.content

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def build(cls, train: Interactions, *, seed: int = 0, content: bool | Mapping[str, Any] | None = None,
              user_side: SideInfo | None = None, item_side: SideInfo | None = None,
              **options: Any) -> Recommender:
        """The model for ``train``'s clips and images.

        Parameters
        ----------
        content
            ``True`` or ``{"hidden": …, "id_dropout": …}`` for the content-aware variant;
            its inputs are ``user_side`` / ``item_side`` (default: the pairs table's VA alone).
        **options
            The model's constructor options (``dim`` …).

        Raises
        ------
        InvalidValueError
            If a content model has no side information for a clip or image of ``train``.
        """
        if not content:
            return cls(train.n_users, train.n_items, seed=seed, **cls.data_options(train), **options)
        from moodbridge.recommend.content import va_side

        user_side = user_side or va_side(train, "user")
        item_side = item_side or va_side(train, "item")
        user_x, item_x = user_side.matrix(train.users), item_side.matrix(train.items)
        settings = dict(content) if isinstance(content, Mapping) else {}
        opts = ContentOptions(user_dim=user_x.shape[1], item_dim=item_x.shape[1], **settings)
        model = cls(train.n_users, train.n_items, seed=seed, content=opts, **cls.data_options(train), **options)
        model.fit_standardisation(user_x[np.unique(train.user_idx)], item_x[np.unique(train.item_idx)])
        model.attach(user_x, item_x)
        return model

    @classmethod
    def data_options(cls, train: Interactions) -> dict[str, Any]:
        """Constructor arguments taken from the training data (SVD++: its implicit sets)."""
        return {}

    @classmethod
    def from_checkpoint(cls, config: dict[str, Any], state: dict[str, torch.Tensor]) -> Recommender:
        """Rebuild from :meth:`config` and a ``state_dict``."""
        model = cls(**config)
        model.load_state_dict(state)
        return model

    def config(self) -> dict[str, Any]:
        return {"n_users": self.n_users, "n_items": self.n_items, "seed": self.seed,
                "content": None if self.content is None else asdict(self.content)}

    # -- scoring --------------------------------------------------------------------------
    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return self.score(users, items)

    def all_items(self) -> torch.Tensor:
        """The catalogue's image indices."""
        return torch.arange(self.n_items, device=self.device())

    def device(self) -> torch.device:
        """Where the model's tensors live (CPU for a model without any)."""
        for tensor in [*self.parameters(), *self.buffers()]:
            return tensor.device
        return torch.device("cpu")


class DotProductModel(Recommender):
    """``s(u, i) = μ + b_u + b_i + ⟨U(u), V(i)⟩``; subclasses say how the pieces are made (no bias by default)."""

    def user_parts(self, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(vectors users.shape + (d,), biases users.shape or None)``."""
        raise NotImplementedError

    def item_parts(self, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError

    def global_bias(self) -> torch.Tensor | None:
        return None

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        (u, bu), (v, bi) = self.user_parts(users), self.item_parts(items)
        out = (u * v).sum(-1)
        return self._add_biases(out, bu, bi)

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        (u, bu), (v, bi) = self.user_parts(users), self.item_parts(self.all_items())
        out = u @ v.T
        return self._add_biases(out, None if bu is None else bu[:, None], None if bi is None else bi[None, :])

    def _add_biases(self, out: torch.Tensor, bu: torch.Tensor | None, bi: torch.Tensor | None) -> torch.Tensor:
        mu = self.global_bias()
        for term in (bu, bi, mu):
            if term is not None:
                out = out + term
        return out
