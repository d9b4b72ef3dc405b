"""Training moodbridge's EIMG generator on ../shared/data/eimg (and Emotion6 photos): splits, VAE, projectors, judge.

Paper: Wang, Chen, Li, "Continuous Emotion-Based Image-to-Music Generation",
IEEE TMM 2023.  Stages (each seeded):

1. **Split** EIMG by piece proxy (:func:`moodbridge.train.tasks.eimg.piece_groups`)
   into ``gen`` (50 % of the groups: the generator's clips), ``judge`` (30 %:
   only the independent evaluation predictor) and ``test`` (20 %: held-out
   clips and held-out VA targets).  No clip of ``judge`` or ``test`` is ever
   seen by the generator, and the judge is never a loss or a selection rule.
2. **VAE** (:class:`~moodbridge.generate.model.MusicVAE`) on 4-bar windows of
   the ``gen`` clips (stride one bar); held-out reconstruction on ``test``.
3. **Projectors** (paper Eq. 2-13): image features (EfficientNet-Lite0 +
   the ``image-va`` head's VA) of Emotion6's training photos, and VA points
   themselves (for ``--va``), against the music latents of the ``gen``
   windows, with ``L_rec + L_inter + L_intra_x + L_intra_y``
   (:data:`moodbridge.align.losses.LOSSES` ``"eimg"`` terms).
4. **Judge**: the ``midi-va`` head's model (gradient boosting + SVR on
   symbolic features, :func:`moodbridge.train.tasks.eimg.fit_model`) fitted
   on ``judge`` clips only.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.emotion import get_scale
from moodbridge.errors import InvalidValueError

__all__ = ["SPLIT_FRACTIONS", "eimg_split", "train_vae", "window_data"]

#: the conditional prior's neighbours and weight, and the decoding knobs of the conditioned model, chosen on a
#: dev predictor fitted on ``gen`` clips (cross-fitted halves), never on the judge (docs/generate.md)
PRIOR = {"k": 64, "weight": 0.75}
DECODING = {"temperature": 2.0, "sustain_threshold": 0.13}
#: fractions of EIMG's piece groups in the ``gen``, ``judge`` and ``test`` splits
SPLIT_FRACTIONS = {"gen": 0.5, "judge": 0.3, "test": 0.2}
SCALE = get_scale("eimg")


def eimg_split(data_dir: str | Path, *, seed: int = 0) -> dict[str, Any]:
    """EIMG clips with ``paths``, ``ratings`` (1-9), ``va`` ([-1, 1]), ``groups`` and ``split`` (gen/judge/test)."""
    from moodbridge.train.tasks.eimg import load_labels, piece_groups

    paths, ratings = load_labels(data_dir)
    groups = piece_groups(paths)
    order = np.random.default_rng(seed).permutation(int(groups.max()) + 1)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    frac = rank[groups] / len(order)
    cut_gen, cut_judge = SPLIT_FRACTIONS["gen"], SPLIT_FRACTIONS["gen"] + SPLIT_FRACTIONS["judge"]
    split = np.where(frac < cut_gen, "gen", np.where(frac < cut_judge, "judge", "test"))
    return {"paths": paths, "ratings": ratings, "va": np.asarray(SCALE.to_va(ratings)), "groups": groups,
            "split": split}


def window_data(paths: Sequence[Path], va: np.ndarray, *, stride: int | None, progress: bool = True
                ) -> dict[str, np.ndarray]:
    """``planes`` (W, 4, 2, 16, 88) uint8, ``controls`` (W, 2), ``attributes`` (W, 5), ``va`` (W, 2), ``clip`` (W,)."""
    from tqdm.auto import tqdm

    from moodbridge.generate.attributes import attributes_of

    from moodbridge.generate.roll import read_roll, windows
    from moodbridge.generate.tensors import controls_from, planes

    rolls, clip = [], []
    for i, p in enumerate(tqdm(paths, desc="piano rolls", disable=not progress)):
        for w in windows(read_roll(p), stride=stride):
            rolls.append(w)
            clip.append(i)
    if not rolls:
        raise InvalidValueError("no 4-bar window with notes in these clips")
    ctl = np.stack([controls_from(r.velocity.mean(), r.tempo[0]) for r in rolls])
    clip_arr = np.array(clip)
    attrs = np.stack([attributes_of(r) for r in rolls]).astype(np.float32)
    return {"planes": planes(rolls), "controls": ctl.astype(np.float32), "attributes": attrs, "va": va[clip_arr],
            "clip": clip_arr}


def vae_controls(vae: Any, windows: dict[str, np.ndarray]) -> np.ndarray:
    """The encoder's control input for ``windows``: their attributes for a conditioned VAE, else velocity and tempo."""
    return windows["attributes"] if vae.config.conditions else windows["controls"]


