"""Classification metrics for jet tagging: ROC curve, AUC, accuracy, background rejection.

Pure numpy. Conventions:

- Binary ``labels`` are 0 (background) and 1 (signal); ``scores`` are larger
  for more signal-like jets. Shape: ``(B,)`` for both.
- Multi-class ``probabilities`` have shape ``(B, C)``; class 0 is the
  background (QCD) class when signal-vs-background scores are formed, as in
  the Particle Transformer paper (arXiv:2202.03772).
- Signal efficiency ``εS`` is the true positive rate, background efficiency
  ``εB`` the false positive rate; background rejection is ``1 / εB``.
- Uncertainties come from a stratified bootstrap (:func:`bootstrap`): the jets
  of each class are resampled with replacement, so every resample keeps the
  class counts of the original sample.

Examples:
    >>> import numpy as np
    >>> labels = np.array([0, 0, 1, 1])
    >>> scores = np.array([0.1, 0.4, 0.35, 0.8])
    >>> float(auc(labels, scores))
    0.75
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "accuracy",
    "auc",
    "auc_one_vs_rest",
    "background_rejection",
    "bootstrap",
    "evaluate_scores",
    "roc_curve",
    "signal_vs_background",
]

FloatArray = NDArray[np.float64]


def _check_lengths(labels: np.ndarray, scores: np.ndarray) -> None:
    if labels.ndim != 1:
        raise ValueError(f"labels must be one-dimensional, got shape {labels.shape}")
    if len(labels) != len(scores):
        raise ValueError(
            f"labels and scores differ in length: {len(labels)} labels, {len(scores)} scores"
        )
    if len(labels) == 0:
        raise ValueError("labels and scores are empty")


def _check_no_nan(scores: np.ndarray) -> None:
    if np.isnan(scores).any():
        raise ValueError(f"scores contain {int(np.isnan(scores).sum())} NaN value(s)")


def _binary_inputs(labels: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, FloatArray]:
    """Validate binary labels and scores; return labels as bool and scores as float64."""
    label_array = np.asarray(labels)
    score_array = np.asarray(scores, dtype=np.float64)
    if score_array.ndim != 1:
        raise ValueError(f"binary scores must be one-dimensional, got shape {score_array.shape}")
    _check_lengths(label_array, score_array)
    _check_no_nan(score_array)
    present = np.unique(label_array)
    if not np.isin(present, [0, 1]).all():
        raise ValueError(f"binary labels must be 0 or 1, got values {present.tolist()}")
    if len(present) < 2:
        raise ValueError(
            f"only class {present[0].item()!r} is present in labels: "
            "a ROC curve needs both signal (1) and background (0) jets"
        )
    return label_array.astype(bool), score_array


def roc_curve(labels: ArrayLike, scores: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The ROC curve: signal and background efficiency for every distinct score threshold.

    A jet is selected when ``score >= threshold``. Jets with equal scores are
    selected together, so a tie between a signal and a background jet gives a
    diagonal segment rather than an order-dependent staircase.

    Args:
        labels: Shape (B,). 1 for signal, 0 for background.
        scores: Shape (B,). Larger means more signal-like. NaN is rejected.

    Returns:
        ``(signal_efficiency, background_efficiency, thresholds)``, each of
        shape (T + 1,) for T distinct scores. Thresholds decrease; the first
        point is ``(0, 0)`` at threshold ``+inf`` and the last is ``(1, 1)``.
        Both efficiencies are non-decreasing.

    Raises:
        ValueError: on a length mismatch, labels other than 0/1, a single
            class, or NaN scores.

    Examples:
        >>> eff_s, eff_b, thresholds = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        >>> eff_s.tolist(), eff_b.tolist()
        ([0.0, 0.5, 0.5, 1.0, 1.0], [0.0, 0.0, 0.5, 0.5, 1.0])
    """
    is_signal, score_array = _binary_inputs(labels, scores)
    order = np.argsort(-score_array, kind="stable")
    sorted_scores = score_array[order]
    sorted_signal = is_signal[order]
    # last index of each run of equal scores: the cut just below that score
    run_ends = np.flatnonzero(np.diff(sorted_scores)) if len(sorted_scores) > 1 else np.array([])
    run_ends = np.r_[run_ends, len(sorted_scores) - 1].astype(np.int64)
    signal_selected = np.cumsum(sorted_signal)[run_ends]
    background_selected = (run_ends + 1) - signal_selected
    n_signal = signal_selected[-1]
    n_background = background_selected[-1]
    signal_efficiency = np.r_[0.0, signal_selected / n_signal]
    background_efficiency = np.r_[0.0, background_selected / n_background]
    thresholds = np.r_[np.inf, sorted_scores[run_ends]]
    return signal_efficiency, background_efficiency, thresholds


