"""Real joint-space experiments of docs/results.md (Emo-CLIM retrieval protocol, held-out splits).

Usage::

    python scripts/align_experiments.py --experiment fourq-eimg --seeds 5 --config paper --config tuned
    python scripts/align_experiments.py --experiment naps-fourq --seeds 5 --labels va --markdown out.md
    python scripts/align_experiments.py --experiment fourq-eimg --seeds 1 --config tuned \\
        --figure docs/figures/joint-space-4q-eimg.png --probe

Each seed draws a stratified 25 % held-out split of both sets, trains every
chosen configuration on the training parts and prints macro P@1 / P@5 / MRR
(mean ± sd over seeds) for chance, the no-training baselines and each
configuration, then the per-class P@1 / P@5 of seed 0 for the last
configuration.  Features come from the warm cache (``~/.cache/moodbridge``).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from moodbridge.errors import MoodbridgeError
from moodbridge.train.experiments import CONFIGS, EXPERIMENTS, load_experiment, run_seed, summarise
from moodbridge.evaluate.retrieval import retrieval_table
from moodbridge.fileio import write_text_atomic

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("MOODBRIDGE_SHARED_DATA", REPO.parent / "shared" / "data"))


def summary_markdown(rows: dict[str, list[dict]], metrics: tuple[str, ...] = ("p@1", "p@5", "mrr")) -> str:
    """One table per direction: a row per method, ``mean ± sd`` per metric."""
    summaries = {name: summarise(runs, metrics) for name, runs in rows.items()}
    directions = list(next(iter(summaries.values())))
    lines = []
    for d in directions:
        lines += [f"**{d}**", "", "| method | " + " | ".join(m.upper() for m in metrics) + " |",
                  "|---" * (len(metrics) + 1) + "|"]
        for name, s in summaries.items():
            lines.append(f"| {name} | " + " | ".join(f"{s[d][m][0]:.3f} ± {s[d][m][1]:.3f}" for m in metrics) + " |")
        lines.append("")
    return "\n".join(lines)


def per_class_markdown(results: dict, metric: str) -> str:
    """Per-class ``metric`` of one seed (Emo-CLIM Table 5 layout)."""
    table = retrieval_table(results, metric=metric)
    head = "| class | " + " | ".join(table.columns) + " |"
    body = [f"| {idx} | " + " | ".join(f"{v:.3f}" for v in row) + " |" for idx, row in table.iterrows()]
    return "\n".join([head, "|---" * (len(table.columns) + 1) + "|", *body])


def probe_markdown(a, b, seed_rows: dict, config: str) -> str:
    """Linear probe (quadrants) of the held-out embeddings vs the raw features, seed 0 split."""
    from moodbridge.evaluate.probe import linear_probe

    split = seed_rows["_split"]
    emb = seed_rows["_embeddings"][config]
    lines = ["| modality | input | probe macro-F1 | accuracy |", "|---|---|---|---|"]
    for m, tr, te in ((a, split.train_a, split.test_a), (b, split.train_b, split.test_b)):
        inputs = {
            "encoder features": (m.features[tr], m.features[te]),
            "emotion-head features": (m.head_features[tr], m.head_features[te]),
            f"joint-space embeddings ({config})": (emb["train"][m.name], emb["test"][m.name]),
        }
        for label, (xtr, xte) in inputs.items():
            r = linear_probe(xtr, m.quadrant[tr], xte, m.quadrant[te], seed=0)
            lines.append(f"| {m.name} | {label} | {r.macro_f1:.3f} | {r.accuracy:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the experiment; returns the exit status."""
    import torch
    from tqdm.auto import tqdm

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", required=True, choices=EXPERIMENTS)
    parser.add_argument("--seeds", type=int, default=5, help="seeds of split and training (0 .. N-1)")
    parser.add_argument("--config", action="append", choices=list(CONFIGS),
                        help="joint-space configuration (repeatable; default: all)")
    parser.add_argument("--labels", choices=("quadrant", "va"), default="quadrant",
                        help="training labels: quadrants (Emo-CLIM SupCon) or VA (EIMG losses)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this Markdown file")
    parser.add_argument("--figure", type=Path, help="t-SNE PNG of seed 0's held-out embeddings (last config)")
    parser.add_argument("--probe", action="store_true", help="linear probe of seed 0's embeddings vs raw features")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    torch.set_num_threads(1)
    configs = {name: CONFIGS[name] for name in (args.config or list(CONFIGS))}
    try:
        a, b = load_experiment(args.experiment, args.data)
        rows: dict[str, list[dict]] = {}
        first: dict = {}
        for seed in tqdm(range(args.seeds), desc=args.experiment, unit="seed"):
            result = run_seed(a, b, seed, configs, labels=args.labels)
            first = first or result
            for name, directions in result.items():
                if not name.startswith("_"):
                    rows.setdefault(name, []).append(directions)
        last = list(configs)[-1]
        parts = [f"## {args.experiment}: labels {args.labels}, {args.seeds} seed(s), n_test"
                 f" {a.name} {len(first['_split'].test_a)}, {b.name} {len(first['_split'].test_b)}",
                 "", summary_markdown(rows), f"Per-class P@1, seed 0, {last}:", "",
                 per_class_markdown(first[last], "p@1"), "", f"Per-class P@5, seed 0, {last}:", "",
                 per_class_markdown(first[last], "p@5"), ""]
        if args.probe:
            parts += [f"Linear probe, seed 0 ({last}):", "", probe_markdown(a, b, first, last), ""]
        if args.figure:
            from moodbridge.evaluate.plots import plot_joint_space

            split, z = first["_split"], first["_embeddings"][last]["test"]
            labels = {a.name: np.array(["Q1", "Q2", "Q3", "Q4"])[a.quadrant[split.test_a]],
                      b.name: np.array(["Q1", "Q2", "Q3", "Q4"])[b.quadrant[split.test_b]]}
            path = plot_joint_space(z, labels, args.figure, method="tsne", seed=0,
                                    title=f"{args.experiment}, held-out, seed 0 ({last})")
            parts.append(f"figure: {path}")
    except MoodbridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = "\n".join(parts)
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(args.markdown, text + "\n", what="tables")
    return 0


if __name__ == "__main__":
    sys.exit(main())
