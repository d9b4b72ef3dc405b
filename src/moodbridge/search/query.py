"""``moodbridge search``: items of one modality of a library that match a query file or text.

Two methods, chosen per query:

Joint space (Emo-CLIM style)
    When the library holds a trained joint space (``LIB/spaces/<name>/``,
    written by :meth:`~moodbridge.align.JointSpace.save` through
    ``moodbridge align train``) with a head for the query's modality and a
    FAISS index of the target modality (``LIB/indexes/<name>/``, built by
    :func:`~moodbridge.search.index_library`), the query's encoder features
    are embedded with the query modality's projection head and the target
    index is searched; the score is the cosine in the joint space.  The
    encoders that feed each head are recorded by ``align train`` in
    ``LIB/spaces/<name>/moodbridge-space.json`` (:data:`SPACE_INFO_FILE`).

Fallback
    Otherwise every target item with a stored emotion is ranked by

    * the inverse Euclidean VA similarity ``1 / (1 + d)`` (EIMG Eq. 1, see
      :func:`moodbridge.emotion.similarity.inverse_euclidean_similarity`)
      between the query's valence-arousal (from the default emotion head of
      its modality, :func:`moodbridge.affect.estimate.head_for`) and the
      item's stored VA from the default head of its modality; and
    * when the semantic bridge (:mod:`moodbridge.semantic.bridge`) is
      available, the cosine between the query's and the item's bridge
      embeddings (384-d, a shared text-embedding space).

    With the bridge, both terms are min-max normalised over the candidates and
    combined with weights :data:`FALLBACK_WEIGHTS` (0.5 VA, 0.5 bridge);
    a constant term (all candidates equal) counts 0.5 for every candidate.
    Without the bridge the score is the raw VA similarity in ``[0.26, 1]``.
    The result says which method ran (``SearchResult.method``) and why.

Adapter (``scorer="adapter:DIR"``)
    A recommender trained with ``moodbridge recommend train`` (EMID's
    EMI-Adapter, :mod:`moodbridge.recommend`) scores the query against every
    item of the target modality it can score: music for an image query, images
    for a music query (the adapter knows clips and images only).  A query that
    is an item of the library is looked up by its path; a new file is described
    by its encoder features and its emotion-head VA, which only a content-aware
    adapter (``--content``) can use — an ID adapter refuses it with a message
    saying so.  The score is the adapter's logit (higher is better).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.errors import InvalidValueError, LibraryError, MoodbridgeError
from moodbridge.library.emotion import ItemEmotion, item_emotions
from moodbridge.numeric import minmax
from moodbridge.library.spaces import (
    BRIDGE_SPACES,
    parse_space,
    DEFAULT_FEATURES,
    SPACE_INFO_FILE,
    check_feature_dim,
    joint_spaces,
    library_features,
    require_space,
    space_dir,
    space_heads,
    space_info,
)

__all__ = [
    "DEFAULT_FEATURES",
    "FALLBACK_METHOD",
    "FALLBACK_WEIGHTS",
    "SPACE_INFO_FILE",
    "TARGETS",
    "Hit",
    "SearchResult",
    "joint_spaces",
    "library_features",
    "require_space",
    "resolve_target",
    "search_library",
    "space_heads",
    "space_info",
]

#: ``--to`` names → library modality.
TARGETS: dict[str, str] = {"music": "audio", "audio": "audio", "image": "image", "midi": "midi"}
#: Weights of the fallback score: (VA similarity, semantic-bridge cosine), after min-max over the candidates.
FALLBACK_WEIGHTS: tuple[float, float] = (0.5, 0.5)
FALLBACK_METHOD = "fallback: emotion heads' VA distance + semantic bridge"
FALLBACK_METHOD_VA_ONLY = "fallback: emotion heads' VA distance (semantic bridge unavailable)"


@dataclass
class Hit:
    """One ranked item."""

    rank: int
    id: int
    path: str
    name: str
    score: float
    valence: float | None = None
    arousal: float | None = None
    quadrant: str | None = None
    head: str | None = None
    #: where the item's emotion came from (:mod:`moodbridge.library.emotion`)
    source: str | None = None
    #: the parts of the score (``va_similarity``, ``bridge_cosine``, ``joint_cosine``)
    components: dict[str, float] = field(default_factory=dict)


@dataclass
class SearchResult:
    """What :func:`search_library` found, and how."""

    query: str
    query_kind: str  # "file" or "text"
    query_modality: str
    target: str  # library modality searched
    method: str
    space: str | None
    query_emotion: dict[str, Any] | None
    hits: list[Hit]
    notes: list[str] = field(default_factory=list)

    @property
    def used_joint_space(self) -> bool:
        return self.space is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (for ``--json``)."""
        return asdict(self)


