"""Task ``lexicon``: the ``text-va`` head, trained and evaluated on NRC-VAD words.

Training data: the NRC Valence-Arousal-Dominance lexicon v1 (Mohammad, 2018),
20,007 English words rated for valence and arousal on ``[0, 1]``, brought into
the project's VA space with ``get_scale("nrc-vad")``.  Each word is embedded
with ``minilm`` as it is (the same input a caption gets at prediction time);
optionally, the embeddings of the word inside short templates (see
:data:`TRAIN_TEMPLATES`) are added as extra training rows with the word's
rating (augmentation; the held-out words are always scored on their plain
embedding).

Model: an ensemble of one-hidden-layer ReLU MLPs (torch, AdamW, one-cycle
schedule) on the embedding, averaged with a ridge regression (see
:data:`RIDGE_WEIGHT` for why); the ensemble's average and the blend are
themselves a single wider MLP, stored as
:class:`moodbridge.affect.models.MLP` and evaluated in numpy.

Metrics: Pearson r of valence and arousal on words never seen in training
(5-fold cross-validation over a random split of the words, seeded), with a
ridge baseline on the same folds for reference.  :func:`evaluate` scores a
head on the words of a folder; on the lexicon the head was trained on that
figure is optimistic (the words were seen), so it also reports the
cross-validated figures stored with the weights (``cv_valence_r``,
``cv_arousal_r``).

References
----------
Mohammad, S. M. (2018). Obtaining reliable human ratings of valence, arousal,
and dominance for 20,000 English words. *Proc. ACL*, 174-184.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moodbridge.affect.base import load_weights, save_weights
from moodbridge.affect.heads.text import WEIGHTS_FILE
from moodbridge.affect.models import MLP, Linear
from moodbridge.emotion import Lexicon
from moodbridge.train.metrics import va_metrics
from moodbridge.train.tasks import data_file

LEXICON_FILE = "NRC-VAD-Lexicon_v1.txt"
#: Templates whose embeddings augment the training rows ("{}" is the word itself).
TRAIN_TEMPLATES: tuple[str, ...] = ("{}",)
#: Hyper-parameters of each MLP of the ensemble.
MLP_CONFIG: dict[str, Any] = {
    "hidden": 512, "epochs": 20, "weight_decay": 1e-4, "dropout": 0.2, "lr": 2e-3, "batch_size": 128, "members": 2,
}
N_FOLDS = 5
#: Ridge penalty of the linear member.
RIDGE_ALPHA = 1.0
#: Weight of the ridge model in the final blend ``(1 - w) * MLP + w * ridge``.  The MLP alone
#: fits held-out words best, but the blend carries better to phrases: on the NAPS photo
#: descriptions ("a photo of {description}", task ``naps``) the text part's CV r is
#: 0.664 / 0.616 (V / A) with the MLP alone, 0.690 / 0.637 with ridge alone and
#: 0.706 / 0.658 with the 50/50 blend, which costs little on held-out words.
RIDGE_WEIGHT = 0.5


def lexicon_file(data_dir: str | Path) -> Path:
    """The lexicon inside ``data_dir`` (a folder like ``../shared/data/nrc-vad``) or ``data_dir`` itself."""
    return data_file(data_dir, LEXICON_FILE, "NRC-VAD lexicon")


def load_words(data_dir: str | Path) -> tuple[list[str], np.ndarray]:
    """Words of the lexicon in ``data_dir`` and their ``(N, 2)`` VA in ``[-1, 1]``."""
    lex = Lexicon.load(lexicon_file(data_dir), scale="nrc-vad")
    words = lex.words
    return words, lex.va_array


def _fit_member(X: np.ndarray, Y: np.ndarray, seed: int, cfg: dict[str, Any]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    import torch

    torch.manual_seed(seed)
    Xt = torch.tensor(X, dtype=torch.float32)
    Yt = torch.tensor(Y, dtype=torch.float32)
    net = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], cfg["hidden"]), torch.nn.ReLU(), torch.nn.Dropout(cfg["dropout"]),
        torch.nn.Linear(cfg["hidden"], Y.shape[1]),
    )
    opt = torch.optim.AdamW(net.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    bs = cfg["batch_size"]
    steps = cfg["epochs"] * ((len(Xt) + bs - 1) // bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg["lr"], total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(cfg["epochs"]):
        perm = torch.randperm(len(Xt), generator=gen)
        for i in range(0, len(Xt), bs):
            idx = perm[i : i + bs]
            loss = ((net(Xt[idx]) - Yt[idx]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    first, last = net[0], net[3]
    return (
        [first.weight.detach().double().numpy(), last.weight.detach().double().numpy()],
        [first.bias.detach().double().numpy(), last.bias.detach().double().numpy()],
    )


def fit_mlp_ensemble(X: np.ndarray, Y: np.ndarray, *, seed: int = 0, config: dict[str, Any] | None = None) -> MLP:
    """Fit ``members`` one-hidden-layer MLPs and merge them into one MLP that outputs their mean.

    The mean of MLPs ``W2_m relu(W1_m x + b1_m) + b2_m`` is the MLP with the
    hidden layers stacked and ``W2 = [W2_1 … W2_M] / M``, ``b2 = mean(b2_m)``.
    """
    import torch

    cfg = {**MLP_CONFIG, **(config or {})}
    torch.set_num_threads(min(2, torch.get_num_threads()))
    members = [_fit_member(X, Y, seed * 1000 + m, cfg) for m in range(cfg["members"])]
    M = len(members)
    W1 = np.concatenate([w[0] for w, _ in members])
    b1 = np.concatenate([b[0] for _, b in members])
    W2 = np.concatenate([w[1] for w, _ in members], axis=1) / M
    b2 = np.mean([b[1] for _, b in members], axis=0)
    return MLP([W1, W2], [b1, b2])


def blend_with_linear(mlp: MLP, linear: Linear, weight: float) -> MLP:
    """One MLP computing ``(1 - weight) * mlp(x) + weight * linear(x)``.

    The linear part passes through extra hidden units ``relu(x)`` and
    ``relu(-x)`` (their difference is ``x``), so the blend stays a plain
    :class:`~moodbridge.affect.models.MLP`.
    """
    (W1, W2), (b1, b2) = mlp.weights, mlp.biases
    d = W1.shape[1]
    eye = np.eye(d)
    C = linear.coef
    return MLP(
        [np.vstack([W1, eye, -eye]), np.hstack([(1 - weight) * W2, weight * C, -weight * C])],
        [np.concatenate([b1, np.zeros(2 * d)]), (1 - weight) * b2 + weight * linear.intercept],
    )


def fit_text_model(X: np.ndarray, Y: np.ndarray, *, seed: int = 0) -> MLP:
    """The ``text-va`` model: the MLP ensemble blended with ridge (:data:`RIDGE_WEIGHT`)."""
    from sklearn.linear_model import Ridge

    linear = Linear.from_sklearn(Ridge(alpha=RIDGE_ALPHA).fit(X, Y))
    return blend_with_linear(fit_mlp_ensemble(X, Y, seed=seed), linear, RIDGE_WEIGHT)


def word_folds(n: int, *, seed: int = 0, n_folds: int = N_FOLDS) -> list[np.ndarray]:
    """Test indices of each fold of a seeded random split of ``n`` words."""
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(f) for f in np.array_split(order, n_folds)]


def training_rows(words: Sequence[str], Y: np.ndarray, idx: np.ndarray, *, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings (one row per template) and targets of the words ``idx``."""
    from moodbridge.semantic.embeddings import embed_texts

    chosen = [words[i] for i in idx]
    X = np.concatenate([embed_texts(chosen, template=t, progress=progress) for t in TRAIN_TEMPLATES])
    return X, np.tile(Y[idx], (len(TRAIN_TEMPLATES), 1))


