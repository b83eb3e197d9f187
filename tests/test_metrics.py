"""Metrics against values worked out by hand, and against scikit-learn on random data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hep_jepa.metrics import (
    accuracy,
    auc,
    auc_one_vs_rest,
    background_rejection,
    bootstrap,
    evaluate_scores,
    roc_curve,
    signal_vs_background,
)

# Four signal jets (0.9, 0.6, 0.6, 0.2) and four background jets (0.8, 0.6, 0.3, 0.1),
# with a three-way tie at 0.6. ROC points (εS, εB), threshold by threshold:
# inf (0, 0); 0.9 (.25, 0); 0.8 (.25, .25); 0.6 (.75, .5); 0.3 (.75, .75); 0.2 (1, .75); 0.1 (1, 1)
TIED_LABELS = np.array([1, 0, 1, 1, 0, 0, 1, 0])
TIED_SCORES = np.array([0.9, 0.8, 0.6, 0.6, 0.6, 0.3, 0.2, 0.1])


def test_roc_curve_by_hand_with_ties() -> None:
    signal_efficiency, background_efficiency, thresholds = roc_curve(TIED_LABELS, TIED_SCORES)
    np.testing.assert_allclose(signal_efficiency, [0, 0.25, 0.25, 0.75, 0.75, 1, 1])
    np.testing.assert_allclose(background_efficiency, [0, 0, 0.25, 0.5, 0.75, 0.75, 1])
    np.testing.assert_allclose(thresholds, [np.inf, 0.9, 0.8, 0.6, 0.3, 0.2, 0.1])


def test_roc_curve_does_not_depend_on_order_of_tied_jets() -> None:
    permutation = np.array([7, 3, 0, 4, 2, 6, 1, 5])
    for a, b in zip(
        roc_curve(TIED_LABELS, TIED_SCORES),
        roc_curve(TIED_LABELS[permutation], TIED_SCORES[permutation]),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)


def test_auc_by_hand() -> None:
    assert auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    # pairs won by signal: 4 (0.9) + 2 and a half tie for each 0.6 + 1 (0.2) = 10 of 16
    assert auc(TIED_LABELS, TIED_SCORES) == pytest.approx(10 / 16)
    assert auc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)
    assert auc([1, 0], [0.9, 0.1]) == pytest.approx(1.0)


def test_background_rejection_interpolated_by_hand() -> None:
    # εS = 0.3 lies on the tie segment (.25, .25)-(.75, .5): εB = .25 + .25 * (.05 / .5) = .275
    assert background_rejection(TIED_LABELS, TIED_SCORES, 0.3) == pytest.approx(1 / 0.275)
    # εS = 0.5, halfway along it: εB = .375
    assert background_rejection(TIED_LABELS, TIED_SCORES, 0.5) == pytest.approx(1 / 0.375)
    # εS = 0.25 is reached first at εB = 0: the best working point, infinite rejection
    assert background_rejection(TIED_LABELS, TIED_SCORES, 0.25) == math.inf
    # εS = 0.75 is reached at εB = .5 (the lower end of the vertical stretch)
    assert background_rejection(TIED_LABELS, TIED_SCORES, 0.75) == pytest.approx(2.0)
    # εS = 0.875 lies on (.75, .75)-(1, .75): εB = .75
    assert background_rejection(TIED_LABELS, TIED_SCORES, 0.875) == pytest.approx(4 / 3)
    assert background_rejection(TIED_LABELS, TIED_SCORES, 1.0) == pytest.approx(1 / 0.75)


def test_background_rejection_infinite_when_no_background_passes() -> None:
    assert background_rejection([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.3) == math.inf


@pytest.mark.parametrize("efficiency", [0.0, -0.1, 1.5])
def test_background_rejection_rejects_efficiency_outside_unit_interval(efficiency: float) -> None:
    with pytest.raises(ValueError, match=r"signal_efficiency must be in \(0, 1\]"):
        background_rejection(TIED_LABELS, TIED_SCORES, efficiency)


def test_accuracy_by_hand() -> None:
    assert accuracy([0, 1, 1, 2], [0, 1, 2, 2]) == pytest.approx(0.75)
    assert accuracy([0, 1, 2], [[0.5, 0.3, 0.2], [0.1, 0.2, 0.7], [0.0, 0.1, 0.9]]) == (
        pytest.approx(2 / 3)
    )
    # a 1-D float array is P(class 1); exactly 0.5 goes to class 0, as the argmax of [0.5, 0.5]
    assert accuracy([0, 1, 1, 0], np.array([0.2, 0.7, 0.4, 0.5])) == pytest.approx(0.75)


def test_signal_vs_background_by_hand() -> None:
    labels = [0, 1, 2, 2, 1]
    probabilities = [
        [0.6, 0.2, 0.2],
        [0.1, 0.8, 0.1],
        [0.2, 0.2, 0.6],
        [0.0, 1.0, 0.0],
        [0.3, 0.3, 0.4],
    ]
    binary, scores = signal_vs_background(labels, probabilities, signal_class=2)
    np.testing.assert_array_equal(binary, [0, 1, 1])
    np.testing.assert_allclose(scores, [0.25, 0.75, 0.5])  # p_s + p_b = 0 gives 0.5
    with pytest.raises(ValueError, match="both 1"):
        signal_vs_background(labels, probabilities, signal_class=1, background_class=1)


def test_auc_one_vs_rest_by_hand() -> None:
    labels = [0, 0, 1, 1, 2, 2]
    probabilities = np.array(
        [
            [0.7, 0.2, 0.1],
            [0.3, 0.4, 0.3],
            [0.2, 0.5, 0.3],
            [0.4, 0.3, 0.3],
            [0.1, 0.1, 0.8],
            [0.2, 0.2, 0.6],
        ]
    )
    per_class, macro = auc_one_vs_rest(labels, probabilities)
    # class 0 scores (0.7, 0.3) vs rest (0.2, 0.4, 0.1, 0.2): 4 + 3 of 8 wins -> 0.875
    # class 1 scores (0.5, 0.3) vs rest (0.2, 0.4, 0.1, 0.2): 4 + 3 of 8 -> 0.875
    # class 2 scores (0.8, 0.6) vs rest (0.1, 0.3, 0.3, 0.3): all 8 -> 1
    np.testing.assert_allclose(per_class, [0.875, 0.875, 1.0])
    assert macro == pytest.approx((0.875 + 0.875 + 1.0) / 3)


def test_metrics_agree_with_sklearn_on_random_data() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 2000)
    scores = np.round(labels + rng.normal(size=2000), 1)  # rounded: many ties
    assert auc(labels, scores) == pytest.approx(sklearn_metrics.roc_auc_score(labels, scores))
    fpr, tpr, _ = sklearn_metrics.roc_curve(labels, scores, drop_intermediate=False)
    signal_efficiency, background_efficiency, _ = roc_curve(labels, scores)
    np.testing.assert_allclose(signal_efficiency, tpr)
    np.testing.assert_allclose(background_efficiency, fpr)

    labels3 = rng.integers(0, 3, 1500)
    logits = rng.normal(size=(1500, 3)) + 1.5 * np.eye(3)[labels3]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    _, macro = auc_one_vs_rest(labels3, probabilities)
    expected = sklearn_metrics.roc_auc_score(labels3, probabilities, multi_class="ovr")
    assert macro == pytest.approx(expected)
    assert accuracy(labels3, probabilities) == pytest.approx(
        sklearn_metrics.accuracy_score(labels3, probabilities.argmax(axis=1))
    )


def test_rejection_matches_interpolation_of_sklearn_curve() -> None:
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 2, 3000)
    scores = labels + rng.normal(size=3000)  # continuous: no ties, so np.interp is unambiguous
    fpr, tpr, _ = sklearn_metrics.roc_curve(labels, scores, drop_intermediate=False)
    for efficiency in (0.3, 0.5):
        expected = 1 / np.interp(efficiency, tpr, fpr)
        assert background_rejection(labels, scores, efficiency) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("labels", "scores", "message"),
    [
        ([0, 1, 1], [0.1, 0.2], "differ in length"),
        ([1, 1, 1], [0.1, 0.2, 0.3], "only class 1"),
        ([0, 1, 1], [0.1, np.nan, 0.3], "NaN"),
        ([0, 1, 2], [0.1, 0.2, 0.3], "must be 0 or 1"),
    ],
)
def test_binary_metrics_reject_bad_input(labels: list, scores: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        auc(labels, scores)
    with pytest.raises(ValueError, match=message):
        background_rejection(labels, scores, 0.5)


def test_accuracy_rejects_length_mismatch_and_nan() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        accuracy([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="NaN"):
        accuracy([0, 1], np.array([0.2, np.nan]))


def test_one_vs_rest_rejects_absent_class() -> None:
    with pytest.raises(ValueError, match=r"classes \[2\] are absent"):
        auc_one_vs_rest([0, 1], [[0.5, 0.3, 0.2], [0.2, 0.5, 0.3]])


def test_bootstrap_is_reproducible_and_std_shrinks_with_sample_size() -> None:
    rng = np.random.default_rng(3)
    stds = []
    for size in (200, 3200):
        labels = rng.integers(0, 2, size)
        scores = labels + rng.normal(size=size)
        value, std = bootstrap(auc, labels, scores, n=50, seed=0)
        assert value == pytest.approx(auc(labels, scores))
        assert bootstrap(auc, labels, scores, n=50, seed=0) == (value, std)
        stds.append(std)
    # a standard error falls as 1 / sqrt(size): 16x the jets -> about 4x smaller
    assert 2.5 < stds[0] / stds[1] < 6.5


def test_bootstrap_keeps_class_counts_and_handles_vector_metrics() -> None:
    labels = np.array([0] * 5 + [1] * 3)
    value, std = bootstrap(
        lambda y, s: np.array([np.sum(y == 1), np.mean(s)]), labels, np.arange(8.0), n=20, seed=1
    )
    np.testing.assert_allclose(value, [3, 3.5])
    assert std[0] == 0.0 and std[1] > 0


def test_bootstrap_std_is_infinite_when_a_resample_is_infinite() -> None:
    value, std = bootstrap(
        lambda y, s: background_rejection(y, s, 0.5), [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], n=5
    )
    assert value == math.inf and std == math.inf


def test_evaluate_scores_binary() -> None:
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 2, 1000)
    probability = 1 / (1 + np.exp(-(1.5 * (labels - 0.5) + rng.normal(size=1000))))
    result = evaluate_scores(labels, probability, n_bootstrap=10, seed=0)
    assert set(result) == {
        "accuracy", "auc", "rej30", "rej50",
        "accuracy_std", "auc_std", "rej30_std", "rej50_std",
    }  # fmt: skip
    assert result["auc"] == pytest.approx(auc(labels, probability))
    assert result["rej50"] == pytest.approx(background_rejection(labels, probability, 0.5))
    assert result["rej30"] > result["rej50"] > 1
    assert all(result[f"{name}_std"] > 0 for name in ("accuracy", "auc", "rej30", "rej50"))
    # (B, 2) probabilities give the same numbers as P(class 1)
    two_column = np.stack([1 - probability, probability], axis=1)
    assert evaluate_scores(labels, two_column, n_bootstrap=10, seed=0) == result


def test_evaluate_scores_multiclass() -> None:
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 3, 900)
    logits = rng.normal(size=(900, 3)) + 2.0 * np.eye(3)[labels]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    result = evaluate_scores(labels, probabilities, n_bootstrap=5, seed=0)
    assert result["accuracy"] == pytest.approx(accuracy(labels, probabilities))
    assert result["auc"] == pytest.approx(auc_one_vs_rest(labels, probabilities)[1])
    per_class = result["signal_vs_background"]
    assert sorted(per_class) == [1, 2]
    binary, scores = signal_vs_background(labels, probabilities, signal_class=2)
    assert per_class[2]["rej30"] == pytest.approx(background_rejection(binary, scores, 0.3))
    assert per_class[2]["auc"] == pytest.approx(auc(binary, scores))
    assert result["rej50"] == pytest.approx((per_class[1]["rej50"] + per_class[2]["rej50"]) / 2)
    assert per_class[1]["rej50_std"] > 0
