"""Evaluation: emotion retrieval metrics (Emo-CLIM's macro P@k and MRR, per-class tables),
linear probes of embeddings (Emo-CLIM's tagging experiment) and joint-space plots (Emo-CLIM Fig. 2)."""
from moodbridge.evaluate.plots import joint_space_figure, plot_joint_space, project_2d
from moodbridge.evaluate.probe import ProbeResult, cross_validated_probe, linear_probe
from moodbridge.evaluate.retrieval import (
    DEFAULT_KS,
    RetrievalResult,
    cosine_scores,
    retrieval_metrics,
    retrieval_metrics_from_scores,
    retrieval_table,
)

__all__ = [
    "DEFAULT_KS",
    "ProbeResult",
    "RetrievalResult",
    "cosine_scores",
    "cross_validated_probe",
    "joint_space_figure",
    "linear_probe",
    "plot_joint_space",
    "project_2d",
    "retrieval_metrics",
    "retrieval_metrics_from_scores",
    "retrieval_table",
]
