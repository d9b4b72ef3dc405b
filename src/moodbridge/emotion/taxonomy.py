"""Emotion taxonomies as data, placed in VA space with the NRC-VAD lexicon.

Four taxonomies are built in (:data:`TAXONOMIES`, :func:`get_taxonomy`):

``"mikels"``
    Mikels' 8 image emotions (the FI / DeepEmotion labels of Emo-CLIM).
``"cowen"``
    Cowen et al.'s 13 music emotions, named as in EMID Sec. 3.1.1.
``"audioset"``
    The 7 AudioSet music moods (Emo-CLIM Sec. 4.1.2; "happy music" etc.).
``"emotion6"``
    Emotion6's six emotions plus neutral (Peng et al. 2015), the taxonomy of
    the ``image-va`` v2 head's distribution; anger, disgust, fear and sadness
    are also Mikels' categories (:data:`EMOTION6_TO_MIKELS`).
``"quadrants"``
    Russell's quadrants Q1-Q4, placed at their geometric centres
    ``(±0.5, ±0.5)`` (see :mod:`moodbridge.emotion.quadrants`), not via words,
    so that the nearest quadrant of a point is always its own quadrant.

**Category -> VA (EMID Sec. 3.1.1, Fig. 3).** EMID picks three semantically
similar NRC-VAD words per category, averages their (valence, arousal) and maps
the mean from ``(0, 1)`` to ``(-1, 1)``.  EMID does not list its words, so the
words here are ours (:data:`CATEGORY_WORDS`): the category's own words first
(each part of a Cowen name like "joyful/cheerful"), completed with close
synonyms to three.  The lexicon cannot ship with moodbridge, so the derived
table ``data/category_va.csv`` is packaged instead; it is rebuilt by
``scripts/build_category_table.py --lexicon PATH`` (:func:`category_table_csv`).

**Distribution -> VA (EMID Sec. 3.1.3).** A clip's VA is the
probability-weighted average of its categories' VA (:meth:`Taxonomy.to_va`).

**VA -> distribution.** A soft assignment to the categories,
``p_k = softmax_k(-||x - c_k||^2 / T)`` with temperature ``T``
(:data:`DEFAULT_TEMPERATURE` = 0.1, i.e. a Gaussian of ``sigma = sqrt(T/2)``
~= 0.22 around each centre); ``T -> 0`` approaches the one-hot nearest category.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
from numpy.typing import ArrayLike

from moodbridge.emotion.lexicon import Lexicon, normalise_word
from moodbridge.emotion.quadrants import Quadrant
from moodbridge.emotion.va import VA, VALike, as_va_array, is_single_point
from moodbridge.errors import InvalidValueError

#: Default temperature ``T`` of :meth:`Taxonomy.distribution`.
DEFAULT_TEMPERATURE = 0.1

#: Descriptions of the lexicon-based taxonomies.
TAXONOMY_DESCRIPTIONS: dict[str, str] = {
    "mikels": "Mikels' 8 image emotions (You et al. 2016, FI / DeepEmotion)",
    "cowen": "Cowen et al.'s 13 music emotions, as named in EMID (Cowen et al. 2020, PNAS)",
    "audioset": "AudioSet's 7 music moods (Gemmeke et al. 2017; Emo-CLIM)",
    "quadrants": "Russell's 4 valence-arousal quadrants (4Q data set, Panda et al. 2018)",
    "emotion6": "Emotion6's 6 emotions plus neutral, as its viewers chose them (Peng et al. 2015, CVPR)",
}

#: The NRC-VAD words averaged for each category (EMID's method), per taxonomy, in order.
CATEGORY_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "mikels": {
        "amusement": ("amusement", "amused", "fun"),
        "awe": ("awe", "wonder", "amazement"),
        "contentment": ("contentment", "content", "peaceful"),
        "excitement": ("excitement", "excited", "thrill"),
        "anger": ("anger", "angry", "rage"),
        "disgust": ("disgust", "disgusted", "revulsion"),
        "fear": ("fear", "afraid", "terror"),
        "sadness": ("sadness", "sad", "sorrow"),
    },
    "cowen": {
        "amusing": ("amusing", "funny", "humorous"),
        "annoying": ("annoying", "annoyed", "annoyance"),
        "anxious/tense": ("anxious", "tense", "nervous"),
        "beautiful": ("beautiful", "beauty", "lovely"),
        "calm/relaxing": ("calm", "relaxing", "serene"),
        "dreamy": ("dreamy", "dream", "dreaming"),
        "energizing/pump-up": ("energize", "energetic", "pumped"),
        "erotic/desirous": ("erotic", "desirous", "desire"),
        "indignant/defiant": ("indignant", "defiant", "defiance"),
        "joyful/cheerful": ("joyful", "cheerful", "joy"),
        "sad/depressing": ("sad", "depressing", "depressed"),
        "scary/fearful": ("scary", "fearful", "frightening"),
        "triumphant/heroic": ("triumphant", "heroic", "triumph"),
    },
    "audioset": {
        "happy": ("happy", "happiness", "glad"),
        "funny": ("funny", "comical", "hilarious"),
        "sad": ("sad", "sadness", "sorrow"),
        "tender": ("tender", "tenderness", "gentle"),
        "exciting": ("exciting", "excitement", "thrilling"),
        "angry": ("angry", "anger", "furious"),
        "scary": ("scary", "frightening", "frightened"),
    },
    "emotion6": {
        "anger": ("anger", "angry", "rage"),
        "disgust": ("disgust", "disgusted", "revulsion"),
        "fear": ("fear", "afraid", "terror"),
        "joy": ("joy", "joyful", "happy"),
        "sadness": ("sadness", "sad", "sorrow"),
        "surprise": ("surprise", "surprised", "astonishment"),
        "neutral": ("neutral", "indifferent", "impartial"),
    },
}

#: Emotion6 categories that are also Mikels' image emotions (same name, same words).
EMOTION6_TO_MIKELS: dict[str, str] = {"anger": "anger", "disgust": "disgust", "fear": "fear", "sadness": "sadness"}

#: Extra names a category answers to, besides its name and the parts of a "a/b" name.
_EXTRA_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "cowen": {"calm/relaxing": ("calm/relaxing/serene", "serene")},
}

_TABLE_RESOURCE = ("data", "category_va.csv")
_TABLE_FIELDS = ("taxonomy", "category", "words", "valence", "arousal")


@dataclass(frozen=True)
class Category:
    """One emotion category placed in VA space.

    Attributes
    ----------
    name
        The category name, e.g. ``"calm/relaxing"``.
    va
        Its VA point (mean of its words' lexicon VA, or a quadrant centre).
    words
        The lexicon words averaged to give ``va`` (empty for quadrants).
    aliases
        Other names it is found by (case-insensitive).
    """

    name: str
    va: VA
    words: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def matches(self, key: str) -> bool:
        """Whether the normalised ``key`` names this category."""
        return key == normalise_word(self.name) or key in (normalise_word(a) for a in self.aliases)


def _default_aliases(taxonomy: str, name: str) -> tuple[str, ...]:
    parts = tuple(p for p in name.split("/") if p != name) if "/" in name else ()
    music = (f"{name} music",) if taxonomy == "audioset" else ()
    return parts + music + _EXTRA_ALIASES.get(taxonomy, {}).get(name, ())


@dataclass(frozen=True)
class Taxonomy:
    """A named, ordered set of emotion categories with VA centres.

    Parameters
    ----------
    name
        Short name, e.g. ``"mikels"``.
    categories
        The categories, in the order used by distributions.
    description
        One line saying where the taxonomy comes from.
    """

    name: str
    categories: tuple[Category, ...]
    description: str = ""
    _centres: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.categories:
            raise InvalidValueError(f"taxonomy {self.name!r} has no categories")
        keys = [normalise_word(c.name) for c in self.categories]
        if len(set(keys)) != len(keys):
            raise InvalidValueError(f"taxonomy {self.name!r} has duplicate category names")
        centres = np.array([c.va.to_array() for c in self.categories])
        centres.setflags(write=False)
        object.__setattr__(self, "_centres", centres)

    @classmethod
    def from_lexicon(
        cls,
        name: str,
        categories: Mapping[str, Sequence[str]] | Sequence[str],
        lexicon: Lexicon,
        *,
        description: str = "",
    ) -> Taxonomy:
        """Build a taxonomy of any words with a user's lexicon (EMID's word averaging).

        Parameters
        ----------
        name
            Name of the new taxonomy.
        categories
            ``{category: words}``, each category placed at the mean VA of its
            words; or a list of words, each its own category.  A category word
            may be a phrase; it is then looked up with :meth:`Lexicon.lookup`.
        lexicon
            The lexicon, e.g. ``Lexicon.load(path_to_nrc_vad)``.
        """
        if isinstance(categories, Mapping):
            items = [(str(k), tuple(v)) for k, v in categories.items()]
        else:
            items = [(str(w), (str(w),)) for w in categories]
        built = []
        for cat, words in items:
            points = [lexicon.lookup(w) for w in words]
            if not points:
                raise InvalidValueError(f"category {cat!r} of taxonomy {name!r} has no words")
            built.append(Category(cat, VA(*as_va_array(points).mean(axis=0)), words, _default_aliases(name, cat)))
        return cls(name, tuple(built), description)

    # --- lookup -----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.categories)

    def __iter__(self) -> Iterator[Category]:
        return iter(self.categories)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    @property
    def names(self) -> tuple[str, ...]:
        """Category names in taxonomy order."""
        return tuple(c.name for c in self.categories)

    @property
    def centres(self) -> np.ndarray:
        """Read-only ``(K, 2)`` array of the categories' VA, in taxonomy order."""
        return self._centres

    def _find(self, name: str) -> int | None:
        key = normalise_word(name)
        for i, cat in enumerate(self.categories):
            if cat.matches(key):
                return i
        return None

    def index(self, name: str) -> int:
        """Position of a category (by name or alias, case-insensitive).

        Raises
        ------
        InvalidValueError
            If the taxonomy has no such category; the message lists its categories.
        """
        i = self._find(str(name))
        if i is None:
            raise InvalidValueError(
                f"{name!r} is not a category of {self.name!r}; categories: {', '.join(self.names)}"
            )
        return i

    def __getitem__(self, name: str) -> Category:
        return self.categories[self.index(name)]

    def va(self, name: str) -> VA:
        """VA of one category (EMID Fig. 3b)."""
        return self[name].va

    # --- distributions -----------------------------------------------------
    def _weights(self, probs: Mapping[str, float] | ArrayLike) -> np.ndarray:
        if isinstance(probs, Mapping):
            weights = np.zeros(len(self))
            for key, value in probs.items():
                weights[self.index(key)] += float(value)
        else:
            try:
                weights = np.array(probs, dtype=np.float64)
            except (TypeError, ValueError):
                raise InvalidValueError("probabilities must be numbers") from None
        if weights.ndim not in (1, 2) or weights.shape[-1] != len(self):
            raise InvalidValueError(
                f"probabilities over {self.name!r} must have shape ({len(self)},) or (N, {len(self)}), "
                f"got {weights.shape}"
            )
        if not np.all(np.isfinite(weights)):
            raise InvalidValueError("probabilities contain NaN or infinite values")
        if np.any(weights < 0):
            raise InvalidValueError("probabilities must not be negative")
        if np.any(weights.sum(axis=-1) <= 0):
            raise InvalidValueError("probabilities sum to 0; at least one must be positive")
        return weights

    def to_va(self, probs: Mapping[str, float] | ArrayLike) -> VA | np.ndarray:
        """VA of a probability distribution over the categories (EMID Sec. 3.1.3).

        ``va = sum_k p_k c_k / sum_k p_k``: the probability-weighted average of
        the category centres ``c_k``.  Weights are normalised, so percentages
        or unnormalised scores work too.

        Parameters
        ----------
        probs
            ``{category: p}`` (missing categories weigh 0), a ``(K,)`` vector, or
            an ``(N, K)`` matrix of ``N`` distributions.

        Returns
        -------
        VA or numpy.ndarray
            A :class:`VA` for one distribution, an ``(N, 2)`` array for ``N``.

        Raises
        ------
        InvalidValueError
            On a wrong shape, an unknown category, NaN, a negative weight or a zero sum.
        """
        weights = self._weights(probs)
        va = (weights @ self._centres) / weights.sum(axis=-1, keepdims=True)
        va = np.clip(va, -1.0, 1.0)
        return VA(*va) if va.ndim == 1 else va

    def distribution(self, points: VALike, *, temperature: float = DEFAULT_TEMPERATURE) -> np.ndarray:
        """Soft distribution over the categories for VA points.

        ``p_k(x) = exp(-||x - c_k||^2 / T) / sum_j exp(-||x - c_j||^2 / T)``.

        Parameters
        ----------
        points
            One VA point or an ``(N, 2)`` array.
        temperature
            ``T > 0``; smaller is sharper.  Default :data:`DEFAULT_TEMPERATURE`.

        Returns
        -------
        numpy.ndarray
            ``(K,)`` for one point, ``(N, K)`` for many; rows sum to 1.
        """
        temperature = float(temperature)
        if not (np.isfinite(temperature) and temperature > 0):
            raise InvalidValueError(f"temperature must be a positive number, got {temperature!r}")
        logits = -self._sq_distances(points) / temperature
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        return p[0] if is_single_point(points) else p

    def nearest(self, points: VALike) -> str | list[str]:
        """Name of the nearest category centre (Euclidean; ties go to the earlier category).

        Returns
        -------
        str or list of str
            One name for one point, a list for an ``(N, 2)`` array.
        """
        idx = np.argmin(self._sq_distances(points), axis=1)
        names = [self.categories[i].name for i in idx]
        return names[0] if is_single_point(points) else names

    def _sq_distances(self, points: VALike) -> np.ndarray:
        arr = as_va_array(points, name="points")
        return ((arr[:, None, :] - self._centres[None, :, :]) ** 2).sum(axis=-1)