def cross_validate(
    words: Sequence[str], Y: np.ndarray, *, seed: int = 0, folds: Sequence[int] | None = None, progress: bool = True,
) -> dict[str, Any]:
    """Held-out-word metrics of the shipped blend, of the MLP ensemble alone and of ridge alone.

    Parameters
    ----------
    words, Y
        The lexicon.
    seed
        Seeds the word split and the networks.
    folds
        Which folds to run (default all; a subset reproduces the per-fold
        figures stored in the weights' metadata, for quick checks).

    Returns
    -------
    dict
        ``per_fold`` (list of metric dicts of the blend, with ``fold``); with all
        folds also pooled ``valence_r``, ``arousal_r`` … of the blend,
        ``mlp_valence_r``, ``mlp_arousal_r`` and ``ridge_valence_r``, ``ridge_arousal_r``.
    """
    from sklearn.linear_model import Ridge
    from tqdm.auto import tqdm

    from moodbridge.semantic.embeddings import embed_texts

    X0 = embed_texts(list(words), progress=progress).astype(np.float64)
    splits = word_folds(len(words), seed=seed)
    run = list(range(len(splits))) if folds is None else list(folds)
    pred = np.zeros_like(Y)
    mlp = np.zeros_like(Y)
    ridge = np.zeros_like(Y)
    per_fold = []
    for k in tqdm(run, desc="lexicon CV", disable=not progress, unit="fold"):
        test = splits[k]
        train = np.setdiff1d(np.arange(len(words)), test)
        Xtr, Ytr = training_rows(words, Y, train)
        linear = Linear.from_sklearn(Ridge(alpha=RIDGE_ALPHA).fit(Xtr, Ytr))
        ensemble = fit_mlp_ensemble(Xtr, Ytr, seed=seed + k)
        mlp[test] = ensemble.predict(X0[test])
        ridge[test] = linear.predict(X0[test])
        pred[test] = blend_with_linear(ensemble, linear, RIDGE_WEIGHT).predict(X0[test])
        per_fold.append({"fold": k, **va_metrics(Y[test], pred[test])})
    out: dict[str, Any] = {"per_fold": per_fold}
    if folds is None:
        out.update(va_metrics(Y, pred))
        for name, p in (("mlp", mlp), ("ridge", ridge)):
            part = va_metrics(Y, p)
            out.update({f"{name}_valence_r": part["valence_r"], f"{name}_arousal_r": part["arousal_r"]})
    return out


