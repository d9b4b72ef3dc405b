"""EMID's "EMI-Adapter" recommenders: clips as users, images as items, pairs as implicit feedback.

Models (:data:`MODELS`, a :class:`moodbridge.registry.Registry`): ``ncf``
(NeuMF, He et al. 2017; EMID's "NCF"), ``bmf`` and ``svdpp`` (Koren 2008) and
``mf`` (BPR-MF, Rendle et al. 2009; the tuned baseline of Rendle et al. 2020),
each with a content-aware option (factors plus a tower over features + VA:
scores unseen clips and images).  :mod:`.adapter` binds a trained model to a
library (features, emotion, catalogue checks) for the jobs, ``search`` and ``pair``.
Protocol: leave-one-out per clip (:mod:`.split`), full-catalogue HR@10 /
NDCG@10 as the headline and EMID's sampled-99 as the secondary figure
(:mod:`.evaluate`; Krichene & Rendle 2020 on why sampled metrics flatter),
explicit tie handling (:mod:`.metrics`).  See ``docs/recommend.md``.
"""
from moodbridge.recommend.content import SideInfo, side_info
from moodbridge.recommend.data import PAIRS_COLUMNS, Interactions, interactions_from_pairs, read_pairs
from moodbridge.recommend.evaluate import (
    EvalResult,
    PopularityBaseline,
    RandomBaseline,
    evaluate,
    evaluate_full,
    evaluate_sampled,
)
from moodbridge.recommend.metrics import hit_rate, ndcg, rank_counts
from moodbridge.recommend.models import BPRMF, BiasedMF, ContentOptions, NeuMF, Recommender, SVDpp
from moodbridge.recommend.persist import load_recommender, read_manifest, save_recommender
from moodbridge.recommend.plots import plot_training_curves
from moodbridge.recommend.recommender import FittedRecommender, fit
from moodbridge.recommend.registry import BASELINES, MODELS, build_model, model_class
from moodbridge.recommend.sampling import (
    EvalNegatives,
    NegativeSampler,
    evaluation_negatives,
    load_negatives,
    save_negatives,
)
from moodbridge.recommend.split import Split, leave_one_out, load_split, save_split, validation_split
from moodbridge.recommend.train import History, train

__all__ = [
    "BASELINES",
    "BPRMF",
    "MODELS",
    "PAIRS_COLUMNS",
    "BiasedMF",
    "ContentOptions",
    "EvalNegatives",
    "EvalResult",
    "FittedRecommender",
    "History",
    "Interactions",
    "NegativeSampler",
    "NeuMF",
    "PopularityBaseline",
    "RandomBaseline",
    "Recommender",
    "SVDpp",
    "SideInfo",
    "Split",
    "build_model",
    "evaluate",
    "evaluate_full",
    "evaluate_sampled",
    "evaluation_negatives",
    "fit",
    "hit_rate",
    "interactions_from_pairs",
    "leave_one_out",
    "load_negatives",
    "load_recommender",
    "load_split",
    "model_class",
    "ndcg",
    "plot_training_curves",
    "read_manifest",
    "rank_counts",
    "read_pairs",
    "save_negatives",
    "save_recommender",
    "save_split",
    "side_info",
    "train",
    "validation_split",
]