def auc(labels: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve (background efficiency on x, signal efficiency on y).

    Equals the probability that a random signal jet scores higher than a
    random background jet, ties counting one half.

    Args:
        labels: Shape (B,). 1 for signal, 0 for background.
        scores: Shape (B,). Larger means more signal-like.

    Returns:
        The AUC, in [0, 1].

    Raises:
        ValueError: as :func:`roc_curve`.

    Examples:
        >>> auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        0.75
    """
    signal_efficiency, background_efficiency, _ = roc_curve(labels, scores)
    widths = np.diff(background_efficiency)
    heights = 0.5 * (signal_efficiency[1:] + signal_efficiency[:-1])
    return float(np.sum(widths * heights))


def background_rejection(labels: ArrayLike, scores: ArrayLike, signal_efficiency: float) -> float:
    """Background rejection ``1 / εB`` at a given signal efficiency ``εS``.

    ``εB`` is interpolated linearly along the ROC curve of :func:`roc_curve`.
    Where the curve reaches ``εS`` exactly, the lowest ``εB`` at that ``εS``
    is used (the best working point); otherwise the value on the segment that
    crosses ``εS``.

    When ``εB`` is 0 there (no background jet passes a cut that keeps that
    signal efficiency, common on small samples), the rejection is
    ``float("inf")``.

    Args:
        labels: Shape (B,). 1 for signal, 0 for background.
        scores: Shape (B,). Larger means more signal-like.
        signal_efficiency: The working point ``εS``, in (0, 1].

    Returns:
        ``1 / εB``; ``inf`` when ``εB`` is 0.

    Raises:
        ValueError: if ``signal_efficiency`` is outside (0, 1], and as
            :func:`roc_curve`.

    Examples:
        >>> labels = [1, 0, 1, 1, 0, 0, 1, 0]
        >>> scores = [0.9, 0.8, 0.6, 0.6, 0.6, 0.3, 0.2, 0.1]
        >>> round(background_rejection(labels, scores, 0.5), 4)   # εB = 0.375
        2.6667
    """
    if not 0.0 < signal_efficiency <= 1.0:
        raise ValueError(f"signal_efficiency must be in (0, 1], got {signal_efficiency}")
    efficiency_s, efficiency_b, _ = roc_curve(labels, scores)
    # efficiency_s is non-decreasing and starts at 0 < signal_efficiency, so k >= 1
    k = int(np.searchsorted(efficiency_s, signal_efficiency, side="left"))
    if efficiency_s[k] == signal_efficiency:
        background_efficiency = efficiency_b[k]
    else:
        # efficiency_s[k - 1] < signal_efficiency < efficiency_s[k]; k - 1 is the last
        # point below, i.e. the highest εB on a vertical stretch, where the segment starts
        fraction = (signal_efficiency - efficiency_s[k - 1]) / (
            efficiency_s[k] - efficiency_s[k - 1]
        )
        background_efficiency = efficiency_b[k - 1] + fraction * (
            efficiency_b[k] - efficiency_b[k - 1]
        )
    if background_efficiency == 0.0:
        return float("inf")
    return float(1.0 / background_efficiency)


def accuracy(labels: ArrayLike, predictions_or_probabilities: ArrayLike) -> float:
    """Fraction of jets whose predicted class equals the label.

    Args:
        labels: Shape (B,). Integer class indices.
        predictions_or_probabilities: One of
            - shape (B, C): class probabilities or logits; the prediction is the argmax;
            - shape (B,), integer or bool dtype: predicted class indices;
            - shape (B,), floating dtype: the probability of class 1 in a binary
              task; the prediction is 1 where it exceeds 0.5 (as the argmax
              of ``[1 - p, p]``).

    Returns:
        The accuracy, in [0, 1].

    Raises:
        ValueError: on a length mismatch or NaN probabilities.

    Examples:
        >>> accuracy([0, 1, 1, 2], [0, 1, 2, 2])
        0.75
        >>> accuracy([0, 1], [[0.9, 0.1], [0.3, 0.7]])
        1.0
        >>> accuracy([0, 1, 1], np.array([0.2, 0.7, 0.4]))
        0.6666666666666666
    """
    label_array = np.asarray(labels)
    values = np.asarray(predictions_or_probabilities)
    _check_lengths(label_array, values)
    if values.ndim == 2:
        _check_no_nan(values.astype(np.float64))
        predictions = np.argmax(values, axis=1)
    elif values.ndim == 1 and np.issubdtype(values.dtype, np.floating):
        _check_no_nan(values)
        predictions = (values > 0.5).astype(np.int64)
    elif values.ndim == 1:
        predictions = values.astype(np.int64)
    else:
        raise ValueError(f"predictions must have shape (B,) or (B, C), got {values.shape}")
    return float(np.mean(predictions == label_array))


def _multiclass_inputs(
    labels: ArrayLike, probabilities: ArrayLike
) -> tuple[np.ndarray, FloatArray]:
    label_array = np.asarray(labels)
    probability_array = np.asarray(probabilities, dtype=np.float64)
    if probability_array.ndim != 2:
        raise ValueError(
            f"probabilities must have shape (B, C), got shape {probability_array.shape}"
        )
    _check_lengths(label_array, probability_array)
    _check_no_nan(probability_array)
    n_classes = probability_array.shape[1]
    if label_array.min() < 0 or label_array.max() >= n_classes:
        present = np.unique(label_array).tolist()
        raise ValueError(f"labels must be class indices in [0, {n_classes}), got {present}")
    return label_array.astype(np.int64), probability_array


def auc_one_vs_rest(labels: ArrayLike, probabilities: ArrayLike) -> tuple[FloatArray, float]:
    """One-vs-rest AUC of every class, and their unweighted (macro) mean.

    For class c the score is ``probabilities[:, c]`` and the signal is
    ``labels == c``, evaluated on all jets.

    Args:
        labels: Shape (B,). Integer class indices in [0, C).
        probabilities: Shape (B, C). Class probabilities (or any per-class scores).

    Returns:
        ``(per_class, macro)``: shape (C,) and a float.

    Raises:
        ValueError: if a class is absent from ``labels``, or as :func:`roc_curve`.

    Examples:
        >>> per_class, macro = auc_one_vs_rest(
        ...     [0, 1, 2, 2], [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.5, 0.1, 0.4]])
        >>> per_class.tolist(), macro
        ([1.0, 1.0, 1.0], 1.0)
    """
    label_array, probability_array = _multiclass_inputs(labels, probabilities)
    n_classes = probability_array.shape[1]
    missing = sorted(set(range(n_classes)) - set(np.unique(label_array).tolist()))
    if missing:
        raise ValueError(f"classes {missing} are absent from labels: their AUC is undefined")
    per_class = np.array([auc(label_array == c, probability_array[:, c]) for c in range(n_classes)])
    return per_class, float(per_class.mean())


def signal_vs_background(
    labels: ArrayLike,
    probabilities: ArrayLike,
    signal_class: int,
    background_class: int = 0,
) -> tuple[NDArray[np.int64], FloatArray]:
    """Binary labels and scores for one signal class against the background class.

    As in the Particle Transformer paper (arXiv:2202.03772): only jets of the
    two classes are kept, and the score is ``p_s / (p_s + p_b)``. Jets where
    both probabilities are 0 get the score 0.5.

    Args:
        labels: Shape (B,). Integer class indices.
        probabilities: Shape (B, C). Class probabilities.
        signal_class: Index s of the signal class.
        background_class: Index b of the background class (QCD); default 0.

    Returns:
        ``(binary_labels, scores)``, each of shape (B_s + B_b,): 1 for jets of
        class s, 0 for class b; scores in [0, 1].

    Raises:
        ValueError: if the two classes are the same or out of range.

    Examples:
        >>> binary, scores = signal_vs_background(
        ...     [0, 1, 2], [[0.6, 0.2, 0.2], [0.1, 0.3, 0.6], [0.2, 0.2, 0.6]], signal_class=2)
        >>> binary.tolist(), scores.round(2).tolist()
        ([0, 1], [0.25, 0.75])
    """
    label_array, probability_array = _multiclass_inputs(labels, probabilities)
    n_classes = probability_array.shape[1]
    if signal_class == background_class:
        raise ValueError(f"signal and background class are both {signal_class}")
    for name, index in (("signal_class", signal_class), ("background_class", background_class)):
        if not 0 <= index < n_classes:
            raise ValueError(f"{name} must be in [0, {n_classes}), got {index}")
    keep = (label_array == signal_class) | (label_array == background_class)
    p_signal = probability_array[keep, signal_class]
    p_background = probability_array[keep, background_class]
    total = p_signal + p_background
    scores = np.divide(p_signal, total, out=np.full_like(total, 0.5), where=total > 0)
    return (label_array[keep] == signal_class).astype(np.int64), scores


def bootstrap(
    metric_fn: Callable[[np.ndarray, np.ndarray], Any],
    labels: ArrayLike,
    scores: ArrayLike,
    *,
    n: int = 100,
    seed: int = 0,
) -> tuple[Any, Any]:
    """A metric and its standard deviation over stratified bootstrap resamples.

    Each resample draws, with replacement, as many jets of each class as the
    sample holds, so no resample loses a class.

    Args:
        metric_fn: ``metric_fn(labels, scores)`` returning a float or a 1-D array.
        labels: Shape (B,). Class indices (used for the stratification).
        scores: Shape (B, ...). Passed to ``metric_fn`` row-resampled.
        n: Number of resamples (at least 2).
        seed: Seed of the numpy generator that draws the resamples.

    Returns:
        ``(value, std)``: the metric on the full sample, and the standard
        deviation (ddof 1) over the resamples, both with the metric's shape.
        Where a resample gives a non-finite value (such as an infinite
        rejection), that std is ``inf``.

    Raises:
        ValueError: if ``n < 2``, on a length mismatch, or as ``metric_fn``.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> labels = rng.integers(0, 2, 1000)
        >>> value, std = bootstrap(auc, labels, labels + rng.normal(size=1000), n=20)
        >>> 0.7 < value < 0.8 and 0.005 < std < 0.03
        True
    """
    if n < 2:
        raise ValueError(f"n must be at least 2 resamples, got {n}")
    label_array = np.asarray(labels)
    score_array = np.asarray(scores)
    _check_lengths(label_array, score_array)
    value = metric_fn(label_array, score_array)
    rng = np.random.default_rng(seed)
    class_indices = [np.flatnonzero(label_array == c) for c in np.unique(label_array)]
    resampled = []
    for _ in range(n):
        index = np.concatenate([rng.choice(idx, size=len(idx)) for idx in class_indices])
        resampled.append(np.asarray(metric_fn(label_array[index], score_array[index]), float))
    values = np.stack(resampled)  # (n, ...) for a metric of shape (...)
    finite = np.isfinite(values).all(axis=0)
    std = np.where(finite, np.std(np.where(finite, values, 0.0), axis=0, ddof=1), np.inf)
    if std.ndim == 0:
        return value, float(std)
    return value, std


_WORKING_POINTS = {"rej30": 0.3, "rej50": 0.5}


def _binary_metrics(labels: np.ndarray, scores: np.ndarray) -> FloatArray:
    """accuracy, auc, rej30, rej50 of a binary task; scores are P(signal)."""
    return np.array(
        [
            accuracy(labels, scores),
            auc(labels, scores),
            *(background_rejection(labels, scores, e) for e in _WORKING_POINTS.values()),
        ]
    )


def _multiclass_metrics(labels: np.ndarray, probabilities: np.ndarray) -> FloatArray:
    """accuracy, macro auc, mean rej30, mean rej50, then (auc, rej30, rej50) per signal class."""
    per_signal = []
    for signal_class in range(1, probabilities.shape[1]):
        binary, scores = signal_vs_background(labels, probabilities, signal_class)
        per_signal.append(
            [auc(binary, scores)]
            + [background_rejection(binary, scores, e) for e in _WORKING_POINTS.values()]
        )
    per_signal_array = np.array(per_signal)  # (C - 1, 3)
    return np.concatenate(
        [
            [accuracy(labels, probabilities), auc_one_vs_rest(labels, probabilities)[1]],
            per_signal_array[:, 1:].mean(axis=0),
            per_signal_array.ravel(),
        ]
    )


def evaluate_scores(
    labels: ArrayLike,
    probabilities: ArrayLike,
    *,
    n_bootstrap: int = 100,
    seed: int = 0,
) -> dict[str, Any]:
    """Accuracy, AUC and background rejection at εS = 0.3 and 0.5, with bootstrap errors.

    Binary task (probabilities of shape (B,) = P(class 1), or (B, 2)): the
    signal is class 1; the score is P(class 1).

    Multi-class task (shape (B, C), C > 2): ``accuracy`` is over all classes,
    ``auc`` is the macro one-vs-rest AUC, and for each signal class s = 1 .. C-1
    the jets of classes s and 0 (QCD) are scored with ``p_s / (p_s + p_0)``
    (:func:`signal_vs_background`); ``rej30`` and ``rej50`` are the means over
    signal classes, and ``signal_vs_background`` holds, per class index s, a
    dict with ``auc``, ``rej30``, ``rej50`` and their ``_std``.

    Every ``*_std`` is the standard deviation over ``n_bootstrap`` stratified
    resamples (:func:`bootstrap`); an infinite rejection (no background jet
    passes) has an infinite std.

    Args:
        labels: Shape (B,). Integer class indices.
        probabilities: Shape (B,) or (B, C). Class probabilities.
        n_bootstrap: Number of bootstrap resamples (at least 2).
        seed: Seed of the resampling.

    Returns:
        A dict with float values under ``accuracy``, ``auc``, ``rej30``,
        ``rej50``, ``accuracy_std``, ``auc_std``, ``rej30_std``, ``rej50_std``,
        and, for C > 2, ``signal_vs_background`` (dict[int, dict[str, float]]).

    Raises:
        ValueError: as :func:`roc_curve` and :func:`auc_one_vs_rest`.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> labels = rng.integers(0, 2, 500)
        >>> p = 1 / (1 + np.exp(-(2 * labels - 1 + rng.normal(size=500))))
        >>> result = evaluate_scores(labels, p, n_bootstrap=10)
        >>> sorted(result)
        ['accuracy', 'accuracy_std', 'auc', 'auc_std', 'rej30', 'rej30_std', 'rej50', 'rej50_std']
    """
    label_array = np.asarray(labels)
    probability_array = np.asarray(probabilities, dtype=np.float64)
    if probability_array.ndim == 2 and probability_array.shape[1] == 2:
        probability_array = probability_array[:, 1]
    names = ["accuracy", "auc", *_WORKING_POINTS]
    if probability_array.ndim == 1:
        _binary_inputs(label_array, probability_array)
        value, std = bootstrap(
            _binary_metrics, label_array, probability_array, n=n_bootstrap, seed=seed
        )
        return _flat_result(names, value, std)
    label_array, probability_array = _multiclass_inputs(label_array, probability_array)
    auc_one_vs_rest(label_array, probability_array)  # fail early on an absent class
    value, std = bootstrap(
        _multiclass_metrics, label_array, probability_array, n=n_bootstrap, seed=seed
    )
    result = _flat_result(names, value[:4], std[:4])
    per_class_names = ["auc", *_WORKING_POINTS]
    n_signal = probability_array.shape[1] - 1
    per_class_values = value[4:].reshape(n_signal, len(per_class_names))
    per_class_stds = std[4:].reshape(n_signal, len(per_class_names))
    result["signal_vs_background"] = {
        s + 1: _flat_result(per_class_names, per_class_values[s], per_class_stds[s])
        for s in range(n_signal)
    }
    return result


def _flat_result(names: list[str], values: np.ndarray, stds: np.ndarray) -> dict[str, Any]:
    result: dict[str, Any] = {name: float(v) for name, v in zip(names, values, strict=True)}
    result.update({f"{name}_std": float(s) for name, s in zip(names, stds, strict=True)})
    return result
