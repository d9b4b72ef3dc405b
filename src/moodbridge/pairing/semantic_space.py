"""The space in which EMID's semantic similarity S is measured (EMID Sec. 3.1.2, Eq. 1).

EMID embeds music and images with ImageBind, whose two encoders share one
space.  moodbridge offers:

``"bridge"`` (default)
    The offline semantic bridge (:mod:`moodbridge.semantic.bridge`, DESIGN.md):
    an image's ImageNet class distribution and a clip's musicnn tag
    distribution, each mapped into the MiniLM text space, then **centred per
    modality**: each side's mean over the items being paired is subtracted
    and the rows re-normalised.  The two sides come from different
    vocabularies (class names vs tag names), so each occupies its own cone of
    the text space — the "modality gap" of shared embedding spaces (Liang et
    al., NeurIPS 2022) — and without centring the images nearest that cone's
    axis become hubs, the best match of almost every clip whatever it sounds
    like.  On the demo library (28 clips, 16 photos after filters) the raw
    bridge gives every clip one of 2 best images (brick 15, coffee 13) and 6
    distinct images in the top 3; centred, 5 and 12.  S then compares what
    distinguishes a clip among clips with what distinguishes an image among
    images.  It depends on the library's mix (the means are over the paired
    items); ``dataset.json`` names the space used.
``"bridge-raw"``
    The same bridge without centring (raw cosines in the text space).
``"joint:NAME"``
    A joint space learned with ``moodbridge align train`` (Emo-CLIM,
    :mod:`moodbridge.align`) and saved in the library: each item's stored
    features through the space's audio and image projection heads.  S is then
    the cosine of emotion-aligned embeddings rather than of meanings.

Both give L2-normalised rows, so S = X · Yᵀ is a cosine.

``scorer="adapter:DIR"`` (:func:`adapter_candidates`)
    A recommender trained on an earlier pairing (``moodbridge recommend
    train``, EMID's EMI-Adapter) **replaces S**: each clip's K candidates are
    the K images the adapter scores highest, S is the adapter's score (a logit,
    not a cosine), and the rest of the pairing is unchanged — S and E are
    normalised per clip over the candidates and combined by α.  Why replace and
    not re-rank the bridge's candidates: in EMID the adapter is what carries
    emotion into the similarity the pairs are drawn from, so it takes S's
    place; K, m, α, the metric and the normalisation keep their meaning (α = 1
    is the adapter's own ranking); and re-ranking the bridge's top-K would cap
    the adapter at the candidates of the similarity it is meant to improve on.
    E is still added: the adapter learned T's emotional term only as far as its
    training pairs showed it.  An adapter trained on this same library's pairs
    mostly reproduces them; its use is pairing what it was not trained on (new
    clips and images, through a ``--content`` adapter) and other libraries of the
    same kind.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from moodbridge.errors import InvalidValueError, LibraryError

if TYPE_CHECKING:
    from moodbridge.library import Item, Library

#: Name of the default space (centred bridge) and of the raw one.
BRIDGE = "bridge"
BRIDGE_RAW = "bridge-raw"
#: Prefix naming a learned joint space of the library.
JOINT_PREFIX = "joint:"


def _checked(emb: np.ndarray, items: Sequence["Item"], what: str) -> np.ndarray:
    """Unit rows as float32; a clear error naming the first item with NaN, inf or empty embeddings."""
    bad = ~np.isfinite(emb).all(axis=1) | (np.linalg.norm(np.nan_to_num(emb), axis=1) < 1e-6)
    if bad.any():
        first = items[int(np.argmax(bad))].path
        raise InvalidValueError(
            f"{int(bad.sum())} {what} item(s) have NaN, infinite or empty semantic embeddings (first: {first}); "
            "re-add them to recompute their features"
        )
    emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    return emb.astype(np.float32)


def _centred(emb: np.ndarray, items: Sequence["Item"], what: str) -> np.ndarray:
    """Rows minus their mean, re-normalised (module docstring).

    A row that centring empties (one item, or items that all embed alike)
    keeps its raw direction: there is nothing to tell it apart by.
    """
    centred = emb - emb.mean(axis=0, keepdims=True)
    flat = np.linalg.norm(centred, axis=1) < 1e-4
    centred[flat] = emb[flat]
    return _checked(centred, items, what)


def semantic_embeddings(
    library: "Library", music: Sequence["Item"], images: Sequence["Item"], space: str = BRIDGE
) -> tuple[np.ndarray, np.ndarray, str]:
    """Music and image embeddings in one space, and a description of it.

    Parameters
    ----------
    library
        The open library holding the items' features.
    music, images
        Audio and image items.
    space
        ``"bridge"``, ``"bridge-raw"`` or ``"joint:NAME"`` (module docstring).

    Returns
    -------
    X, Y : numpy.ndarray
        ``(N_M, d)`` and ``(N_I, d)`` float32 unit rows.
    description : str
        What the space is, for ``dataset.json``.

    Raises
    ------
    InvalidValueError
        Unknown space name, or NaN/empty embeddings.
    LibraryError
        A joint space that does not exist or lacks an audio or image head.
    """
    if space in (BRIDGE, BRIDGE_RAW):
        from moodbridge.library.bridge import bridge_embeddings

        x = _checked(bridge_embeddings(library, music), music, "audio")
        y = _checked(bridge_embeddings(library, images), images, "image")
        if space == BRIDGE_RAW:
            return x, y, "semantic bridge (MiniLM text space), raw cosines"
        return (_centred(x, music, "audio"), _centred(y, images, "image"),
                "semantic bridge (MiniLM text space), centred per modality")
    if not space.startswith(JOINT_PREFIX):
        raise InvalidValueError(
            f"unknown semantic space {space!r}; use {BRIDGE!r}, {BRIDGE_RAW!r} or '{JOINT_PREFIX}NAME'"
        )
    from moodbridge.align.space import JointSpace
    from moodbridge.library.spaces import library_features, require_space, space_dir, space_heads

    name = space[len(JOINT_PREFIX):]
    require_space(library, name)
    heads, specs = space_heads(library, name)
    missing = [m for m in ("audio", "image") if m not in heads]
    if missing:
        raise LibraryError(f"joint space {name!r} has no {' or '.join(missing)} head "
                           f"(it aligns {', '.join(sorted(heads))}); pairing needs audio and image")
    joint = JointSpace.load(space_dir(library, name), device="cpu")
    x = joint.embed("audio", library_features(library, music, specs["audio"]))
    y = joint.embed("image", library_features(library, images, specs["image"]))
    return (_checked(x, music, "audio"), _checked(y, images, "image"),
            f"joint space {name!r} ({specs['audio']} / {specs['image']} through its projection heads)")


#: Clips scored at a time by :func:`adapter_candidates` (a block of ``1024 × N_I`` scores).
ADAPTER_BLOCK = 1024


def adapter_candidates(library: "Library", music: Sequence["Item"], images: Sequence["Item"], scorer: str, k: int):
    """Top-``k`` images per clip by a recommender adapter's score, and a description (module docstring).

    Returns
    -------
    candidates : Candidates
        ``(N_M, k)`` image indices (best first, ties by lower index) and their adapter scores.
    description : str
        What S is, for ``dataset.json``.

    Raises
    ------
    InvalidValueError
        Not an ``adapter:DIR`` scorer, a model folder from another library, or clips or
        images an ID adapter was not trained on (the message says to use ``--content``).
    """
    from moodbridge.pairing.topk import Candidates
    from moodbridge.recommend.adapter import load_adapter, parse_scorer

    folder = parse_scorer(scorer)
    if folder is None:
        raise InvalidValueError(f"not an adapter scorer: {scorer!r}")
    adapter = load_adapter(library, folder)
    for what, items, known in (("clip", music, adapter.clips), ("image", images, adapter.images)):
        unknown = [it.path for it in items if it.path not in known]
        if unknown:
            hint = ("train it with --content to score new clips and images" if not adapter.content
                    else "they have no stored emotion")
            raise InvalidValueError(f"the {adapter.describe()} cannot score {len(unknown)} of the {len(items)} "
                                    f"{what}(s) to pair (first: {unknown[0]}): {hint}")
    clips, paths = [it.path for it in music], [it.path for it in images]
    indices, scores = [], []
    for start in range(0, len(clips), ADAPTER_BLOCK):
        block = adapter.score(clips[start:start + ADAPTER_BLOCK], paths).astype(np.float32)
        if not np.isfinite(block).all():
            raise InvalidValueError(f"the {adapter.describe()} gave NaN or infinite scores")
        order = np.argsort(-block, axis=1, kind="stable")[:, :k]
        indices.append(order.astype(np.int64))
        scores.append(np.take_along_axis(block, order, axis=1))
    candidates = Candidates(np.concatenate(indices), np.concatenate(scores), "adapter")
    return candidates, f"{adapter.describe()}: its scores replace S (top-{k} candidates by the adapter)"
