"""The few-shot runner: all regimes on a tiny labelled set, clamped small fractions, outputs."""

from __future__ import annotations

import json

import awkward as ak
import numpy as np
import pytest
import torch
from conftest import TINY, make_jets

from hep_jepa import HepJepaConfig, HepJepaModel
from hep_jepa.cli import main
from hep_jepa.data.dataset import labelled_subset
from hep_jepa.fewshot import (
    FewShotConfig,
    _embedding_inputs,
    _per_class_subset,
    _probe_initialised_tagger,
    fit_linear_probe,
    merge_fewshot,
    run_fewshot,
)


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("encoder")
    HepJepaModel(HepJepaConfig(**TINY)).save_pretrained(path)
    return path


def _qcd_vs_top(n_jets):
    """Jets labelled 0 (QCD) and 8 (Tbqq, as in JetClass)."""
    jets = make_jets(n_jets, max_particles=20)
    return ak.with_field(jets, np.where(np.arange(n_jets) % 2 == 0, 0, 8), "label")


def test_fewshot_runs_every_regime_and_writes_outputs(encoder_dir, tmp_path):
    config = FewShotConfig(fractions=(0.01, 1.0), seeds=(0,), max_epochs=1, n_bootstrap=2)
    result = run_fewshot(
        encoder_dir, _qcd_vs_top(50), config=config, output_dir=tmp_path, name="toy"
    )
    assert result["classes"] == [0, 8]
    assert len(result["runs"]) == 2 * 4
    smallest = result["summary"]["finetune"][0]
    assert smallest["fraction"] == 0.01 and smallest["n_labelled"] == 2  # clamped: one per class
    table = (tmp_path / "fewshot.md").read_text()
    assert "| 1 % | 2 |" in table and "substructure MLP" in table
    assert json.loads((tmp_path / "fewshot.json").read_text())["n_test"] == result["n_test"]
    assert (tmp_path / "fewshot.png").read_bytes()[:4] == b"\x89PNG"


def test_subsets_match_labelled_subset_and_are_nested():
    labels = np.repeat([0, 1, 2], [40, 30, 20])
    np.testing.assert_array_equal(
        _per_class_subset(labels, 0.5, 3, 1), labelled_subset(labels, 0.5, 3)
    )
    small, large = _per_class_subset(labels, 0.001, 3, 1), _per_class_subset(labels, 0.2, 3, 1)
    assert np.bincount(labels[small]).tolist() == [1, 1, 1] and set(small) <= set(large)


def test_config_rejects_bad_settings():
    with pytest.raises(ValueError, match="unknown regimes"):
        FewShotConfig(regimes=("probe", "magic"))
    with pytest.raises(ValueError, match=r"fractions must lie in \(0, 1\]"):
        FewShotConfig(fractions=(0.0, 0.5))
    with pytest.raises(ValueError, match="finetune_head_init must be one of"):
        FewShotConfig(finetune_head_init="pretrained")
    with pytest.raises(ValueError, match="use head='linear' or finetune_head_init='random'"):
        FewShotConfig(head="mlp", finetune_head_init="probe")
    assert FewShotConfig().finetune_head_init == "random"
    assert FewShotConfig(head="mlp").finetune_head_init == "random"
    assert FewShotConfig(finetune_head_init="probe").finetune_head_init == "probe"


