"""The study's statistics: EMID Table 3 and Figure 6, with intervals and tests the paper leaves out.

Accuracy is the share of answers that agree with the pairing (EMID Sec.
4.1.3).  For each direction, condition and their combination the report
gives

* over participants (Table 3): mean, min, max and variance (population
  variance, ``ddof = 0``) of each participant's accuracy;
* pooled over answers: the count, a Wilson 95 % interval and a one-sided
  exact binomial test against the random-choice rate 1/4
  (:func:`scipy.stats.binomtest`);

per music emotion category and direction the pooled accuracy and its
interval (Figure 6); and, when the study has a baseline, a paired comparison
of the conditions over participants (mean difference, Wilcoxon signed-rank
and paired *t* tests).  Participants who pass fewer than the study's
``catch_pass`` share of catch trials are excluded and listed with the rule.
"""
from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.fileio import atomic_path
from moodbridge.study.design import Study
from moodbridge.study.store import Answer, Participant

__all__ = ["CHANCE", "CSV_COLUMNS", "Cell", "StudyReport", "answers_csv", "build_report", "wilson", "write_plots"]

CHANCE = 0.25
Z95 = 1.959963984540054
CSV_COLUMNS = ("study", "participant", "excluded", "position", "trial", "condition", "direction", "category",
               "option_1", "option_2", "option_3", "option_4", "choice", "chosen_item", "correct_item", "correct",
               "rt_ms", "shown_at", "answered_at")


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of ``k`` successes in ``n`` trials (``(nan, nan)`` for ``n = 0``)."""
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class Cell:
    """Accuracy of one group of answers (a row of Table 3)."""

    group: str
    participants: int
    answers: int
    correct: int
    accuracy: float
    mean: float
    min: float
    max: float
    variance: float
    wilson_low: float
    wilson_high: float
    p_value: float  # one-sided binomial test, H1: accuracy > 1/4


@dataclass
class StudyReport:
    """Everything the report page and ``moodbridge study report`` show."""

    study: str
    participants: int
    finished: int
    answers: int
    excluded: list[dict[str, Any]]
    exclusion_rule: str
    table: list[Cell]
    by_category: list[Cell]
    paired: dict[str, Any] | None
    per_participant: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return _clean(d)


def _clean(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x


def _cell(group: str, answers: Sequence[Answer]) -> Cell:
    from scipy.stats import binomtest

    n, k = len(answers), sum(a.correct for a in answers)
    per: dict[str, list[bool]] = defaultdict(list)
    for a in answers:
        per[a.pid].append(a.correct)
    accs = np.array([np.mean(v) for v in per.values()], dtype=float)
    lo, hi = wilson(k, n)
    p = float(binomtest(k, n, CHANCE, alternative="greater").pvalue) if n else math.nan
    stat = (lambda f: float(f(accs)) if len(accs) else math.nan)
    return Cell(group, len(per), n, k, k / n if n else math.nan, stat(np.mean), stat(np.min), stat(np.max),
                stat(np.var), lo, hi, p)


def build_report(study: Study, participants: Sequence[Participant], answers: Sequence[Answer]) -> StudyReport:
    """The report of the answers stored so far (finished or not)."""
    from scipy.stats import ttest_rel, wilcoxon

    catch = defaultdict(list)
    for a in answers:
        if a.direction == "catch":
            catch[a.pid].append(a.correct)
    rule = (f"excluded: passed fewer than {study.catch_pass:.0%} of the catch trials answered"
            " (the identical image among the options)")
    excluded = [{"participant": pid, "catch_passed": int(sum(v)), "catch_answered": len(v)}
                for pid, v in sorted(catch.items()) if v and np.mean(v) < study.catch_pass - 1e-12]
    out = {e["participant"] for e in excluded}
    kept = [a for a in answers if a.pid not in out and a.direction != "catch"]
    table = []
    directions = sorted({a.direction for a in kept})
    conditions = sorted({a.condition for a in kept})
    for cond in conditions:
        for d in directions:
            table.append(_cell(f"{cond} / {d}", [a for a in kept if a.condition == cond and a.direction == d]))
        table.append(_cell(f"{cond} / overall", [a for a in kept if a.condition == cond]))
    for d in directions:
        table.append(_cell(f"all / {d}", [a for a in kept if a.direction == d]))
    table.append(_cell("all / overall", kept))
    by_category = [_cell(f"{cond} / {d} / {cat}", group)
                   for cond in conditions for d in directions for cat in sorted({a.category for a in kept})
                   if (group := [a for a in kept if a.condition == cond and a.direction == d and a.category == cat])]
    paired = None
    if {"aligned", "baseline"} <= set(conditions):
        per: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
        for a in kept:
            per[a.pid][a.condition].append(a.correct)
        both = sorted(p for p, v in per.items() if v["aligned"] and v["baseline"])
        al = np.array([np.mean(per[p]["aligned"]) for p in both])
        ba = np.array([np.mean(per[p]["baseline"]) for p in both])
        diff = al - ba
        paired = {"participants": len(both), "mean_aligned": float(al.mean()) if len(both) else math.nan,
                  "mean_baseline": float(ba.mean()) if len(both) else math.nan,
                  "mean_difference": float(diff.mean()) if len(both) else math.nan,
                  "wilcoxon_p": math.nan, "ttest_p": math.nan}
        if np.count_nonzero(diff) >= 1 and len(both) >= 2:
            paired["wilcoxon_p"] = float(wilcoxon(al, ba).pvalue)
            if diff.std() > 0:
                paired["ttest_p"] = float(ttest_rel(al, ba).pvalue)
    per_participant = []
    for p in participants:
        mine = [a for a in answers if a.pid == p.pid]
        main = [a for a in mine if a.direction != "catch"]
        per_participant.append({"participant": p.pid, "answered": len(mine), "trials": len(p.order),
                                "finished": p.finished_at is not None, "excluded": p.pid in out,
                                "accuracy": float(np.mean([a.correct for a in main])) if main else math.nan})
    return StudyReport(study.id, len(participants), sum(p.finished_at is not None for p in participants),
                       len(answers), excluded, rule, table, by_category, paired, per_participant)


def answers_csv(study: Study, answers: Sequence[Answer], excluded: set[str]) -> str:
    """Long format: one row per answer (:data:`CSV_COLUMNS`); items are library ids, choice is 1-4 as shown."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for a in answers:
        w.writerow([study.id, a.pid, int(a.pid in excluded), a.position + 1, a.trial, a.condition, a.direction,
                    a.category, *a.options, a.choice + 1, a.chosen_item, a.correct_item, int(a.correct),
                    "" if a.rt_ms is None else f"{a.rt_ms:.1f}", "" if a.shown_at is None else f"{a.shown_at:.3f}",
                    f"{a.answered_at:.3f}"])
    return buf.getvalue()


