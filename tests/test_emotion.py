"""Tests of moodbridge.emotion: VA points, scales, quadrants, taxonomies, lexicon, similarities."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, shared_path

from moodbridge.emotion import (
    CATEGORY_WORDS,
    QUADRANT_CENTRES,
    SCALE_0_1,
    SCALE_1_7,
    SCALE_1_9,
    SCALE_PM1,
    SIMILARITIES,
    VA,
    Lexicon,
    Quadrant,
    Scale,
    Taxonomy,
    as_va_array,
    category_va,
    cosine_similarity,
    distribution_to_va,
    from_array,
    gaussian_similarity,
    get_quadrant,
    get_scale,
    get_similarity,
    get_taxonomy,
    inverse_euclidean_similarity,
    nearest_category,
    pairwise_similarity,
    quadrant_of,
    quadrants,
    rowwise_similarity,
    to_array,
    va_to_distribution,
)
from moodbridge.emotion.taxonomy import category_table_csv, shipped_table_text
from moodbridge.errors import InvalidValueError

RNG = np.random.default_rng(0)
POINTS = RNG.uniform(-1, 1, size=(7, 2))
OTHERS = RNG.uniform(-1, 1, size=(5, 2))


# --- VA points --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "valence, arousal",
    [(float("nan"), 0.0), (0.0, float("nan")), (1.5, 0.0), (0.0, -1.01), (float("inf"), 0), ("x", 0), (True, 0)],
)
def test_va_rejects_invalid(valence, arousal):
    with pytest.raises(InvalidValueError):
        VA(valence, arousal)


def test_va_message_is_readable():
    with pytest.raises(InvalidValueError, match=r"arousal = 2 is outside \[-1, 1\]"):
        VA(0.0, 2)
    with pytest.raises(InvalidValueError, match="valence is NaN"):
        VA(float("nan"), 0.0)


def test_va_accepts_bounds_and_round_off():
    assert VA(-1, 1) == VA(-1.0, 1.0)
    assert VA(1 + 1e-12, 0).valence == 1.0
    v, a = VA(0.25, -0.5)
    assert (v, a) == (0.25, -0.5)


def test_array_round_trip():
    points = [VA(0.1, -0.2), VA(-1, 1), VA(0, 0)]
    arr = to_array(points)
    assert arr.shape == (3, 2) and arr.dtype == np.float64
    assert from_array(arr) == points
    assert to_array([]).shape == (0, 2)
    assert as_va_array(VA(0.5, 0.5)).shape == (1, 2)
    assert as_va_array((0.5, 0.5)).shape == (1, 2)


@pytest.mark.parametrize(
    "bad",
    [np.zeros((3, 3)), np.zeros(3), np.zeros((2, 2, 2)), [[0.0, np.nan]], [[0.0, 1.2]], [["a", "b"]], "text"],
)
def test_as_va_array_rejects(bad):
    with pytest.raises(InvalidValueError):
        as_va_array(bad)


# --- scales -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "scale, raw, va",
    [
        (SCALE_1_9, 1, -1.0), (SCALE_1_9, 5, 0.0), (SCALE_1_9, 9, 1.0), (SCALE_1_9, 7, 0.5),
        (SCALE_1_7, 1, -1.0), (SCALE_1_7, 4, 0.0), (SCALE_1_7, 7, 1.0),
        (SCALE_0_1, 0.0, -1.0), (SCALE_0_1, 0.5, 0.0), (SCALE_0_1, 1.0, 1.0), (SCALE_0_1, 0.75, 0.5),
        (SCALE_PM1, -1, -1.0), (SCALE_PM1, 1, 1.0), (SCALE_PM1, 0.3, 0.3),
    ],
)
def test_scale_anchors(scale, raw, va):
    assert scale.to_va(raw) == pytest.approx(va)
    assert scale.from_va(va) == pytest.approx(raw)


@pytest.mark.parametrize("scale", [SCALE_1_9, SCALE_1_7, SCALE_0_1, SCALE_PM1, Scale(-3, 10)])
def test_scale_round_trip_vectorised(scale):
    raw = RNG.uniform(scale.lo, scale.hi, size=(4, 3))
    va = scale.to_va(raw)
    assert va.shape == raw.shape and np.all(np.abs(va) <= 1)
    np.testing.assert_allclose(scale.from_va(va), raw)
    assert scale.to_va(scale.midpoint) == 0.0


@pytest.mark.parametrize("name, scale", [("EIMG", SCALE_1_9), ("naps", SCALE_1_9), ("oasis", SCALE_1_7),
                                         ("nrc-vad", SCALE_0_1), ("NRC_VAD", SCALE_0_1), ("vgmidi", SCALE_PM1)])
def test_get_scale(name, scale):
    assert get_scale(name) is scale


@pytest.mark.parametrize(
    "call",
    [lambda: SCALE_1_9.to_va(0.5), lambda: SCALE_1_9.to_va([5, 10]), lambda: SCALE_0_1.to_va(np.nan),
     lambda: SCALE_1_7.from_va(1.5), lambda: Scale(2, 1), lambda: get_scale("1-10")],
)
def test_scale_invalid(call):
    with pytest.raises(InvalidValueError):
        call()


def test_scale_point():
    assert SCALE_1_9.point(9, 1) == VA(1.0, -1.0)
    assert SCALE_1_9.pair(VA(0, 0.5)) == (5.0, 7.0)


# --- quadrants ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "point, expected",
    [
        ((0.5, 0.5), Quadrant.Q1), ((-0.5, 0.5), Quadrant.Q2), ((-0.5, -0.5), Quadrant.Q3),
        ((0.5, -0.5), Quadrant.Q4),
        # axis rule: 0 counts as positive
        ((0.0, 0.0), Quadrant.Q1), ((0.0, -0.5), Quadrant.Q4), ((-0.5, 0.0), Quadrant.Q2),
        ((0.5, 0.0), Quadrant.Q1), ((-0.0, -0.0), Quadrant.Q1), ((-1e-12, -1e-12), Quadrant.Q3),
    ],
)
def test_quadrant_assignment(point, expected):
    assert quadrant_of(point) is expected
    assert quadrant_of(VA(*point)) is expected


def test_quadrants_vectorised_and_centres():
    got = quadrants(POINTS)
    want = [quadrant_of(tuple(p)).value for p in POINTS]
    assert got.tolist() == want
    assert quadrants(QUADRANT_CENTRES).tolist() == [1, 2, 3, 4]
    assert Quadrant.Q3.centre == VA(-0.5, -0.5)
    assert "negative valence" in Quadrant.Q2.description
    assert get_quadrant("q4") is Quadrant.Q4 and get_quadrant(2) is Quadrant.Q2
    with pytest.raises(InvalidValueError):
        get_quadrant("Q5")
    with pytest.raises(InvalidValueError):
        quadrant_of(np.zeros((2, 2)))


# --- taxonomies ---------------------------------------------------------------------------
@pytest.mark.parametrize("name, size", [("mikels", 8), ("cowen", 13), ("audioset", 7), ("quadrants", 4)])
def test_taxonomy_sizes(name, size):
    tax = get_taxonomy(name)
    assert len(tax) == size and tax.centres.shape == (size, 2)
    assert np.all(np.abs(tax.centres) <= 1)


def test_cowen_names_follow_emid():
    assert set(get_taxonomy("cowen").names) == {
        "amusing", "annoying", "anxious/tense", "beautiful", "calm/relaxing", "dreamy", "energizing/pump-up",
        "erotic/desirous", "indignant/defiant", "joyful/cheerful", "sad/depressing", "scary/fearful",
        "triumphant/heroic",
    }


@pytest.mark.parametrize(
    "taxonomy, category, check",
    [
        ("mikels", "sadness", lambda va: va.valence < -0.5 and va.arousal < 0),
        ("mikels", "excitement", lambda va: va.valence > 0.5 and va.arousal > 0.5),
        ("mikels", "contentment", lambda va: va.valence > 0.5 and va.arousal < 0),
        ("mikels", "fear", lambda va: va.valence < -0.5 and va.arousal > 0.5),
        ("cowen", "calm", lambda va: va.valence > 0.5 and va.arousal < -0.5),
        ("cowen", "Joyful/Cheerful", lambda va: va.valence > 0.5 and va.arousal > 0),
        ("cowen", "scary/fearful", lambda va: va.valence < -0.5 and va.arousal > 0.5),
        ("audioset", "tender music", lambda va: va.valence > 0 and va.arousal < 0),
        ("audioset", "angry", lambda va: va.valence < -0.5 and va.arousal > 0.5),
        ("quadrants", "Q2", lambda va: va == VA(-0.5, 0.5)),
    ],
)
def test_category_va_sanity(taxonomy, category, check):
    assert check(category_va(taxonomy, category))


def test_shipped_table_words_match_definitions():
    for tax, cats in CATEGORY_WORDS.items():
        taxonomy = get_taxonomy(tax)
        assert taxonomy.names == tuple(cats)
        assert [c.words for c in taxonomy] == list(cats.values())


def test_distribution_to_va():
    tax = get_taxonomy("mikels")
    one_hot = np.eye(len(tax))
    np.testing.assert_allclose(distribution_to_va(one_hot, tax), tax.centres)
    half = distribution_to_va({"awe": 0.5, "fear": 0.5}, "mikels")
    expected = (tax.va("awe").to_array() + tax.va("fear").to_array()) / 2
    np.testing.assert_allclose(half.to_array(), expected)
    # unnormalised weights (percentages) give the same point
    assert tuple(distribution_to_va({"awe": 50, "fear": 50}, "mikels")) == pytest.approx(tuple(half))
    quad = get_taxonomy("quadrants").to_va([0.25, 0.25, 0.25, 0.25])
    assert quad == VA(0.0, 0.0)


@pytest.mark.parametrize(
    "probs",
    [[0.5, 0.5], [[0.5, 0.5, 0, 0, 0, 0, 0, np.nan]], [-1, 2, 0, 0, 0, 0, 0, 0], np.zeros(8), {"joy": 1.0}],
)
def test_distribution_to_va_invalid(probs):
    with pytest.raises(InvalidValueError):
        distribution_to_va(probs, "mikels")


def test_va_to_distribution_and_nearest():
    tax = get_taxonomy("cowen")
    p = va_to_distribution(tax.centres, tax)
    assert p.shape == (13, 13)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert np.all(np.argmax(p, axis=1) == np.arange(13))
    assert nearest_category(tax.centres, tax) == list(tax.names)
    single = va_to_distribution(VA(0.7, -0.7), tax)
    assert single.shape == (13,) and tax.names[int(np.argmax(single))] == "calm/relaxing"
    sharp = va_to_distribution(VA(0.7, -0.7), tax, temperature=1e-4)
    assert sharp.max() == pytest.approx(1.0)
    flat = va_to_distribution(VA(0.7, -0.7), tax, temperature=1e4)
    np.testing.assert_allclose(flat, 1 / 13, rtol=1e-3)
    with pytest.raises(InvalidValueError):
        va_to_distribution(VA(0, 0), tax, temperature=0)


def test_quadrant_taxonomy_agrees_with_quadrants():
    names = nearest_category(POINTS, "quadrants")
    assert names == [f"Q{q}" for q in quadrants(POINTS)]


def test_get_taxonomy_invalid():
    with pytest.raises(InvalidValueError, match="known: mikels"):
        get_taxonomy("plutchik")
    with pytest.raises(InvalidValueError, match="not a category"):
        category_va("mikels", "joy")


# --- lexicon --------------------------------------------------------------------------------
def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lex.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_lexicon_load_and_lookup(tmp_path):
    path = _write(tmp_path, "Word\tValence\tArousal\tDominance\ncalm\t0.9\t0.1\t0.5\nstorm\t0.3\t0.9\t0.6\n"
                            "ice cream\t1.0\t0.5\t0.5\n\n")
    lex = Lexicon.load(path)
    assert len(lex) == 3 and "Calm" in lex and "rain" not in lex
    assert tuple(lex.va("calm")) == pytest.approx((0.8, -0.8))
    assert lex.lookup("ice cream") == VA(1.0, 0.0)
    mixed = lex.lookup("calm/storm rain")
    np.testing.assert_allclose(mixed.to_array(), [0.2, 0.0], atol=1e-12)
    assert lex.words_in("calm-storm") == ["calm", "storm"]
    assert "calm" not in repr(lex)
    with pytest.raises(InvalidValueError):
        lex.lookup("rain")
    with pytest.raises(InvalidValueError):
        lex.average(["calm", "rain"])


@pytest.mark.parametrize(
    "text, line",
    [
        ("calm\t0.9\t0.1\t0.5\nstorm\t0.3\n", 2),
        ("calm\t0.9\t0.1\t0.5\nstorm\tx\t0.9\t0.5\n", 2),
        ("calm\t0.9\t1.1\t0.5\n", 1),
        ("W\tV\tA\tD\ncalm\t0.9\t0.1\t0.5\ncalm\t0.8\t0.1\t0.5\n", 3),
        ("calm\t0.9\t0.1\t0.5\n\t0.3\t0.9\t0.5\n", 2),
        ("calm\t0.9\tnan\t0.5\n", 1),
    ],
)
def test_lexicon_malformed_names_file_and_line(tmp_path, text, line):
    path = _write(tmp_path, text)
    with pytest.raises(InvalidValueError, match=rf"lex\.txt:{line}: "):
        Lexicon.load(path)


def test_lexicon_missing_file(tmp_path):
    with pytest.raises(InvalidValueError, match="not found"):
        Lexicon.load(tmp_path / "absent.txt")


def test_taxonomy_from_lexicon_any_word(tmp_path):
    lex = Lexicon({"calm": VA(0.8, -0.8), "storm": VA(-0.4, 0.8), "rage": VA(-0.9, 0.9)})
    tax = Taxonomy.from_lexicon("mine", ["calm", "storm"], lex)
    assert tax.names == ("calm", "storm") and tax.va("storm") == VA(-0.4, 0.8)
    grouped = Taxonomy.from_lexicon("mine", {"wild": ["storm", "rage"]}, lex)
    assert tuple(grouped.va("wild")) == pytest.approx((-0.65, 0.85))
    with pytest.raises(InvalidValueError):
        Taxonomy.from_lexicon("mine", ["sunshine"], lex)


@pytest.fixture(scope="module")
def nrc_vad() -> Lexicon:
    return Lexicon.load(shared_path("nrc-vad", "NRC-VAD-Lexicon_v1.txt"))


@pytest.mark.shared_data
def test_shipped_table_rebuilds_from_nrc_vad(nrc_vad):
    assert len(nrc_vad) == 20007
    assert category_table_csv(nrc_vad) == shipped_table_text()


@pytest.mark.shared_data
def test_build_script_check_mode(nrc_vad, tmp_path):
    spec = importlib.util.spec_from_file_location("build_category_table", REPO / "scripts" / "build_category_table.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    lexicon = str(shared_path("nrc-vad", "NRC-VAD-Lexicon_v1.txt"))
    assert script.main(["--lexicon", lexicon, "--check"]) == 0
    stale = tmp_path / "stale.csv"
    stale.write_text("taxonomy,category,words,valence,arousal\n", encoding="utf-8")
    assert script.main(["--lexicon", lexicon, "--output", str(stale), "--check"]) == 1


@pytest.mark.shared_data
def test_nrc_vad_anchor_words(nrc_vad):
    assert nrc_vad.va("calm").arousal < -0.5
    assert nrc_vad.va("happy").valence > 0.9


# --- similarities -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "metric, x, y, expected",
    [
        ("cosine", (0.5, 0.5), (1.0, 1.0), 1.0),
        ("cosine", (0.5, 0.0), (0.0, 0.3), 0.0),
        ("cosine", (0.5, 0.5), (-0.2, -0.2), -1.0),
        ("cosine", (1.0, 0.0), (0.5, 0.5), math.sqrt(0.5)),
        ("cosine", (0.0, 0.0), (0.5, 0.5), 0.0),  # zero vector: 0, not NaN
        ("inverse-euclidean", (0.0, 0.0), (0.6, 0.8), 0.5),
        ("inverse-euclidean", (0.2, 0.2), (0.2, 0.2), 1.0),
        ("inverse-euclidean", (-1.0, -1.0), (1.0, 1.0), 1 / (1 + 2 * math.sqrt(2))),
        ("gaussian", (0.0, 0.0), (0.5, 0.0), math.exp(-0.5)),
        ("gaussian", (0.3, -0.3), (0.3, -0.3), 1.0),
    ],
)
def test_similarity_hand_computed(metric, x, y, expected):
    got = get_similarity(metric)(x, y)
    assert isinstance(got, float)
    assert got == pytest.approx(expected)


def test_cosine_centring():
    # around the neutral point both are in the same direction; around (0.5, 0.5) they are opposite
    assert cosine_similarity((0.6, 0.6), (0.4, 0.4)) == pytest.approx(1.0)
    assert cosine_similarity((0.6, 0.6), (0.4, 0.4), centre=(0.5, 0.5)) == pytest.approx(-1.0)
    refs = np.array([[0.4, 0.4], [0.6, 0.6]])
    np.testing.assert_allclose(cosine_similarity((0.7, 0.7), refs, centre="mean"), [-1.0, 1.0])
    with pytest.raises(InvalidValueError):
        cosine_similarity((0.1, 0.1), refs, centre="median")


@pytest.mark.parametrize("metric", sorted(SIMILARITIES))
def test_similarity_properties(metric):
    s = pairwise_similarity(POINTS, OTHERS, metric=metric)
    assert s.shape == (7, 5) and np.all(np.isfinite(s))
    np.testing.assert_allclose(pairwise_similarity(OTHERS, POINTS, metric=metric), s.T)  # symmetric
    lo = {"cosine": -1.0, "inverse-euclidean": 1 / (1 + 2 * math.sqrt(2)), "gaussian": 0.0}[metric]
    assert np.all((s >= lo - 1e-12) & (s <= 1.0 + 1e-12))
    self_sim = pairwise_similarity(POINTS, POINTS, metric=metric)
    np.testing.assert_allclose(np.diag(self_sim), 1.0)  # self-similarity is the maximum
    assert np.all(self_sim <= np.diag(self_sim)[:, None] + 1e-12)
    # row-wise equals the diagonal of pairwise
    np.testing.assert_allclose(rowwise_similarity(POINTS, POINTS[::-1], metric=metric),
                               np.diag(pairwise_similarity(POINTS, POINTS[::-1], metric=metric)))
    # one point against many drops the single axis
    assert pairwise_similarity(VA(0.1, 0.2), OTHERS, metric=metric).shape == (5,)


def test_pairwise_matches_naive_loop():
    naive = np.array([[1 / (1 + np.hypot(*(p - q))) for q in OTHERS] for p in POINTS])
    np.testing.assert_allclose(inverse_euclidean_similarity(POINTS, OTHERS), naive)
    naive_g = np.array([[np.exp(-np.sum((p - q) ** 2) / (2 * 0.3**2)) for q in OTHERS] for p in POINTS])
    np.testing.assert_allclose(gaussian_similarity(POINTS, OTHERS, sigma=0.3), naive_g)


@pytest.mark.parametrize(
    "call",
    [
        lambda: pairwise_similarity(np.zeros((3, 3)), OTHERS),
        lambda: pairwise_similarity([[np.nan, 0.0]], OTHERS),
        lambda: rowwise_similarity(POINTS, OTHERS),
        lambda: gaussian_similarity(POINTS, OTHERS, sigma=0),
        lambda: pairwise_similarity(POINTS, OTHERS, metric="manhattan"),
        lambda: pairwise_similarity(POINTS, OTHERS, metric="cosine", sigma=1.0),
        lambda: cosine_similarity(POINTS, [[2.0, 0.0]]),
    ],
)
def test_similarity_invalid(call):
    with pytest.raises(InvalidValueError):
        call()
