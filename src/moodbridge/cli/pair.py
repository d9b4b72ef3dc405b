"""Command ``pair``: EMID-style music-image pairs of a library, written to a folder (job :mod:`moodbridge.jobs.pair`)."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from moodbridge.cli._common import AddressOpt, EngineName, EngineOpt, JsonOpt, LibArg, QuietOpt, echo_json, friendly_errors

# light modules: moodbridge.pairing loads torch only when its scoring names are used
from moodbridge.pairing.defaults import DEFAULT_ALPHA, DEFAULT_K, DEFAULT_M
from moodbridge.pairing.filters import FilterSettings

#: the filters' defaults, shown in the help (annotations are evaluated at module level)
_FILTERS = FilterSettings()
_EXCLUDED = ", ".join(_FILTERS.excluded_categories)

class Metric(str, Enum):
    cosine = "cosine"
    inverse_euclidean = "inverse-euclidean"


class Normalisation(str, Enum):
    minmax = "minmax"
    zscore = "zscore"
    none = "none"


@friendly_errors
def pair(
    lib: LibArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for pairs.csv, pairs.parquet, dataset.json and report.html.")],
    alpha: Annotated[float, typer.Option(help="Weight of semantics in T = alpha S' + (1 - alpha) E' (EMID: 0.6).")] = DEFAULT_ALPHA,
    k: Annotated[int, typer.Option("--k", "-k", help="Candidate images per clip, by semantic similarity (EMID: 100).")] = DEFAULT_K,
    m: Annotated[int, typer.Option("--m", "-m", help="Images kept per clip (EMID: 3).")] = DEFAULT_M,
    metric: Annotated[Metric, typer.Option(help="Emotional similarity in valence-arousal space.")] = Metric.cosine,
    normalisation: Annotated[Normalisation, typer.Option(help="Per-clip normalisation of S and E over the K candidates.")] = Normalisation.minmax,
    clamp_k: Annotated[bool, typer.Option("--clamp-k", help="If K exceeds the number of images, use all images.")] = False,
    no_report: Annotated[bool, typer.Option("--no-report", help="Do not write report.html (saves the alpha = 1 pairing).")] = False,
    report_clips: Annotated[int, typer.Option(help="Clips shown on the report's contact sheet (the first ones).")] = 200,
    filters: Annotated[Optional[list[str]], typer.Option("--filter", help="Run only this EMID data filter (repeatable): duration, category, brightness, text, stage. Default: all but category, plus category when images have category labels.")] = None,
    no_filter: Annotated[bool, typer.Option("--no-filter", help="Run no filter: pair every clip and image.")] = False,
    min_duration: Annotated[Optional[float], typer.Option(help=f"duration filter: shortest clip kept, s (default {_FILTERS.min_duration_s:g}, as EMID).")] = None,
    min_brightness: Annotated[Optional[float], typer.Option(help=f"brightness filter: lowest mean grey level kept, 0-255 (default {_FILTERS.min_brightness:g}).")] = None,
    min_brightness_sd: Annotated[Optional[float], typer.Option(help=f"brightness filter: lowest SD of the grey levels kept (default {_FILTERS.min_brightness_sd:g}).")] = None,
    text_threshold: Annotated[Optional[float], typer.Option(help=f"text filter: summed probability of text-like classes that drops an image (default {_FILTERS.text_threshold:g}).")] = None,
    stage_threshold: Annotated[Optional[float], typer.Option(help=f"stage filter: summed probability of stage classes that drops an image (default {_FILTERS.stage_threshold:g}).")] = None,
    exclude_category: Annotated[Optional[list[str]], typer.Option(help=f"category filter: category label excluded (repeatable) (default: {_EXCLUDED}, as EMID).")] = None,
    space: Annotated[str, typer.Option(help="Where S is measured: 'bridge' (offline semantic bridge, centred), 'bridge-raw', or 'joint:NAME' (a space from 'align train').")] = "bridge",
    scorer: Annotated[Optional[str], typer.Option(help="adapter:DIR: a recommender from 'recommend train' whose scores replace S (the K candidates and S; E and alpha as usual).")] = None,
    engine: EngineOpt = EngineName.local,
    address: AddressOpt = None,
    image_shards: Annotated[Optional[int], typer.Option("--image-shards", min=1, help="Split the images into this many shards, each searched by its own tasks, partial top-K lists merged (same pairs). Default: 1, or with --engine ray as many as keep each shard's embeddings under 2 GiB.")] = None,
    quiet: QuietOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Pair each music clip of a library with its best images (semantics + emotion)."""
    from moodbridge.errors import InvalidValueError
    from moodbridge.jobs.pair import run_pair
    from moodbridge.library.spaces import parse_space
    from moodbridge.pairing.filters import filter_settings
    if no_filter and filters:
        raise InvalidValueError("--no-filter and --filter contradict each other; use one")
    settings = filter_settings(min_duration_s=min_duration, min_brightness=min_brightness,
                               min_brightness_sd=min_brightness_sd, text_threshold=text_threshold,
                               stage_threshold=stage_threshold,
                               excluded_categories=tuple(exclude_category) if exclude_category else None)
    parsed = parse_space(space)
    job = run_pair(lib, out, report=not no_report, report_clips=report_clips, progress=not quiet and not as_json,
                   alpha=alpha, k=k, m=m, metric=metric.value, normalisation=normalisation.value,
                   clamp_k=clamp_k, filters=[] if no_filter else (filters or None),
                   filter_settings=settings, space=parsed if parsed.startswith("bridge") else f"joint:{parsed}",
                   scorer=scorer, engine=engine.value, address=address, image_shards=image_shards)
    table, paths = job.table, job.files
    assert table is not None
    if as_json:
        echo_json({"clips": len(table.music), "images": len(table.images), "pairs": len(table), "k": table.k,
                   "m": m, "alpha": alpha, "metric": metric.value, "filters": [r.to_dict() for r in table.filters],
                   "va_sources": table.source_counts(), "space": table.params["space_description"],
                   "files": {k: str(v) for k, v in paths.items()}})
        return
    for report in table.filters:
        typer.echo(report.summary())
    note = f" (k clamped from {k})" if table.k != k else ""
    typer.echo(f"paired {len(table.music)} clip(s) with {len(table.images)} image(s): "
               f"{len(table)} pair(s), k = {table.k}{note}, m = {m}, alpha = {alpha:g}, metric = {metric.value}")
    sources = table.source_counts()
    for what in ("music", "images"):
        typer.echo(f"  {what} VA from: " + ", ".join(f"{n} {s}" for s, n in sorted(sources[what].items())))
    typer.echo(f"semantic similarity S: {table.params['space_description']}")
    typer.echo(f"wrote {paths['csv']}, {paths['parquet'].name}, {paths['json'].name}")
    if "report" in paths:
        typer.echo(f"wrote {paths['report']}")


def register(app: typer.Typer) -> None:
    """Add the ``pair`` command to ``app``."""
    app.command("pair")(pair)