# ----------------------------------------------------------------------------- public
def resolve_target(to: str, library: Any | None = None) -> str:
    """Library modality for a ``--to`` name; checks the library has items of it.

    Raises
    ------
    InvalidValueError
        On an unknown name.
    LibraryError
        If the library has no item of that modality (the message lists what it has).
    """
    key = str(to).strip().lower()
    if key not in TARGETS:
        raise InvalidValueError(f"--to must be one of music, image, midi; got {to!r}")
    modality = TARGETS[key]
    if library is not None and not library.items(modality=modality):
        counts = library.summary()["by_modality"]
        have = ", ".join(f"{n} {m}" for m, n in sorted(counts.items())) or "no items"
        raise LibraryError(f"{library.root}: the library has no {key} ({modality}) items to search (it has {have});"
                           f" add some with 'moodbridge add'")
    return modality


def search_library(
    library: Any,
    query: Path | str,
    *,
    to: str,
    top: int = 10,
    space: str | None = None,
    scorer: str | None = None,
) -> SearchResult:
    """The ``top`` items of modality ``to`` that best match ``query``.

    Parameters
    ----------
    library
        An open :class:`~moodbridge.library.Library`.
    query
        A media file (:class:`~pathlib.Path`: image, audio, MIDI or text file)
        or a text (``str``).
    to
        ``"music"`` (= ``"audio"``), ``"image"`` or ``"midi"``.
    top
        How many items (fewer when the library has fewer).
    space
        Joint space to use (``NAME`` or ``joint:NAME``); ``"bridge"`` forces
        the fallback; default: the newest space that has heads for the query's
        and the target's modality and an index of the target.  A named space
        that cannot serve the query is an error; with no usable space the
        fallback runs (see the module docstring).
    scorer
        ``"adapter:DIR"``: rank with a trained recommender instead (module docstring);
        ``None``: the joint space or the fallback.

    Raises
    ------
    MoodbridgeError
        A query file that cannot be decoded (names the file and the cause),
        a target modality absent from the library, ``top`` not positive, a
        named space that is missing or lacks the needed heads/index, or a
        saved space whose input dimension differs from the library's features
        (both dimensions named); with an adapter, a query or target that is not
        music ↔ image, a model folder from another library, or a new file for an ID adapter.
    """
    from moodbridge.recommend.adapter import parse_scorer

    adapter_dir = parse_scorer(scorer)
    if adapter_dir is not None and space is not None:
        raise InvalidValueError("--scorer adapter:DIR and --space are two ways of scoring; give one of them")
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top <= 0:
        raise InvalidValueError(f"top must be a positive integer, got {top!r}")
    target = resolve_target(to, library)
    kind = "file" if isinstance(query, Path) else "text"
    if kind == "text" and not str(query).strip():
        raise InvalidValueError("the query text is empty")
    q_modality, row = _encode_query(query)
    q_emotion = _query_emotion(q_modality, row)
    notes: list[str] = []

    if adapter_dir is not None:
        hits, method = _adapter_search(library, adapter_dir, query, q_modality, target, row, q_emotion, top, notes)
        return SearchResult(str(query), kind, q_modality, target, method, None, q_emotion, hits, notes)
    if space is not None and space in BRIDGE_SPACES:
        chosen, why = None, f"--space {space}: the emotion heads' VA and the semantic bridge, as asked"
    else:
        chosen, why = _choose_space(library, None if space is None else parse_space(space), q_modality, target)
    if chosen is not None:
        hits, method = _joint_search(library, chosen, q_modality, target, row, top, notes)
        return SearchResult(str(query), kind, q_modality, target, method, chosen, q_emotion, hits, notes)
    notes.append(why)
    hits, method = _fallback_search(library, q_modality, target, row, q_emotion, top, notes)
    return SearchResult(str(query), kind, q_modality, target, method, None, q_emotion, hits, notes)