def train(data_dir: str | Path, *, seed: int = 0, out: str | Path, progress: bool = True) -> dict[str, Any]:
    """Cross-validate, fit the ``text-va`` head on all words, write its weights.

    Parameters
    ----------
    data_dir
        Folder holding ``NRC-VAD-Lexicon_v1.txt`` (like ``../shared/data/nrc-vad``).
    seed
        Seeds the word folds and the networks.
    out
        Weight file to write (the caller chooses; ``moodbridge affect train --replace-shipped`` names the shipped one).
    progress
        Show progress bars.

    Returns
    -------
    dict
        Cross-validated metrics (``cv_valence_r``, ``cv_arousal_r``, the ridge
        baseline, per-fold figures), ``n``, ``weights`` and ``seconds``.
    """
    from moodbridge.affect.heads.text import TextVAHead

    start = time.time()
    words, Y = load_words(data_dir)
    cv = cross_validate(words, Y, seed=seed, progress=progress)
    X, Yrows = training_rows(words, Y, np.arange(len(words)), progress=progress)
    model = fit_text_model(X, Yrows, seed=seed + 100)
    # float32 storage halves the file; predictions change by < 1e-6
    model = MLP([w.astype(np.float32) for w in model.weights], [b.astype(np.float32) for b in model.biases])
    from moodbridge.encoders import get_encoder

    meta = {
        "head": TextVAHead.name, "version": TextVAHead.version, "task": "lexicon", "seed": seed,
        "data": lexicon_file(data_dir).name, "n": len(words), "encoder": get_encoder("minilm").key,
        "model": "MLP ensemble (torch-trained) blended with ridge, one numpy MLP", "config": dict(MLP_CONFIG),
        "ridge_alpha": RIDGE_ALPHA, "ridge_weight": RIDGE_WEIGHT,
        "templates": list(TRAIN_TEMPLATES), "cv_folds": N_FOLDS,
        "cv_valence_r": cv["valence_r"], "cv_arousal_r": cv["arousal_r"],
        "cv_valence_mae": cv["valence_mae"], "cv_arousal_mae": cv["arousal_mae"],
        "cv_ridge_valence_r": cv["ridge_valence_r"], "cv_ridge_arousal_r": cv["ridge_arousal_r"],
        "cv_mlp_valence_r": cv["mlp_valence_r"], "cv_mlp_arousal_r": cv["mlp_arousal_r"],
        "cv_per_fold": cv["per_fold"],
        "reference": "Mohammad (2018), NRC-VAD lexicon v1",
    }
    path = save_weights(out, model.to_arrays("va."), meta)
    result = {k: v for k, v in meta.items() if k.startswith("cv_") and k != "cv_per_fold"}
    result.update({"n": len(words), "weights": str(path), "seconds": round(time.time() - start, 1)})
    return result


def evaluate(data_dir: str | Path, *, weights: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Pearson r of the ``text-va`` head on the words of the lexicon in ``data_dir``.

    On the lexicon the head was trained on, these figures are optimistic (every
    word was seen in training); the held-out-word figures from the weights'
    metadata are returned beside them as ``cv_valence_r`` and ``cv_arousal_r``.

    Returns
    -------
    dict
        ``valence_r``, ``arousal_r``, ``valence_mae``, ``arousal_mae``, ``n``,
        ``head``, ``version``, ``cv_valence_r``, ``cv_arousal_r``.
    """
    from moodbridge.affect.heads.text import TextVAHead
    from moodbridge.semantic.embeddings import embed_texts

    words, Y = load_words(data_dir)
    head = TextVAHead(str(weights) if weights else None)
    pred = head.predict_embeddings(embed_texts(words, progress=progress))
    _, meta = load_weights(weights or WEIGHTS_FILE)
    return {
        **va_metrics(Y, pred), "n": len(words), "head": head.name, "version": head.version,
        "cv_valence_r": meta.get("cv_valence_r"), "cv_arousal_r": meta.get("cv_arousal_r"),
    }
