"""EIMG Tables V and VII for moodbridge's generator: emotion matching and music statistics on held-out targets.

Targets never seen in training: the VA of EIMG ``test`` clips (held-out VA
points) and Emotion6's held-out photos (target = their human VA).  Each
variant generates a 15-second piece per target (seed = target index); the
independent judge (fitted on the ``judge`` split only) gives the VA heard;
*emotion matching* is the mean Euclidean distance to the target on 1-9
(:func:`moodbridge.evaluate.music.emotion_matching`).  Variants:

* ``full``: the shipped generator (all of EIMG Eq. 13);
* ``inter``, ``inter+intra_x``, ``inter+intra_y``: retrained with those terms only (Table VII);
* ``direct``: the 5-layer MLP straight to a music latent, no contrastive learning (Table VII row 1);
* with a decoder conditioned on attributes and a conditional prior
  (moodbridge's additions), every variant above gets the shipped blend with
  the prior's latent and the attributes of the target VA (images: of the
  ``image-va`` head's VA), and three more rows separate the routes of the
  emotion: ``projector only`` (prior weight 0: the paper's inference path on
  the conditioned decoder), ``prior only`` (weight 1: no projector) and
  ``no attributes`` (the shipped latent, attributes held at the ``gen``
  windows' mean);
* references ``nearest clip`` (the ``gen`` clip whose VA is nearest the
  target, as it is) and ``random clip`` (a random ``gen`` clip).

The ground-truth row is the real ``test`` clips' statistics and the judge's own error on them.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["evaluate_generation"]

ABLATIONS: dict[str, tuple[str, ...]] = {"inter": ("inter",), "inter+intra_x": ("inter", "intra_x"),
                                         "inter+intra_y": ("inter", "intra_y")}


def _stats(paths: list[Path]) -> dict[str, float]:
    from moodbridge.evaluate.music import music_statistics, read_notes

    rows = [music_statistics(read_notes(p)) for p in paths]
    return {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}


def _score(paths: list[Path], targets: np.ndarray, judge: Any) -> dict[str, float]:
    from moodbridge.evaluate.music import emotion_matching

    heard = judge.predict_files(paths)
    return {"emotion_matching": emotion_matching(heard, targets), **_stats(paths)}


def _pieces(generator: Any, latents: np.ndarray, folder: Path, prefix: str) -> list[Path]:
    from moodbridge.generate.roll import roll_to_midi

    out = []
    for i, z in enumerate(latents):
        out.append(roll_to_midi(generator.compose(z[None], [15.0], seed=i), folder / f"{prefix}{i}.mid"))
    return out


def evaluate_generation(eimg_dir: str | Path, emotion6_dir: str | Path, *, weights: str | Path | None = None,
                        judge_weights: str | Path | None = None, n_targets: int = 60, steps: int | None = None,
                        progress: bool = True) -> dict[str, Any]:
    """The rows of docs/results.md's generation tables: ``{target kind: {variant: metrics}}`` plus ``ground_truth``."""
    import torch

    from moodbridge.generate.generator import Generator
    from moodbridge.generate.judge import Judge
    from moodbridge.train import generation as g

    torch.set_num_threads(1)
    gen = Generator(weights)
    judge = Judge(judge_weights)
    seed = int(gen.meta["seed"])
    steps = steps or int(gen.meta["steps"])
    data = g.eimg_split(eimg_dir, seed=seed)
    rng = np.random.default_rng(seed + 1)
    is_gen, is_test = data["split"] == "gen", data["split"] == "test"
    gen_paths = [p for p, s in zip(data["paths"], is_gen) if s]
    test_idx = np.flatnonzero(is_test)
    pick = rng.choice(test_idx, min(n_targets, len(test_idx)), replace=False)
    va_targets = data["va"][pick]
    images = g.emotion6_images(emotion6_dir, seed=seed, progress=progress)
    img_test = np.flatnonzero(images["test"])
    img_pick = rng.choice(img_test, min(n_targets, len(img_test)), replace=False)
    x_img = gen.image_input(images["features"], images["head_va"])
    img_targets = images["va"][img_pick]

    train_w = g.window_data(gen_paths, data["va"][is_gen], stride=1, progress=progress)
    v_mus = g.music_latents(gen.vae, train_w)
    tr = ~images["test"]

    head_va = images["head_va"][img_pick]

    def coded(va_l: np.ndarray, im_l: np.ndarray, w: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        return (gen.with_attributes(va_l, va_targets, prior_weight=w),
                gen.with_attributes(im_l, head_va, prior_weight=w))

    def projected(nets: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            va_l = nets["deproj"](nets["va"](torch.as_tensor(va_targets, dtype=torch.float32))).numpy()
            im_l = nets["deproj"](nets["img"](torch.as_tensor(x_img[img_pick], dtype=torch.float32))).numpy()
        return va_l, im_l

    shipped = projected({"va": gen.va, "img": gen.img, "deproj": gen.deproj})
    variants: dict[str, tuple[np.ndarray, np.ndarray]] = {"full": coded(*shipped)}
    if gen.prior is not None:
        n_lat = gen.config.latent
        mean_attr = gen.prior.attributes_table.mean(axis=0)
        variants["no attributes"] = tuple(np.concatenate([c[:, :n_lat], np.tile(mean_attr, (len(c), 1))], axis=1)
                                          for c in variants["full"])  # type: ignore[assignment]
        variants["projector only"] = coded(*shipped, w=0.0)
        variants["prior only"] = coded(*shipped, w=1.0)
    for name, terms in ABLATIONS.items():
        nets = g.train_projectors(v_mus, train_w["va"], x_img[tr], images["va"][tr], terms=terms, steps=steps,
                                  seed=seed, progress=progress)
        variants[name] = coded(*projected(nets))
    direct_va = g.train_direct(v_mus, train_w["va"], np.concatenate([images["va"][tr], train_w["va"]]),
                               np.concatenate([images["va"][tr], train_w["va"]]), steps=steps, seed=seed)
    direct_img = g.train_direct(v_mus, train_w["va"], x_img[tr], images["va"][tr], steps=steps, seed=seed)
    with torch.no_grad():
        variants["direct"] = coded(direct_va(torch.as_tensor(va_targets, dtype=torch.float32)).numpy(),
                                   direct_img(torch.as_tensor(x_img[img_pick], dtype=torch.float32)).numpy())

    gen_va = data["va"][is_gen]
    results: dict[str, Any] = {"va_points": {}, "images": {}}
    with tempfile.TemporaryDirectory(prefix="moodbridge-eval-") as tmp:
        folder = Path(tmp)
        for name, (va_l, im_l) in variants.items():
            results["va_points"][name] = _score(_pieces(gen, va_l, folder, f"{name}-va-"), va_targets, judge)
            results["images"][name] = _score(_pieces(gen, im_l, folder, f"{name}-img-"), img_targets, judge)
        for kind, targets in (("va_points", va_targets), ("images", img_targets)):
            nearest = [gen_paths[int(np.argmin(np.linalg.norm(gen_va - t, axis=1)))] for t in targets]
            randoms = [gen_paths[int(i)] for i in rng.integers(0, len(gen_paths), len(targets))]
            results[kind]["nearest clip"] = _score(nearest, targets, judge)
            results[kind]["random clip"] = _score(randoms, targets, judge)
    test_paths = [data["paths"][i] for i in test_idx]
    results["ground_truth"] = {**_stats(test_paths), "judge_error": _score(test_paths, data["va"][test_idx],
                                                                           judge)["emotion_matching"],
                               "n_test_clips": len(test_idx)}
    results["n_targets"] = {"va_points": len(va_targets), "images": len(img_targets)}
    return results


def main() -> None:  # pragma: no cover - a command, not run-time code
    """``python -m moodbridge.train.generation_eval --eimg DIR --emotion6 DIR [--targets 60] [--json F]``."""
    import argparse
    import json

    parser = argparse.ArgumentParser(description="EIMG Tables V/VII for the shipped generator (docs/results.md)")
    parser.add_argument("--eimg", default="../shared/data/eimg")
    parser.add_argument("--emotion6", default="../shared/data/emotion6")
    parser.add_argument("--targets", type=int, default=60)
    parser.add_argument("--json", default=None)
    parser.add_argument("--weights", default=None, help="generator weights (default: the shipped ones)")
    args = parser.parse_args()
    results = evaluate_generation(args.eimg, args.emotion6, weights=args.weights, n_targets=args.targets)
    text = json.dumps(results, indent=1, sort_keys=True)
    if args.json:
        Path(args.json).write_text(text)
    print(text)


if __name__ == "__main__":  # pragma: no cover
    main()
