"""ID-based recommenders: NeuMF (He et al. 2017), BMF and SVD++ (Koren 2008), BPR-MF (Rendle et al. 2009)."""
from moodbridge.recommend.models.base import DotProductModel, Recommender
from moodbridge.recommend.models.bmf import BiasedMF
from moodbridge.recommend.models.mf import BPRMF
from moodbridge.recommend.models.neumf import NeuMF
from moodbridge.recommend.models.svdpp import SVDpp

__all__ = ["BPRMF", "BiasedMF", "DotProductModel", "NeuMF", "Recommender", "SVDpp"]
