"""Job ``pair``: filter, pair (with the α = 1 baseline), write the files and the report (EMID Sec. 3.1-3.2).

Used by the ``pair`` command and by the demo.  The pairing runs with a
checkpoint folder inside the output folder (``.pairing-checkpoint``), so an
interrupted job resumes where it stopped when run again with the same
inputs; the folder is removed once every output file is written.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from moodbridge.jobs.base import JobResult, LibraryLike, using_library

if TYPE_CHECKING:
    from moodbridge.pairing.dataset import PairTable

__all__ = ["CHECKPOINT_DIR", "PairResult", "run_pair"]

#: Checkpoint folder of an unfinished pairing, inside the output folder.
CHECKPOINT_DIR = ".pairing-checkpoint"


@dataclass
class PairResult(JobResult):
    """What :func:`run_pair` produced.

    Attributes
    ----------
    table
        The pairing at the chosen α (``table.semantic_only``: α = 1, when the report needed it).
    files
        ``{"csv", "parquet", "json"}`` and, when written, ``"report"`` paths.
    """

    table: "PairTable | None" = None


def run_pair(
    library: LibraryLike,
    out_dir: str | Path,
    *,
    report: bool = True,
    report_clips: int | None = 200,
    progress: bool = True,
    engine: str = "local",
    address: str | None = None,
    **pair_options: Any,
) -> PairResult:
    """Pair a library (EMID Sec. 3.1-3.2) and write pairs.csv, pairs.parquet, dataset.json and report.html.

    Parameters
    ----------
    library
        An open library or its folder.
    out_dir
        The output folder (created).
    report
        Also write ``report.html`` (then the α = 1 pairing of EMID Fig. 5 is
        computed from the same candidates).
    report_clips
        Clips shown on the report's contact sheet.
    progress
        Progress bars (pairing shards, report thumbnails).
    engine, address
        ``"local"`` or ``"ray"``: where the pairing's shards of clips run (the cluster at
        ``address``, ``RAY_ADDRESS`` or a new local one); the pairs are the same.
        The image shards (``image_shards`` in ``pair_options``) are chosen
        automatically on the ``ray`` engine (:mod:`moodbridge.pairing.sharded`).
    **pair_options
        :func:`moodbridge.pairing.dataset.build_pairs` keywords (alpha, k, m,
        metric, normalisation, clamp_k, filters, filter_settings, space, image_shards).
    """
    from moodbridge.engine import get_engine
    from moodbridge.fileio import output_folder
    from moodbridge.pairing.dataset import build_pairs, write_outputs
    from moodbridge.pairing.defaults import DEFAULT_ALPHA

    out = output_folder(out_dir, what="pair files")
    alpha = float(pair_options.get("alpha", DEFAULT_ALPHA))
    checkpoint = out / CHECKPOINT_DIR
    runner = None if engine == "local" else get_engine(engine, address=address)
    with using_library(library) as lib:
        table = build_pairs(lib, semantic_baseline=report and alpha != 1.0, checkpoint=checkpoint,
                            progress=progress, engine=runner, **pair_options)
    files = dict(write_outputs(table, out))
    if report:
        from moodbridge.pairing.report import write_report

        files["report"] = write_report(table, table.semantic_only, out, max_clips=report_clips, progress=progress)
    shutil.rmtree(checkpoint, ignore_errors=True)
    return PairResult(files=files, table=table)
