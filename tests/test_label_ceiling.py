"""``scripts/eimg_label_ceiling.py``: the inter-rater ceiling of EIMG's quadrant labels.

The mechanics are checked on small synthetic rating tables whose answers are known
(raters who always agree; raters who are pure noise around the midpoint); the real
figures come from ``../shared/data/eimg``.
"""
from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, shared_path

spec = importlib.util.spec_from_file_location("eimg_label_ceiling", REPO / "scripts" / "eimg_label_ceiling.py")
ceiling_script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ceiling_script)


def write_table(folder, ratings: np.ndarray) -> None:
    """``ratings``: (N, 6, 2) on 1-9 → an EIMG-layout labels.csv."""
    table = {"file": [f"{i:04d}.mid" for i in range(len(ratings))]}
    for r in range(6):
        table[f"a{r + 1}_v"], table[f"a{r + 1}_a"] = ratings[:, r, 0], ratings[:, r, 1]
    means = ratings.mean(axis=1)
    table["valence_mean"], table["arousal_mean"] = means[:, 0], means[:, 1]
    pd.DataFrame(table).to_csv(folder / "labels.csv", index=False)


def test_raters_who_always_agree_give_a_perfect_ceiling(tmp_path):
    rng = np.random.default_rng(0)
    clip_values = rng.choice([2.0, 3.0, 7.0, 8.0], size=(200, 1, 2))
    ratings = np.repeat(clip_values, 6, axis=1)
    write_table(tmp_path, ratings)
    loaded = ceiling_script.annotator_ratings(tmp_path)
    np.testing.assert_array_equal(loaded, ratings)
    assert ceiling_script.split_half(loaded) == (1.0, 1.0)
    # no rater variance: reliability 1, the oracle equals the label
    result = ceiling_script.ceiling(loaded + rng.normal(0, 1e-9, loaded.shape), draws=3)
    assert result["oracle_balanced_accuracy"] == pytest.approx(1.0)
    assert result["reliability_valence"] == pytest.approx(1.0, abs=1e-6)


def test_pure_noise_raters_give_a_chance_ceiling(tmp_path):
    rng = np.random.default_rng(1)
    ratings = np.clip(np.round(rng.normal(5.0, 2.0, size=(4000, 6, 2))), 1, 9)
    ratings[0, 2, 1] = np.nan  # a missing rating is skipped, not fatal
    write_table(tmp_path, ratings)
    loaded = ceiling_script.annotator_ratings(tmp_path)
    acc, _ = ceiling_script.split_half(loaded)
    assert acc < 0.4  # four quadrants, no shared signal: near 0.25
    result = ceiling_script.ceiling(loaded, draws=3)
    assert abs(result["reliability_valence"]) < 0.1
    assert result["oracle_balanced_accuracy"] < 0.45


def test_missing_columns_and_folder_are_one_line_errors(tmp_path, capsys):
    pd.DataFrame({"file": ["a.mid"], "a1_v": [3]}).to_csv(tmp_path / "labels.csv", index=False)
    with pytest.raises(SystemExit, match="missing column"):
        ceiling_script.annotator_ratings(tmp_path)
    assert ceiling_script.main(["--data", str(tmp_path / "absent")]) == 2
    assert "labels.csv not found" in capsys.readouterr().err


@pytest.mark.shared_data
def test_real_eimg_ceiling_lies_between_split_half_and_perfect():
    ratings = ceiling_script.annotator_ratings(shared_path("eimg"))
    assert ratings.shape == (2400, 6, 2)
    acc, bacc = ceiling_script.split_half(ratings)
    result = ceiling_script.ceiling(ratings, draws=5)
    assert 0.5 < acc < 0.75 and 0.5 < bacc < 0.75
    # six raters are more reliable than three, and agreement with the consensus is below 1
    assert acc < result["oracle_accuracy"] < 0.9
    assert 0.6 < result["reliability_valence"] < result["reliability_arousal"] < 1.0
