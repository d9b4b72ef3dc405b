"""Scores of valence-arousal regressions, the same keys for every task (Pearson r and MAE per axis)."""
from __future__ import annotations

import numpy as np

__all__ = ["pearson", "va_metrics"]


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two vectors (0.0 when either is constant)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.std() < 1e-12 or b.std() < 1e-12:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def va_metrics(true_va: np.ndarray, pred_va: np.ndarray, *, prefix: str = "") -> dict[str, float]:
    """``{prefix}valence_r``, ``arousal_r``, ``valence_mae``, ``arousal_mae`` on the project's [-1, 1] scale."""
    t, p = np.asarray(true_va, dtype=np.float64), np.asarray(pred_va, dtype=np.float64)
    out = {}
    for j, axis in enumerate(("valence", "arousal")):
        out[f"{prefix}{axis}_r"] = pearson(t[:, j], p[:, j])
        out[f"{prefix}{axis}_mae"] = float(np.mean(np.abs(t[:, j] - p[:, j])))
    return out