# ----------------------------------------------------------------------------- query
def _query_encoders(modality: str) -> list[Any]:
    """Every offline encoder of ``modality`` (covers the head's and the joint spaces' inputs)."""
    from moodbridge.encoders import encoder_names, get_encoder

    return [e for e in (get_encoder(n) for n in encoder_names()) if e.modality == modality and not e.optional]


def _encode_query(query: Path | str) -> tuple[str, dict[str, dict[str, np.ndarray]]]:
    """(modality, ``encoder name → outputs``) of the query; MoodbridgeError naming the file when it fails."""
    from moodbridge.encoders.run import Failure, encode_sources, failure_from

    if isinstance(query, Path):
        from moodbridge.media import sniff

        if not query.exists():
            raise MoodbridgeError(f"{query}: cannot read the query file: no such file")
        if query.is_dir():
            raise MoodbridgeError(f"{query}: the query must be a file, not a folder")
        try:
            modality = sniff(query)
        except Exception as exc:  # noqa: BLE001 - turned into one readable line
            raise MoodbridgeError(f"cannot use the query file: {failure_from(exc, str(query)).message}") from None
    else:
        modality = "text"
    result = encode_sources([query], _query_encoders(modality))[0]
    if isinstance(result, Failure):
        raise MoodbridgeError(f"cannot use the query file: {result.message}" if isinstance(query, Path)
                              else f"cannot use the query text: {result.message}")
    return modality, result


def _query_emotion(modality: str, row: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, Any] | None:
    from moodbridge.affect.estimate import head_for, stack_rows

    head = head_for(modality)
    if not all(name in row for name in head.encoders):
        return None
    est = head.estimate(stack_rows([{name: row[name] for name in head.encoders}]))[0]
    return {"head": est.head, "valence": float(est.valence), "arousal": float(est.arousal), "quadrant": est.quadrant}


def _query_features(row: Mapping[str, Mapping[str, np.ndarray]], spec: str) -> np.ndarray:
    missing = [n for n in spec.split("+") if n not in row]
    if missing:
        raise LibraryError(f"the query has no features from {', '.join(missing)} (needed by the joint space)")
    return np.concatenate([np.asarray(row[n]["features"], dtype=np.float32).ravel() for n in spec.split("+")])[None, :]


# ----------------------------------------------------------------------------- joint space
def _choose_space(library: Any, space: str | None, q_modality: str, target: str) -> tuple[str | None, str]:
    """(space name, "") to use one, or (None, reason) to fall back."""
    from moodbridge.search.index import index_dir

    if space is not None:
        require_space(library, space)
        heads, _ = space_heads(library, space)
        for m in (q_modality, target):
            if m not in heads:
                raise LibraryError(f"joint space {space!r} has no {m} head (it has {', '.join(sorted(heads))})")
        if not (index_dir(library, space) / f"{target}.json").is_file():
            raise LibraryError(f"joint space {space!r} has no {target} index in {index_dir(library, space)};"
                               f" rerun 'moodbridge align train'")
        return space, ""
    names = joint_spaces(library)
    if not names:
        return None, "no trained joint space in the library (train one with 'moodbridge align train')"
    for name in names:
        heads, _ = space_heads(library, name)
        if q_modality in heads and target in heads and (index_dir(library, name) / f"{target}.json").is_file():
            return name, ""
    return None, (f"no joint space covers {q_modality} -> {target} with a {target} index"
                  f" (spaces: {', '.join(names)})")


