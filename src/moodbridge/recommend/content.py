"""Content-aware recommender: clip and image vectors from features + VA (cold start).

The ID models of :mod:`moodbridge.recommend.models` learn one vector per
clip and per image, so they can only score what they were trained on.  The
content model instead computes each vector from the item's *side
information* — its encoder features (e.g. EfficientNet-Lite0 for images,
musicnn for clips) concatenated with its valence–arousal point — through a
small tower per modality (in the spirit of the two-tower / DropoutNet family,
and of EMID's remark that the adapter should carry emotion into the joint
space).  A new clip or image gets scores from its features alone, with no
retraining:

``s(u, i) = ⟨f(x_u), g(x_i)⟩``, ``f, g``: standardise → Linear → ReLU → Linear.

Side information comes in as plain arrays keyed by path (:class:`SideInfo`);
the integrator fetches them from the library.  Standardisation statistics are
taken from the training inputs and saved with the weights; the inputs
themselves are not saved (they live in the library), so a loaded content model
is given them again (:meth:`ContentTowers.attach`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from torch import nn

from moodbridge.errors import InvalidValueError
from moodbridge.recommend.models.base import DotProductModel

if TYPE_CHECKING:
    from moodbridge.recommend.data import Interactions

__all__ = ["ContentTowers", "SideInfo", "side_info"]


@dataclass(frozen=True, eq=False)
class SideInfo:
    """Per-path inputs of a content model: ``features[r]`` (with ``va[r]``) belongs to ``paths[r]``."""

    paths: tuple[str, ...]
    features: np.ndarray
    va: np.ndarray | None = None
    what: str = "item"

    def __post_init__(self) -> None:
        object.__setattr__(self, "_row", {p: r for r, p in enumerate(self.paths)})

    @property
    def dim(self) -> int:
        return int(self.features.shape[1]) + (0 if self.va is None else 2)

    def matrix(self, paths: Sequence[str]) -> np.ndarray:
        """``(len(paths), dim)`` float32 rows (features, then VA) for ``paths``.

        Raises
        ------
        InvalidValueError
            Naming the first path with no side information and how many lack it.
        """
        rows = [self._row.get(p, -1) for p in paths]  # type: ignore[attr-defined]
        missing = [p for p, r in zip(paths, rows) if r < 0]
        if missing:
            raise InvalidValueError(f"no features for {len(missing)} {self.what}(s), e.g. {missing[0]!r}; "
                                    f"a content model needs features (and VA) for every {self.what} it scores")
        rows_arr = np.asarray(rows, dtype=np.int64)
        parts = [self.features[rows_arr]] + ([] if self.va is None else [self.va[rows_arr]])
        return np.concatenate(parts, axis=1).astype(np.float32)


def side_info(features: Mapping[str, np.ndarray] | tuple[Sequence[str], np.ndarray] | None,
              va: Mapping[str, Sequence[float]] | np.ndarray | None = None, *,
              paths: Sequence[str] | None = None, what: str = "item") -> SideInfo:
    """Check and pack side information.

    Parameters
    ----------
    features
        ``{path: vector}`` or ``(paths, (n, d) array)``; ``None`` for VA only.
    va
        ``{path: (valence, arousal)}`` or an ``(n, 2)`` array aligned with the paths; optional.
    paths
        The paths when ``features`` is ``None`` and ``va`` is an array.
    what
        ``"clip"`` or ``"image"``, for messages.

    Raises
    ------
    InvalidValueError
        On ragged or non-finite vectors, mismatched lengths, or no input at all.
    """
    if isinstance(features, Mapping):
        keys = list(features)
        try:
            matrix = np.stack([np.asarray(features[k], dtype=np.float32).reshape(-1) for k in keys]) if keys else None
        except ValueError:
            raise InvalidValueError(f"{what} features: vectors of different lengths") from None
    elif features is not None:
        keys, matrix = list(features[0]), np.asarray(features[1], dtype=np.float32)
    else:
        keys, matrix = list(paths) if paths is not None else (list(va) if isinstance(va, Mapping) else []), None
    if isinstance(va, Mapping):
        try:
            va_arr = np.asarray([va[k] for k in keys], dtype=np.float32)
        except KeyError as exc:
            raise InvalidValueError(f"no VA for {what} {exc.args[0]!r}") from None
    else:
        va_arr = None if va is None else np.asarray(va, dtype=np.float32)
    if matrix is None:
        if va_arr is None:
            raise InvalidValueError(f"{what} side information: give features, VA or both")
        matrix = np.zeros((len(keys), 0), dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != len(keys):
        raise InvalidValueError(f"{what} features: expected {len(keys)} rows of one length, got shape {matrix.shape}")
    if va_arr is not None and va_arr.shape != (len(keys), 2):
        raise InvalidValueError(f"{what} VA: expected shape ({len(keys)}, 2), got {va_arr.shape}")
    for name, arr in (("features", matrix), ("VA", va_arr)):
        if arr is not None and not np.isfinite(arr).all():
            raise InvalidValueError(f"{what} {name}: NaN or infinite values (e.g. for {keys[int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])]!r})")
    return SideInfo(tuple(str(k) for k in keys), matrix, va_arr, what)


class _Tower(nn.Module):
    """Standardise (statistics are buffers) → Linear → ReLU → Linear."""

    def __init__(self, dim_in: int, hidden: int, dim_out: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim_in))
        self.register_buffer("scale", torch.ones(dim_in))
        self.net = nn.Sequential(nn.Linear(dim_in, hidden), nn.ReLU(), nn.Linear(hidden, dim_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) * self.scale)


class ContentTowers(DotProductModel):
    """Two towers over side information: ``s(u, i) = ⟨f(x_u), g(x_i)⟩``.

    Parameters
    ----------
    n_users, n_items
        Clips and images of the training catalogue (the rows of the attached inputs).
    user_dim, item_dim
        Input widths (features + 2 for VA).
    dim
        Output vector width.
    hidden
        Hidden width of each tower.
    seed
        Seeds the initialisation.
    """

    name: ClassVar[str] = "content"
    default_loss: ClassVar[str] = "bpr"
    uses_content: ClassVar[bool] = True

    def __init__(self, n_users: int, n_items: int, *, user_dim: int, item_dim: int, dim: int = 64,
                 hidden: int = 128, seed: int = 0) -> None:
        super().__init__(n_users, n_items, seed=seed)
        self.user_dim, self.item_dim, self.dim, self.hidden = int(user_dim), int(item_dim), int(dim), int(hidden)
        self.user_tower = _Tower(user_dim, hidden, dim)
        self.item_tower = _Tower(item_dim, hidden, dim)
        g = self.generator()
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight, generator=g)
                nn.init.zeros_(module.bias)
        self.register_buffer("user_inputs", torch.zeros(0, user_dim), persistent=False)
        self.register_buffer("item_inputs", torch.zeros(0, item_dim), persistent=False)

    @classmethod
    def build(cls, train: Interactions, *, seed: int = 0, user_side: SideInfo | None = None,
              item_side: SideInfo | None = None, **options: Any) -> ContentTowers:
        """Build for ``train``; side information defaults to the pairs table's VA alone.

        Raises
        ------
        InvalidValueError
            If neither side information nor VA columns are available, or a clip or image lacks it.
        """
        user_side = user_side or _va_side(train, "user")
        item_side = item_side or _va_side(train, "item")
        user_x, item_x = user_side.matrix(train.users), item_side.matrix(train.items)
        model = cls(train.n_users, train.n_items, user_dim=user_x.shape[1], item_dim=item_x.shape[1], seed=seed,
                    **options)
        model.fit_standardisation(user_x[np.unique(train.user_idx)], item_x[np.unique(train.item_idx)])
        model.attach(user_x, item_x)
        return model

    def config(self) -> dict[str, Any]:
        return {**super().config(), "user_dim": self.user_dim, "item_dim": self.item_dim, "dim": self.dim,
                "hidden": self.hidden}

    def fit_standardisation(self, user_x: np.ndarray, item_x: np.ndarray) -> None:
        """Set each tower's input mean and 1/std from training inputs (std 0 → scale 1)."""
        for tower, x in ((self.user_tower, user_x), (self.item_tower, item_x)):
            t = torch.as_tensor(x, dtype=torch.float32)
            std = t.std(0, unbiased=False) if len(t) > 1 else torch.ones(t.shape[1])
            tower.mean.copy_(t.mean(0))
            tower.scale.copy_(torch.where(std > 1e-8, 1.0 / std.clamp(min=1e-8), torch.ones_like(std)))

    def attach(self, user_x: np.ndarray, item_x: np.ndarray) -> None:
        """Set the inputs of the catalogue's clips and images (rows in index order)."""
        user_x, item_x = np.asarray(user_x, np.float32), np.asarray(item_x, np.float32)
        if user_x.shape != (self.n_users, self.user_dim) or item_x.shape != (self.n_items, self.item_dim):
            raise InvalidValueError(f"content inputs: expected clips {(self.n_users, self.user_dim)} and images "
                                    f"{(self.n_items, self.item_dim)}, got {user_x.shape} and {item_x.shape}")
        device = self.user_tower.mean.device
        self.user_inputs = torch.as_tensor(user_x, device=device)
        self.item_inputs = torch.as_tensor(item_x, device=device)

    def _inputs(self, which: str, index: torch.Tensor) -> torch.Tensor:
        table = self.user_inputs if which == "user" else self.item_inputs
        if len(table) == 0:
            raise InvalidValueError("content model has no inputs attached; give it the clips' and images' features "
                                    "(ContentTowers.attach, or load_recommender(..., user_side=, item_side=))")
        return table[index]

    def user_vectors(self, users: torch.Tensor) -> torch.Tensor:
        return self.user_tower(self._inputs("user", users))

    def item_vectors(self, items: torch.Tensor) -> torch.Tensor:
        return self.item_tower(self._inputs("item", items))

    def score_inputs(self, user_x: torch.Tensor, item_x: torch.Tensor) -> torch.Tensor:
        """``(n_u, n_i)`` scores of clips and images given by their inputs (seen or not)."""
        return self.user_tower(user_x) @ self.item_tower(item_x).T


def _va_side(train: Interactions, which: str) -> SideInfo:
    va = train.user_va if which == "user" else train.item_va
    ids = train.users if which == "user" else train.items
    what = "clip" if which == "user" else "image"
    if va is None:
        raise InvalidValueError(f"{train.source}: the content model needs {what} features or the pairs table's "
                                f"{what} VA columns, and it has neither")
    return side_info(None, va, paths=ids, what=what)
