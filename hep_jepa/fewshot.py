"""The few-shot study: tagging accuracy against the fraction of labelled training jets.

For every label fraction and seed, each regime is trained on the same labelled subset,
stopped early on the same validation jets, and scored on the same test jets:

- ``scratch``: an encoder of the same configuration, randomly initialised, trained with
  its head (the baseline that shows what pretraining buys);
- ``probe``: the pretrained encoder frozen, only a head trained. With the default
  ``probe_head="linear"`` this is a logistic regression on the standardised jet
  embeddings (`fit_linear_probe`: full-batch L-BFGS, trained to convergence, its L2
  strength picked on the validation jets); the embeddings are computed once per study.
  Other probe heads are trained like the fine-tuned ones, with the encoder frozen;
- ``finetune``: the pretrained encoder and a head, all weights trained (the encoder
  with its own learning rate), the head starting at random (the default). With
  ``finetune_head_init="probe"`` the linear head starts from the fitted linear probe of
  the same subset and only then is everything trained ("LP-FT", Kumar et al.,
  arXiv:2202.10054). On hep-jepa-tiny's study LP-FT was level with a random head at
  0.2 % of the labels and behind it from 0.5 % to 100 % (by up to 4 points at 10 % and
  100 %; docs/finetuning.md), so it is an option, not the default;
- ``substructure``: a small MLP on five jet-substructure observables (jet mass,
  multiplicity, pT-weighted width, τ21, τ32; `hep_jepa.substructure`).

Data: the labelled jets are split once (``split_seed``), per class, into a training pool,
validation jets and test jets (or `test_jets` are given). The label fraction is taken of
the pool, per class, with each run's seed. Labels are renumbered 0..C-1 in increasing
order of the original labels (QCD, label 0, stays class 0); the JSON records the map.

Small fractions: every class keeps at least ``min_jets_per_class`` jets (default 1), so
0.05 % of a few hundred jets still trains on one jet per class. The number of labelled
jets actually used is recorded with every result (``n_labelled``), and the table shows it.
A small subset is repeated so that every epoch has at least ``min_steps_per_epoch``
optimiser steps (the neural regimes only; the jets are the same, seen more often).
The validation jets are labelled too, and are the same for every fraction: at the
smallest fractions they outnumber the training jets, as in most few-shot benchmarks.
The linear probe and the substructure MLP standardise their inputs with the statistics
of the whole training pool, used without its labels (unlabelled jets are what a
few-shot user has plenty of); the labelled subset's own spread is noise at one jet per
class.

Outputs (`run_fewshot` with ``output_dir``): ``fewshot.json`` (configuration, every run,
the mean and spread over seeds), ``fewshot.md`` (a table of test accuracy and AUC) and
``fewshot.png`` (accuracy against label fraction, error bars = standard deviation over
seeds, or the bootstrap uncertainty when there is one seed).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "DEFAULT_FRACTIONS",
    "REGIMES",
    "FewShotConfig",
    "fit_linear_probe",
    "merge_fewshot",
    "run_fewshot",
]

REGIMES: tuple[str, ...] = ("scratch", "probe", "finetune", "substructure")
REGIME_TITLES = {
    "scratch": "from scratch",
    "probe": "frozen probe",
    "finetune": "fine-tuned",
    "substructure": "substructure MLP",
}
DEFAULT_FRACTIONS: tuple[float, ...] = (0.0005, 0.005, 0.02, 0.1, 1.0)
HEAD_INITS: tuple[str, ...] = ("probe", "random")
PROBE_L2_GRID: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)


@dataclass
class FewShotConfig:
    """Settings of the few-shot study (flat; saved in ``fewshot.json``).

    Args:
        fractions: Label fractions of the training pool, in (0, 1].
        regimes: Any of `REGIMES`.
        seeds: One run per seed (labelled subset, head initialisation, batch order).
        head: Head of the ``scratch`` and ``finetune`` regimes.
        probe_head: Head of the ``probe`` regime; ``linear`` is fitted by `fit_linear_probe`.
        finetune_head_init: ``random`` (the default) or ``probe`` (the ``finetune``
            regime's linear head starts from the fitted linear probe, LP-FT; needs
            ``head="linear"``).
        max_epochs: Upper bound on epochs per run (early stopping usually ends sooner).
        early_stopping_patience: Epochs without a better validation loss before stopping.
        batch_size: Jets per optimiser step.
        head_learning_rate: Learning rate of the head (``scratch``, ``finetune``).
        backbone_learning_rate: Learning rate of the pretrained encoder (``finetune``).
        scratch_learning_rate: Learning rate of the randomly initialised encoder.
        probe_learning_rate: Learning rate of a non-linear probe head.
        test_fraction: Share of the jets held out for testing (when no test jets are given).
        validation_fraction: Share of the jets held out for early stopping.
        min_jets_per_class: Least number of labelled jets of each class in any subset.
        min_steps_per_epoch: Small subsets are repeated (whole copies) so that an epoch has
            at least this many optimiser steps; otherwise 20 labelled jets would get one
            step per epoch and stop early after a handful of steps, untrained.
        split_seed: Seed of the pool / validation / test split.
        n_bootstrap: Bootstrap resamples for the per-run uncertainties.
    """

    fractions: tuple[float, ...] = DEFAULT_FRACTIONS
    regimes: tuple[str, ...] = REGIMES
    seeds: tuple[int, ...] = (0, 1, 2)
    head: str = "linear"
    probe_head: str = "linear"
    finetune_head_init: str | None = None
    max_epochs: int = 30
    early_stopping_patience: int = 5
    batch_size: int = 64
    head_learning_rate: float = 1e-3
    backbone_learning_rate: float = 1e-4
    scratch_learning_rate: float = 1e-3
    probe_learning_rate: float = 3e-3
    test_fraction: float = 0.3
    validation_fraction: float = 0.1
    min_jets_per_class: int = 1
    min_steps_per_epoch: int = 10
    split_seed: int = 0
    n_bootstrap: int = 20

    def __post_init__(self) -> None:
        self.fractions = tuple(float(f) for f in self.fractions)
        self.regimes = tuple(self.regimes)
        self.seeds = tuple(int(s) for s in self.seeds)
        unknown = sorted(set(self.regimes) - set(REGIMES))
        if unknown:
            raise ValueError(f"unknown regimes {unknown}; choose from {', '.join(REGIMES)}")
        bad = [f for f in self.fractions if not 0.0 < f <= 1.0]
        if bad:
            raise ValueError(f"label fractions must lie in (0, 1], got {bad}")
        if not self.seeds:
            raise ValueError("give at least one seed")
        if self.min_steps_per_epoch < 1:
            raise ValueError("min_steps_per_epoch must be at least 1")
        if self.min_jets_per_class < 1:
            raise ValueError("min_jets_per_class must be at least 1")
        if self.finetune_head_init is None:
            self.finetune_head_init = "random"
        if self.finetune_head_init not in HEAD_INITS:
            raise ValueError(
                f"finetune_head_init must be one of {', '.join(HEAD_INITS)}, "
                f"got {self.finetune_head_init!r}"
            )
        if self.finetune_head_init == "probe" and self.head != "linear":
            raise ValueError(
                f"finetune_head_init='probe' starts the head from a linear probe, but head is "
                f"{self.head!r}: use head='linear' or finetune_head_init='random'"
            )


def run_fewshot(
    model: str | os.PathLike[str],
    jets: Any,
    *,
    test_jets: Any = None,
    config: FewShotConfig | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    name: str | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run the few-shot study and, with `output_dir`, write its JSON, table and plot.

    Args:
        model: The pretrained encoder (folder, bundled name or Hub id). ``scratch`` uses its
            configuration only.
        jets: Labelled awkward jets (at least two classes).
        test_jets: Labelled test jets; default: a stratified share of `jets`.
        config: Study settings; default `FewShotConfig()`.
        output_dir: Folder for ``fewshot.json``, ``fewshot.md``, ``fewshot.png``.
        name: Data set name for the plot and the table title.
        progress: Print one line per run.

    Returns:
        The content of ``fewshot.json``: ``config``, ``classes`` (original label of each
        class index), ``n_pool``/``n_validation``/``n_test``, ``runs`` (one dict per regime,
        fraction and seed) and ``summary`` (regime -> list of per-fraction means and
        standard deviations).

    Raises:
        ValueError: Unlabelled jets, a single class, or a class too small to split.
    """
    config = config or FewShotConfig()
    labels, classes = _compact_labels(jets)
    jets = _with_labels(jets, labels)
    if test_jets is None:
        test_index = _per_class_subset(labels, config.test_fraction, config.split_seed, 1)
        rest = np.setdiff1d(np.arange(labels.size), test_index)
        test_jets, jets, labels = jets[test_index], jets[rest], labels[rest]
    else:
        test_labels = np.searchsorted(classes, _raw_labels(test_jets))
        if not np.isin(_raw_labels(test_jets), classes).all():
            raise ValueError(f"the test jets hold classes outside the training classes {classes}")
        test_jets = _with_labels(test_jets, test_labels)
    share = config.validation_fraction / (1.0 - config.test_fraction)
    validation_index = _per_class_subset(labels, min(share, 0.5), config.split_seed + 1, 1)
    pool_index = np.setdiff1d(np.arange(labels.size), validation_index)
    validation_jets, pool_jets, pool_labels = (
        jets[validation_index],
        jets[pool_index],
        labels[pool_index],
    )
    if len(np.unique(pool_labels)) < len(classes) or len(np.unique(labels[validation_index])) < len(
        classes
    ):
        raise ValueError("too few jets per class to form a training pool and validation jets")

    substructure = (
        _substructure_inputs(pool_jets, validation_jets, test_jets)
        if "substructure" in config.regimes
        else None
    )
    embeddings = (
        _embedding_inputs(model, pool_jets, validation_jets, test_jets, progress=progress)
        if _needs_embeddings(config)
        else None
    )
    runs = []
    for fraction in config.fractions:
        for seed in config.seeds:
            subset = _per_class_subset(pool_labels, fraction, seed, config.min_jets_per_class)
            # one fitted probe per subset: the probe regime and the LP-FT head share it
            probe = None if embeddings is None else _subset_probe(embeddings, subset, len(classes))
            for regime in config.regimes:
                metrics = _run_one(
                    regime,
                    model,
                    pool_jets[_repeated(subset, config.min_steps_per_epoch * config.batch_size)],
                    validation_jets,
                    test_jets,
                    subset,
                    substructure,
                    embeddings,
                    probe,
                    num_labels=len(classes),
                    seed=seed,
                    config=config,
                )
                run = {
                    "regime": regime,
                    "fraction": fraction,
                    "seed": seed,
                    "n_labelled": int(subset.size),
                    **{k: metrics[k] for k in _RUN_METRICS},
                }
                runs.append(run)
                if progress:
                    print(
                        f"{regime:>12}  fraction {fraction:<7g} seed {seed}  "
                        f"n={subset.size:<6d} accuracy {run['accuracy']:.4f}  auc {run['auc']:.4f}",
                        flush=True,
                    )
    result = {
        "name": name,
        "model": str(model),
        "config": asdict(config),
        "classes": classes.tolist(),
        "n_pool": int(pool_labels.size),
        "n_validation": int(validation_index.size),
        "n_test": len(test_jets),
        "runs": runs,
        "summary": _summary(runs, config),
    }
    if output_dir is not None:
        write_fewshot(result, output_dir)
    return result