def _joint_search(library: Any, name: str, q_modality: str, target: str,
                  row: Mapping[str, Mapping[str, np.ndarray]], top: int, notes: list[str]) -> tuple[list[Hit], str]:
    from moodbridge.align.space import JointSpace
    from moodbridge.search.library_index import open_library_index

    heads, specs = space_heads(library, name)
    # dimension checks first, from the JSON alone: a clear message naming both sides
    q = _query_features(row, specs[q_modality])
    check_feature_dim(name, q_modality, specs[q_modality], int(heads[q_modality]["in_dim"]), q.shape[1], "query")
    items = library.items(modality=target)
    lib_dim = library_features(library, items[:1], specs[target]).shape[1]
    check_feature_dim(name, target, specs[target], int(heads[target]["in_dim"]), lib_dim, "library")
    index = open_library_index(library, name, target)
    joint = JointSpace.load(space_dir(library, name), device="cpu")
    embed_dim = int(heads[q_modality].get("embed_dim", index.dim))
    if index.dim != embed_dim:
        raise LibraryError(f"joint space {name!r}: its {target} index has dimension {index.dim} but the space embeds"
                           f" into {embed_dim} dimensions; rerun 'moodbridge align train'")
    z = joint.embed(q_modality, q)
    by_id = {it.id: it for it in items}
    stale = set(int(i) for i in index.ids.tolist()) ^ set(by_id)
    if stale:
        notes.append(f"the {target} index of space {name!r} is out of date ({len(index)} indexed, {len(items)} in"
                     f" the library); rerun 'moodbridge align train' to refresh it")
    ids, scores = index.search(z[0], top=min(top, len(index)) if len(index) else top)
    found = [by_id[int(i)] for i in ids.tolist() if i is not None and int(i) >= 0 and int(i) in by_id]
    emotions = {it.id: e for it, e in zip(found, item_emotions(library, found))}
    hits: list[Hit] = []
    for item_id, score in zip(ids.tolist(), scores.tolist()):
        it = by_id.get(int(item_id)) if item_id is not None and int(item_id) >= 0 else None
        if it is None:
            continue
        emotion = emotions.get(it.id)
        hits.append(Hit(len(hits) + 1, it.id, it.path, it.name, float(score), *_hit_emotion(emotion),
                        source=emotion.source if emotion else None, components={"joint_cosine": float(score)}))
    return hits, f"joint space {name!r}: cosine of projection-head embeddings (FAISS {index.kind} index)"


# ----------------------------------------------------------------------------- fallback
def _hit_emotion(emotion: ItemEmotion | None) -> tuple[float | None, float | None, str | None, str | None]:
    """(valence, arousal, quadrant label, head) of an item's emotion for a :class:`Hit`."""
    if emotion is None:
        return None, None, None, None
    return emotion.valence, emotion.arousal, emotion.quadrant.label, emotion.head


def _bridge(q_modality: str, row: Mapping[str, Mapping[str, np.ndarray]], library: Any,
            items: Sequence[Any]) -> tuple[np.ndarray | None, str]:
    """Bridge cosines of the query to each item, or (None, why it is unavailable)."""
    try:
        from moodbridge.affect.estimate import stack_rows
        from moodbridge.library.bridge import bridge_embeddings, item_bridge

        zq = np.asarray(item_bridge(q_modality, stack_rows([dict(row)])), dtype=np.float32)
        zi = np.asarray(bridge_embeddings(library, list(items)), dtype=np.float32)
        zq = zq.reshape(1, -1)
        if zi.shape != (len(items), zq.shape[1]):
            return None, f"semantic bridge unavailable (shapes {zq.shape} and {zi.shape} do not match)"
        zq = zq / np.maximum(np.linalg.norm(zq, axis=1, keepdims=True), 1e-12)
        zi = zi / np.maximum(np.linalg.norm(zi, axis=1, keepdims=True), 1e-12)
        cos = (zi @ zq[0]).astype(np.float64)
        if not np.isfinite(cos).all():
            return None, "semantic bridge unavailable (non-finite embeddings)"
        return cos, ""
    except MoodbridgeError as exc:
        return None, f"semantic bridge unavailable ({exc})"
    except Exception as exc:  # noqa: BLE001 - the fallback works without it
        return None, f"semantic bridge unavailable ({type(exc).__name__}: {exc})"


