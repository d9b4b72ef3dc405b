"""EMID Table 1 style results: every EMI-Adapter recommender over several seeds, full and sampled protocols.

Given a ``pairs.csv`` (as ``moodbridge pair`` writes it) and optionally a
features ``.npz``, for each seed: a leave-one-out split and a 99-negative
evaluation sample (both seeded by it, saved under ``--out`` when given), each
model trained with that seed, evaluated on the full catalogue (headline) and
on the sampled-99 protocol (EMID's), beside the popularity and random
baselines.  Prints mean ± sd over the seeds of HR@10 and NDCG@10 and states
the catalogue sizes.

Hyperparameters: the defaults below, or with ``--tune`` a small grid of
learning rate × weight decay per model, chosen by full-ranking HR@10 on a
validation split cut from the *training* part of the seed-0 split (the test
items are never used for the choice).

Features ``.npz`` (for the content model; optional): ``clip_paths``,
``clip_features``, ``image_paths``, ``image_features`` (paths as string
arrays, features ``(n, d)``), optionally ``clip_va`` / ``image_va`` ``(n, 2)``;
without VA arrays the pairs table's VA columns are used where every item has one.
With ``--catalogue images.txt`` (one image path per line) every listed image is ranked,
paired or not.

Usage: python scripts/recommend_experiments.py PAIRS.csv [--features F.npz] [--catalogue images.txt]
       [--seeds 5] [--epochs 50] [--models neumf,bmf,svdpp,mf-bpr[,content]] [--tune] [--out DIR]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from moodbridge.errors import MoodbridgeError
from moodbridge.fileio import output_folder, write_json_atomic
from moodbridge.recommend import (
    BASELINES,
    evaluate,
    evaluation_negatives,
    fit,
    interactions_from_pairs,
    leave_one_out,
    plot_training_curves,
    save_negatives,
    save_split,
    side_info,
    validation_split,
)

#: (lr, weight decay) per model, chosen on a validation split of synthetic planted data (benchmarks/recommend.py).
DEFAULTS = {"neumf": (1e-2, 1e-4), "bmf": (1e-2, 1e-4), "svdpp": (1e-2, 1e-4), "mf-bpr": (1e-2, 1e-3),
            "content": (1e-2, 0.0)}
GRID = [(lr, wd) for lr in (1e-3, 1e-2) for wd in (0.0, 1e-4, 1e-3)]


def load_side(path: str, inter) -> dict:
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    out = {}
    for which, ids, key, va_key in (("clip", inter.users, "user_side", "user_va"), ("image", inter.items, "item_side", "item_va")):
        paths = [str(p) for p in arrays[f"{which}_paths"]]
        va = arrays.get(f"{which}_va")
        table_va = getattr(inter, va_key)
        if va is None and table_va is not None and np.isfinite(table_va).all():
            row = {p: r for r, p in enumerate(ids)}
            if all(p in row for p in paths):
                va = table_va[[row[p] for p in paths]]
        out[key] = side_info((paths, arrays[f"{which}_features"]), va, what=which)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs")
    parser.add_argument("--features", default="")
    parser.add_argument("--catalogue", default="")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=50, help="EMID Fig. 4: 50 iterations")
    parser.add_argument("--models", default="")
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--out", default="")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    catalogue = Path(args.catalogue).read_text().split("\n") if args.catalogue else None
    inter = interactions_from_pairs(args.pairs, catalogue=[c for c in catalogue if c] if catalogue else None)
    side = load_side(args.features, inter) if args.features else {}
    models = args.models.split(",") if args.models else [m for m in DEFAULTS if m != "content" or side]
    out = output_folder(args.out, what="experiment results") if args.out else None
    split0 = leave_one_out(inter, seed=0)
    print(f"{args.pairs}: {inter.n_users} clips x {inter.n_items} images (full-ranking catalogue), {inter.n_pairs} "
          f"pairs ({inter.n_duplicates} duplicates dropped); per split {split0.n_test} clips evaluated, "
          f"{split0.n_skipped} single-pair clips skipped; sampled protocol: 1 held-out + 99 negatives")
    print(f"chance: full HR@10 ~ {10 / inter.n_items:.4f}, sampled HR@10 0.100; {args.seeds} seeds, {args.epochs} epochs")

    settings = {m: DEFAULTS[m] for m in models}
    if args.tune:
        val = validation_split(split0, seed=1000)
        for m in models:
            scores = {}
            for lr, wd in GRID:
                f = fit(m, val, seed=0, epochs=args.epochs, lr=lr, weight_decay=wd, progress=False,
                        cpu_threads=args.threads, model_options=side if m == "content" else None)
                scores[(lr, wd)] = evaluate(f.model, val)["full"].hr
            settings[m] = max(scores, key=scores.get)
            print(f"tuned {m}: lr {settings[m][0]:g}, weight decay {settings[m][1]:g} "
                  f"(validation full HR@10 {scores[settings[m]]:.4f})")

    results: dict[str, list[dict[str, float]]] = {}
    for seed in range(args.seeds):
        split = leave_one_out(inter, seed=seed)
        negatives = evaluation_negatives(split, seed=seed)
        if out:
            save_split(split, out / f"split-{seed}.json")
            save_negatives(negatives, out / f"negatives-{seed}.npz")
        histories = {}
        for name, cls in BASELINES.items():
            r = evaluate(cls.build(split.train, seed=seed), split, negatives=negatives)
            results.setdefault(name, []).append(_row(r))
        for name in models:
            lr, wd = settings[name]
            start = time.perf_counter()
            f = fit(name, split, seed=seed, epochs=args.epochs, lr=lr, weight_decay=wd, progress=True,
                    cpu_threads=args.threads, model_options=side if name == "content" else None,
                    monitor=split if (out and seed == 0) else None, negatives=negatives, eval_every=5)
            r = evaluate(f.model, split, negatives=negatives)
            results.setdefault(name, []).append({**_row(r), "seconds": time.perf_counter() - start})
            histories[name] = f.history
        if out and seed == 0:
            plot_training_curves(histories, out / "training-curves.png",
                                 title="training curves on the test split (seed 0; for the figure, not for tuning)")
        print(f"seed {seed} done")

    header = f"{'model':<12} {'full HR@10':>16} {'full NDCG@10':>16} {'sampled HR@10':>16} {'sampled NDCG@10':>16}"
    print("\n" + header + "\n" + "-" * len(header))
    for name, rows in results.items():
        cells = []
        for key in ("full_hr", "full_ndcg", "sampled_hr", "sampled_ndcg"):
            v = np.array([r[key] for r in rows])
            cells.append(f"{v.mean():.4f} ± {v.std(ddof=1) if len(v) > 1 else 0:.4f}")
        print(f"{name:<12} " + " ".join(f"{c:>16}" for c in cells))
    print("(EMID Table 1, sampled protocol on their data: NCF 0.580/0.404, BMF 0.580/0.410, SVD++ 0.602/0.427)")
    if out:
        write_json_atomic(out / "results.json", {"pairs": args.pairs, "n_clips": inter.n_users,
                                                 "n_images": inter.n_items, "settings": {m: list(s) for m, s in settings.items()},
                                                 "epochs": args.epochs, "results": results}, what="results")


def _row(r: dict) -> dict[str, float]:
    return {"full_hr": r["full"].hr, "full_ndcg": r["full"].ndcg, "sampled_hr": r["sampled"].hr,
            "sampled_ndcg": r["sampled"].ndcg}


if __name__ == "__main__":
    try:
        main()
    except MoodbridgeError as exc:
        raise SystemExit(f"error: {exc}") from None