def merge_fewshot(
    results: list[dict[str, Any]],
    output_dir: str | os.PathLike[str] | None = None,
    *,
    allow_different: Sequence[str] = (),
) -> dict[str, Any]:
    """One study from several `run_fewshot` results that split its fractions or seeds.

    For a study run as several jobs (e.g. one per label fraction). The parts must share the
    model, the data (classes, pool, validation and test sizes) and every setting but the
    fractions and seeds; a (regime, fraction, seed) run present twice is refused. Settings
    named in `allow_different` (e.g. ``max_epochs`` when the largest fraction got fewer
    epochs) may differ: the merged config then holds the first part's value, and
    ``parts`` lists every part's fractions, seeds and values of those settings, so the
    table and JSON say what was done.

    Raises:
        ValueError: no parts, parts that differ in anything but fractions and seeds, or a
            run present in two parts.
    """
    if not results:
        raise ValueError("give at least one few-shot result to merge")
    first = results[0]
    shared = ("model", "classes", "n_pool", "n_validation", "n_test")
    free = ("fractions", "seeds", *allow_different)
    fixed = {k: v for k, v in first["config"].items() if k not in free}
    runs: list[dict[str, Any]] = []
    seen: set[tuple[str, float, int]] = set()
    for part in results:
        for key in shared:
            if part[key] != first[key]:
                raise ValueError(
                    f"cannot merge few-shot results with different {key}: "
                    f"{first[key]!r} and {part[key]!r}"
                )
        other = {k: v for k, v in part["config"].items() if k not in free}
        if other != fixed:
            differing = sorted(k for k in fixed if fixed[k] != other.get(k))
            raise ValueError(f"cannot merge few-shot results with different settings {differing}")
        for run in part["runs"]:
            run_key = (str(run["regime"]), float(run["fraction"]), int(run["seed"]))
            if run_key in seen:
                raise ValueError(f"run {run_key} (regime, fraction, seed) is in two of the parts")
            seen.add(run_key)
            runs.append(run)
    fractions = tuple(sorted({float(r["fraction"]) for r in runs}))
    seeds = tuple(sorted({int(r["seed"]) for r in runs}))
    first_values = {k: first["config"][k] for k in allow_different if k in first["config"]}
    config = FewShotConfig(**{**fixed, **first_values, "fractions": fractions, "seeds": seeds})
    merged = {**first, "config": asdict(config), "runs": runs, "summary": _summary(runs, config)}
    merged["parts"] = [
        {
            "fractions": part["config"]["fractions"],
            "seeds": part["config"]["seeds"],
            **{k: part["config"].get(k) for k in allow_different},
        }
        for part in results
    ]
    if output_dir is not None:
        write_fewshot(merged, output_dir)
    return merged


