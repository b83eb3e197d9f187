"""Model cards written by the library: Hub metadata (YAML) plus prose, from a model and its results.

A model folder may carry what its card is built from, next to the weights (see
``docs/sharing.md``):

- ``eval_results.json``: evaluation set name -> the dict `hep_jepa.metrics.evaluate_scores`
  returned, optionally with ``dataset`` (a Hub dataset id or short name), ``split`` and
  ``num_jets``. Written by `write_eval_results`.
- ``training_info.json``: ``description`` (prose), ``base_model``, ``datasets`` (list),
  ``license``, and any other key -> value of the training recipe (objective, jets, epochs,
  optimiser, learning rate, hardware, ...). Written by `write_training_info`.
- ``roc.png``: the ROC curve (`hep_jepa.plotting.plot_roc`), shown in the card.

`write_card_folder` turns these (or explicit arguments) into ``README.md`` and copies the
files beside it, ready for upload; `HepJepaPreTrainedModel.push_to_hub` uses it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

EVAL_RESULTS_NAME = "eval_results.json"
TRAINING_INFO_NAME = "training_info.json"
ROC_IMAGE_NAME = "roc.png"
MODEL_CARD_NAME = "README.md"

LIBRARY_NAME = "hep-jepa"
DEFAULT_LICENSE = "mit"
DEFAULT_TAGS = ("hep-jepa", "particle-physics", "jet-tagging", "jepa", "high-energy-physics")
PAPER_URL = "https://arxiv.org/abs/2502.03933"
TASK_TYPE = "jet-tagging"

# metrics key -> (model-index metric type, display name, metric args)
MODEL_INDEX_METRICS: dict[str, tuple[str, str, dict[str, float] | None]] = {
    "accuracy": ("accuracy", "Accuracy", None),
    "auc": ("roc_auc", "AUC", None),
    "rej30": ("background_rejection", "1/εB at εS = 0.3", {"signal_efficiency": 0.3}),
    "rej50": ("background_rejection", "1/εB at εS = 0.5", {"signal_efficiency": 0.5}),
}
# Keys of training_info.json with a meaning of their own; every other key is a recipe item.
_TRAINING_RESERVED = ("description", "base_model", "datasets", "license")

CITATION = """\
@article{bardhan2025hepjepa,
  title         = {{HEP-JEPA}: A foundation model for collider physics using joint embedding predictive architecture},
  author        = {Bardhan, Jai and others},
  journal       = {arXiv preprint arXiv:2502.03933},
  eprint        = {2502.03933},
  archivePrefix = {arXiv},
  year          = {2025}
}"""


# -- the files a model folder carries ---------------------------------------------------------


def write_eval_results(
    folder: str | os.PathLike[str], results: Mapping[str, Mapping[str, Any]]
) -> Path:
    """Write ``eval_results.json`` (evaluation set name -> metrics dict) into `folder`."""
    path = Path(folder) / EVAL_RESULTS_NAME
    path.write_text(json.dumps(_jsonable(results), indent=2, sort_keys=True) + "\n")
    return path


def write_training_info(folder: str | os.PathLike[str], info: Mapping[str, Any]) -> Path:
    """Write ``training_info.json`` (description, base_model, datasets, recipe items)."""
    path = Path(folder) / TRAINING_INFO_NAME
    path.write_text(json.dumps(_jsonable(info), indent=2) + "\n")
    return path


def read_card_inputs(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """``metrics``, ``training`` and ``roc_image`` found in `folder` (None where absent)."""
    folder = Path(folder)

    def read(name: str) -> Any:
        path = folder / name
        return json.loads(path.read_text()) if path.is_file() else None

    roc = folder / ROC_IMAGE_NAME
    return {
        "metrics": read(EVAL_RESULTS_NAME),
        "training": read(TRAINING_INFO_NAME),
        "roc_image": roc if roc.is_file() else None,
    }


def _jsonable(value: Any) -> Any:
    """Plain JSON types (numpy scalars to float/int, mapping keys to str)."""
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value


# -- the card -----------------------------------------------------------------------------------


def build_model_card(
    model: Any,
    *,
    repo_id: str | None = None,
    metrics: Mapping[str, Mapping[str, Any]] | None = None,
    roc_image: str | os.PathLike[str] | None = None,
    training: Mapping[str, Any] | None = None,
    base_model: str | None = None,
    datasets: Sequence[str] | None = None,
    license: str | None = None,
    tags: Sequence[str] | None = None,
) -> ModelCard:
    """The model card of a hep-jepa model: YAML metadata, then prose.

    Args:
        model: a `HepJepaPreTrainedModel` (its config, class and size are described).
        repo_id: the Hub repo id used in the usage snippet and as ``model_name``.
        metrics: evaluation set name -> dict from `hep_jepa.metrics.evaluate_scores`,
            optionally with ``dataset``, ``split`` and ``num_jets``. Gives the ``model-index``
            (accuracy, AUC, 1/εB at εS = 0.3 and 0.5) and the evaluation table.
        roc_image: path of the ROC curve PNG; the card shows it as ``roc.png`` (copy it next to
            the card: `write_card_folder` does).
        training: the ``training_info.json`` dict (see the module docstring).
        base_model: the model this one was fine-tuned from (default: ``training["base_model"]``).
        datasets: dataset ids for the metadata (default: ``training["datasets"]``).
        license: licence id (default: ``training["license"]``, else ``mit``).
        tags: extra tags, added to the defaults.

    Returns:
        A `huggingface_hub.ModelCard`; ``card.data`` holds the metadata.
    """
    training = dict(training or {})
    metrics = {name: dict(values) for name, values in (metrics or {}).items()}
    base_model = base_model or training.get("base_model")
    datasets = list(datasets or training.get("datasets") or [])
    model_name = repo_id or f"hep-jepa-{type(model).__name__}"
    card_data = ModelCardData(
        model_name=model_name,
        library_name=LIBRARY_NAME,
        license=license or training.get("license") or DEFAULT_LICENSE,
        tags=list(dict.fromkeys([*DEFAULT_TAGS, *(tags or [])])),
        datasets=datasets or None,
        base_model=base_model,
        eval_results=_eval_results(metrics) or None,
    )
    sections = [
        f"# {model_name.split('/')[-1]}",
        _description(model, base_model, training),
        _intended_use(model),
        _training_section(training, datasets),
        _usage(model, repo_id),
        _evaluation(model, metrics, roc_image),
        "## Citation\n\nThis model was built with hep-jepa, an implementation of HEP-JEPA "
        f"([arXiv:2502.03933]({PAPER_URL})). If you use it, please cite:\n\n"
        f"```bibtex\n{CITATION}\n```",
    ]
    body = "\n\n".join(section for section in sections if section)
    return ModelCard(f"---\n{card_data.to_yaml()}\n---\n\n{body}\n")


def write_card_folder(
    model: Any,
    folder: str | os.PathLike[str],
    *,
    repo_id: str | None = None,
    source: str | os.PathLike[str] | None = None,
    **card_inputs: Any,
) -> ModelCard:
    """Write ``README.md`` into `folder`, with ``roc.png`` and the JSON inputs beside it.

    Card inputs not given in `card_inputs` (``metrics``, ``roc_image``, ``training``) are read
    from `source`, the folder the model was loaded from, when it holds a model of the same
    class (so a tagger's card never picks up the results of the encoder it started from).
    """
    folder = Path(folder)
    inputs = {key: value for key, value in card_inputs.items() if value is not None}
    if source is not None and _same_class_folder(Path(source), model):
        for key, value in read_card_inputs(source).items():
            if value is not None:
                inputs.setdefault(key, value)
    card = build_model_card(model, repo_id=repo_id, **inputs)
    card.save(folder / MODEL_CARD_NAME)
    if inputs.get("roc_image") is not None:
        target = folder / ROC_IMAGE_NAME
        if Path(inputs["roc_image"]).resolve() != target.resolve():
            shutil.copyfile(inputs["roc_image"], target)
    if inputs.get("metrics"):
        write_eval_results(folder, inputs["metrics"])
    if inputs.get("training"):
        write_training_info(folder, inputs["training"])
    return card


def _same_class_folder(folder: Path, model: Any) -> bool:
    config = folder / "config.json"
    if not config.is_file():
        return False
    architectures = json.loads(config.read_text()).get("architectures") or []
    return type(model).__name__ in architectures


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _eval_results(metrics: Mapping[str, Mapping[str, Any]]) -> list[EvalResult]:
    results = []
    for eval_set, values in metrics.items():
        for key, (metric_type, metric_name, metric_args) in MODEL_INDEX_METRICS.items():
            # An infinite rejection (no background jet passes) has no place in YAML numbers.
            if not _finite(values.get(key)):
                continue
            results.append(
                EvalResult(
                    task_type=TASK_TYPE,
                    task_name="Jet tagging",
                    dataset_type=str(values.get("dataset", eval_set)),
                    dataset_name=eval_set,
                    dataset_split=values.get("split"),
                    metric_type=metric_type,
                    metric_name=metric_name,
                    metric_value=float(values[key]),
                    metric_args=metric_args,
                )
            )
    return results


def _describe_architecture(model: Any) -> str:
    config = model.config
    parts = [
        f"{config.num_hidden_layers} transformer blocks of width {config.hidden_size} "
        f"({config.num_attention_heads} heads, feed-forward {config.intermediate_size})",
        f"inputs: the `{config.feature_set}` particle features ({config.num_features} per "
        f"particle, up to {config.max_particles} particles per jet)",
    ]
    if config.use_pair_bias:
        parts.append("ParT-style physics pair bias in the attention")
    if config.num_register_tokens:
        parts.append(f"{config.num_register_tokens} register tokens")
    parameters = sum(parameter.numel() for parameter in model.parameters())
    parts.append(f"{parameters:,} parameters")
    return "; ".join(parts)


def _description(model: Any, base_model: str | None, training: Mapping[str, Any]) -> str:
    config = model.config
    kind = type(model).__name__
    if kind == "HepJepaForJetClassification":
        labels = ", ".join(
            f"{index}: {name}"
            for index, name in sorted(config.id2label.items(), key=lambda x: x[0])
        )
        what = (
            f"A jet tagger (`{kind}`): the hep-jepa particle-transformer encoder with a "
            f"`{config.head}` classification head over {config.num_labels} classes ({labels})."
        )
    elif kind == "HepJepaModel":
        what = (
            f"A hep-jepa jet encoder (`{kind}`): it turns the particles of a jet into a jet "
            f"embedding of size {config.hidden_size} for tagging, regression or anomaly detection."
        )
    else:
        what = f"A hep-jepa model (`{kind}`)."
    paragraphs = [
        "## Model description",
        what,
        f"Architecture: {_describe_architecture(model)}.",
        "Its `JetProcessor` (`processor_config.json`) is saved with the weights and builds the "
        "features from raw four-momenta, so the model is always fed what it was trained on.",
    ]
    if base_model:
        paragraphs.append(f"Fine-tuned from `{base_model}`.")
    if training.get("description"):
        paragraphs.append(str(training["description"]))
    return "\n\n".join(paragraphs)


def _intended_use(model: Any) -> str:
    config = model.config
    return "\n".join(
        [
            "## Intended use and limits",
            "",
            "- Intended for research on jets at hadron colliders: tagging jets, or embedding "
            "them as a starting point for new taggers (fine-tuning or a probe on top).",
            "- Input: jets as awkward arrays of particles with `px, py, pz, energy` in GeV"
            + (", plus charge and particle ID" if config.feature_set in ("kinpid", "full") else "")
            + (", plus track impact parameters" if config.feature_set == "full" else "")
            + f"; only the {config.max_particles} hardest particles of a jet are used.",
            "- Trained on simulation: performance on collision data, on other generators or "
            "detector simulations, and outside the training jet pT and mass ranges is not "
            "established. Calibrate on data before using it in a physics measurement.",
            "- Scores are not calibrated probabilities unless stated in the evaluation below.",
        ]
    )


def _training_section(training: Mapping[str, Any], datasets: Sequence[str]) -> str:
    lines = ["## Training data and recipe", ""]
    if datasets:
        lines.append("Datasets: " + ", ".join(f"`{name}`" for name in datasets) + ".")
    recipe = {key: value for key, value in training.items() if key not in _TRAINING_RESERVED}
    if recipe:
        lines += ["", "| setting | value |", "|---|---|"]
        lines += [f"| {key} | {_cell(value)} |" for key, value in recipe.items()]
    if not datasets and not recipe:
        lines.append("No training information was recorded with this model.")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


USAGE_JETS = (
    '    {"particles": [{"px": 310.0, "py": 12.0, "pz": 95.0, "energy": 324.5},\n'
    '                   {"px": 120.0, "py": -8.0, "pz": 40.0, "energy": 126.7},\n'
    '                   {"px": 45.0, "py": 3.0, "pz": 12.0, "energy": 46.7}]},\n'
    '    {"particles": [{"px": -20.0, "py": 410.0, "pz": -60.0, "energy": 415.0},\n'
    '                   {"px": -5.0, "py": 90.0, "pz": -15.0, "energy": 91.4}]},\n'
)


def usage_snippet(model: Any, repo_id: str | None) -> str:
    """Python code that loads `repo_id` and runs it on two toy jets (no files needed)."""
    kind = type(model).__name__
    name = repo_id or "path/to/model"
    if kind == "HepJepaForJetClassification":
        call = "scores = model.predict_proba(jets)  # (n_jets, num_labels) class probabilities"
    elif hasattr(model, "embed"):
        call = "scores = model.embed(jets)  # (n_jets, hidden_size) jet embeddings"
    else:
        call = "print(model)"
    return (
        "import awkward as ak\n"
        f"from hep_jepa import {kind}\n\n"
        f'model = {kind}.from_pretrained("{name}")\n'
        "# One record per jet with its particles (GeV); hep_jepa.data.load_jets reads\n"
        "# JetClass ROOT, top-tagging HDF5, EnergyFlow npz, weaver npy and parquet files.\n"
        "jets = ak.Array([\n"
        f"{USAGE_JETS}"
        "])\n"
        f"{call}\n"
    )


def _usage(model: Any, repo_id: str | None) -> str:
    return (
        "## How to use\n\n"
        "```bash\npip install hep-jepa\n```\n\n"
        f"```python\n{usage_snippet(model, repo_id)}```"
    )


def _format_metric(values: Mapping[str, Any], key: str) -> str:
    value = values.get(key)
    if value is None:
        return "–"
    if not _finite(value):
        return "∞"
    digits = 4 if key in ("accuracy", "auc") else 1
    text = f"{value:.{digits}f}"
    std = values.get(f"{key}_std")
    if _finite(std):
        text += f" ± {std:.{digits}f}"
    elif std is not None:
        text += " ± ∞"  # some bootstrap resample had no background jet passing
    return text


def _evaluation(model: Any, metrics: Mapping[str, Mapping[str, Any]], roc_image: Any | None) -> str:
    lines = ["## Evaluation", ""]
    if not metrics:
        lines.append("No evaluation results were recorded with this model.")
    else:
        lines += [
            "Signal is class 1 (multi-class: each signal class against class 0, averaged); "
            "1/εB is the background rejection at signal efficiency εS. Errors are the standard "
            "deviation over bootstrap resamples of the evaluation set.",
            "",
            "| evaluation set | jets | accuracy | AUC | 1/εB at εS = 0.3 | 1/εB at εS = 0.5 |",
            "|---|---|---|---|---|---|",
        ]
        for eval_set, values in metrics.items():
            cells = [_format_metric(values, key) for key in MODEL_INDEX_METRICS]
            jets = values.get("num_jets", "–")
            lines.append(f"| {eval_set} | {jets} | " + " | ".join(cells) + " |")
        id2label = getattr(model.config, "id2label", {}) or {}
        for eval_set, values in metrics.items():
            per_class = values.get("signal_vs_background")
            if not per_class:
                continue
            lines += [
                "",
                f"Per signal class against class 0 on {eval_set}:",
                "",
                "| class | AUC | 1/εB at εS = 0.3 | 1/εB at εS = 0.5 |",
                "|---|---|---|---|",
            ]
            for index, class_values in per_class.items():
                label = id2label.get(int(index), str(index))
                cells = [_format_metric(class_values, key) for key in ("auc", "rej30", "rej50")]
                lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if roc_image is not None:
        lines += [
            "",
            f"![ROC curve: background rejection against signal efficiency]({ROC_IMAGE_NAME})",
        ]
    return "\n".join(lines)