# --- the shipped table ---------------------------------------------------------
def category_table(lexicon: Lexicon) -> list[tuple[str, str, tuple[str, ...], VA]]:
    """Rows ``(taxonomy, category, words, va)`` of :data:`CATEGORY_WORDS` placed with ``lexicon``."""
    return [
        (tax, cat, words, lexicon.average(words))
        for tax, cats in CATEGORY_WORDS.items()
        for cat, words in cats.items()
    ]


def category_table_csv(lexicon: Lexicon) -> str:
    """The text of ``data/category_va.csv`` computed with ``lexicon`` (NRC-VAD v1).

    Columns: taxonomy, category, words (``;``-separated), valence, arousal
    (on ``[-1, 1]``, 6 decimals).
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_TABLE_FIELDS)
    for tax, cat, words, va in category_table(lexicon):
        writer.writerow([tax, cat, ";".join(words), f"{va.valence:.6f}", f"{va.arousal:.6f}"])
    return out.getvalue()


def shipped_table_text() -> str:
    """The packaged ``category_va.csv`` as text."""
    return resources.files("moodbridge.emotion").joinpath(*_TABLE_RESOURCE).read_text(encoding="utf-8")


def _load_shipped() -> dict[str, Taxonomy]:
    rows: dict[str, list[Category]] = {}
    for row in csv.DictReader(io.StringIO(shipped_table_text())):
        tax, cat = row["taxonomy"], row["category"]
        va = VA(float(row["valence"]), float(row["arousal"]))
        words = tuple(row["words"].split(";"))
        rows.setdefault(tax, []).append(Category(cat, va, words, _default_aliases(tax, cat)))
    taxonomies = {tax: Taxonomy(tax, tuple(cats), TAXONOMY_DESCRIPTIONS.get(tax, "")) for tax, cats in rows.items()}
    quads = tuple(Category(q.label, q.centre, (), (str(q.value),)) for q in Quadrant)
    taxonomies["quadrants"] = Taxonomy("quadrants", quads, TAXONOMY_DESCRIPTIONS["quadrants"])
    return taxonomies


#: The built-in taxonomies by name: ``"mikels"``, ``"cowen"``, ``"audioset"``, ``"quadrants"``.
TAXONOMIES: Mapping[str, Taxonomy] = _load_shipped()


def get_taxonomy(taxonomy: str | Taxonomy) -> Taxonomy:
    """A built-in taxonomy by name (case-insensitive); a :class:`Taxonomy` passes through.

    Raises
    ------
    InvalidValueError
        If the name is unknown; the message lists the known ones.
    """
    if isinstance(taxonomy, Taxonomy):
        return taxonomy
    try:
        return TAXONOMIES[str(taxonomy).strip().lower()]
    except KeyError:
        raise InvalidValueError(f"unknown taxonomy {taxonomy!r}; known: {', '.join(TAXONOMIES)}") from None


def category_va(taxonomy: str | Taxonomy, category: str) -> VA:
    """VA of a category of a taxonomy, e.g. ``category_va("mikels", "awe")``."""
    return get_taxonomy(taxonomy).va(category)


def distribution_to_va(
    probs: Mapping[str, float] | ArrayLike, taxonomy: str | Taxonomy
) -> VA | np.ndarray:
    """Probability-weighted average VA of a distribution over a taxonomy (EMID Sec. 3.1.3).

    See :meth:`Taxonomy.to_va`.
    """
    return get_taxonomy(taxonomy).to_va(probs)


def va_to_distribution(
    points: VALike, taxonomy: str | Taxonomy, *, temperature: float = DEFAULT_TEMPERATURE
) -> np.ndarray:
    """Soft distribution over a taxonomy for VA points; see :meth:`Taxonomy.distribution`."""
    return get_taxonomy(taxonomy).distribution(points, temperature=temperature)


def nearest_category(points: VALike, taxonomy: str | Taxonomy) -> str | list[str]:
    """Nearest category of a taxonomy for VA points; see :meth:`Taxonomy.nearest`."""
    return get_taxonomy(taxonomy).nearest(points)
