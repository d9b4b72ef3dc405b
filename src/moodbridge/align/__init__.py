"""Learned emotion-aligned joint spaces: projection heads, contrastive losses, samplers, trainer.

Emo-CLIM (Stewart et al., ICASSP 2024) trains a projection head per modality
on frozen encoder features with supervised contrastive losses on emotion
classes; EIMG (Wang, Chen, Li, IEEE TMM 2023) does the same with continuous
valence-arousal labels, using top-n / bottom-n VA-similarity sets.  Both are
here, for any two modalities.
"""
from moodbridge.align.heads import DEFAULT_DROPOUT, DEFAULT_EMBED_DIM, DEFAULT_HIDDEN_DIM, ProjectionHead
from moodbridge.align.losses import (
    DEFAULT_LAMBDAS,
    DEFAULT_N,
    DEFAULT_TAU,
    DEFAULT_VA_METRIC,
    cross_modal_supcon,
    eimg_loss,
    eimg_terms,
    emo_clim_loss,
    emo_clim_terms,
    inter_modal_va_contrastive,
    intra_modal_supcon,
    intra_modal_va_contrastive,
    va_rank_sets,
)
from moodbridge.align.samplers import ClassBalancedPairSampler, QuadrantBalancedPairSampler
from moodbridge.align.config import AlignConfig, History
from moodbridge.align.space import JointSpace
from moodbridge.align.trainer import train_joint_space

__all__ = [
    "DEFAULT_DROPOUT",
    "DEFAULT_EMBED_DIM",
    "DEFAULT_HIDDEN_DIM",
    "DEFAULT_LAMBDAS",
    "DEFAULT_N",
    "DEFAULT_TAU",
    "DEFAULT_VA_METRIC",
    "AlignConfig",
    "ClassBalancedPairSampler",
    "History",
    "JointSpace",
    "ProjectionHead",
    "QuadrantBalancedPairSampler",
    "cross_modal_supcon",
    "eimg_loss",
    "eimg_terms",
    "emo_clim_loss",
    "emo_clim_terms",
    "inter_modal_va_contrastive",
    "intra_modal_supcon",
    "intra_modal_va_contrastive",
    "train_joint_space",
    "va_rank_sets",
]
