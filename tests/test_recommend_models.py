"""Recommender score formulas set by hand, score/score_all agreement, training on a SYNTHETIC planted problem,
seen vs unseen items, persistence, evaluation against a naive loop (moodbridge.recommend)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from moodbridge.errors import InvalidValueError
from moodbridge.recommend import (
    BASELINES,
    BPRMF,
    MODELS,
    BiasedMF,
    NeuMF,
    SVDpp,
    build_model,
    evaluate_full,
    evaluate_sampled,
    evaluation_negatives,
    fit,
    interactions_from_pairs,
    leave_one_out,
    load_recommender,
    model_class,
    plot_training_curves,
    rank_counts,
    save_recommender,
    side_info,
    train,
)
from moodbridge.recommend.metrics import hit_rate
from moodbridge.recommend.synthetic import planted_pairs


def set_(param: torch.nn.Parameter, values) -> None:
    with torch.no_grad():
        param.copy_(torch.as_tensor(values, dtype=param.dtype).reshape(param.shape))


U = torch.tensor([0, 0, 1, 1, 1])
I = torch.tensor([0, 2, 0, 1, 2])


def test_bmf_score_is_global_plus_biases_plus_dot() -> None:
    m = BiasedMF(2, 3, dim=2)
    set_(m.mu, 0.5)
    set_(m.b_user.weight, [0.1, -0.2])
    set_(m.b_item.weight, [1.0, 2.0, 3.0])
    set_(m.P.weight, [[1, 0], [1, 2]])
    set_(m.Q.weight, [[0, 1], [1, 1], [2, -1]])
    # u0,i0: .5+.1+1+0 ; u0,i2: .5+.1+3+2 ; u1,i0: .5-.2+1+2 ; u1,i1: .5-.2+2+3 ; u1,i2: .5-.2+3+0
    expected = [1.6, 5.6, 3.3, 5.3, 3.3]
    np.testing.assert_allclose(m.score(U, I).detach(), expected, rtol=1e-6)
    np.testing.assert_allclose(m.score_all(torch.tensor([0, 1])).detach()[U, I], expected, rtol=1e-6)


def test_mf_score_is_a_plain_dot_product() -> None:
    m = BPRMF(2, 3, dim=2)
    set_(m.P.weight, [[1, 0], [1, 2]])
    set_(m.Q.weight, [[0, 1], [1, 1], [2, -1]])
    np.testing.assert_allclose(m.score(U, I).detach(), [0, 2, 2, 3, 0], atol=1e-6)


def test_svdpp_adds_the_normalised_implicit_sum() -> None:
    # clip 0 has implicit images {0, 1}; clip 1 has {2}
    m = SVDpp(2, 3, dim=2, implicit=(np.array([0, 2, 3]), np.array([0, 1, 2])))
    set_(m.mu, 0.0)
    set_(m.b_user.weight, [0.0, 1.0])
    set_(m.b_item.weight, [0.0, 0.0, 0.5])
    set_(m.P.weight, [[1, 0], [0, 0]])
    set_(m.Q.weight, [[1, 0], [0, 1], [1, 1]])
    set_(m.Y.weight, [[2, 0], [0, 2], [3, 3]])
    imp0 = np.array([2.0, 2.0]) / math.sqrt(2)  # (y0 + y1) / sqrt(2)
    imp1 = np.array([3.0, 3.0]) / 1.0
    user = {0: np.array([1.0, 0.0]) + imp0, 1: imp1}
    q = np.array([[1, 0], [0, 1], [1, 1]], dtype=float)
    bu, bi = [0.0, 1.0], [0.0, 0.0, 0.5]
    expected = [bu[u] + bi[i] + q[i] @ user[u] for u, i in zip(U.tolist(), I.tolist())]
    np.testing.assert_allclose(m.score(U, I).detach(), expected, rtol=1e-6)
    np.testing.assert_allclose(m.score_all(torch.tensor([1, 0])).detach()[[1, 1, 0, 0, 0], I], expected, rtol=1e-6)


def test_neumf_matches_he_et_al_equation_12() -> None:
    m = NeuMF(3, 4, gmf_dim=2, mlp_layers=(4, 3, 2), init_std=0.5, seed=1)
    with torch.no_grad():
        for p in m.parameters():  # non-zero biases too, so the formula is fully exercised
            p.add_(torch.linspace(-0.3, 0.3, p.numel()).reshape(p.shape))
    w = {k: v.detach().numpy() for k, v in m.state_dict().items()}
    relu = lambda x: np.maximum(x, 0.0)

    def formula(u: int, i: int) -> float:
        gmf = w["P_gmf.weight"][u] * w["Q_gmf.weight"][i]
        x = np.concatenate([w["P_mlp.weight"][u], w["Q_mlp.weight"][i]])
        for layer in range(2):
            x = relu(w[f"mlp.{layer}.weight"] @ x + w[f"mlp.{layer}.bias"])
        return float(w["head.weight"][0] @ np.concatenate([gmf, x]) + w["head.bias"][0])

    users, items = np.meshgrid(np.arange(3), np.arange(4), indexing="ij")
    expected = np.vectorize(formula)(users, items)
    np.testing.assert_allclose(m.score(torch.as_tensor(users), torch.as_tensor(items)).detach(), expected, rtol=1e-5)
    with torch.no_grad():
        np.testing.assert_allclose(m.score_all(torch.arange(3)), expected, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def planted():
    """SYNTHETIC planted problem: 300 clips, 600 images in 15 groups, 3 pairs per clip."""
    syn = planted_pairs(n_clips=300, n_images=600, n_groups=15, seed=11)
    inter = interactions_from_pairs(syn.frame, catalogue=syn.images)
    split = leave_one_out(inter, seed=0)
    return syn, inter, split


VARIANTS = [(n, c) for n in ("ncf", "bmf", "svdpp", "mf") for c in (False, True)]


def variant_id(v) -> str:
    return f"{v[0]}{'+content' if v[1] else ''}"


def content_side(syn, inter):
    image_va = {p: va for p, va in zip(inter.items, inter.item_va)}
    group_va = {}
    for p, g in zip(syn.images, syn.image_group):
        if np.isfinite(image_va[p]).all():
            group_va[g] = image_va[p]
    va = {p: (image_va[p] if np.isfinite(image_va[p]).all() else group_va[g]) for p, g in zip(syn.images, syn.image_group)}
    return {"user_side": side_info(syn.clip_features, dict(zip(inter.users, inter.user_va)), what="clip"),
            "item_side": side_info(syn.image_features, va, what="image")}


@pytest.mark.parametrize("variant", VARIANTS + [(b, False) for b in ("popularity", "random")], ids=variant_id)
def test_score_all_agrees_with_score(variant, planted) -> None:
    syn, inter, split = planted
    name, content = variant
    options = {"content": True, **content_side(syn, inter)} if content else {}
    cls = MODELS[name] if name in MODELS else BASELINES[name]
    model = cls.build(split.train, seed=3, **options).eval()  # eval: no id dropout
    with torch.no_grad():
        for p in model.parameters():  # away from the initial zeros of the biases
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(0)))
        users = torch.tensor([0, 5, 17, 299])
        full = model.score_all(users)
        assert full.shape == (4, inter.n_items)
        items = torch.tensor([0, 3, 100, 599])
        np.testing.assert_allclose(full[:, items], model.score(users[:, None], items[None, :]), rtol=1e-4, atol=1e-5)


def test_unknown_model_name_lists_the_known_ones(planted) -> None:
    with pytest.raises(InvalidValueError, match="unknown recommender 'neumf'; known: ncf, bmf, svdpp, mf"):
        build_model("neumf", planted[2].train)
    assert model_class("svdpp") is SVDpp


TRAINING = {"ncf": dict(lr=1e-2, weight_decay=1e-4), "bmf": dict(lr=1e-2, weight_decay=1e-4),
            "svdpp": dict(lr=1e-2, weight_decay=1e-4), "mf": dict(lr=1e-2, weight_decay=1e-5)}


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_training_recovers_the_planted_structure(variant, planted) -> None:
    """SYNTHETIC data: after training, HR@10 is far above chance on both protocols."""
    syn, inter, split = planted
    name, content = variant
    options = {"content": True, **content_side(syn, inter)} if content else {}
    negatives = evaluation_negatives(split, seed=0)
    fitted = fit(name, split, seed=0, epochs=40, progress=False, monitor=split, negatives=negatives, eval_every=20,
                 model_options=options, **TRAINING[name])
    full, sampled = evaluate_full(fitted.model, split), evaluate_sampled(fitted.model, split, negatives)
    chance_full = 10 / inter.n_items  # ~0.017 here
    assert full.hr > 5 * chance_full, (name, full.hr)
    assert sampled.hr > 0.3, (name, sampled.hr)  # chance 0.1
    assert fitted.history.loss[-1] < fitted.history.loss[0]
    assert fitted.history.eval_epoch == [20, 40] and len(fitted.history.metrics["full_hr@10"]) == 2
    assert fitted.history.metrics["full_hr@10"][-1] == pytest.approx(full.hr)


def test_svdpp_and_mf_beat_popularity_on_the_planted_problem(planted) -> None:
    syn, inter, split = planted
    popularity = evaluate_full(BASELINES["popularity"].build(split.train), split).hr
    for name in ("svdpp", "mf"):
        fitted = fit(name, split, epochs=40, progress=False, **TRAINING[name])
        assert evaluate_full(fitted.model, split).hr > popularity + 0.05, name


def test_training_is_reproducible(planted) -> None:
    _, _, split = planted
    a = fit("bmf", split, seed=4, epochs=3, progress=False)
    b = fit("bmf", split, seed=4, epochs=3, progress=False)
    c = fit("bmf", split, seed=5, epochs=3, progress=False)
    assert a.history.loss == b.history.loss and a.history.loss != c.history.loss
    for x, y in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(x, y)
    assert torch.get_num_threads() >= 1


def test_bad_training_options(planted) -> None:
    _, inter, split = planted
    model = build_model("bmf", split.train)
    with pytest.raises(InvalidValueError, match="unknown loss 'hinge'"):
        train(model, split.train, loss="hinge", progress=False)
    with pytest.raises(InvalidValueError, match="built for 3 clips"):
        train(BiasedMF(3, 4), split.train, progress=False)


def test_evaluation_matches_a_naive_loop(planted) -> None:
    syn, inter, split = planted
    model = build_model("bmf", split.train, seed=2)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.3, generator=torch.Generator().manual_seed(1))
    result = evaluate_full(model, split)
    with torch.no_grad():
        scores = model.score_all(torch.as_tensor(split.test_users)).numpy()
    valid = np.ones_like(scores, dtype=bool)
    train_keys = set(zip(split.train.user_idx.tolist(), split.train.item_idx.tolist()))
    for row, u in enumerate(split.test_users):
        for j in range(inter.n_items):
            if (u, j) in train_keys:
                valid[row, j] = False  # the clip's training images are not candidates
    g, t = rank_counts(scores, split.test_items, valid=valid)
    assert (result.per_user["greater"] == g).all() and (result.per_user["tied"] == t).all()
    assert result.hr == pytest.approx(hit_rate(g, t, k=10).mean())
    assert result.n_candidates == inter.n_items


def test_random_and_popularity_baselines(planted) -> None:
    _, inter, split = planted
    negatives = evaluation_negatives(split, seed=0)
    rnd = BASELINES["random"].build(split.train, seed=0)
    assert evaluate_sampled(rnd, split, negatives).hr == pytest.approx(0.1, abs=0.06)
    assert evaluate_full(rnd, split).hr < 0.06
    pop = BASELINES["popularity"].build(split.train)
    counts = split.train.item_counts()
    with torch.no_grad():
        np.testing.assert_array_equal(pop.score_all(torch.tensor([0, 1]))[1].numpy(), counts)


def test_id_model_refuses_unseen_items_and_content_model_scores_them(planted) -> None:
    syn, inter, split = planted
    bmf = fit("bmf", split, epochs=1, progress=False)
    with pytest.raises(InvalidValueError, match=r"image 'new\.jpg' was not in the training data of this 'bmf' model"):
        bmf.score([inter.users[0]], ["new.jpg"])
    with pytest.raises(InvalidValueError, match=r"clip 'new\.wav' was not in the training data"):
        bmf.recommend("new.wav")
    # content models, trained on SYNTHETIC planted data: one new image per group (its group's mean features + noise)
    side = content_side(syn, inter)
    rng = np.random.default_rng(0)
    new_x, new_va = {}, {}
    for g in range(15):
        members = [j for j, x in enumerate(syn.image_group) if x == g]
        new_x[f"new-{g}.jpg"] = syn.image_features[1][members].mean(0) + 0.3 * rng.normal(size=16)
        new_va[f"new-{g}.jpg"] = side["item_side"].matrix([syn.images[members[0]]])[0, -2:]
    group = dict(zip(syn.clips, syn.clip_group))
    for name in ("mf", "bmf", "svdpp", "ncf"):
        content = fit(name, split, epochs=15, lr=1e-2, progress=False, model_options={"content": True}, **side)
        content.item_side = side_info(new_x, new_va, what="image")
        scores = content.score(list(inter.users), list(new_x))
        assert np.isfinite(scores).all()
        # the best new image of a clip is the one of its own group far more often than chance (1/15)
        accuracy = np.mean([int(np.argmax(scores[r])) == group[c] for r, c in enumerate(inter.users)])
        assert accuracy > 0.5, (name, accuracy)
        # a seen image scores the same whether asked alone or beside unseen ones
        clip = inter.users[0]
        both = content.score([clip], ["new-0.jpg", inter.items[0]])
        np.testing.assert_allclose(both[0, 1], content.score([clip], [inter.items[0]])[0, 0], rtol=1e-5)
        with pytest.raises(InvalidValueError, match="no features for 1 image"):
            content.score([clip], ["never-described.jpg"])
    # an unseen clip, described by features alone, scores too (and gets images, not an error)
    content.user_side = side_info((["new-clip.wav"], syn.clip_features[1][:1]), np.zeros((1, 2)), what="clip")
    assert len(content.recommend("new-clip.wav", k=5)) == 5
    assert content.recommend_clips("new-3.jpg", k=4)[0][0] in inter.users


def test_recommend_excludes_training_images(planted) -> None:
    _, inter, split = planted
    fitted = fit("svdpp", split, epochs=2, progress=False)
    u = 3
    seen = {inter.items[j] for j in fitted.train_indices[fitted.train_indptr[u]:fitted.train_indptr[u + 1]]}
    top = fitted.recommend(inter.users[u], k=20)
    assert len(top) == 20 and not seen & {p for p, _ in top}
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)


@pytest.mark.parametrize("variant", [("svdpp", False), ("ncf", False), ("svdpp", True), ("ncf", True)],
                         ids=variant_id)
def test_persistence_round_trip_and_other_catalogue(tmp_path: Path, variant, planted) -> None:
    syn, inter, split = planted
    name, content = variant
    side = content_side(syn, inter) if content else {}
    fitted = fit(name, split, epochs=2, progress=False, model_options={"content": content}, **side)
    fitted.metrics = {"full": evaluate_full(fitted.model, split).as_dict()}
    folder = save_recommender(fitted, tmp_path / "model")
    assert {p.name for p in folder.iterdir()} == {"manifest.json", "weights.pt", "catalogue.json", "train_pairs.npz"}
    loaded = load_recommender(folder, images=inter.items, clips=inter.users, **side)
    clips, images = list(inter.users[:5]), list(inter.items[:7])
    np.testing.assert_allclose(loaded.score(clips, images), fitted.score(clips, images), rtol=1e-6)
    assert loaded.history.loss == fitted.history.loss and loaded.metrics == fitted.metrics
    other = list(inter.items[:-1]) + ["elsewhere/other.jpg"]
    with pytest.raises(InvalidValueError, match=r"model: this model was trained on another catalogue of images "
                                                 r"\(600 images.*1 image\(s\) are new and 1 missing"):
        load_recommender(folder, images=other, **side)


def test_loading_bad_folders(tmp_path: Path, planted) -> None:
    syn, inter, split = planted
    with pytest.raises(InvalidValueError, match="no such recommender model folder"):
        load_recommender(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidValueError, match="manifest.json is missing"):
        load_recommender(tmp_path / "empty")
    side = content_side(syn, inter)
    folder = save_recommender(fit("mf", split, epochs=1, progress=False, model_options={"content": True}, **side),
                              tmp_path / "c")
    with pytest.raises(InvalidValueError, match="a content model needs the clips' and images' features"):
        load_recommender(folder)


def test_training_curves_plot(tmp_path: Path, planted) -> None:
    _, _, split = planted
    negatives = evaluation_negatives(split, seed=0)
    h = {n: fit(n, split, epochs=2, progress=False, monitor=split, negatives=negatives).history for n in ("bmf", "svdpp")}
    path = plot_training_curves(h, tmp_path / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    with pytest.raises(InvalidValueError, match="nothing to plot"):
        plot_training_curves({}, tmp_path / "none.png")
