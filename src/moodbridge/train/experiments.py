"""Real cross-modal retrieval experiments (Emo-CLIM Sec. 5.1 protocol on the shared data sets).

Two experiments, both scored by quadrant with Emo-CLIM's macro P@1 / P@5 / MRR
(:mod:`moodbridge.evaluate.retrieval`) on held-out items of both modalities:

* ``fourq-eimg``: 4Q audio clips ↔ EIMG MIDI clips (quadrant labels; EIMG's
  mean VA converted with ``get_scale("eimg")``);
* ``naps-fourq``: NAPS images ↔ 4Q audio.  The photographs are not available,
  so an image is its norms: the MiniLM embedding of its description (in the
  ``image-va`` template) and the authors' physical descriptors, labelled with
  the quadrant (or, for the EIMG losses, the continuous VA) of its human rating.

Each seed draws a stratified held-out split of each set (:func:`split_pair`),
trains a joint space on the training parts (:func:`train_space`, presets in
:data:`CONFIGS`) and scores four directions (:func:`retrieval_directions`).
The no-training baseline (:func:`baseline_results`) ranks the other modality
by VA similarity of emotion-head predictions: the heads are refitted on the
training parts with the task modules' own recipes, or taken as shipped (fitted
on all items, so *leaky*).  Chance is a random ranking (:func:`chance_results`).

References
----------
S. Stewart et al., "Emotion-Aligned Contrastive Learning Between Images and
Music" (Emo-CLIM), ICASSP 2024, Sec. 4-5 and Tables 1, 5.
Y. Wang, M. Chen, X. Li, "Continuous Emotion-Based Image-to-Music Generation"
(EIMG), IEEE TMM 2023, Sec. IV-B.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.align.config import PRESETS, preset_config
from moodbridge.align import DEFAULT_VA_METRIC, AlignConfig, train_joint_space
from moodbridge.align.samplers import stratified_split
from moodbridge.emotion import (
    QUADRANT_CENTRES,
    get_scale,
    pairwise_similarity,
    quadrants,
)
from moodbridge.errors import InvalidValueError
from moodbridge.evaluate.retrieval import RetrievalResult, cosine_scores
from moodbridge.evaluate.retrieval import retrieval_directions as directions

__all__ = [
    "CONFIGS",
    "EXPERIMENTS",
    "HeldOut",
    "Modality",
    "RunConfig",
    "baseline_results",
    "chance_results",
    "embedding_results",
    "load_eimg",
    "load_experiment",
    "load_fourq",
    "load_naps",
    "retrieval_directions",
    "run_seed",
    "split_pair",
    "stacked_head_outputs",
    "summarise",
    "train_space",
]

#: held-out share of each class (stratified), per modality
TEST_FRACTION = 0.25
#: folds of the out-of-fold head outputs that feed the tuned configuration
STACK_FOLDS = 5
EXPERIMENTS = ("fourq-eimg", "naps-fourq")
QUADRANT_NAMES = ("Q1", "Q2", "Q3", "Q4")


# ----------------------------------------------------------------------------- data
@dataclass(frozen=True)
class Modality:
    """One data set as the experiments use it.

    Attributes
    ----------
    name
        Modality name in the joint space (``"audio"``, ``"midi"``, ``"image"``).
    features
        ``(N, d)`` encoder features for the projection head (the paper's inputs).
    head_features
        ``(N, k)`` inputs of the modality's emotion head (its task's recipe).
    quadrant
        ``(N,)`` Russell quadrant 0..3 (Q1..Q4), the retrieval label.
    va
        ``(N, 2)`` VA label in ``[-1, 1]``: the human rating, or the quadrant
        centre for 4Q (which has quadrant labels only).
    fit_head
        ``fit_head(X, quadrant, va, seed) -> predict(X) -> (N, m)`` outputs
        (4Q: quadrant log-probabilities; EIMG, NAPS: VA).
    outputs_to_va
        Maps those outputs to ``(N, 2)`` VA.
    shipped_va
        ``(N, 2)`` VA of the shipped head (fitted on all items: leaky on a held-out split).
    """

    name: str
    features: np.ndarray
    head_features: np.ndarray
    quadrant: np.ndarray
    va: np.ndarray
    fit_head: Callable[..., Callable[[np.ndarray], np.ndarray]]
    outputs_to_va: Callable[[np.ndarray], np.ndarray]
    shipped_va: np.ndarray


def _fit_audio_head(X: np.ndarray, y: np.ndarray, va: np.ndarray, seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """The ``audio-va`` recipe (:func:`moodbridge.train.tasks.fourq.fit_model`): log quadrant probabilities."""
    from moodbridge.train.tasks.fourq import fit_model

    model = fit_model(X, y, seed=seed)
    return lambda x: np.log(np.clip(model.predict(x), 1e-6, 1.0))


def _audio_va(log_probs: np.ndarray) -> np.ndarray:
    from moodbridge.affect.heads.audio import probabilities_to_va

    return probabilities_to_va(np.exp(log_probs))


def _fit_midi_head(X: np.ndarray, y: np.ndarray, va: np.ndarray, seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """The ``midi-va`` recipe (:func:`moodbridge.train.tasks.eimg.fit_model`): VA."""
    from moodbridge.train.tasks.eimg import fit_model

    return fit_model(X, va, seed=seed).predict


def _fit_image_head(X: np.ndarray, y: np.ndarray, va: np.ndarray, seed: int) -> Callable[[np.ndarray], np.ndarray]:
    """The ``image-va`` stacker (:func:`moodbridge.train.tasks.naps.stacker`) on [description text-VA, descriptors]."""
    from moodbridge.train.tasks.naps import stacker

    return stacker(X, va).predict


def _clipped(va: np.ndarray) -> np.ndarray:
    return np.clip(np.asarray(va, dtype=np.float64), -1.0, 1.0)


def load_fourq(data_dir: str | Path, *, progress: bool = False) -> Modality:
    """4Q audio: musicnn MSD+MTT ``features`` (400-d; the paper run) and the ``audio-va`` head's inputs."""
    from moodbridge.affect.heads.audio import ENCODERS, AudioVAHead, feature_matrix
    from moodbridge.train.features import encoder_outputs
    from moodbridge.train.tasks.fourq import CACHE_NAME, load_dataset

    paths, y, _ = load_dataset(data_dir)
    out = encoder_outputs(paths, ENCODERS, cache_name=CACHE_NAME, progress=progress)
    return Modality(
        name="audio",
        features=np.hstack([out[e]["features"] for e in ENCODERS]),
        head_features=feature_matrix(out),
        quadrant=y,
        va=QUADRANT_CENTRES[y],
        fit_head=_fit_audio_head,
        outputs_to_va=_audio_va,
        shipped_va=AudioVAHead().predict_va(out),
    )


