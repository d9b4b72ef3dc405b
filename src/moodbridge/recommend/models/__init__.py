"""ID-based recommenders, each with a content-aware option: NeuMF (He et al. 2017), BMF and SVD++ (Koren 2008), BPR-MF (Rendle et al. 2009)."""
from moodbridge.recommend.models.base import ContentOptions, DotProductModel, Recommender
from moodbridge.recommend.models.bmf import BiasedMF
from moodbridge.recommend.models.mf import BPRMF
from moodbridge.recommend.models.neumf import NeuMF
from moodbridge.recommend.models.svdpp import SVDpp
from moodbridge.recommend.registry import MODELS

__all__ = ["BPRMF", "BiasedMF", "ContentOptions", "DotProductModel", "NeuMF", "Recommender", "SVDpp"]

for _cls in (NeuMF, BiasedMF, SVDpp, BPRMF):
    MODELS.register(_cls.name, _cls)
