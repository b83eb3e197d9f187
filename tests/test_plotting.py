"""The plots are written as readable PNG files; a missing matplotlib gives the install hint."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from hep_jepa.metrics import roc_curve
from hep_jepa.plotting import plot_metric_vs_fraction, plot_roc

pytest.importorskip("matplotlib")


def _read_png(path: Path) -> np.ndarray:
    from matplotlib.image import imread

    assert path.is_file() and path.stat().st_size > 0
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    return image


def test_plot_roc_writes_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 500)
    good = labels + rng.normal(size=500)
    efficiency_s, efficiency_b, _ = roc_curve(labels, labels + 2 * rng.normal(size=500))
    precomputed = {"signal_efficiency": efficiency_s, "background_efficiency": efficiency_b}
    with_auc = {"signal_efficiency": [0, 0.5, 1], "background_efficiency": [0, 0.1, 1], "auc": 0.7}
    path = plot_roc(
        {"tagger": (labels, good), "precomputed": precomputed, "with auc": with_auc},
        tmp_path / "plots" / "roc.png",
        label="Toy data",
    )
    assert path == tmp_path / "plots" / "roc.png"
    image = _read_png(path)
    assert image[..., :3].std() > 0  # something was drawn


def test_plot_metric_vs_fraction_writes_png(tmp_path: Path) -> None:
    results = {
        "fine-tuned": [(0.01, 0.88, 0.005), (0.001, 0.80, 0.01), (1.0, 0.93, 0.001)],
        "from scratch": [(0.001, 0.70, 0.02), (0.01, 0.82, 0.01), (1.0, 0.93, 0.001)],
    }
    _read_png(plot_metric_vs_fraction(results, tmp_path / "few_shot.png", label="Top Tagging"))


def test_plot_pretraining_history_writes_png(tmp_path: Path) -> None:
    from hep_jepa.plotting import plot_pretraining_history

    history = [
        {"step": 10 * i, "loss": 1.0 / (i + 1), "prediction_std": 0.1 * i, "target_std": 0.5}
        for i in range(1, 6)
    ] + [{"step": 50, "train_runtime": 3.0}]
    path = plot_pretraining_history(history, tmp_path / "p.png", label="test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="no training-loss"):
        plot_pretraining_history([{"step": 1}], tmp_path / "q.png")


def test_empty_inputs_raise(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        plot_roc({}, tmp_path / "roc.png")
    with pytest.raises(ValueError, match="positive"):
        plot_metric_vs_fraction({"a": [(0.0, 0.5, 0.1)]}, tmp_path / "f.png")


def test_missing_matplotlib_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(ImportError, match=r"pip install 'hep-jepa\[plots\]'"):
        plot_roc({"a": ([0, 1], [0.2, 0.8])}, tmp_path / "roc.png")
