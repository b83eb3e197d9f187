"""Plots for jet-tagging results: ROC curves and few-shot scans, written as PNG files.

matplotlib is an optional dependency (``pip install 'hep-jepa[plots]'``) and
is imported inside each function. Figures are drawn on matplotlib's Agg
canvas directly, without pyplot, so plotting neither needs a display nor
changes the backend of the calling program.

Style: the usual HEP look, with ticks on all four sides pointing inwards,
minor ticks, and a bold label (the dataset name) in a free corner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hep_jepa.metrics import roc_curve

__all__ = ["plot_metric_vs_fraction", "plot_pretraining_history", "plot_roc"]

_INSTALL_HINT = "plotting needs matplotlib: pip install 'hep-jepa[plots]'"


def _new_figure(figsize: tuple[float, float]) -> Any:
    """A matplotlib Figure attached to an Agg canvas; ImportError with the install hint."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error
    figure = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _hep_style(axes: Any, label: str | None, *, top: bool) -> None:
    axes.minorticks_on()
    axes.tick_params(which="both", direction="in", top=True, right=True)
    axes.tick_params(which="major", length=6)
    axes.tick_params(which="minor", length=3)
    if label:
        axes.text(
            0.04, 0.96 if top else 0.04, label, transform=axes.transAxes, ha="left",
            va="top" if top else "bottom", fontweight="bold", fontsize="large",
        )  # fmt: skip


def _curve_points(curve: Any) -> tuple[np.ndarray, np.ndarray, float]:
    """(εS, εB, AUC) from ``(labels, scores)`` or a mapping with precomputed efficiencies."""
    if isinstance(curve, Mapping):
        signal_efficiency = np.asarray(curve["signal_efficiency"], dtype=np.float64)
        background_efficiency = np.asarray(curve["background_efficiency"], dtype=np.float64)
        if "auc" in curve:
            area = float(curve["auc"])
        else:
            order = np.argsort(background_efficiency, kind="stable")
            widths = np.diff(background_efficiency[order])
            heights = 0.5 * (signal_efficiency[order][1:] + signal_efficiency[order][:-1])
            area = float(np.sum(widths * heights))
        return signal_efficiency, background_efficiency, area
    labels, scores = curve
    signal_efficiency, background_efficiency, _ = roc_curve(labels, scores)
    widths = np.diff(background_efficiency)
    area = float(np.sum(widths * 0.5 * (signal_efficiency[1:] + signal_efficiency[:-1])))
    return signal_efficiency, background_efficiency, area


def plot_roc(
    curves: Mapping[str, Any],
    out_path: str | Path,
    *,
    label: str | None = None,
    working_points: Sequence[float] = (0.3, 0.5),
    figsize: tuple[float, float] = (5.0, 4.5),
    dpi: int = 150,
) -> Path:
    """Background rejection ``1/εB`` (log scale) against signal efficiency ``εS``.

    Points where ``εB = 0`` (infinite rejection) cannot be drawn on a log axis
    and are left out.

    Args:
        curves: Legend name -> either ``(labels, scores)`` (binary, shape (B,)
            each; the ROC curve is computed with
            :func:`hep_jepa.metrics.roc_curve`) or a precomputed curve, a
            mapping with ``signal_efficiency`` and ``background_efficiency``
            arrays and optionally ``auc``.
        out_path: Where to write the PNG; parent folders are created.
        label: Text in the bottom-left corner, such as the dataset name.
        working_points: Signal efficiencies marked with thin vertical lines.
        figsize: Figure size in inches.
        dpi: Resolution of the PNG.

    Returns:
        The path of the written PNG.

    Raises:
        ImportError: if matplotlib is not installed.
        ValueError: if ``curves`` is empty, or as :func:`hep_jepa.metrics.roc_curve`.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> labels = rng.integers(0, 2, 1000)
        >>> path = plot_roc({"toy": (labels, labels + rng.normal(size=1000))},
        ...                 "/tmp/roc.png", label="Toy data")
        >>> path.name
        'roc.png'
    """
    if not curves:
        raise ValueError("curves is empty: nothing to plot")
    figure = _new_figure(figsize)
    axes = figure.add_subplot()
    for name, curve in curves.items():
        signal_efficiency, background_efficiency, area = _curve_points(curve)
        drawable = (background_efficiency > 0) & (signal_efficiency > 0)
        axes.plot(
            signal_efficiency[drawable],
            1.0 / background_efficiency[drawable],
            label=f"{name} (AUC = {area:.4f})",
        )
    for efficiency in working_points:
        axes.axvline(efficiency, color="0.7", linewidth=0.8, linestyle=":", zorder=0)
    axes.set_yscale("log")
    axes.set_xlim(0.0, 1.0)
    axes.set_xlabel(r"Signal efficiency $\varepsilon_S$")
    axes.set_ylabel(r"Background rejection $1/\varepsilon_B$")
    _hep_style(axes, label, top=False)  # below the curves, which rise steeply at small εS
    axes.legend(loc="upper right", frameon=False)
    return _save(figure, out_path, dpi)


