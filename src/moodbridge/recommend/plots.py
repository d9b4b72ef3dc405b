"""Training curves like EMID's Figure 4: loss, HR@K and NDCG@K per epoch, one line per model."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from moodbridge.errors import InvalidValueError
from moodbridge.fileio import atomic_path
from moodbridge.recommend.train import History

__all__ = ["plot_training_curves"]

DPI = 100


def plot_training_curves(histories: Mapping[str, History], path: str | Path, *, k: int = 10,
                         title: str | None = None) -> Path:
    """Write a PNG with three panels — training loss, HR@K, NDCG@K against the epoch (EMID Fig. 4).

    Full-ranking metrics are solid lines, sampled ones dashed (same colour per model, named in
    the loss panel's legend); the loss axis is logarithmic.

    Raises
    ------
    InvalidValueError
        If no history has any epoch, or the file cannot be written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not histories or not any(h.epoch for h in histories.values()):
        raise InvalidValueError(f"{path}: nothing to plot (no training epochs recorded)")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for n, (name, h) in enumerate(histories.items()):
        colour = f"C{n % 10}"
        axes[0].plot(h.epoch, h.loss, color=colour, label=name)
        for ax, metric in ((axes[1], f"hr@{k}"), (axes[2], f"ndcg@{k}")):
            for protocol, style in (("full", "-"), ("sampled", "--")):
                values = next((v for key, v in h.metrics.items() if key.startswith(protocol) and key.endswith(metric)), None)
                if values:
                    ax.plot(h.eval_epoch, values, style, color=colour, label=f"{name} ({protocol})")
    for ax, label in zip(axes, ("training loss", f"HR@{k}", f"NDCG@{k}")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")  # a content model's early spike would flatten the others
    axes[0].legend(fontsize=8)
    fig.suptitle(title or "training curves (solid: full ranking, dashed: sampled)")
    fig.tight_layout()
    try:
        with atomic_path(path, what="plot") as tmp:
            fig.savefig(tmp, format="png", dpi=DPI)
    finally:
        plt.close(fig)
    return Path(path)