def load_eimg(data_dir: str | Path, *, progress: bool = False) -> Modality:
    """EIMG MIDI: midi-stats ``features`` + ``key_correlations`` (76-d) and the ``midi-va`` head's inputs."""
    from moodbridge.affect.heads.midi import MIDI_ENCODERS, MidiVAHead, feature_matrix
    from moodbridge.train.features import encoder_outputs
    from moodbridge.train.tasks.eimg import load_labels

    paths, ratings = load_labels(data_dir)
    out = encoder_outputs(paths, MIDI_ENCODERS, cache_name="eimg", progress=progress)
    va = _clipped(get_scale("eimg").to_va(ratings))
    return Modality(
        name="midi",
        features=np.hstack([out["midi-stats"]["features"], out["midi-stats"]["key_correlations"]]),
        head_features=feature_matrix(out),
        quadrant=quadrants(va) - 1,
        va=va,
        fit_head=_fit_midi_head,
        outputs_to_va=_clipped,
        shipped_va=MidiVAHead().predict_va(out),
    )


def load_naps(data_dir: str | Path, *, progress: bool = False) -> Modality:
    """NAPS images as their norms: MiniLM(description) + physical descriptors; human VA (``get_scale("naps")``)."""
    from moodbridge.affect.heads.image import DESCRIPTORS, PHOTO_TEMPLATE, ImageVAHead
    from moodbridge.semantic.embeddings import embed_texts
    from moodbridge.train.tasks import naps

    data = naps.load_naps(data_dir)
    text = embed_texts(data["descriptions"], template=PHOTO_TEMPLATE, progress=progress)
    text_va = naps.description_va(data["descriptions"])
    D = data["descriptors"]
    shipped = ImageVAHead()
    used = [list(DESCRIPTORS).index(u) for u in shipped.meta["descriptors"]]
    va = _clipped(data["va"])
    return Modality(
        name="image",
        features=np.hstack([text, D]),
        head_features=np.hstack([text_va, D]),
        quadrant=quadrants(va) - 1,
        va=va,
        fit_head=_fit_image_head,
        outputs_to_va=_clipped,
        shipped_va=shipped.combine(text_va, D[:, used]),
    )