def plot_metric_vs_fraction(
    results: Mapping[str, Sequence[tuple[float, float, float]]],
    out_path: str | Path,
    *,
    metric_name: str = "Accuracy",
    label: str | None = None,
    figsize: tuple[float, float] = (5.0, 4.5),
    dpi: int = 150,
) -> Path:
    """A metric against the fraction of labelled jets (log x), one line per regime.

    Made for the few-shot study: for each training regime (for example
    "from scratch", "frozen backbone", "fine-tuned") the metric at several
    label fractions, with its uncertainty as error bars.

    Args:
        results: Regime name -> a sequence of ``(label_fraction, value, uncertainty)``;
            fractions in (0, 1], any order.
        out_path: Where to write the PNG; parent folders are created.
        metric_name: The y-axis title.
        label: Text in the top-left corner, such as the dataset name.
        figsize: Figure size in inches.
        dpi: Resolution of the PNG.

    Returns:
        The path of the written PNG.

    Raises:
        ImportError: if matplotlib is not installed.
        ValueError: if ``results`` is empty or a fraction is not positive.

    Examples:
        >>> path = plot_metric_vs_fraction(
        ...     {"fine-tuned": [(0.001, 0.80, 0.01), (0.01, 0.88, 0.005), (1.0, 0.93, 0.001)],
        ...      "from scratch": [(0.001, 0.70, 0.02), (0.01, 0.82, 0.01), (1.0, 0.93, 0.001)]},
        ...     "/tmp/few_shot.png", label="Top Tagging")
        >>> path.suffix
        '.png'
    """
    if not results:
        raise ValueError("results is empty: nothing to plot")
    figure = _new_figure(figsize)
    axes = figure.add_subplot()
    for regime, points in results.items():
        table = np.asarray(sorted(points), dtype=np.float64).reshape(-1, 3)  # (P, 3)
        if (table[:, 0] <= 0).any():
            raise ValueError(f"label fractions must be positive, got {table[:, 0].tolist()}")
        axes.errorbar(
            table[:, 0], table[:, 1], yerr=table[:, 2], label=regime,
            marker="o", markersize=4, capsize=3,
        )  # fmt: skip
    axes.set_xscale("log")
    axes.set_xlabel("Fraction of labelled training jets")
    axes.set_ylabel(metric_name)
    _hep_style(axes, label, top=True)
    axes.legend(loc="lower right", frameon=False)
    return _save(figure, out_path, dpi)


def plot_pretraining_history(
    log_history: Sequence[Mapping[str, Any]],
    out_path: str | Path,
    *,
    label: str | None = None,
    dpi: int = 150,
) -> Path:
    """Pretraining loss and collapse monitors against the step, as a PNG.

    Args:
        log_history: The ``log_history`` of a pretraining run (``training_info.json`` or
            ``trainer_state.json``): dicts with ``step`` and any of ``loss``,
            ``prediction_std``, ``target_std``, ``variance``, ``covariance``.
        out_path: Where to write the PNG.

    Raises:
        ValueError: no entry holds a ``loss``.
    """
    entries = [e for e in log_history if "loss" in e and "step" in e]
    if not entries:
        raise ValueError("log_history holds no training-loss entries (keys 'step' and 'loss').")
    steps = np.array([float(e["step"]) for e in entries])
    figure = _new_figure((8.0, 3.4))
    left, right = figure.subplots(1, 2)
    left.plot(steps, [float(e["loss"]) for e in entries], label="loss")
    if any("prediction_loss" in e for e in entries):
        left.plot(
            steps, [float(e.get("prediction_loss", np.nan)) for e in entries], label="JEPA term"
        )
    left.set_yscale("log")
    left.set_xlabel("Step")
    left.set_ylabel("Training loss")
    _hep_style(left, label, top=False)
    left.legend(loc="upper right", frameon=False)
    for key, name in (("prediction_std", "predictions"), ("target_std", "targets")):
        values = [float(e.get(key, np.nan)) for e in entries]
        if not np.isnan(values).all():
            right.plot(steps, values, label=name)
    right.set_ylim(bottom=0.0)
    right.set_xlabel("Step")
    right.set_ylabel("Spread over the batch (mean std)")
    _hep_style(right, None, top=True)
    right.legend(loc="lower right", frameon=False)
    return _save(figure, out_path, dpi)


def _save(figure: Any, out_path: str | Path, dpi: int) -> Path:
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi, format="png")
    return path