def _fallback_search(library: Any, q_modality: str, target: str, row: Mapping[str, Mapping[str, np.ndarray]],
                     q_emotion: dict[str, Any] | None, top: int, notes: list[str]) -> tuple[list[Hit], str]:
    from moodbridge.emotion.similarity import inverse_euclidean_similarity

    if q_emotion is None:
        raise LibraryError(f"cannot estimate the emotion of the {q_modality} query (no head features)")
    items = library.items(modality=target)
    with_va = [(it, e) for it, e in zip(items, item_emotions(library, items)) if e is not None]
    if len(with_va) < len(items):
        notes.append(f"{len(items) - len(with_va)} {target} item(s) have no stored emotion and were left out")
    if not with_va:
        raise LibraryError(f"{library.root}: no {target} item has a stored emotion to compare with")
    cands = [it for it, _ in with_va]
    va_items = np.array([[e.valence, e.arousal] for _, e in with_va], dtype=np.float64)
    va_sim = np.asarray(inverse_euclidean_similarity(
        np.array([[q_emotion["valence"], q_emotion["arousal"]]]), va_items), dtype=np.float64).reshape(-1)
    cos, why = _bridge(q_modality, row, library, cands)
    w_va, w_br = FALLBACK_WEIGHTS
    if cos is None:
        notes.append(why)
        scores = va_sim
        method = FALLBACK_METHOD_VA_ONLY
    else:
        scores = w_va * minmax(va_sim) + w_br * minmax(cos)
        method = FALLBACK_METHOD
    order = np.lexsort((np.array([it.id for it in cands]), -scores))[:top]
    hits = []
    for rank, i in enumerate(order, 1):
        it, emotion = with_va[i]
        comps = {"va_similarity": float(va_sim[i])}
        if cos is not None:
            comps["bridge_cosine"] = float(cos[i])
        hits.append(Hit(rank, it.id, it.path, it.name, float(scores[i]), *_hit_emotion(emotion),
                        source=emotion.source, components=comps))
    return hits, method


# ----------------------------------------------------------------------------- adapter
def _adapter_search(library: Any, folder: Path, query: Path | str, q_modality: str, target: str,
                    row: Mapping[str, Mapping[str, np.ndarray]], q_emotion: dict[str, Any] | None, top: int,
                    notes: list[str]) -> tuple[list[Hit], str]:
    from moodbridge.recommend.adapter import FEATURES, load_adapter

    if {q_modality, target} != {"audio", "image"}:
        raise InvalidValueError(f"an adapter scores music clips against images; a {q_modality} query for {target} "
                                "items cannot use it (search music with an image, or images with music)")
    adapter = load_adapter(library, folder)
    notes.extend(adapter.notes)
    which = "clip" if q_modality == "audio" else "image"
    candidates = adapter.scorable("image" if which == "clip" else "clip")
    if not candidates:
        raise LibraryError(f"{library.root}: the {adapter.describe()} can score none of the library's {target} items")
    paths = [it.path for it in candidates]
    path = str(Path(query).resolve())
    fitted = adapter.fitted
    known = fitted.is_seen(path, which) or (adapter.content and path in (adapter.clips if which == "clip"
                                                                              else adapter.images))
    if known:
        notes.append(f"the query is the library item {path} ("
                     + ("in the adapter's training catalogue)" if fitted.is_seen(path, which)
                        else "not in the adapter's training data: scored from its features and VA)"))
        scores = (fitted.score([path], paths)[0] if which == "clip" else fitted.score(paths, [path])[:, 0])
    else:
        if not adapter.content:
            raise InvalidValueError(
                f"{query}: the query file is not one the {adapter.describe()} was trained on; an ID adapter has no "
                "vector for a new file: train it with 'moodbridge recommend train --content' to score new files")
        if q_emotion is None:
            raise LibraryError(f"cannot estimate the emotion of the {q_modality} query (no head features)")
        spec = (fitted.info.get("features") or FEATURES)[q_modality]
        features = _query_features(row, spec)[0]
        inputs = np.concatenate([features, [q_emotion["valence"], q_emotion["arousal"]]]).astype(np.float32)
        scores = adapter.score_query(which, inputs[None, :], paths)
    scores = np.asarray(scores, dtype=np.float64)
    order = np.lexsort((np.array([it.id for it in candidates]), -scores))[:top]
    chosen = [candidates[i] for i in order]
    emotions = item_emotions(library, chosen)
    hits = [Hit(rank, it.id, it.path, it.name, float(scores[i]), *_hit_emotion(emotion),
                source=emotion.source if emotion else None, components={"adapter_score": float(scores[i])})
            for rank, (i, it, emotion) in enumerate(zip(order, chosen, emotions), 1)]
    kind = "content-aware: factors + features and VA" if adapter.content else "ID model"
    return hits, f"adapter: {adapter.describe()} ({kind}); score = its logit"