def write_plots(report: StudyReport, out_dir: Path) -> dict[str, Path]:
    """``accuracy.png`` (Table 3 as bars with Wilson intervals) and ``categories.png`` (Figure 6)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = {}
    for key, cells, title in (("accuracy", report.table, "Accuracy per condition and direction (Table 3)"),
                              ("categories", report.by_category, "Accuracy per music emotion category (Figure 6)")):
        fig, ax = plt.subplots(figsize=(max(6.0, 0.55 * len(cells) + 2), 4.2), dpi=100)
        acc = [c.accuracy if math.isfinite(c.accuracy) else 0.0 for c in cells]
        err = np.array([[max(0.0, a - c.wilson_low) if math.isfinite(c.wilson_low) else 0.0 for a, c in zip(acc, cells)],
                        [max(0.0, c.wilson_high - a) if math.isfinite(c.wilson_high) else 0.0 for a, c in zip(acc, cells)]])
        colours = ["#3b7dd8" if c.group.startswith("aligned") else "#d8873b" if c.group.startswith("baseline")
                   else "#777777" for c in cells]
        ax.bar(range(len(cells)), acc, yerr=err, color=colours, capsize=3)
        ax.axhline(CHANCE, color="k", ls="--", lw=1, label="random choice (0.25)")
        ax.set_xticks(range(len(cells)), [c.group for c in cells], rotation=60, ha="right", fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_ylabel("accuracy")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7, loc="upper right")
        fig.tight_layout()
        path = Path(out_dir) / f"{key}.png"
        with atomic_path(path, what="study plot") as tmp:
            fig.savefig(tmp, format="png")
        plt.close(fig)
        files[key] = path
    return files
