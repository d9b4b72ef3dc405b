"""``moodbridge pair``: EMID-style music-image pairs of a library, written to a folder.

Registered on the main app by :func:`register` (``moodbridge.cli`` calls it).
"""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer


class Metric(str, Enum):
    cosine = "cosine"
    inverse_euclidean = "inverse-euclidean"


class Normalisation(str, Enum):
    minmax = "minmax"
    zscore = "zscore"
    none = "none"


def register(app: typer.Typer) -> None:
    """Add the ``pair`` command to ``app``."""
    from moodbridge.cli import friendly_errors

    @app.command("pair")
    @friendly_errors
    def pair_cmd(
        lib: Annotated[Path, typer.Argument(help="The library folder.")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Folder for pairs.csv, pairs.parquet and dataset.json.")],
        alpha: Annotated[float, typer.Option(help="Weight of semantics in T = alpha S' + (1 - alpha) E' (EMID: 0.6).")] = 0.6,
        k: Annotated[int, typer.Option("--k", "-k", help="Candidate images per clip, by semantic similarity (EMID: 100).")] = 100,
        m: Annotated[int, typer.Option("--m", "-m", help="Images kept per clip (EMID: 3).")] = 3,
        metric: Annotated[Metric, typer.Option(help="Emotional similarity in valence-arousal space.")] = Metric.cosine,
        normalisation: Annotated[Normalisation, typer.Option(help="Per-clip normalisation of S and E over the K candidates.")] = Normalisation.minmax,
        clamp_k: Annotated[bool, typer.Option("--clamp-k", help="If K exceeds the number of images, use all images.")] = False,
    ) -> None:
        """Pair each music clip of a library with its best images (semantics + emotion)."""
        from moodbridge.library import Library
        from moodbridge.pairing.dataset import build_pairs, write_outputs

        with Library.open(lib) as library:
            table = build_pairs(library, alpha=alpha, k=k, m=m, metric=metric.value,
                                normalisation=normalisation.value, clamp_k=clamp_k)
        paths = write_outputs(table, out)
        note = f" (k clamped from {k})" if table.k != k else ""
        typer.echo(f"paired {len(table.music)} clip(s) with {len(table.images)} image(s): "
                   f"{len(table)} pair(s), k = {table.k}{note}, m = {m}, alpha = {alpha:g}, metric = {metric.value}")
        sources = table.source_counts()
        for what in ("music", "images"):
            typer.echo(f"  {what} VA from: " + ", ".join(f"{n} {s}" for s, n in sorted(sources[what].items())))
        typer.echo(f"wrote {paths['csv']}, {paths['parquet'].name}, {paths['json'].name}")