def _vae_loss(vae: Any, x: Any, c: Any, beta: float) -> tuple[Any, Any]:
    import torch
    import torch.nn.functional as F

    mu, logvar = vae.encode(x, c)
    z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
    logits, controls = vae.decode(vae.code(z, c))
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    ctl = 20.0 * ((controls - c[:, None, -2:]) ** 2).sum(dim=-1).mean()  # velocity and tempo are the last two
    kl = -0.5 * torch.sum(1 + logvar - mu**2 - logvar.exp()) / x.shape[0]
    return rec + ctl + beta * kl, rec


def reconstruction_bce(vae: Any, data: dict[str, np.ndarray]) -> float:
    """Mean per-window BCE (nats) of decoding the posterior means of held-out windows."""
    import torch
    import torch.nn.functional as F

    vae.eval()
    with torch.no_grad():
        x = torch.as_tensor(data["planes"], dtype=torch.float32)
        c = torch.as_tensor(vae_controls(vae, data))
        mu, _ = vae.encode(x, c)
        logits, _ = vae.decode(vae.code(mu, c))
        return float(F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0])


def baseline_bce(train: dict[str, np.ndarray], test: dict[str, np.ndarray]) -> float:
    """BCE of the best constant predictor: every cell's training frequency (the trivial baseline)."""
    p = np.clip(train["planes"].mean(axis=0, dtype=np.float64), 1e-6, 1 - 1e-6)
    x = test["planes"].astype(np.float64)
    return float(-(x * np.log(p) + (1 - x) * np.log(1 - p)).sum() / x.shape[0])


