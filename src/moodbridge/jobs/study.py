"""Jobs of the matching study (EMID Sec. 4.1): create it, run it (the web app's participant flow), report, export.

``create_study`` reads one or two ``moodbridge pair`` outputs (``dataset.json``
names the library, ``pairs.csv`` the pairs), builds the trials
(:mod:`moodbridge.study.design`), cuts the audio excerpts
(:mod:`moodbridge.study.stimuli`) and writes the study folder whole.
:class:`StudySession` is what the web app and the report use: the study and
its answer store in the library's SQLite (:mod:`moodbridge.study.store`).
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from moodbridge.errors import InvalidValueError, LibraryError
from moodbridge.fileio import atomic_folder, output_folder, read_csv_frame, write_json_atomic, write_text_atomic
from moodbridge.jobs.base import JobResult
from moodbridge.library import Library
from moodbridge.study.design import DIRECTIONS, STUDY_JSON, Study, build_trials, load_study, pair_groups
from moodbridge.study.report import StudyReport, answers_csv, build_report, write_plots
from moodbridge.study.stimuli import stimulus_path, write_excerpts
from moodbridge.study.store import StudyStore
from moodbridge.validate import fraction

__all__ = ["StudyResult", "StudySession", "StudyReportResult", "create_study", "export_answers", "report_study"]

REPORT_DIR = "report"


@dataclass
class StudyResult(JobResult):
    """The study written by :func:`create_study`."""

    study: Study | None = None

    def to_dict(self) -> dict[str, Any]:
        s = self.study
        assert s is not None
        counts: dict[str, int] = {}
        for t in s.trials:
            key = "catch" if t.is_catch else f"{t.condition} / {t.direction}"
            counts[key] = counts.get(key, 0) + 1
        return {"study": str(s.root), "id": s.id, "library": str(s.library), "trials": len(s.trials),
                "by_group": counts, "parameters": s.params, "files": {k: str(v) for k, v in self.files.items()}}


def _read_pairs(folder: str | Path) -> tuple[Path, Any, dict[str, Any]]:
    folder = Path(folder).expanduser().resolve()
    meta_path, csv_path = folder / "dataset.json", folder / "pairs.csv"
    if not meta_path.is_file() or not csv_path.is_file():
        raise LibraryError(f"{folder}: not a 'moodbridge pair' output (needs dataset.json and pairs.csv)")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    return Path(meta["library"]), read_csv_frame(csv_path), meta.get("parameters", {})


def create_study(
    pairs: str | Path,
    out: str | Path,
    *,
    baseline_pairs: str | Path | None = None,
    direction: str = "both",
    trials_per_category: int = 7,
    catch_trials: int = 2,
    clip_seconds: float = 10.0,
    catch_pass: float = 1.0,
    seed: int = 0,
) -> StudyResult:
    """Build a study folder from a pairing (and its α = 1 baseline).

    Parameters
    ----------
    pairs
        A ``moodbridge pair`` output folder: the ``aligned`` condition.
    out
        The study folder (created; an existing study is never overwritten).
    baseline_pairs
        A pair output made with ``--alpha 1`` from the same library: the ``baseline`` condition (EMID's ablation).
    direction
        ``music-to-image``, ``image-to-music`` or ``both``.
    trials_per_category
        Clips per music emotion category (EMID: 7 of each of 13).
    catch_trials
        Attention checks (the identical image among the options).
    clip_seconds
        Length of each audio excerpt.
    catch_pass
        Share of catch trials a participant must pass to be kept in the report.
    seed
        Seed of the trial set (each participant's order has its own stored seed).

    Raises
    ------
    InvalidValueError
        A bad direction, too few categories or images, or ``out`` already holding something.
    LibraryError
        A folder that is not a pair output, or pairings of different libraries.
    """
    if direction not in (*DIRECTIONS, "both"):
        raise InvalidValueError(f"direction must be music-to-image, image-to-music or both, got {direction!r}")
    if not (0.2 <= float(clip_seconds) <= 120):
        raise InvalidValueError(f"clip seconds must be between 0.2 and 120, got {clip_seconds!r}")
    if isinstance(catch_trials, bool) or not isinstance(catch_trials, int) or catch_trials < 0:
        raise InvalidValueError(f"catch trials must be a whole number >= 0, got {catch_trials!r}")
    catch_pass = fraction(catch_pass, "catch pass share", high_open=False)
    directions = DIRECTIONS if direction == "both" else (direction,)
    lib_path, frame, params = _read_pairs(pairs)
    tables = {"aligned": frame}
    alphas = {"aligned": params.get("alpha")}
    if baseline_pairs is not None:
        base_lib, base_frame, base_params = _read_pairs(baseline_pairs)
        if base_lib.resolve() != lib_path.resolve():
            raise LibraryError(f"the baseline pairs come from {base_lib}, the pairs from {lib_path}: use one library")
        tables["baseline"], alphas["baseline"] = base_frame, base_params.get("alpha")
    target = Path(out).expanduser().resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidValueError(f"{target}: exists and is not empty; a study folder is never overwritten")
    from moodbridge.library.emotion import category_label, item_emotions

    with Library.open(lib_path) as lib:
        items = lib.items()
        path_to_id = {it.path: it.id for it in items}
        conditions = {name: pair_groups(f, path_to_id) for name, f in tables.items()}
        music = [it for it in items if it.modality == "audio"]
        categories = {}
        for it, emo in zip(music, item_emotions(lib, music)):
            cat = category_label(it)
            categories[it.id] = cat[1] if cat else (emo.quadrant.label if emo else "unknown")
        trials = build_trials(conditions, categories, directions=directions, per_category=trials_per_category,
                              catch_trials=catch_trials, seed=seed)
        by_id = {it.id: it for it in items}
        clips = sorted({i for t in trials for i in t.audio_items()})
        study_params = {"direction": direction, "trials_per_category": trials_per_category,
                        "catch_trials": catch_trials, "clip_seconds": float(clip_seconds), "catch_pass": catch_pass,
                        "seed": seed, "pairs": str(Path(pairs).resolve()), "alphas": alphas,
                        "baseline_pairs": None if baseline_pairs is None else str(Path(baseline_pairs).resolve())}
        with atomic_folder(target, what="study folder", replace_if=lambda p: not any(p.iterdir())) as tmp:
            write_excerpts(tmp, [(i, by_id[i].path) for i in clips], seconds=float(clip_seconds))
            study = Study(root=tmp, id=f"{target.name[:24]}-{secrets.token_hex(4)}", library=lib.root,
                          trials=trials, params=study_params, secret=secrets.token_hex(16))
            study.save()
    study.root = target
    return StudyResult(files={"study": target / STUDY_JSON}, study=study)


class StudySession:
    """An open study and its answer store (the library's catalogue), shared by the web app's threads."""

    def __init__(self, study_dir: str | Path, library: str | Path | None = None) -> None:
        self.study = load_study(study_dir)
        lib_root = Path(library).expanduser().resolve() if library is not None else self.study.library
        if library is not None and lib_root != self.study.library.resolve():
            raise LibraryError(f"the study {self.study.root} was made from {self.study.library}, not {lib_root}")
        with Library.open(lib_root) as lib:
            catalogue = lib.catalogue.path
        self.store = StudyStore(catalogue, self.study)

    def stimulus(self, item_id: int) -> Path | None:
        """The excerpt of a clip the study uses, or ``None``."""
        used = {i for t in self.study.trials for i in t.audio_items()}
        path = stimulus_path(self.study.root, item_id)
        return path if item_id in used and path.is_file() else None

    def image_ids(self) -> set[int]:
        """Every image a trial shows."""
        out: set[int] = set()
        for t in self.study.trials:
            out.update(t.images)
            if t.direction != "image-to-music":
                out.update(o.item for o in t.options)
        return out

    def report(self) -> StudyReport:
        return build_report(self.study, self.store.participants(), self.store.answers())

    def answers_csv(self) -> str:
        rep = self.report()
        return answers_csv(self.study, self.store.answers(), {e["participant"] for e in rep.excluded})

    def close(self) -> None:
        self.store.close()


@dataclass
class StudyReportResult(JobResult):
    """The report and the files it was written to."""

    report: StudyReport | None = None


def report_study(study_dir: str | Path, out: str | Path | None = None) -> StudyReportResult:
    """Write ``report.json``, ``accuracy.png`` and ``categories.png`` (into ``out``, default ``STUDY/report``)."""
    session = StudySession(study_dir)
    try:
        rep = session.report()
    finally:
        session.close()
    folder = output_folder(out if out is not None else session.study.root / REPORT_DIR, what="study report")
    files = {"json": write_json_atomic(folder / "report.json", rep.to_dict(), what="study report")}
    files.update(write_plots(rep, folder))
    return StudyReportResult(files=files, report=rep)


def export_answers(study_dir: str | Path, out: str | Path) -> JobResult:
    """Write ``answers.csv`` (long format, one row per answer) into the folder ``out``."""
    session = StudySession(study_dir)
    try:
        text = session.answers_csv()
    finally:
        session.close()
    folder = output_folder(out, what="study export")
    return JobResult(files={"csv": write_text_atomic(folder / "answers.csv", text, what="study answers")})
