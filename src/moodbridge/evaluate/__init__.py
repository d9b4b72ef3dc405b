"""Evaluation: emotion retrieval metrics (Emo-CLIM's macro P@k and MRR, per-class tables)."""
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
    "RetrievalResult",
    "cosine_scores",
    "retrieval_metrics",
    "retrieval_metrics_from_scores",
    "retrieval_table",
]
