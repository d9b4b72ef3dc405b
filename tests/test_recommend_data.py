"""Pairs table → interactions, leave-one-out split and samplers (moodbridge.recommend data/split/sampling)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from moodbridge.errors import InvalidValueError
from moodbridge.recommend import (
    PAIRS_COLUMNS,
    NegativeSampler,
    evaluation_negatives,
    interactions_from_pairs,
    leave_one_out,
    load_negatives,
    load_split,
    save_negatives,
    save_split,
    validation_split,
)
from moodbridge.recommend.synthetic import planted_pairs


def pairs_frame(rows: list[tuple[str, str]]) -> pd.DataFrame:
    """A pairs table with every pairs.csv column (VA made up from the names)."""
    frame = pd.DataFrame(rows, columns=["clip_path", "image_path"])
    for column in PAIRS_COLUMNS[2:]:
        frame[column] = 0.1 if column not in ("clip_quadrant", "image_quadrant", "clip_source", "image_source") else "x"
    frame["rank"] = frame.groupby("clip_path").cumcount() + 1
    return frame[list(PAIRS_COLUMNS)]


@pytest.fixture
def synthetic() -> pd.DataFrame:
    return planted_pairs(n_clips=120, n_images=300, n_groups=4, single_pair_clips=7, seed=3).frame


def test_index_maps_are_sorted_and_duplicates_counted(tmp_path: Path) -> None:
    frame = pairs_frame([("b.wav", "y.jpg"), ("a.wav", "z.jpg"), ("a.wav", "x.jpg"), ("b.wav", "y.jpg")])
    frame.to_csv(tmp_path / "pairs.csv", index=False)
    inter = interactions_from_pairs(tmp_path / "pairs.csv")
    assert inter.users == ("a.wav", "b.wav") and inter.items == ("x.jpg", "y.jpg", "z.jpg")
    assert list(zip(inter.user_idx, inter.item_idx)) == [(0, 0), (0, 2), (1, 1)]
    assert inter.n_duplicates == 1 and inter.source == str(tmp_path / "pairs.csv")
    assert inter.user_va.shape == (2, 2) and inter.item_va.shape == (3, 2)
    # the same pairs in another order give the same maps and fingerprints
    again = interactions_from_pairs(frame.iloc[::-1])
    assert again.pairs_fingerprint == inter.pairs_fingerprint
    # a catalogue adds never-paired images (NaN VA) and must contain every paired one
    wide = interactions_from_pairs(frame, catalogue=["w.jpg", "x.jpg", "y.jpg", "z.jpg"])
    assert wide.n_items == 4 and np.isnan(wide.item_va[0]).all()
    with pytest.raises(InvalidValueError, match="not in the catalogue of 2 images"):
        interactions_from_pairs(frame, catalogue=["x.jpg", "y.jpg"])


def test_bad_pairs_files_name_the_file_and_problem(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InvalidValueError, match=r"empty\.csv: empty file"):
        interactions_from_pairs(empty)
    header = tmp_path / "header.csv"
    header.write_text(",".join(PAIRS_COLUMNS) + "\n")
    with pytest.raises(InvalidValueError, match=r"header\.csv: .*no pairs"):
        interactions_from_pairs(header)
    missing = tmp_path / "missing.csv"
    pairs_frame([("a", "x")]).drop(columns=["image_path"]).to_csv(missing, index=False)
    with pytest.raises(InvalidValueError, match=r"missing\.csv: not a pairs table: missing column\(s\) image_path"):
        interactions_from_pairs(missing)
    unknown = tmp_path / "unknown.csv"
    pairs_frame([("a", "x")]).rename(columns={"S": "semantic"}).to_csv(unknown, index=False)
    with pytest.raises(InvalidValueError, match=r"unknown\.csv: .*unknown column\(s\) semantic"):
        interactions_from_pairs(unknown)
    nan_va = tmp_path / "nan.csv"
    bad = pairs_frame([("a", "x"), ("a", "y")])
    bad.loc[1, "clip_valence"] = np.nan
    bad.to_csv(nan_va, index=False)
    with pytest.raises(InvalidValueError, match=r"nan\.csv: clip_valence is not a finite number in row 3"):
        interactions_from_pairs(nan_va)
    with pytest.raises(InvalidValueError, match="no such pairs file"):
        interactions_from_pairs(tmp_path / "absent.csv")


def test_leave_one_out_skips_single_pair_clips_and_counts_them(synthetic: pd.DataFrame) -> None:
    inter = interactions_from_pairs(synthetic)
    split = leave_one_out(inter, seed=0)
    counts = inter.user_counts()
    assert split.n_skipped == 7 == int((counts == 1).sum())
    assert split.n_test == int((counts >= 2).sum()) == 120
    assert np.bincount(split.test_users, minlength=inter.n_users).tolist() == (counts >= 2).astype(int).tolist()
    # the skipped clips' single pairs stay in training
    assert set(split.skipped_users) <= set(split.train.user_idx)
    assert split.train.n_pairs + split.n_test == inter.n_pairs
    assert (leave_one_out(inter, seed=0).test_mask == split.test_mask).all()
    assert (leave_one_out(inter, seed=1).test_mask != split.test_mask).any()
    only_singles = interactions_from_pairs(pairs_frame([("a", "x"), ("b", "y")]))
    with pytest.raises(InvalidValueError, match="no clip has two or more pairs"):
        leave_one_out(only_singles)


def test_split_is_saved_and_reloaded_identically(tmp_path: Path, synthetic: pd.DataFrame) -> None:
    inter = interactions_from_pairs(synthetic)
    split = leave_one_out(inter, seed=5)
    save_split(split, tmp_path / "split.json")
    again = load_split(tmp_path / "split.json", interactions_from_pairs(synthetic.sample(frac=1.0, random_state=0)))
    assert (again.test_mask == split.test_mask).all() and again.seed == 5 and again.n_skipped == split.n_skipped
    other = interactions_from_pairs(synthetic.iloc[:-3])
    with pytest.raises(InvalidValueError, match=r"split\.json: the split was made from other"):
        load_split(tmp_path / "split.json", other)


def test_validation_split_never_touches_test_pairs(synthetic: pd.DataFrame) -> None:
    split = leave_one_out(interactions_from_pairs(synthetic), seed=0)
    val = validation_split(split, seed=1)
    test_keys = set(zip(split.test_users.tolist(), split.test_items.tolist()))
    val_keys = set(zip(val.interactions.user_idx.tolist(), val.interactions.item_idx.tolist()))
    assert not test_keys & val_keys
    assert val.n_test > 0 and val.interactions.n_pairs == split.train.n_pairs
    # half the clips that can give a validation pair do; the others keep all their training pairs
    eligible = int((split.train.user_counts() >= 2).sum())
    assert val.n_test == round(0.5 * eligible)
    assert validation_split(split, seed=1, fraction=1.0).n_test == eligible
    assert leave_one_out(split.interactions, seed=0, fraction=1.0).test_mask.tolist() == split.test_mask.tolist()
    with pytest.raises(InvalidValueError, match="fraction must be in"):
        leave_one_out(split.interactions, fraction=0.0)


def test_cold_split_holds_items_out_of_training_entirely(synthetic: pd.DataFrame) -> None:
    from moodbridge.recommend.coldstart import cold_split, evaluate_cold

    inter = interactions_from_pairs(synthetic)
    for which in ("clip", "image"):
        cs = cold_split(inter, which=which, fraction=0.25, seed=2)
        cold = set(cs.cold)
        catalogue = cs.train.users if which == "clip" else cs.train.items
        assert not cold & set(catalogue) and len(catalogue) + len(cold) == (inter.n_users if which == "clip"
                                                                           else inter.n_items)
        pairs = cs.test_pairs()
        assert pairs and all((c if which == "clip" else i) in cold for c, i in pairs)
        train = {(cs.train.users[u], cs.train.items[i]) for u, i in zip(cs.train.user_idx, cs.train.item_idx)}
        assert len(train) + len(pairs) == inter.n_pairs and not train & set(pairs)
        # a constant scorer ranks by the expected-ties rule: exactly K / (number of valid candidates) per row
        result = evaluate_cold(lambda c, i: np.zeros((len(c), len(i))), cs, k=10)
        n_candidates = len(cs.cold) if which == "image" else inter.n_items
        assert result.n_users == len(pairs) and result.hr == pytest.approx(
            float(np.mean(np.minimum(1.0, 10 / (result.per_user["tied"] + 1)))))
        assert (result.per_user["greater"] == 0).all() and (result.per_user["tied"] + 1 <= n_candidates).all()
    with pytest.raises(InvalidValueError, match="which must be"):
        cold_split(inter, which="user")


def test_evaluation_negatives_exclude_positives_have_no_duplicates_and_are_seeded(
        tmp_path: Path, synthetic: pd.DataFrame) -> None:
    inter = interactions_from_pairs(synthetic)
    split = leave_one_out(inter, seed=0)
    neg = evaluation_negatives(split, n=99, seed=4)
    assert neg.items.shape == (split.n_test, 99)
    indptr, indices = split.train.csr()
    for row, (u, held_out) in enumerate(zip(split.test_users, split.test_items)):
        drawn = neg.items[row]
        assert len(set(drawn.tolist())) == 99
        assert held_out not in drawn
        assert not set(drawn.tolist()) & set(indices[indptr[u]:indptr[u + 1]].tolist())
        assert ((drawn >= 0) & (drawn < inter.n_items)).all()
    assert (evaluation_negatives(split, seed=4).items == neg.items).all()
    assert (evaluation_negatives(split, seed=5).items != neg.items).any()
    save_negatives(neg, tmp_path / "negatives.npz")
    assert (load_negatives(tmp_path / "negatives.npz", split).items == neg.items).all()
    with pytest.raises(InvalidValueError, match="another split"):
        load_negatives(tmp_path / "negatives.npz", leave_one_out(inter, seed=1))


def test_evaluation_negatives_are_exactly_the_allowed_images_when_just_enough() -> None:
    # clip a: 2 training images + 1 held out among 102 -> exactly 99 allowed, all must be drawn
    images = [f"i{j:03d}.jpg" for j in range(102)]
    frame = pairs_frame([("a.wav", images[10]), ("a.wav", images[50]), ("a.wav", images[101])])
    split = leave_one_out(interactions_from_pairs(frame, catalogue=images), seed=0)
    neg = evaluation_negatives(split, seed=0)
    own = {10, 50, 101}
    assert sorted(neg.items[0].tolist()) == [j for j in range(102) if j not in own]
    with pytest.raises(InvalidValueError, match="only 99 images"):
        evaluation_negatives(split, n=100)


def test_training_sampler_never_returns_a_training_positive_and_is_seeded(synthetic: pd.DataFrame) -> None:
    train = leave_one_out(interactions_from_pairs(synthetic), seed=0).train
    users = np.repeat(np.arange(train.n_users), 20)
    drawn = NegativeSampler(train, seed=1).sample(users, 8)
    sampler = NegativeSampler(train, seed=1)
    assert not sampler.is_positive(np.broadcast_to(users[:, None], drawn.shape), drawn).any()
    assert sampler.is_positive(train.user_idx, train.item_idx).all()
    assert (NegativeSampler(train, seed=1).sample(users, 8) == drawn).all()
    assert (NegativeSampler(train, seed=2).sample(users, 8) != drawn).any()
    # a tiny catalogue where most images are positives: still none drawn
    frame = pairs_frame([("a", "x"), ("a", "y"), ("a", "z"), ("b", "x")])
    tiny = interactions_from_pairs(frame, catalogue=["w", "x", "y", "z"])
    assert (NegativeSampler(tiny, seed=0).sample(np.zeros(100, dtype=np.int64), 5) == 0).all()  # only "w"