def _blobs(n, seed, shift=(0.0, 3.0), scale=(1.0, 100.0)):
    """Two Gaussian classes in 2D, far apart along x; y has a large unit (scale 100)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    x = rng.normal(size=(n, 2)) * scale + np.outer(labels, [shift[1], 0.0]) + shift[0]
    return x, labels


def test_linear_probe_fits_a_separable_problem_and_folds_the_standardisation():
    x, y = _blobs(200, 0)
    xv, yv = _blobs(100, 1)
    probe = fit_linear_probe(x, y, xv, yv, 2)
    xt, yt = _blobs(1000, 2)
    with torch.no_grad():
        logits = probe(torch.from_numpy(xt))
    accuracy = float((logits.argmax(-1).numpy() == yt).mean())
    assert accuracy > 0.9  # the Bayes rate is about 0.93; chance is 0.5
    # raw (unstandardised) inputs map to logits: the large-unit column gets a small weight
    weight = probe.weight.detach().numpy()
    assert abs(weight[1, 0] - weight[0, 0]) > 100 * abs(weight[1, 1] - weight[0, 1])


def test_linear_probe_learns_from_one_jet_per_class():
    # separable: the validation jets pick a penalty that keeps the weights finite and useful
    x, y = _blobs(2, 0)
    xv, yv = _blobs(200, 1)
    unlabelled, _ = _blobs(500, 3)
    probe = fit_linear_probe(x, y, xv, yv, 2, standardize_with=unlabelled)
    assert torch.isfinite(probe.weight).all() and not probe.weight.requires_grad
    xt, yt = _blobs(1000, 2)
    with torch.no_grad():
        accuracy = float((probe(torch.from_numpy(xt)).argmax(-1).numpy() == yt).mean())
    assert accuracy > 0.75


def test_linear_probe_rejects_bad_embeddings():
    x, y = _blobs(20, 0)
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        fit_linear_probe(bad, y, x, y, 2)
    with pytest.raises(ValueError, match="one width"):
        fit_linear_probe(x, y, x[:, :1], y, 2)
    with pytest.raises(ValueError, match="standardize_with must be"):
        fit_linear_probe(x, y, x, y, 2, standardize_with=x[:, :1])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        fit_linear_probe(x, y + 1, x, y, 2)


def test_finetuning_starts_from_the_fitted_probe(encoder_dir):
    """LP-FT: before any step, the tagger's predictions are the probe's on the embeddings."""
    jets = _qcd_vs_top(40)
    labels = np.where(ak.to_numpy(jets["label"]) == 8, 1, 0)
    jets = ak.with_field(jets, labels, "label")
    inputs = _embedding_inputs(encoder_dir, jets[:30], jets[30:], jets[30:], progress=False)
    probe = fit_linear_probe(
        inputs["pool"], inputs["pool_labels"], inputs["validation"], inputs["validation_labels"], 2
    )
    tagger = _probe_initialised_tagger(encoder_dir, probe)
    expected = probe(torch.from_numpy(inputs["test"])).softmax(-1).detach().numpy()
    np.testing.assert_allclose(tagger.predict_proba(jets[30:]), expected, atol=1e-5)


def test_single_class_is_an_error(encoder_dir):
    jets = ak.with_field(make_jets(10), np.zeros(10, dtype=np.int64), "label")
    with pytest.raises(ValueError, match="single class"):
        run_fewshot(encoder_dir, jets)


def test_cli_fewshot(encoder_dir, tmp_path, capsys):
    data = tmp_path / "jets.parquet"
    ak.to_parquet(_qcd_vs_top(40), data)
    argv = ["fewshot", "--model", str(encoder_dir), "--data", str(data), "--output", str(tmp_path)]
    options = ["--fractions", "1", "--seeds", "0", "1", "--regimes", "probe", "substructure"]
    assert main([*argv, *options, "--epochs", "1"]) == 0
    assert "frozen probe" in capsys.readouterr().out


def test_small_subsets_are_repeated_whole():
    from hep_jepa.fewshot import _repeated

    index = np.array([4, 9, 2])
    repeated = _repeated(index, 640)
    assert repeated.size == 642 and np.array_equal(np.bincount(repeated)[[2, 4, 9]], [214] * 3)
    big = np.arange(1000)
    assert np.array_equal(_repeated(big, 640), big)


def test_parts_of_a_study_merge_into_the_whole(encoder_dir, tmp_path):
    jets = _qcd_vs_top(40)
    common = {"regimes": ("probe", "substructure"), "max_epochs": 1, "n_bootstrap": 2}
    whole = run_fewshot(
        encoder_dir, jets, config=FewShotConfig(fractions=(0.1, 1.0), seeds=(0, 1), **common)
    )
    parts = [
        run_fewshot(
            encoder_dir, jets, config=FewShotConfig(fractions=(f,), seeds=(0, 1), **common),
            output_dir=tmp_path / f"part{f}",
        )
        for f in (0.1, 1.0)
    ]  # fmt: skip
    key = lambda run: (run["regime"], run["fraction"], run["seed"])  # noqa: E731
    assert main(
        ["fewshot", "--merge", str(tmp_path / "part0.1"), str(tmp_path / "part1.0"),
         "--output", str(tmp_path / "merged")]
    ) == 0  # fmt: skip
    merged = json.loads((tmp_path / "merged" / "fewshot.json").read_text())
    assert merged["config"]["fractions"] == [0.1, 1.0]
    assert sorted(map(key, merged["runs"])) == sorted(map(key, whole["runs"]))
    for regime, rows in whole["summary"].items():
        for mine, theirs in zip(merged["summary"][regime], rows, strict=True):
            assert mine["accuracy"] == pytest.approx(theirs["accuracy"])
    assert (tmp_path / "merged" / "fewshot.png").is_file()
    with pytest.raises(ValueError, match="in two of the parts"):
        merge_fewshot([parts[0], parts[0]])
    different = {**parts[1], "config": {**parts[1]["config"], "max_epochs": 2}}
    with pytest.raises(ValueError, match="different settings"):
        merge_fewshot([parts[0], different])
    allowed = merge_fewshot(
        [parts[0], different], tmp_path / "allowed", allow_different=["max_epochs"]
    )
    assert [part["max_epochs"] for part in allowed["parts"]] == [1, 2]
    assert "max_epochs 2" in (tmp_path / "allowed" / "fewshot.md").read_text()
