"""Evaluating a jet tagger: metrics with bootstrap uncertainties, a metrics JSON and a ROC plot.

`evaluate` scores labelled jets with `HepJepaForJetClassification.predict_proba` and
summarises them with `hep_jepa.metrics.evaluate_scores` (``accuracy``, ``auc``,
``rej30``, ``rej50`` and their ``*_std``). `write_evaluation` writes ``metrics.json``
and ``roc.png`` into a folder and can record the metrics in the model folder's
``eval_results.json`` (``{eval_set_name: metrics}``), which the model card reads.

JSON has no infinity: an infinite background rejection (no background jet passes the
cut, common on small samples) and its infinite uncertainty are written as ``null``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "EVAL_RESULTS_NAME",
    "evaluate",
    "evaluation_labels",
    "metrics_from_probabilities",
    "write_evaluation",
]

EVAL_RESULTS_NAME = "eval_results.json"
"""File in a model folder that maps evaluation-set names to their metrics."""


def evaluation_labels(jets: Any, num_labels: int) -> np.ndarray:
    """The ``label`` field of `jets` as int64 (B,), checked against the model's classes.

    Raises:
        ValueError: The jets carry no labels, or a label lies outside ``[0, num_labels)``.
    """
    import awkward as ak

    if not isinstance(jets, ak.Array) or "label" not in ak.fields(jets):
        raise ValueError(
            "the evaluation jets have no 'label' field: metrics need the true classes. "
            "To score unlabelled jets, use model.predict_proba(jets)."
        )
    if len(jets) == 0:
        raise ValueError("the evaluation jets are empty.")
    labels = ak.to_numpy(jets["label"]).astype(np.int64)
    if labels.min() < 0 or labels.max() >= num_labels:
        raise ValueError(
            f"the evaluation labels run from {int(labels.min())} to {int(labels.max())}, but the "
            f"model has num_labels={num_labels}: it was trained for other classes than the data's."
        )
    return labels


def metrics_from_probabilities(
    labels: np.ndarray, probabilities: np.ndarray, *, n_bootstrap: int = 100, seed: int = 0
) -> dict[str, Any]:
    """`evaluate_scores` on the classes present in `labels`, plus jet and class counts.

    A model may have more classes than an evaluation set holds (a JetClass tagger on a
    top-vs-QCD sample): the probabilities are then restricted to the present classes and
    renormalised, and ``classes`` records which model classes the metrics refer to.

    Args:
        labels: Shape (B,). Class indices of the model.
        probabilities: Shape (B, C). The model's class probabilities.
        n_bootstrap: Bootstrap resamples for the ``*_std`` values.
        seed: Seed of the resampling.

    Returns:
        The dict of `hep_jepa.metrics.evaluate_scores`, with ``n_jets``, ``classes`` and
        ``class_counts`` added.

    Raises:
        ValueError: Fewer than two classes in `labels`.
    """
    from hep_jepa.metrics import evaluate_scores

    present = np.unique(labels)
    if present.size < 2:
        raise ValueError(
            f"the evaluation jets hold only class {int(present[0])}: metrics such as the AUC "
            "need jets of at least two classes."
        )
    restricted = probabilities[:, present]  # (B, C_present)
    restricted = restricted / np.clip(restricted.sum(axis=1, keepdims=True), 1e-12, None)
    compact = np.searchsorted(present, labels)  # model class -> index among present classes
    metrics = evaluate_scores(compact, restricted, n_bootstrap=n_bootstrap, seed=seed)
    if "signal_vs_background" in metrics:
        metrics["signal_vs_background"] = {
            int(present[s]): values for s, values in metrics["signal_vs_background"].items()
        }
    metrics["n_jets"] = int(labels.size)
    metrics["classes"] = present.tolist()
    metrics["class_counts"] = np.bincount(compact).tolist()
    return metrics


def evaluate(
    model: Any,
    jets: Any,
    *,
    n_bootstrap: int = 100,
    seed: int = 0,
    batch_size: int = 256,
    progress: bool = False,
) -> dict[str, Any]:
    """Accuracy, AUC and background rejection at εS = 0.3 and 0.5 of a tagger on labelled jets.

    Args:
        model: A `HepJepaForJetClassification`, or anything its ``from_pretrained`` loads.
        jets: Awkward jets with an integer ``label`` field.
        n_bootstrap: Bootstrap resamples for the uncertainties.
        seed: Seed of the resampling.
        batch_size: Jets per forward pass.
        progress: Show a progress bar.

    Returns:
        See `metrics_from_probabilities`: ``accuracy``, ``auc``, ``rej30``, ``rej50``, each
        with a ``*_std``, and ``n_jets``, ``classes``, ``class_counts``.

    Raises:
        ValueError: Unlabelled jets, or labels outside the model's classes.

    Examples:

    ```python
    >>> from hep_jepa import evaluate
    >>> metrics = evaluate("top-probe", load_jets("realdata/top_tagging")[1500:])
    >>> metrics["auc"], metrics["rej30"]
    ```
    """
    from hep_jepa.classification import HepJepaForJetClassification

    if not isinstance(model, HepJepaForJetClassification):
        model = HepJepaForJetClassification.from_pretrained(model)
    labels = evaluation_labels(jets, int(model.config.num_labels or 0))
    probabilities = model.predict_proba(jets, batch_size=batch_size, progress=progress)
    return metrics_from_probabilities(labels, probabilities, n_bootstrap=n_bootstrap, seed=seed)


def write_evaluation(
    out_dir: str | os.PathLike[str],
    metrics: dict[str, Any],
    labels: np.ndarray,
    probabilities: np.ndarray,
    *,
    name: str,
    class_names: dict[int, str] | None = None,
    model_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Path]:
    """Write ``metrics.json`` and ``roc.png`` (rejection against signal efficiency).

    Binary task: one ROC curve, class 1 against class 0. More classes: one curve per
    signal class against class 0, scored ``p_s / (p_s + p_0)``.

    Args:
        out_dir: Folder for the two files (created if needed).
        metrics: As returned by `evaluate` or `metrics_from_probabilities`.
        labels: Shape (B,). Class indices of the model.
        probabilities: Shape (B, C). The model's class probabilities.
        name: The evaluation set's name: the plot's label and the key in ``eval_results.json``.
        class_names: Model class index -> name, for the legend (e.g. ``config.id2label``).
        model_dir: If given, also merge ``{name: metrics}`` into its ``eval_results.json``.

    Returns:
        ``{"metrics": path, "roc": path}`` and, with `model_dir`, ``"eval_results"``.
    """
    from hep_jepa.metrics import signal_vs_background
    from hep_jepa.plotting import plot_roc

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = class_names or {}
    present = np.unique(labels)
    background = int(present[0])
    curves = {}
    for signal in present[1:]:
        binary, scores = signal_vs_background(
            labels, probabilities, int(signal), background_class=background
        )
        legend = f"{names.get(int(signal), f'class {signal}')} vs {names.get(background, f'class {background}')}"
        curves[legend] = (binary, scores)
    paths = {"metrics": out / "metrics.json", "roc": out / "roc.png"}
    paths["metrics"].write_text(json.dumps(json_compatible(metrics), indent=2) + "\n")
    plot_roc(curves, paths["roc"], label=name)
    if model_dir is not None:
        paths["eval_results"] = record_eval_results(model_dir, name, metrics)
    return paths


def record_eval_results(
    model_dir: str | os.PathLike[str], name: str, metrics: dict[str, Any]
) -> Path:
    """Merge ``{name: metrics}`` into ``<model_dir>/eval_results.json`` (read by the model card)."""
    path = Path(model_dir) / EVAL_RESULTS_NAME
    results = json.loads(path.read_text()) if path.exists() else {}
    results[name] = json_compatible(metrics)
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return path


def json_compatible(value: Any) -> Any:
    """Plain JSON: non-finite floats become None, dict keys strings, numpy scalars Python."""
    if isinstance(value, dict):
        return {str(k): json_compatible(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_compatible(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
