"""2-D map of a joint emotion space, like Emo-CLIM's Figure 2 (Sec. 6.2).

Emo-CLIM maps the held-out image and music embeddings together to 2-D with
t-SNE, colours each emotion label and draws images as dots and music clips as
crosses.  :func:`plot_joint_space` does the same for any modalities: all
embeddings are mapped *together* (one t-SNE of the stacked rows, cosine
distance as in the retrieval metrics), so distances between modalities are
meaningful in the same way as within one.  UMAP is used instead when asked
for and ``umap-learn`` is importable.

t-SNE's perplexity (default 30) must be smaller than the number of points; it
is set to ``min(30, (n - 1) / 3)`` (at least 1), so a handful of points still
plots.  Markers: image ``o`` (dots), audio ``x`` and MIDI ``+`` (crosses),
text ``^``; colours: one per class (``tab10``, ``tab20`` beyond 10 classes).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from moodbridge.errors import InvalidValueError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["MARKERS", "METHODS", "joint_space_figure", "plot_joint_space", "project_2d"]

#: marker per modality (Emo-CLIM Fig. 2: images as dots, music as crosses)
MARKERS: dict[str, str] = {"image": "o", "audio": "x", "music": "x", "midi": "+", "text": "^"}
#: markers for other modality names, in turn
OTHER_MARKERS: tuple[str, ...] = ("s", "D", "v", "*", "P")
METHODS: tuple[str, ...] = ("tsne", "umap")
MAX_PERPLEXITY = 30.0
#: BLAS/OpenMP threads of the projection: t-SNE of 42 points took 11.7 s with the default
#: threads on a busy 2-core machine and 0.1 s with one
THREADS = 1
FIGSIZE = (7.0, 6.0)
DPI = 100


def plot_joint_space(
    embeddings: Mapping[str, np.ndarray],
    labels: Mapping[str, Sequence[Any]],
    path: str | Path,
    *,
    method: str = "tsne",
    seed: int = 0,
    title: str | None = None,
) -> Path:
    """Write a PNG of the joint space mapped to 2-D (Emo-CLIM Fig. 2).

    Parameters
    ----------
    embeddings
        ``modality → (N_m, d)`` embeddings (same ``d`` for all), e.g.
        ``{"image": z_img, "audio": z_mus}``.
    labels
        ``modality → N_m`` emotion classes (colours).
    path
        The PNG to write (atomically: a temporary sibling renamed into place).
    method
        ``"tsne"`` (scikit-learn) or ``"umap"`` (needs ``umap-learn``).
    seed
        Seeds the projection.
    title
        Figure title (default: the method and the point counts).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    InvalidValueError
        On mismatched keys, lengths or dimensions, NaN/inf, fewer than 3 points,
        an unknown method, ``umap`` without ``umap-learn``, or an unwritable path.
    """
    fig = joint_space_figure(embeddings, labels, method=method, seed=seed, title=title)
    return _save_png(fig, Path(path))


def joint_space_figure(
    embeddings: Mapping[str, np.ndarray],
    labels: Mapping[str, Sequence[Any]],
    *,
    method: str = "tsne",
    seed: int = 0,
    title: str | None = None,
) -> Figure:
    """The matplotlib figure of :func:`plot_joint_space` (one scatter per modality and class)."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    blocks, classes = _checked(embeddings, labels)
    stacked = np.concatenate([x for x, _ in blocks.values()], axis=0)
    xy = project_2d(stacked, method=method, seed=seed)
    colours = _colours(classes)
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    ax = fig.add_subplot()
    start = 0
    for modality, (x, y) in blocks.items():
        part = xy[start : start + len(x)]
        start += len(x)
        marker = _marker(modality, list(blocks))
        for cls in classes:
            mask = y == cls
            if mask.any():
                ax.scatter(part[mask, 0], part[mask, 1], marker=marker, color=colours[cls], s=28,
                           linewidths=1.2 if marker in "x+" else 0.0, alpha=0.85, label=f"{modality}: {cls}")
    handles = [Line2D([], [], linestyle="", marker="s", markersize=9, color=colours[c], label=str(c)) for c in classes]
    handles += [Line2D([], [], linestyle="", marker=_marker(m, list(blocks)), color="0.3", markersize=8,
                       label=f"{m} ({len(blocks[m][0])})") for m in blocks]
    ax.legend(handles=handles, loc="best", fontsize=8, framealpha=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    counts = ", ".join(f"{len(x)} {m}" for m, (x, _) in blocks.items())
    ax.set_title(title or f"joint space, {method} ({counts})", fontsize=10)
    fig.tight_layout()
    return fig


def project_2d(x: np.ndarray, *, method: str = "tsne", seed: int = 0) -> np.ndarray:
    """``(N, 2)`` map of ``(N, d)`` rows: t-SNE (cosine, perplexity < N) or UMAP."""
    if method not in METHODS:
        raise InvalidValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 3:
        raise InvalidValueError(f"need a 2-D array of at least 3 rows to map to 2-D, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise InvalidValueError("the rows to map to 2-D hold NaN or infinite values")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=THREADS):
        return _project(x, method, seed)


def _project(x: np.ndarray, method: str, seed: int) -> np.ndarray:
    n = x.shape[0]
    if method == "umap":
        try:
            import umap  # type: ignore[import-not-found]
        except ImportError:
            raise InvalidValueError("method 'umap' needs the umap-learn package, which is not installed;"
                                    " use method 'tsne'") from None
        reducer = umap.UMAP(n_components=2, n_neighbors=max(2, min(15, n - 1)), metric="cosine", random_state=seed)
        return np.asarray(reducer.fit_transform(x), dtype=np.float64)
    from sklearn.manifold import TSNE

    perplexity = max(1.0, min(MAX_PERPLEXITY, (n - 1) / 3.0))
    tsne = TSNE(n_components=2, perplexity=perplexity, metric="cosine", init="pca", random_state=seed)
    return np.asarray(tsne.fit_transform(x), dtype=np.float64)


# ----------------------------------------------------------------------------- internals
def _checked(embeddings: Mapping[str, Any], labels: Mapping[str, Sequence[Any]]
             ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], list[str]]:
    if not embeddings:
        raise InvalidValueError("no embeddings to plot")
    if set(embeddings) != set(labels):
        raise InvalidValueError(f"embeddings and labels name different modalities: {sorted(embeddings)} vs"
                                f" {sorted(labels)}")
    blocks: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    dim = None
    for m, emb in embeddings.items():
        x = np.asarray(emb, dtype=np.float64)
        if x.ndim != 2:
            raise InvalidValueError(f"{m} embeddings must be a 2-D (N, d) array, got shape {x.shape}")
        if not np.isfinite(x).all():
            raise InvalidValueError(f"{m} embeddings hold NaN or infinite values")
        y = np.asarray([str(v) for v in labels[m]], dtype=object)
        if len(y) != len(x):
            raise InvalidValueError(f"{m}: {len(y)} labels for {len(x)} embeddings")
        if dim is not None and x.shape[1] != dim:
            raise InvalidValueError(f"embedding dimensions differ: {m} has {x.shape[1]}, the others {dim}")
        dim = x.shape[1]
        blocks[m] = (x, y)
    total = sum(len(x) for x, _ in blocks.values())
    if total < 3:
        raise InvalidValueError(f"need at least 3 points to plot a 2-D map, got {total}")
    classes = sorted({c for _, y in blocks.values() for c in y.tolist()})
    return blocks, classes


def _colours(classes: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if len(classes) <= 10 else "tab20"]
    return {c: cmap(i % cmap.N) for i, c in enumerate(classes)}


def _marker(modality: str, modalities: Sequence[str]) -> str:
    if modality in MARKERS:
        return MARKERS[modality]
    others = [m for m in modalities if m not in MARKERS]
    return OTHER_MARKERS[others.index(modality) % len(OTHER_MARKERS)]


def _save_png(fig: Figure, path: Path) -> Path:
    if path.is_dir():
        raise InvalidValueError(f"{path}: is a folder; give a .png file path for the plot")
    if not path.parent.is_dir():
        raise InvalidValueError(f"{path}: cannot write the plot: folder {path.parent} does not exist")
    from moodbridge.fileio import atomic_path

    with atomic_path(path, what="plot") as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    return path
