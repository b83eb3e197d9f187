"""Evaluation: metrics from a tagger, metrics.json + roc.png, eval_results.json, bad input."""

from __future__ import annotations

import json

import awkward as ak
import numpy as np
import pytest
import torch
from conftest import TINY, make_jets

from hep_jepa import HepJepaConfig, HepJepaForJetClassification, evaluate
from hep_jepa.cli import main
from hep_jepa.evaluation import (
    evaluation_labels,
    metrics_from_probabilities,
    write_evaluation,
)


@pytest.fixture(scope="module")
def tagger_dir(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tagger")
    HepJepaForJetClassification(HepJepaConfig(**TINY, num_labels=2)).save_pretrained(path)
    return path


def test_evaluate_returns_metrics_with_uncertainties(tagger_dir):
    metrics = evaluate(tagger_dir, make_jets(30), n_bootstrap=5)
    for key in ("accuracy", "auc", "rej30", "rej50"):
        assert key in metrics and f"{key}_std" in metrics
    assert metrics["n_jets"] == 30 and metrics["classes"] == [0, 1]
    assert 0.0 <= metrics["auc"] <= 1.0


def test_write_evaluation_files_and_eval_results(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 50)
    p_signal = np.clip(0.5 + 0.3 * (2 * labels - 1) + rng.normal(0, 0.2, 100), 0.01, 0.99)
    probabilities = np.stack([1 - p_signal, p_signal], axis=1)
    metrics = metrics_from_probabilities(labels, probabilities, n_bootstrap=5)
    metrics["rej30"] = float("inf")  # as when no background jet passes the cut
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    paths = write_evaluation(
        tmp_path / "eval", metrics, labels, probabilities, name="toy", model_dir=model_dir
    )
    written = json.loads(paths["metrics"].read_text())
    assert written["rej30"] is None and written["auc"] == pytest.approx(metrics["auc"])
    assert paths["roc"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    write_evaluation(
        tmp_path / "eval2", metrics, labels, probabilities, name="other", model_dir=model_dir
    )
    assert sorted(json.loads(paths["eval_results"].read_text())) == ["other", "toy"]


def test_metrics_on_a_subset_of_the_model_classes():
    labels = np.array([0, 2, 0, 2, 0, 2])
    probabilities = np.array(
        [
            [0.8, 0.1, 0.1],
            [0.1, 0.2, 0.7],
            [0.6, 0.3, 0.1],
            [0.2, 0.1, 0.7],
            [0.5, 0.4, 0.1],
            [0.3, 0.3, 0.4],
        ]
    )
    metrics = metrics_from_probabilities(labels, probabilities, n_bootstrap=3)
    assert metrics["classes"] == [0, 2] and metrics["auc"] == 1.0 and metrics["accuracy"] == 1.0


def test_unlabelled_evaluation_data_is_an_error():
    with pytest.raises(ValueError, match="have no 'label' field"):
        evaluation_labels(make_jets(4)[["particles"]], 2)


def test_labels_beyond_num_labels_are_an_error(tagger_dir):
    jets = ak.with_field(make_jets(6), np.arange(6) % 3, "label")
    with pytest.raises(ValueError, match="num_labels=2"):
        evaluate(tagger_dir, jets, n_bootstrap=2)


def test_cli_evaluate_on_real_top_tagging(realdata_dir, tagger_dir, tmp_path, capsys):
    out = tmp_path / "eval"
    argv = ["evaluate", "--model", str(tagger_dir), "--data", str(realdata_dir / "top_tagging")]
    assert main([*argv, "--jets", ":60", "--n-bootstrap", "3", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_jets"] == 60 and {"accuracy", "auc", "rej30", "rej50"} <= set(metrics)
    assert (out / "roc.png").stat().st_size > 0


def test_cli_evaluate_reports_unlabelled_data(tagger_dir, tmp_path, capsys):
    data = tmp_path / "unlabelled.parquet"
    ak.to_parquet(make_jets(5)[["particles"]], data)
    argv = ["evaluate", "--model", str(tagger_dir), "--data", str(data), "--out", str(tmp_path)]
    assert main(argv) == 1
    assert "no 'label' field" in capsys.readouterr().err