def load_experiment(name: str, data_root: str | Path, *, progress: bool = False) -> tuple[Modality, Modality]:
    """The two modalities of experiment ``name`` (:data:`EXPERIMENTS`), read from ``data_root`` (``../shared/data``)."""
    root = Path(data_root)
    if name == "fourq-eimg":
        return load_fourq(root / "4q", progress=progress), load_eimg(root / "eimg", progress=progress)
    if name == "naps-fourq":
        return load_naps(root / "naps", progress=progress), load_fourq(root / "4q", progress=progress)
    raise InvalidValueError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")


# ----------------------------------------------------------------------------- splits
@dataclass(frozen=True)
class HeldOut:
    """Train / test indices of both modalities for one seed."""

    train_a: np.ndarray
    test_a: np.ndarray
    train_b: np.ndarray
    test_b: np.ndarray


def split_pair(y_a: np.ndarray, y_b: np.ndarray, seed: int, *, fraction: float = TEST_FRACTION) -> HeldOut:
    """Stratified held-out ``fraction`` of each class of each modality (one RNG, modality a first).

    Seed 0 gives the split of ``tests/test_align.py::test_real_audio_midi_joint_space_beats_chance``.
    """
    rng = np.random.default_rng(seed)
    tr_a, te_a = stratified_split(np.asarray(y_a), fraction, rng, min_held=0, min_train=0)
    tr_b, te_b = stratified_split(np.asarray(y_b), fraction, rng, min_held=0, min_train=0)
    return HeldOut(tr_a, te_a, tr_b, te_b)


# ----------------------------------------------------------------------------- training
@dataclass(frozen=True)
class RunConfig:
    """A joint-space configuration of the experiments.

    Attributes
    ----------
    inputs
        ``"encoder"``: :attr:`Modality.features` (the paper's frozen-encoder
        inputs); ``"head-features"``: the emotion heads' inputs;
        ``"head-outputs"``: out-of-fold outputs of the emotion heads refitted
        on the training part (:func:`stacked_head_outputs`).
    align
        Trainer hyper-parameters (modalities, labels and seed are set per run).
    ensemble
        Models trained with seeds ``seed .. seed + ensemble - 1``; their
        L2-normalised embeddings are concatenated.
    """

    inputs: str = "encoder"
    align: AlignConfig = AlignConfig(progress=False)
    ensemble: int = 1


#: ``paper``: Emo-CLIM Sec. 4.4 on the encoder features; ``paper-head-features``: the same on the
#: emotion heads' inputs; ``tuned``: chosen by inner validation (docs/results.md)
CONFIGS: dict[str, RunConfig] = {
    name: RunConfig(inputs=p["inputs"], align=preset_config(name, progress=False), ensemble=int(p["ensemble"]))
    for name, p in PRESETS.items()
}


