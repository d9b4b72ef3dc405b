"""The whole ``moodbridge pair`` job: filter, pair (with the α = 1 baseline), write the files and the report.

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

if TYPE_CHECKING:
    from moodbridge.library import Library
    from moodbridge.pairing.dataset import PairTable

#: Checkpoint folder of an unfinished pairing, inside the output folder.
CHECKPOINT_DIR = ".pairing-checkpoint"


@dataclass
class PairJob:
    """What :func:`run_pair_job` produced.

    Attributes
    ----------
    table
        The pairing at the chosen α (``table.semantic_only``: α = 1, when the report needed it).
    files
        ``{"csv", "parquet", "json"}`` and, when written, ``"report"`` paths.
    """

    table: "PairTable"
    files: dict[str, Path]


def run_pair_job(
    library: "Library",
    out_dir: str | Path,
    *,
    report: bool = True,
    report_clips: int | None = 200,
    progress: bool = True,
    **pair_options: Any,
) -> PairJob:
    """Pair a library (EMID Sec. 3.1-3.2) and write pairs.csv, pairs.parquet, dataset.json and report.html.

    Parameters
    ----------
    library
        An open library.
    out_dir
        The output folder (created).
    report
        Also write ``report.html`` (then the α = 1 pairing of EMID Fig. 5 is
        computed from the same candidates).
    report_clips
        Clips shown on the report's contact sheet.
    progress
        Progress bars (pairing shards, report thumbnails).
    **pair_options
        :func:`moodbridge.pairing.dataset.build_pairs` keywords (alpha, k, m,
        metric, normalisation, clamp_k, filters, filter_settings, space).
    """
    from moodbridge.fileio import output_folder
    from moodbridge.pairing.dataset import build_pairs, write_outputs
    from moodbridge.pairing.defaults import DEFAULT_ALPHA

    out = output_folder(out_dir, what="pair files")
    alpha = float(pair_options.get("alpha", DEFAULT_ALPHA))
    checkpoint = out / CHECKPOINT_DIR
    table = build_pairs(library, semantic_baseline=report and alpha != 1.0, checkpoint=checkpoint,
                        progress=progress, **pair_options)
    files = dict(write_outputs(table, out))
    if report:
        from moodbridge.pairing.report import write_report

        files["report"] = write_report(table, table.semantic_only, out, max_clips=report_clips, progress=progress)
    shutil.rmtree(checkpoint, ignore_errors=True)
    return PairJob(table=table, files=files)
