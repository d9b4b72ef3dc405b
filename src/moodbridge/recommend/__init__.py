"""EMID's "EMI-Adapter" recommenders: clips as users, images as items, pairs as implicit feedback.

Models (:data:`MODELS`): NeuMF (He et al. 2017; EMID's "NCF"), BMF and SVD++
(Koren 2008), BPR-MF (Rendle et al. 2009; the tuned baseline of Rendle et al.
2020) and content towers over features + VA (scores unseen clips and images).
Protocol: leave-one-out per clip (:mod:`.split`), full-catalogue HR@10 /
NDCG@10 as the headline and EMID's sampled-99 as the secondary figure
(:mod:`.evaluate`; Krichene & Rendle 2020 on why sampled metrics flatter),
explicit tie handling (:mod:`.metrics`).  See ``docs/recommend.md``.
"""
from moodbridge.recommend.content import ContentTowers, SideInfo, side_info
from moodbridge.recommend.data import PAIRS_COLUMNS, Interactions, interactions_from_pairs, read_pairs
from moodbridge.recommend.evaluate import (
    BASELINES,
    EvalResult,
    PopularityBaseline,
    RandomBaseline,
    evaluate,
    evaluate_full,
    evaluate_sampled,
)
from moodbridge.recommend.metrics import hit_rate, ndcg, rank_counts
from moodbridge.recommend.models import BPRMF, BiasedMF, NeuMF, Recommender, SVDpp
from moodbridge.recommend.persist import load_recommender, save_recommender
from moodbridge.recommend.plots import plot_training_curves
from moodbridge.recommend.recommender import FittedRecommender, fit
from moodbridge.recommend.registry import MODELS, build_model, model_class
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
    "ContentTowers",
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
    "rank_counts",
    "read_pairs",
    "save_negatives",
    "save_recommender",
    "save_split",
    "side_info",
    "train",
    "validation_split",
]