def stacked_head_outputs(m: Modality, train: np.ndarray, test: np.ndarray, *, seed: int = 0,
                         folds: int = STACK_FOLDS) -> tuple[np.ndarray, np.ndarray]:
    """Emotion-head outputs: out-of-fold on ``train`` (stratified ``folds``), from a fit on all of ``train`` for ``test``.

    Only the training part's labels are used, so the test items stay unseen.
    """
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    X, y = m.head_features, m.quadrant
    with threadpool_limits(limits=1):
        test_out = m.fit_head(X[train], y[train], m.va[train], seed)(X[test])
        train_out = np.zeros((len(train), test_out.shape[1]))
        for fit, held in StratifiedKFold(folds, shuffle=True, random_state=seed).split(train, y[train]):
            tr, te = train[fit], train[held]
            train_out[held] = m.fit_head(X[tr], y[tr], m.va[tr], seed)(X[te])
    return train_out, test_out


def _inputs(m: Modality, inputs: str, train: np.ndarray, test: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if inputs == "encoder":
        return m.features[train], m.features[test]
    if inputs == "head-features":
        return m.head_features[train], m.head_features[test]
    if inputs == "head-outputs":
        return stacked_head_outputs(m, train, test, seed=seed)
    raise InvalidValueError(f"unknown inputs {inputs!r}; expected 'encoder', 'head-features' or 'head-outputs'")


def train_space(a: Modality, b: Modality, split: HeldOut, config: RunConfig, *, seed: int = 0,
                labels: str = "quadrant") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train on the training parts and embed both parts.

    Parameters
    ----------
    labels
        ``"quadrant"`` (Emo-CLIM SupCon) or ``"va"`` (EIMG losses on :attr:`Modality.va`).

    Returns
    -------
    (z_train_a, z_test_a, z_train_b, z_test_b)
        Embeddings (concatenated over the ensemble).
    """
    if labels not in ("quadrant", "va"):
        raise InvalidValueError(f"labels must be 'quadrant' or 'va', got {labels!r}")
    xa_tr, xa_te = _inputs(a, config.inputs, split.train_a, split.test_a, seed)
    xb_tr, xb_te = _inputs(b, config.inputs, split.train_b, split.test_b, seed)
    ya = a.quadrant[split.train_a] if labels == "quadrant" else a.va[split.train_a]
    yb = b.quadrant[split.train_b] if labels == "quadrant" else b.va[split.train_b]
    parts: list[list[np.ndarray]] = [[], [], [], []]
    for k in range(config.ensemble):
        cfg = replace(config.align, modalities=(a.name, b.name), seed=seed + k,
                      labels="categorical" if labels == "quadrant" else "va")
        space, _ = train_joint_space(xa_tr, ya, xb_tr, yb, config=cfg)
        for part, (name, x) in zip(parts, ((a.name, xa_tr), (a.name, xa_te), (b.name, xb_tr), (b.name, xb_te))):
            part.append(space.embed(name, x))
    z = [np.hstack(p) for p in parts]
    return z[0], z[1], z[2], z[3]


# ----------------------------------------------------------------------------- evaluation
def _named(y: np.ndarray) -> np.ndarray:
    return np.array(QUADRANT_NAMES, dtype=object)[np.asarray(y)]


def retrieval_directions(names: tuple[str, str], scores: Callable[[str, str], np.ndarray],
                         labels: Mapping[str, np.ndarray]) -> dict[str, RetrievalResult]:
    """:func:`moodbridge.evaluate.retrieval.retrieval_directions` with quadrant numbers named ``Q1`` … ``Q4``."""
    return directions(names, scores, {m: _named(y) for m, y in labels.items()})


def embedding_results(names: tuple[str, str], z: Mapping[str, np.ndarray],
                      labels: Mapping[str, np.ndarray]) -> dict[str, RetrievalResult]:
    """:func:`retrieval_directions` of held-out embeddings ranked by cosine (Emo-CLIM Sec. 5.1)."""
    return retrieval_directions(names, lambda q, g: cosine_scores(z[q], z[g]), labels)


def baseline_results(a: Modality, b: Modality, split: HeldOut, *, seed: int = 0,
                     leaky: bool = False) -> dict[str, RetrievalResult]:
    """No-training baseline: rank by VA similarity (EIMG Eq. 1) of the emotion heads' predictions.

    ``leaky=False`` refits each head's recipe on the training part; ``leaky=True``
    uses the shipped heads, which saw the held-out items in training.
    """
    from threadpoolctl import threadpool_limits

    va = {}
    for m, tr, te in ((a, split.train_a, split.test_a), (b, split.train_b, split.test_b)):
        if leaky:
            va[m.name] = m.shipped_va[te]
        else:
            with threadpool_limits(limits=1):
                predict = m.fit_head(m.head_features[tr], m.quadrant[tr], m.va[tr], seed)
            va[m.name] = m.outputs_to_va(predict(m.head_features[te]))
    labels = {a.name: a.quadrant[split.test_a], b.name: b.quadrant[split.test_b]}
    return retrieval_directions(
        (a.name, b.name),
        lambda q, g: pairwise_similarity(va[q], va[g], metric=DEFAULT_VA_METRIC),
        labels,
    )


def chance_results(a: Modality, b: Modality, split: HeldOut, *, seed: int = 0) -> dict[str, RetrievalResult]:
    """A random ranking (uniform scores, seeded): the empirical chance level of every metric."""
    rng = np.random.default_rng(seed)
    labels = {a.name: a.quadrant[split.test_a], b.name: b.quadrant[split.test_b]}
    return retrieval_directions((a.name, b.name), lambda q, g: rng.random((len(labels[q]), len(labels[g]))), labels)


def summarise(runs: Sequence[Mapping[str, RetrievalResult]], metrics: Sequence[str] = ("p@1", "p@5", "mrr")
              ) -> dict[str, dict[str, tuple[float, float]]]:
    """``direction → metric → (mean, sd)`` of the macro metrics over seeds (sd with ddof=1; 0 for one run)."""
    if not runs:
        raise InvalidValueError("no runs to summarise")
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for direction in runs[0]:
        out[direction] = {}
        for k in metrics:
            v = np.array([r[direction].macro[k] for r in runs])
            out[direction][k] = (float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0)
    return out


def run_seed(a: Modality, b: Modality, seed: int, configs: Mapping[str, RunConfig], *,
             labels: str = "quadrant") -> dict[str, Any]:
    """All rows of one seed: ``{row name: {direction: RetrievalResult}}`` plus ``"_embeddings"`` of each config."""
    split = split_pair(a.quadrant, b.quadrant, seed)
    names = (a.name, b.name)
    test_labels = {a.name: a.quadrant[split.test_a], b.name: b.quadrant[split.test_b]}
    rows: dict[str, Any] = {
        "chance (random ranking)": chance_results(a, b, split, seed=seed),
        "baseline: heads + VA (refit)": baseline_results(a, b, split, seed=seed),
        "baseline: heads + VA (shipped, leaky)": baseline_results(a, b, split, seed=seed, leaky=True),
    }
    embeddings = {}
    for name, cfg in configs.items():
        za_tr, za_te, zb_tr, zb_te = train_space(a, b, split, cfg, seed=seed, labels=labels)
        rows[name] = embedding_results(names, {a.name: za_te, b.name: zb_te}, test_labels)
        embeddings[name] = {"train": {a.name: za_tr, b.name: zb_tr}, "test": {a.name: za_te, b.name: zb_te}}
    rows["_embeddings"] = embeddings
    rows["_split"] = split
    return rows