def train_vae(train: dict[str, np.ndarray], *, epochs: int = 30, batch: int = 64, beta: float = 0.5,
              lr: float = 1e-3, seed: int = 0, config: Any = None, progress: bool = True) -> Any:
    """Fit a :class:`~moodbridge.generate.model.MusicVAE` on windows (Adam, KL weight ``beta``, seeded)."""
    import torch
    from tqdm.auto import tqdm

    from moodbridge.generate.model import MusicVAE, VAEConfig

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    vae = MusicVAE(config or VAEConfig())
    opt = torch.optim.Adam(vae.parameters(), lr=lr)
    X, C = train["planes"], vae_controls(vae, train)
    for epoch in tqdm(range(epochs), desc="music VAE", disable=not progress):
        vae.train()
        order = rng.permutation(len(X))
        warm = min(1.0, (epoch + 1) / max(1, epochs // 3))
        for s in range(0, len(order), batch):
            idx = order[s : s + batch]
            x = torch.as_tensor(X[idx], dtype=torch.float32)
            c = torch.as_tensor(C[idx])
            loss, _ = _vae_loss(vae, x, c, beta * warm)
            opt.zero_grad()
            loss.backward()
            opt.step()
    vae.eval()
    return vae


# ----------------------------------------------------------------------------- judge
def fit_judge(data: dict[str, Any], out: str | Path, *, seed: int = 0, progress: bool = True) -> dict[str, Any]:
    """Fit the independent predictor on the ``judge`` clips; its error on ``test`` clips; write it to ``out``.

    Returns
    -------
    dict
        ``test`` metrics of :func:`moodbridge.train.tasks.eimg.metrics` (1-9 scale) and ``n_judge``.
    """
    from moodbridge.affect.base import save_weights
    from moodbridge.train.tasks import eimg

    X = eimg.features(data["paths"], progress=progress)
    judge, test = data["split"] == "judge", data["split"] == "test"
    model = eimg.fit_model(X[judge], data["va"][judge], seed=seed)
    scores = eimg.metrics(data["ratings"][test], model.predict(X[test]))
    meta = {
        "head": "midi-va", "version": "1", "role": "independent judge of generated music (EIMG judge split only)",
        "n_features": int(X.shape[1]), "n_train": int(judge.sum()), "n_test": int(test.sum()), "seed": seed,
        "split_fractions": SPLIT_FRACTIONS, "test": scores,
    }
    save_weights(out, model.to_arrays("model."), meta)
    return {"test": scores, "n_judge": int(judge.sum())}


# ----------------------------------------------------------------------------- image data
def emotion6_images(data_dir: str | Path, *, seed: int = 0, test_fraction: float = 0.2,
                    progress: bool = True) -> dict[str, np.ndarray]:
    """Emotion6 photos: ``features`` (EfficientNet-Lite0), ``head_va`` (``image-va``), human ``va``, ``test`` mask.

    The features come from the training cache that ``train/tasks/emotion6.py``
    fills (same encoder, same cache), so nothing is re-encoded.
    """
    from moodbridge.affect.heads.image_v2 import ImageVAHeadV2
    from moodbridge.train.features import encoder_outputs
    from moodbridge.train.tasks.emotion6 import load_emotion6

    e6 = load_emotion6(data_dir)
    outputs = encoder_outputs(e6["paths"], ["effnet-lite0", "image-stats"], cache_name="emotion6", progress=progress)
    test = np.zeros(len(e6["paths"]), dtype=bool)
    test[np.random.default_rng(seed).permutation(len(test))[: int(round(test_fraction * len(test)))]] = True
    return {"features": np.asarray(outputs["effnet-lite0"]["features"], dtype=np.float64),
            "head_va": ImageVAHeadV2().predict_va(outputs), "va": e6["va"], "test": test,
            "paths": np.array([str(p) for p in e6["paths"]])}


# ----------------------------------------------------------------------------- projectors
#: the contrastive terms of EIMG Eq. 12
TERMS = ("inter", "intra_x", "intra_y")


def music_latents(vae: Any, windows: dict[str, np.ndarray]) -> np.ndarray:
    """Posterior means ``v_y`` of windows (EIMG Eq. 2, Mus-Encoder)."""
    import torch

    with torch.no_grad():
        mu, _ = vae.encode(torch.as_tensor(windows["planes"], dtype=torch.float32),
                           torch.as_tensor(vae_controls(vae, windows)))
    return mu.numpy()


def train_projectors(v_mus: np.ndarray, va_mus: np.ndarray, x_img: np.ndarray, va_img: np.ndarray, *,
                     terms: Sequence[str] = TERMS, steps: int = 1500, batch: int = 128, shared: int = 32,
                     lr: float = 1e-3, tau: float = 0.1, cross_rec: bool = True, seed: int = 0,
                     progress: bool = True) -> dict[str, Any]:
    """Img-, VA- and Mus-Projectors and the De-Projector with EIMG's total loss (Eq. 13).

    ``L = L_rec (Eq. 3) + Σ terms`` for images (anchors) against music, plus the
    same terms for VA points (the VA-Projector's input is the VA itself, drawn
    from the batch's image and music labels).  ``terms`` may drop any of
    ``inter`` (Eq. 7), ``intra_x`` (Eq. 9) and ``intra_y`` (Eq. 11) for ablations.

    ``cross_rec`` (moodbridge's addition, on by default) adds a cross-modal
    reconstruction term ``||De-Projector(z_x) - mean_{y in {y}+} v_y||``: the
    paper trains the de-projector on music only (Eq. 3), yet at inference it
    receives ``z_x``; measured on EIMG, de-projected image/VA latents then land
    off the music manifold (latent norm about 10 against about 5 for real
    windows) and the decoded music barely follows the target (docs/generate.md).
    """
    import torch
    from tqdm.auto import tqdm

    from moodbridge.align.losses import eimg_terms, va_rank_sets  # LOSSES['eimg'] is these terms summed
    from moodbridge.generate.model import Projector

    bad = set(terms) - set(TERMS)
    if bad or not terms:
        raise InvalidValueError(f"terms must be a non-empty subset of {TERMS}, got {list(terms)}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    img = Projector(x_img.shape[1], shared, layers=3)
    vap = Projector(2, shared, layers=3)
    mus = Projector(v_mus.shape[1], shared, layers=2)
    deproj = Projector(shared, v_mus.shape[1], layers=2, sphere=False)
    params = [p for m in (img, vap, mus, deproj) for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=lr, weight_decay=1e-5)
    key = {"inter": "inter", "intra_x": "intra_a", "intra_y": "intra_b"}
    Vm, Am = torch.as_tensor(v_mus, dtype=torch.float32), np.asarray(va_mus)
    Xi, Ai = torch.as_tensor(x_img, dtype=torch.float32), np.asarray(va_img)
    for m in (img, vap, mus, deproj):
        m.train()
    for _ in tqdm(range(steps), desc="EIMG projectors", disable=not progress):
        im = rng.choice(len(Vm), batch, replace=False)
        ii = rng.choice(len(Xi), batch, replace=False)
        z_y = mus(Vm[im])
        loss = (deproj(z_y) - Vm[im]).norm(dim=1).mean()
        z_x = img(Xi[ii])
        t_img = eimg_terms(z_x, Ai[ii], z_y, Am[im], tau=tau)
        va_pts = np.concatenate([Ai[ii[: batch // 2]], Am[im[: batch // 2]]])
        z_v = vap(torch.as_tensor(va_pts, dtype=torch.float32))
        t_va = eimg_terms(z_v, va_pts, z_y, Am[im], tau=tau)
        for t in terms:
            loss = loss + t_img[key[t]] + t_va[key[t]]
        if cross_rec:
            for z_a, va_a in ((z_x, Ai[ii]), (z_v, va_pts)):
                top, _ = va_rank_sets(va_a, Am[im], n=8)
                target = Vm[im][torch.as_tensor(top)].mean(dim=1)
                loss = loss + (deproj(z_a) - target).norm(dim=1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    for m in (img, vap, mus, deproj):
        m.eval()
    return {"img": img, "va": vap, "mus": mus, "deproj": deproj}


def train_direct(v_mus: np.ndarray, va_mus: np.ndarray, x: np.ndarray, va_x: np.ndarray, *, n: int = 8,
                 steps: int = 1500, batch: int = 128, lr: float = 1e-3, seed: int = 0) -> Any:
    """EIMG Table VII's no-contrastive baseline: a 5-layer MLP from inputs ``x`` to a music latent.

    Each step pairs every input with one of the ``n`` music windows nearest in VA
    (drawn at random) and regresses its latent (mean squared error).
    """
    import torch

    from moodbridge.align.losses import va_rank_sets
    from moodbridge.generate.model import DirectMapper

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    top, _ = va_rank_sets(va_x, va_mus, n=n)
    net = DirectMapper(x.shape[1], v_mus.shape[1])
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    X, V = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(v_mus, dtype=torch.float32)
    net.train()
    for _ in range(steps):
        idx = rng.choice(len(X), batch, replace=len(X) < batch)
        target = V[top[idx, rng.integers(0, n, len(idx))]]
        loss = ((net(X[idx]) - target) ** 2).sum(dim=1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    return net


# ----------------------------------------------------------------------------- the whole recipe
def image_standardisation(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column mean and standard deviation (floored) of training image features."""
    return features.mean(axis=0), np.maximum(features.std(axis=0), 1e-6)


def bundle_of(vae: Any, nets: dict[str, Any], img_mean: np.ndarray, img_std: np.ndarray,
              meta: dict[str, Any]) -> Any:
    """A :class:`~moodbridge.generate.bundle.Bundle` of the trained networks."""
    from moodbridge.generate.bundle import Bundle

    parts = {"vae": vae.state_dict(), **{k: m.state_dict() for k, m in nets.items()}}
    return Bundle(parts, {"img_mean": img_mean, "img_std": img_std}, meta)


def train_generator(eimg_dir: str | Path, emotion6_dir: str | Path, out: str | Path, *, seed: int = 0,
                    epochs: int = 30, steps: int = 1500, conditioned: bool = True,
                    progress: bool = True) -> dict[str, Any]:
    """Train everything and write ``eimg_generator.npz`` and ``eimg_judge.npz`` into the folder ``out``.

    ``conditioned`` (moodbridge's addition, on by default) conditions the VAE's
    decoder on the windows' attributes (:mod:`moodbridge.generate.attributes`)
    and ships the ``gen`` windows' VA and attributes for the VA -> attributes
    map used at inference; ``False`` trains the paper's unconditioned VAE.

    Returns
    -------
    dict
        ``reconstruction`` (held-out BCE of the VAE and of the trivial
        baseline, nats per 4-bar window), ``judge`` (its own held-out error),
        sizes, seconds per stage and the files written.
    """
    import torch

    from moodbridge.generate.attributes import ATTRIBUTES
    from moodbridge.generate.bundle import GENERATOR_FILE, JUDGE_FILE, save_bundle
    from moodbridge.generate.model import VAEConfig

    torch.set_num_threads(1)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    data = eimg_split(eimg_dir, seed=seed)
    gen, test = data["split"] == "gen", data["split"] == "test"
    gen_paths = [p for p, g in zip(data["paths"], gen) if g]
    test_paths = [p for p, g in zip(data["paths"], test) if g]
    train_w = window_data(gen_paths, data["va"][gen], stride=1, progress=progress)
    test_w = window_data(test_paths, data["va"][test], stride=None, progress=progress)
    timings["data_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    n_attr = len(ATTRIBUTES)
    config = VAEConfig(controls=n_attr, conditions=n_attr) if conditioned else VAEConfig()
    vae = train_vae(train_w, epochs=epochs, seed=seed, config=config, progress=progress)
    timings["vae_s"] = time.perf_counter() - t0
    recon = {"vae_bce": reconstruction_bce(vae, test_w), "baseline_bce": baseline_bce(train_w, test_w),
             "n_train_windows": len(train_w["planes"]), "n_test_windows": len(test_w["planes"])}

    t0 = time.perf_counter()
    judge = fit_judge(data, out / JUDGE_FILE, seed=seed, progress=progress)
    timings["judge_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    images = emotion6_images(emotion6_dir, seed=seed, progress=progress)
    tr = ~images["test"]
    img_mean, img_std = image_standardisation(images["features"][tr])
    x_img = np.concatenate([(images["features"] - img_mean) / img_std, images["head_va"]], axis=1)
    v_mus = music_latents(vae, train_w)
    nets = train_projectors(v_mus, train_w["va"], x_img[tr], images["va"][tr], steps=steps, seed=seed,
                            progress=progress)
    timings["projectors_s"] = time.perf_counter() - t0
    meta = {
        "paper": "Wang, Chen, Li, Continuous Emotion-Based Image-to-Music Generation, IEEE TMM 2023",
        "vae_config": vae.config.to_dict(),
        "dims": {"image": int(x_img.shape[1]), "shared": int(nets["img"].net[-1].out_features)},
        "seed": seed, "epochs": epochs, "steps": steps, "split_fractions": SPLIT_FRACTIONS,
        "reconstruction": recon, "judge_test": judge["test"], "timings": timings,
        "image_data": "Emotion6 (Peng et al. 2015): EfficientNet-Lite0 features + image-va head VA; human VA labels",
        "n_images_train": int(tr.sum()),
    }
    bundle = bundle_of(vae, nets, img_mean, img_std, meta)
    if conditioned:
        bundle.arrays.update({"attr_va": train_w["va"], "attr_values": train_w["attributes"],
                              "prior_latents": v_mus.astype(np.float16)})
        meta.update({"attributes": list(ATTRIBUTES), "prior": dict(PRIOR), "decoding": dict(DECODING)})
    save_bundle(out / GENERATOR_FILE, bundle)
    return {"reconstruction": recon, "judge": judge, "timings": timings,
            "files": {"generator": str(out / GENERATOR_FILE), "judge": str(out / JUDGE_FILE)}}