_RUN_METRICS = ("accuracy", "accuracy_std", "auc", "auc_std", "rej30", "rej50")


def write_fewshot(result: dict[str, Any], output_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``fewshot.json``, ``fewshot.md`` and ``fewshot.png`` for a `run_fewshot` result."""
    from hep_jepa.evaluation import json_compatible
    from hep_jepa.plotting import plot_metric_vs_fraction

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "fewshot.json", "table": out / "fewshot.md", "plot": out / "fewshot.png"}
    paths["json"].write_text(json.dumps(json_compatible(result), indent=2) + "\n")
    paths["table"].write_text(_markdown_table(result))
    plot_metric_vs_fraction(
        {
            REGIME_TITLES[regime]: [
                (row["fraction"], row["accuracy"], row["accuracy_std"]) for row in rows
            ]
            for regime, rows in result["summary"].items()
        },
        paths["plot"],
        metric_name="Test accuracy",
        label=result.get("name"),
    )
    return paths


def _run_one(
    regime: str,
    model: Any,
    train_jets: Any,
    validation_jets: Any,
    test_jets: Any,
    subset: np.ndarray,
    substructure: dict[str, np.ndarray] | None,
    embeddings: dict[str, np.ndarray] | None,
    probe: torch.nn.Linear | None,
    *,
    num_labels: int,
    seed: int,
    config: FewShotConfig,
) -> dict[str, Any]:
    """Train one regime on one labelled subset; metrics on the test jets."""
    from hep_jepa.evaluation import metrics_from_probabilities
    from hep_jepa.finetune import finetune

    test_labels = _raw_labels(test_jets)
    if regime == "substructure":
        assert substructure is not None
        probabilities = _substructure_probabilities(
            substructure, subset, num_labels=num_labels, seed=seed
        )
    elif regime == "probe" and config.probe_head == "linear":
        assert embeddings is not None and probe is not None
        with torch.no_grad():
            logits = probe(torch.from_numpy(embeddings["test"]).double())
        probabilities = logits.softmax(dim=-1).float().numpy()
    else:
        common = {
            "eval_jets": validation_jets,
            "num_labels": num_labels,
            "seed": seed,
            "max_epochs": config.max_epochs,
            "batch_size": config.batch_size,
            "early_stopping_patience": config.early_stopping_patience,
            "progress": False,
        }
        if regime == "scratch":
            tagger = finetune(
                _random_tagger(model, num_labels, config.head, seed),
                train_jets,
                head_learning_rate=config.head_learning_rate,
                backbone_learning_rate=config.scratch_learning_rate,
                **common,
            )
        elif regime == "probe":
            tagger = finetune(
                model,
                train_jets,
                head=config.probe_head,
                freeze_backbone=True,
                head_learning_rate=config.probe_learning_rate,
                **common,
            )
        else:
            start: Any = model
            if config.finetune_head_init == "probe":
                assert probe is not None
                start = _probe_initialised_tagger(model, probe)
            tagger = finetune(
                start,
                train_jets,
                head=config.head,
                head_learning_rate=config.head_learning_rate,
                backbone_learning_rate=config.backbone_learning_rate,
                **common,
            )
        probabilities = tagger.predict_proba(test_jets)
    return metrics_from_probabilities(
        test_labels, probabilities, n_bootstrap=config.n_bootstrap, seed=seed
    )


def fit_linear_probe(
    train_x: np.ndarray,
    train_y: np.ndarray,
    validation_x: np.ndarray,
    validation_y: np.ndarray,
    num_labels: int,
    *,
    l2_grid: Sequence[float] = PROBE_L2_GRID,
    max_iter: int = 500,
    standardize_with: np.ndarray | None = None,
) -> torch.nn.Linear:
    """A multinomial logistic regression on frozen embeddings, as a `torch.nn.Linear`.

    The features are standardised with the mean and standard deviation of
    `standardize_with` (unlabelled embeddings, e.g. every jet of the training pool; with a
    handful of labelled jets their own statistics are mostly noise) or, by default, of the
    training jets;
    for each L2 strength in `l2_grid` (penalty ``l2 / 2 * |W|^2`` on the standardised
    weights, added to the class-weighted mean cross entropy) the model is fitted to
    convergence by full-batch L-BFGS, and the one with the lowest validation cross entropy
    is kept. The standardisation is folded into the returned layer, which therefore maps
    raw embeddings (float64) to logits, exactly like a linear head on the pooled embedding.

    Args:
        train_x: (n, D) training embeddings; train_y: (n,) labels in ``[0, num_labels)``.
        validation_x, validation_y: labelled embeddings that pick the L2 strength.
        num_labels: number of classes.
        l2_grid: L2 strengths tried.
        max_iter: L-BFGS iterations per fit.
        standardize_with: (m, D) embeddings whose statistics standardise the features.

    Raises:
        ValueError: non-finite embeddings, mismatched shapes, or labels out of range.
    """
    from hep_jepa.finetune import class_weights_for

    x_train = np.asarray(train_x, dtype=np.float64)
    x_val = np.asarray(validation_x, dtype=np.float64)
    if x_train.ndim != 2 or x_val.ndim != 2 or x_train.shape[1] != x_val.shape[1]:
        raise ValueError(
            f"embeddings must be (n, D) arrays of one width, got {x_train.shape} and {x_val.shape}"
        )
    if len(train_y) != len(x_train) or len(validation_y) != len(x_val):
        raise ValueError("give one label per embedding")
    if not (np.isfinite(x_train).all() and np.isfinite(x_val).all()):
        raise ValueError("the embeddings hold NaN or infinite values; check the input jets")
    for name, labels in (("training", train_y), ("validation", validation_y)):
        if len(labels) and (np.min(labels) < 0 or np.max(labels) >= num_labels):
            raise ValueError(f"{name} labels must lie in [0, {num_labels})")
    if not l2_grid:
        raise ValueError("give at least one L2 strength")
    reference = x_train if standardize_with is None else np.asarray(standardize_with, np.float64)
    if reference.ndim != 2 or reference.shape[1] != x_train.shape[1] or len(reference) < 2:
        raise ValueError(
            f"standardize_with must be (m >= 2, {x_train.shape[1]}), got {reference.shape}"
        )
    mean = reference.mean(axis=0)
    std = reference.std(axis=0)
    std = np.where(std > 1e-8, std, 1.0)
    x = torch.from_numpy((x_train - mean) / std)
    y = torch.as_tensor(np.asarray(train_y), dtype=torch.long)
    xv = torch.from_numpy((x_val - mean) / std)
    yv = torch.as_tensor(np.asarray(validation_y), dtype=torch.long)
    weights = class_weights_for(y.numpy(), num_labels).double()
    best: tuple[float, torch.Tensor, torch.Tensor] | None = None
    for l2 in l2_grid:
        weight, bias = _fit_logistic(x, y, weights, num_labels, l2, max_iter)
        with torch.no_grad():
            val_loss = float(F.cross_entropy(xv @ weight.T + bias, yv))
            if best is None or val_loss < best[0]:
                best = (val_loss, weight, bias)
    assert best is not None
    _, weight, bias = best
    scale = torch.from_numpy(std)
    layer = torch.nn.Linear(x.shape[1], num_labels, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(weight / scale)
        layer.bias.copy_(bias - layer.weight @ torch.from_numpy(mean))
    return layer.requires_grad_(False)


def _fit_logistic(
    x: torch.Tensor,
    y: torch.Tensor,
    class_weights: torch.Tensor,
    num_labels: int,
    l2: float,
    max_iter: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight (C, D), bias (C,)) minimising weighted cross entropy + l2 / 2 |weight|^2."""
    weight = torch.zeros(num_labels, x.shape[1], dtype=x.dtype, requires_grad=True)
    bias = torch.zeros(num_labels, dtype=x.dtype, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [weight, bias], max_iter=max_iter, tolerance_grad=1e-9, line_search_fn="strong_wolfe"
    )

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(x @ weight.T + bias, y, weight=class_weights)
        loss = loss + 0.5 * l2 * weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return weight.detach(), bias.detach()


def _needs_embeddings(config: FewShotConfig) -> bool:
    return ("probe" in config.regimes and config.probe_head == "linear") or (
        "finetune" in config.regimes and config.finetune_head_init == "probe"
    )


def _embedding_inputs(
    model: Any, pool_jets: Any, validation_jets: Any, test_jets: Any, *, progress: bool
) -> dict[str, np.ndarray]:
    """Frozen embeddings and labels of the pool, validation and test jets (computed once)."""
    from hep_jepa.modeling import HepJepaModel

    encoder = HepJepaModel.from_pretrained(model)
    encoder.eval()
    inputs = {}
    for key, jets in (("pool", pool_jets), ("validation", validation_jets), ("test", test_jets)):
        inputs[key] = encoder.embed(jets, progress=progress).astype(np.float64)
        inputs[f"{key}_labels"] = _raw_labels(jets)
    return inputs


def _subset_probe(
    embeddings: dict[str, np.ndarray], subset: np.ndarray, num_labels: int
) -> torch.nn.Linear:
    return fit_linear_probe(
        embeddings["pool"][subset],
        embeddings["pool_labels"][subset],
        embeddings["validation"],
        embeddings["validation_labels"],
        num_labels,
        standardize_with=embeddings["pool"],
    )


def _probe_initialised_tagger(model: Any, probe: torch.nn.Linear) -> Any:
    """A tagger on the pretrained encoder whose linear head holds the fitted probe."""
    from hep_jepa.finetune import _tagger
    from hep_jepa.modeling import HepJepaModel

    encoder = HepJepaModel.from_pretrained(model)
    tagger = _tagger(encoder, np.zeros(0), None, probe.out_features, "linear", seed=0)
    classifier = cast(torch.nn.Linear, tagger.head.classifier)
    with torch.no_grad():
        classifier.weight.copy_(probe.weight.to(classifier.weight.dtype))
        classifier.bias.copy_(probe.bias.to(classifier.bias.dtype))
    return tagger


def _repeated(index: np.ndarray, at_least: int) -> np.ndarray:
    """`index` repeated as a whole as often as needed to hold at least `at_least` entries."""
    copies = max(1, -(-at_least // max(index.size, 1)))
    return np.tile(index, copies)


def _random_tagger(model: Any, num_labels: int, head: str, seed: int) -> Any:
    """A tagger with the configuration of `model` and random weights drawn from `seed`."""
    from hep_jepa.classification import CLASSIFIER_ARCHITECTURE, HepJepaForJetClassification
    from hep_jepa.configuration import HepJepaConfig
    from hep_jepa.hub import resolve_model_path
    from hep_jepa.processor import JetProcessor

    path = resolve_model_path(model)
    config = HepJepaConfig.from_pretrained(path)
    settings = {k: v for k, v in config.to_dict().items() if k not in ("id2label", "label2id")}
    config = HepJepaConfig.from_dict({**settings, "num_labels": num_labels, "head": head})
    config.architectures = [CLASSIFIER_ARCHITECTURE]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        tagger = HepJepaForJetClassification(config)
    tagger.set_processor(JetProcessor.from_pretrained(path))
    return tagger


# -- the substructure baseline ----------------------------------------------------------------


def _substructure_inputs(*jet_sets: Any) -> dict[str, np.ndarray]:
    """Substructure features and labels of the pool, validation and test jets."""
    from hep_jepa.substructure import substructure_features

    inputs = {}
    for key, jets in zip(("pool", "validation", "test"), jet_sets, strict=True):
        features = substructure_features(jets).astype(np.float64)  # (B, 5)
        # mass and multiplicity span decades: compare them on a log scale
        features[:, :2] = np.log1p(features[:, :2])
        inputs[key] = features
        inputs[f"{key}_labels"] = _raw_labels(jets)
    return inputs


def _substructure_probabilities(
    inputs: dict[str, np.ndarray],
    subset: np.ndarray,
    *,
    num_labels: int,
    seed: int,
    hidden: int = 32,
    steps: int = 400,
    check_every: int = 10,
    patience: int = 5,
) -> np.ndarray:
    """Train a 2-layer MLP, full batch, early-stopped on the validation loss; test probabilities."""
    from hep_jepa.finetune import class_weights_for

    train_x, train_y = inputs["pool"][subset], inputs["pool_labels"][subset]
    # standardised with the whole (unlabelled) pool: a few labelled jets' own spread is noise
    mean, std = inputs["pool"].mean(axis=0), inputs["pool"].std(axis=0)
    std = np.where(std > 0, std, 1.0)

    def tensor(x: np.ndarray) -> torch.Tensor:
        return torch.tensor((x - mean) / std, dtype=torch.float32)

    x, y = tensor(train_x), torch.tensor(train_y)
    val_x, val_y = tensor(inputs["validation"]), torch.tensor(inputs["validation_labels"])
    weights = class_weights_for(train_y, num_labels)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        mlp = torch.nn.Sequential(
            torch.nn.Linear(x.shape[1], hidden),
            torch.nn.GELU(),
            torch.nn.Linear(hidden, hidden),
            torch.nn.GELU(),
            torch.nn.Linear(hidden, num_labels),
        )
    optimizer = torch.optim.AdamW(mlp.parameters(), lr=3e-3, weight_decay=1e-3)
    best_loss, best_state, waited = float("inf"), None, 0
    for step in range(steps):
        loss = F.cross_entropy(mlp(x), y, weight=weights)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % check_every == 0:
            with torch.no_grad():
                val_loss = float(F.cross_entropy(mlp(val_x), val_y, weight=weights))
            if val_loss < best_loss:
                best_loss, waited = val_loss, 0
                best_state = {k: v.clone() for k, v in mlp.state_dict().items()}
            else:
                waited += 1
                if waited >= patience:
                    break
    assert best_state is not None
    mlp.load_state_dict(best_state)
    with torch.no_grad():
        return mlp(tensor(inputs["test"])).softmax(dim=-1).numpy()


# -- labels, summary, table ---------------------------------------------------------------------


def _per_class_subset(labels: np.ndarray, fraction: float, seed: int, minimum: int) -> np.ndarray:
    """`labelled_subset` with at least `minimum` jets per class: the same seeded draw per class,
    so subsets are nested across fractions and equal to `labelled_subset`'s when no class is
    clamped. Sorted int64 indices."""
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        keep = min(max(int(np.floor(fraction * members.size + 1e-9)), minimum), members.size)
        rng = np.random.default_rng([seed, int(label)])
        chosen.append(members[rng.permutation(members.size)[:keep]])
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def _raw_labels(jets: Any) -> np.ndarray:
    import awkward as ak

    if not isinstance(jets, ak.Array) or "label" not in ak.fields(jets):
        raise ValueError("the few-shot study needs labelled jets (an integer 'label' field).")
    return ak.to_numpy(jets["label"]).astype(np.int64)


def _compact_labels(jets: Any) -> tuple[np.ndarray, np.ndarray]:
    """(labels renumbered 0..C-1, the original label of each class)."""
    raw = _raw_labels(jets)
    classes = np.unique(raw)
    if classes.size < 2:
        raise ValueError(f"the jets hold a single class ({classes.tolist()}): nothing to classify")
    return np.searchsorted(classes, raw), classes


def _with_labels(jets: Any, labels: np.ndarray) -> Any:
    import awkward as ak

    return ak.with_field(jets, labels, "label")


def _summary(runs: list[dict[str, Any]], config: FewShotConfig) -> dict[str, list[dict[str, Any]]]:
    """Regime -> one row per fraction: mean over seeds and its spread."""
    summary = {}
    for regime in config.regimes:
        rows = []
        for fraction in config.fractions:
            selected = [r for r in runs if r["regime"] == regime and r["fraction"] == fraction]
            row: dict[str, Any] = {
                "fraction": fraction,
                "n_labelled": selected[0]["n_labelled"],
                "n_seeds": len(selected),
            }
            for metric in ("accuracy", "auc"):
                values = np.array([r[metric] for r in selected])
                row[metric] = float(values.mean())
                # spread over seeds; with one seed, the bootstrap uncertainty of that run
                row[f"{metric}_std"] = (
                    float(values.std(ddof=1)) if values.size > 1 else selected[0][f"{metric}_std"]
                )
            rows.append(row)
        summary[regime] = rows
    return summary


def _markdown_table(result: dict[str, Any]) -> str:
    summary = result["summary"]
    regimes = list(summary)
    title = f"Few-shot study: {result['name']}" if result.get("name") else "Few-shot study"
    seeds = result["config"]["seeds"]
    lines = [
        f"# {title}",
        "",
        f"Test accuracy / AUC (mean ± standard deviation over {len(seeds)} seeds) on "
        f"{result['n_test']} test jets; classes {result['classes']}; training pool "
        f"{result['n_pool']} jets, validation {result['n_validation']} jets; model "
        f"`{result['model']}`.",
        "",
        "| label fraction | labelled jets | "
        + " | ".join(REGIME_TITLES[r] for r in regimes)
        + " |",
        "|---|---:|" + "---|" * len(regimes),
    ]
    if result.get("parts"):
        notes = "; ".join(
            f"fractions {part['fractions']}, seeds {part['seeds']}"
            + "".join(f", {k} {v}" for k, v in part.items() if k not in ("fractions", "seeds"))
            for part in result["parts"]
        )
        lines[3:3] = [f"Merged from {len(result['parts'])} parts: {notes}.", ""]
    for index, row in enumerate(summary[regimes[0]]):
        cells = []
        for regime in regimes:
            entry = summary[regime][index]
            cells.append(
                f"{entry['accuracy']:.3f} ± {entry['accuracy_std']:.3f} / "
                f"{entry['auc']:.3f} ± {entry['auc_std']:.3f}"
            )
        lines.append(
            f"| {100 * row['fraction']:g} % | {row['n_labelled']} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines) + "\n"
