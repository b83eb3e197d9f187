"""Fine-tuning: save/reload round trip, learning-rate groups, frozen encoder, best epoch, bad input."""

from __future__ import annotations

import json

import awkward as ak
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import TINY, make_jets

from hep_jepa import HepJepaConfig, HepJepaForJetClassification, HepJepaModel, finetune
from hep_jepa.cli import main
from hep_jepa.finetune import JetTensorDataset, _parameter_groups, class_weights_for, collate_jets

FAST = {"max_epochs": 2, "batch_size": 16, "progress": False}


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("encoder")
    HepJepaModel(HepJepaConfig(**TINY)).save_pretrained(path)
    return path


def _relabel(jets, labels):
    return ak.with_field(jets, np.asarray(labels, dtype=np.int64), "label")


def test_finetune_saves_and_reloads(encoder_dir, tmp_path):
    jets = make_jets(40, max_particles=20)
    tagger = finetune(encoder_dir, jets, head="attention", output_dir=tmp_path, **FAST)
    assert tagger.config.num_labels == 2 and tagger.config.head == "attention"
    reloaded = HepJepaForJetClassification.from_pretrained(tmp_path)
    probe = make_jets(6, seed=3)
    np.testing.assert_allclose(
        reloaded.predict_proba(probe), tagger.predict_proba(probe), rtol=1e-5, atol=1e-6
    )
    summary = json.loads((tmp_path / "training_summary.json").read_text())
    assert sum(summary["train_class_counts"]) + sum(summary["eval_class_counts"]) == 40


def test_best_epoch_is_kept(encoder_dir, tmp_path):
    jets, eval_jets = make_jets(32, max_particles=20), make_jets(16, seed=1, max_particles=20)
    tagger = finetune(
        encoder_dir, jets, eval_jets=eval_jets, head_learning_rate=0.05, max_epochs=4,
        early_stopping_patience=None, batch_size=8, progress=False, output_dir=tmp_path,
    )  # fmt: skip
    summary = json.loads((tmp_path / "training_summary.json").read_text())
    epoch_losses = [entry["eval_loss"] for entry in summary["epochs"]]
    assert len(epoch_losses) == 4 and summary["best_eval_loss"] == min(epoch_losses)
    data = JetTensorDataset(tagger, eval_jets)
    batch = collate_jets([data[i] for i in range(len(data))])
    labels = batch.pop("labels")
    with torch.no_grad():
        logits = tagger(**batch).logits
    loss = F.cross_entropy(logits, labels, weight=torch.tensor(summary["class_weights"]))
    assert float(loss) == pytest.approx(summary["best_eval_loss"], rel=1e-4)


def test_parameter_groups_split_head_and_encoder():
    tagger = HepJepaForJetClassification(HepJepaConfig(**TINY, num_labels=3))
    groups = _parameter_groups(
        tagger, head_learning_rate=1e-2, backbone_learning_rate=1e-4, weight_decay=0.1
    )
    head_ids = {id(p) for p in tagger.head.parameters()}
    for group in groups:
        in_head = {id(p) in head_ids for p in group["params"]}
        assert len(in_head) == 1
        assert group["lr"] == (1e-2 if in_head.pop() else 1e-4)
        assert all((p.ndim >= 2) == (group["weight_decay"] > 0) for p in group["params"])
    counted = sum(p.numel() for g in groups for p in g["params"])
    assert counted == sum(p.numel() for p in tagger.parameters())
    tagger.freeze_backbone()
    frozen = _parameter_groups(
        tagger, head_learning_rate=1e-2, backbone_learning_rate=1e-4, weight_decay=0.1
    )
    assert {id(p) for g in frozen for p in g["params"]} == head_ids


def test_frozen_backbone_keeps_encoder_weights(encoder_dir):
    before = HepJepaModel.from_pretrained(encoder_dir).state_dict()
    tagger = finetune(encoder_dir, make_jets(24), freeze_backbone=True, **FAST)
    after = tagger.hep_jepa.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)


def test_class_weights_balance_unequal_classes():
    weights = class_weights_for(np.array([0, 0, 0, 2]), 3)
    np.testing.assert_allclose(weights.numpy(), [2 / 3, 0.0, 2.0], rtol=1e-6)
    np.testing.assert_allclose(class_weights_for(np.array([0, 1, 1, 0]), 2).numpy(), [1, 1])


def test_labels_fraction_without_a_class_is_an_error(encoder_dir):
    jets = _relabel(make_jets(30), [0] * 28 + [1] * 2)
    with pytest.raises(ValueError, match="keeps no jet of class 1"):
        finetune(encoder_dir, jets, labels_fraction=0.3, **FAST)


def test_num_labels_must_cover_the_data(encoder_dir):
    tagger = HepJepaForJetClassification.from_pretrained(encoder_dir, num_labels=2)
    jets = _relabel(make_jets(12), np.arange(12) % 3)
    with pytest.raises(ValueError, match=r"labels run from 0 to 2, but the model has num_labels=2"):
        finetune(tagger, jets, **FAST)


def test_unlabelled_jets_are_an_error(encoder_dir):
    with pytest.raises(ValueError, match="have no 'label' field"):
        finetune(encoder_dir, make_jets(10)[["particles"]], **FAST)


def test_cli_finetune(encoder_dir, tmp_path, capsys):
    data = tmp_path / "jets.parquet"
    ak.to_parquet(make_jets(30, max_particles=20), data)
    out = tmp_path / "tagger"
    argv = ["finetune", "--model", str(encoder_dir), "--data", str(data), "--head", "mlp"]
    assert main([*argv, "--epochs", "1", "--no-progress", "--output", str(out)]) == 0
    assert HepJepaForJetClassification.from_pretrained(out).config.head == "mlp"
    assert main([*argv, "--labels-fraction", "0.01", "--output", str(out)]) == 1
    assert "keeps no jet of class" in capsys.readouterr().err
