"""Sharing hep-jepa models: model cards, bundled names, safe loading, and Hub round trips.

The tests marked ``network`` push and pull through the loopback test Hub
(``tests/hub_server.py``): each client runs in a subprocess because ``HF_ENDPOINT`` is read
when huggingface_hub is imported, and each client does several checks, since its imports cost
5-20 s. The other tests need no server.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from conftest import make_jets
from hub_server import LocalHub, git, mirror_path, run_client
from huggingface_hub import ModelCard

from hep_jepa import HepJepaConfig, HepJepaForJetClassification, HepJepaModel, JetProcessor
from hep_jepa.hub import PICKLE_SUFFIXES, bundled_info, list_pretrained, resolve_model_path
from hep_jepa.metrics import evaluate_scores
from hep_jepa.model_card import (
    MODEL_INDEX_METRICS,
    build_model_card,
    write_eval_results,
    write_training_info,
)

pytest_plugins = ["hub_fixtures"]  # the hub_server fixture

TESTS = Path(__file__).resolve().parent
README = TESTS.parent / "README.md"
BUNDLED = "hep-jepa/random-init-tiny"
DEFAULT = "hep-jepa/hep-jepa-tiny"  # the pretrained default model
JET_SEED = 7


def tiny_tagger(seed: int) -> HepJepaForJetClassification:
    """A 1-block tagger of width 32 with a non-default processor, weights drawn from `seed`."""
    config = HepJepaConfig.from_preset(
        "tiny",
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_particles=64,
        head="attention",
        num_labels=2,
        id2label={0: "QCD", 1: "top"},
        label2id={"QCD": 0, "top": 1},
    )
    config.architectures = ["HepJepaForJetClassification"]
    model = HepJepaForJetClassification(config).eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(0.2 * torch.randn(parameter.shape, generator=generator))
    processor = JetProcessor(feature_set="kin", max_particles=48)
    name = next(iter(processor.standardization))
    subtract, multiply, low, high = processor.standardization[name]
    processor.standardization[name] = (subtract + 0.5, multiply * 2.0, low, high)
    model.set_processor(processor)
    return model


def toy_scores(seed: int = 0, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    scores = 1 / (1 + np.exp(-(2 * labels - 1 + rng.normal(size=n))))
    return labels, scores


def model_index(card: ModelCard) -> dict[tuple[str, str, str], float]:
    """(evaluation set, metric type, metric name) -> value, from a parsed card."""
    return {
        (result.dataset_name, result.metric_type, result.metric_name): result.metric_value
        for result in card.data.eval_results or []
    }


def assert_model_index_matches(card: ModelCard, metrics: dict[str, dict[str, Any]]) -> None:
    index = model_index(card)
    expected = {
        (eval_set, metric_type, name): float(values[key])
        for eval_set, values in metrics.items()
        for key, (metric_type, name, _) in MODEL_INDEX_METRICS.items()
        if math.isfinite(values[key])
    }
    assert index == expected


# ---------------------------------------------------------------------------------------------
# Model cards (no server)
# ---------------------------------------------------------------------------------------------


def test_card_metadata_and_prose_from_metrics(tmp_path: Path) -> None:
    labels, scores = toy_scores()
    binary = {**evaluate_scores(labels, scores, n_bootstrap=5), "dataset": "toy", "split": "test"}
    rng = np.random.default_rng(1)
    three = rng.integers(0, 3, 300)
    probabilities = rng.dirichlet(np.ones(3), 300) + np.eye(3)[three]
    multi = evaluate_scores(
        three, probabilities / probabilities.sum(1, keepdims=True), n_bootstrap=5
    )
    no_background_passes = {"accuracy": 1.0, "auc": 1.0, "rej30": math.inf, "rej50": 12.5}
    metrics = {"toy_test": binary, "three_class": multi, "perfect": no_background_passes}
    training = {"description": "Fine-tuned on toys.", "epochs": 3, "labels_fraction": 0.005}
    card = build_model_card(
        tiny_tagger(seed=0),
        repo_id="org/top-tagger",
        metrics=metrics,
        roc_image=tmp_path / "roc.png",
        training=training,
        base_model=BUNDLED,
        datasets=["toy"],
    )
    card.save(tmp_path / "README.md")
    parsed = ModelCard.load(tmp_path / "README.md")

    data = parsed.data.to_dict()
    assert data["library_name"] == "hep-jepa"
    assert data["license"] == "mit"
    assert {"particle-physics", "jet-tagging"} <= set(data["tags"])
    assert data["datasets"] == ["toy"]
    assert data["base_model"] == BUNDLED
    assert_model_index_matches(parsed, metrics)  # the infinite rejection is left out
    assert ("perfect", "background_rejection", "1/εB at εS = 0.3") not in model_index(parsed)
    assert all(result.task_type == "jet-tagging" for result in parsed.data.eval_results)
    assert {r.dataset_type for r in parsed.data.eval_results} == {"toy", "three_class", "perfect"}

    text = parsed.text
    for heading in (
        "## Model description",
        "## Intended use and limits",
        "## Training data and recipe",
        "## How to use",
        "## Evaluation",
        "## Citation",
    ):
        assert heading in text
    assert "arXiv:2502.03933" in text
    assert "Fine-tuned on toys." in text and "| labels_fraction | 0.005 |" in text
    assert "![ROC curve" in text and "(roc.png)" in text
    assert f"| toy_test | – | {binary['accuracy']:.4f} ± {binary['accuracy_std']:.4f}" in text
    assert "| perfect | – | 1.0000 | 1.0000 | ∞ | 12.5 |" in text
    assert "Per signal class against class 0 on three_class" in text


def test_encoder_card_without_results_has_no_model_index() -> None:
    card = build_model_card(HepJepaModel.from_pretrained(BUNDLED), repo_id=BUNDLED)
    assert card.data.eval_results is None
    assert "base_model" not in card.data.to_dict()
    assert "No evaluation results were recorded" in card.text
    assert "model.embed(jets)" in card.text


# ---------------------------------------------------------------------------------------------
# Bundled models and safe loading (no server)
# ---------------------------------------------------------------------------------------------

# Any TCP connection attempt fails the client: loading a bundled model must not touch the network.
NO_NETWORK_GUARD = """
import socket
def _refuse(self, address, *args):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        raise AssertionError(f"network access to {address}")
    return _connect(self, address, *args)
_connect = socket.socket.connect
socket.socket.connect = _refuse
"""


def readme_quickstart() -> str:
    """The python block of the README's "Three lines" section."""
    section = README.read_text().split("## Three lines", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)  # type: ignore[union-attr]


def test_readme_quickstart_loads_bundled_model_without_network(tmp_path: Path) -> None:
    quickstart = readme_quickstart()
    assert f'from_pretrained("{DEFAULT}")' in quickstart
    code = (
        NO_NETWORK_GUARD
        + f"import sys; sys.path.insert(0, {str(TESTS)!r})\n"
        + "from conftest import make_jets\njets = make_jets(5)\n"
        + quickstart
        + "import json, hep_jepa\n"
        + "print(json.dumps({'shape': list(embeddings.shape), 'dtype': str(embeddings.dtype),"
        + " 'bundled': hep_jepa.list_pretrained()}))\n"
    )
    (tmp_path / "hf_home").mkdir()
    env = {
        "HF_HOME": str(tmp_path / "hf_home"),  # an empty cache
        "HF_ENDPOINT": "http://127.0.0.1:9",  # nothing listens there
    }
    result = json.loads(run_client(code, env).strip().splitlines()[-1])
    assert result == {"shape": [5, 64], "dtype": "float32", "bundled": list_pretrained()}
    assert not any((tmp_path / "hf_home").rglob("*.safetensors"))


def test_bundled_names_resolve_to_package_data() -> None:
    assert BUNDLED in list_pretrained() and DEFAULT in list_pretrained()
    assert bundled_info(DEFAULT)["pretrained"] is True
    assert bundled_info(BUNDLED)["pretrained"] is False
    folder = Path(resolve_model_path(BUNDLED))
    assert (folder / "model.safetensors").is_file() and (folder / "processor_config.json").is_file()
    assert resolve_model_path("some-org/not-bundled") == "some-org/not-bundled"


@pytest.fixture
def bundled_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled model folder."""
    return Path(shutil.copytree(resolve_model_path(BUNDLED), tmp_path / "model"))


def test_pickle_only_folder_is_refused_without_unpickling(bundled_copy: Path) -> None:
    (bundled_copy / "model.safetensors").unlink()
    # Not a valid pickle at all: any attempt to unpickle it would fail differently.
    (bundled_copy / "pytorch_model.bin").write_bytes(b"not unpickled")
    assert ".bin" in PICKLE_SUFFIXES
    with pytest.raises(OSError, match=r"pickle files \(pytorch_model\.bin\).*never unpickles"):
        HepJepaModel.from_pretrained(str(bundled_copy))
    with pytest.raises(OSError, match="never unpickles"):
        HepJepaForJetClassification.from_pretrained(str(bundled_copy), num_labels=2)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda data: b"garbage!" * 4, "header of"),
        (lambda data: data[: len(data) // 2], "bytes of tensor data"),
        (lambda data: data[:8] + b"{not json" + data[17:], "not JSON"),
    ],
    ids=["garbage", "truncated", "bad-header"],
)
def test_corrupted_safetensors_gives_clear_error(
    bundled_copy: Path, damage: Any, reason: str
) -> None:
    weights = bundled_copy / "model.safetensors"
    weights.write_bytes(damage(weights.read_bytes()))
    with pytest.raises(OSError, match=f"not a valid safetensors file.*{reason}.*corrupted"):
        HepJepaModel.from_pretrained(str(bundled_copy))


def test_config_that_does_not_match_weights_gives_clear_error(bundled_copy: Path) -> None:
    config = json.loads((bundled_copy / "config.json").read_text())
    config["hidden_size"] = 32
    (bundled_copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"do not match its config\.json"):
        HepJepaModel.from_pretrained(str(bundled_copy))


# ---------------------------------------------------------------------------------------------
# Push and pull through the loopback Hub
# ---------------------------------------------------------------------------------------------

REPO_ID = "org/top-tagger"


def logits_of(model: HepJepaForJetClassification) -> list[list[float]]:
    jets = make_jets(6, seed=JET_SEED, max_particles=90)  # some jets exceed max_particles=48
    batch = model.processor(jets)
    with torch.no_grad():
        return model(**batch.model_inputs()).logits.tolist()


@pytest.fixture(scope="module")
def saved_taggers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two taggers saved as training runs: `first` with its results, ROC and recipe beside it."""
    from hep_jepa.plotting import plot_roc

    root = tmp_path_factory.mktemp("runs")
    first, second = tiny_tagger(seed=1), tiny_tagger(seed=2)
    first.save_pretrained(root / "first")
    second.save_pretrained(root / "second")
    labels, scores = toy_scores()
    metrics = {"toy_test": {**evaluate_scores(labels, scores, n_bootstrap=5), "num_jets": 400}}
    write_eval_results(root / "first", metrics)
    write_training_info(
        root / "first",
        {"base_model": BUNDLED, "datasets": ["toy-jets"], "epochs": 2, "labels_fraction": 0.01},
    )
    plot_roc({"toy": (labels, scores)}, root / "first" / "roc.png", label="toy")
    # Pickle-only and corrupted repos, published directly as git commits.
    pickle_only = Path(shutil.copytree(root / "first", root / "pickle_only"))
    (pickle_only / "model.safetensors").rename(pickle_only / "pytorch_model.bin")
    corrupted = Path(shutil.copytree(root / "first", root / "corrupted"))
    data = (corrupted / "model.safetensors").read_bytes()
    (corrupted / "model.safetensors").write_bytes(data[: len(data) - 100])
    return {
        "root": root,
        "metrics": json.loads((root / "first" / "eval_results.json").read_text()),
        "first": logits_of(first),
        "second": logits_of(second),
        "processor": first.processor.to_dict(),
    }


CLIENT_PREAMBLE = f"""
import json, os, sys, torch
sys.path.insert(0, {str(TESTS)!r})
from conftest import make_jets
from hep_jepa import HepJepaForJetClassification
from hep_jepa.cli import main as cli
results = {{}}

def logits(model):
    batch = model.processor(make_jets(6, seed={JET_SEED}, max_particles=90))
    with torch.no_grad():
        return model(**batch.model_inputs()).logits.tolist()

def error_of(call):
    try:
        call()
    except Exception as error:
        return {{"type": type(error).__name__, "message": str(error),
                "oserror": isinstance(error, OSError)}}
    return None
"""

PUSH_AND_PULL_CODE = """
root = {root!r}
first = HepJepaForJetClassification.from_pretrained(os.path.join(root, "first"))
results["first_commit"] = first.push_to_hub({repo!r}, commit_message="first tagger").oid
second = HepJepaForJetClassification.from_pretrained(os.path.join(root, "second"))
results["second_commit"] = second.push_to_hub({repo!r}).oid
results["cli_status"] = cli(["push", "--model", os.path.join(root, "first"), "--repo", {repo!r},
                             "--revision", "dev", "--message", "first tagger on dev"])

pulled = HepJepaForJetClassification.from_pretrained({repo!r}, revision=results["first_commit"])
results["pinned"] = logits(pulled)
results["pinned_processor"] = pulled.processor.to_dict()
results["main"] = logits(HepJepaForJetClassification.from_pretrained({repo!r}))
results["dev"] = logits(HepJepaForJetClassification.from_pretrained({repo!r}, revision="dev"))

from huggingface_hub import ModelCard, hf_hub_download
first_commit = results["first_commit"]
card = ModelCard.load(hf_hub_download({repo!r}, "README.md", revision=first_commit))
results["card"] = {{"data": card.data.to_dict(), "text": card.text}}
# The image the card shows was uploaded with it.
hf_hub_download({repo!r}, "roc.png", revision=first_commit)
snippet = card.text.split("```python\\n", 1)[1].split("```", 1)[0]
namespace = {{}}
exec(snippet, namespace)  # the card's usage snippet runs against the pushed repo
results["snippet_scores_shape"] = list(namespace["scores"].shape)

from hep_jepa.hub import check_checkpoint
results["unknown"] = error_of(lambda: HepJepaForJetClassification.from_pretrained("org/no-such-model"))
results["pickle_only"] = error_of(lambda: HepJepaForJetClassification.from_pretrained("org/pickle-only"))
results["pickle_only_check"] = error_of(lambda: check_checkpoint("org/pickle-only"))
results["corrupted"] = error_of(lambda: HepJepaForJetClassification.from_pretrained("org/corrupted"))
results["corrupted_check"] = error_of(lambda: check_checkpoint("org/corrupted"))
results["wrong_token"] = error_of(lambda: first.push_to_hub("org/denied", token="hf_wrong"))
del os.environ["HF_TOKEN"]
results["no_token"] = error_of(lambda: first.push_to_hub("org/denied"))
results["cli_no_token"] = cli(["push", "--model", os.path.join(root, "first"), "--repo", "org/denied"])
print(json.dumps(results))
"""

OFFLINE_CODE = """
results["offline_pinned"] = logits(
    HepJepaForJetClassification.from_pretrained({repo!r}, revision={commit!r}))
results["offline_main"] = logits(HepJepaForJetClassification.from_pretrained({repo!r}))
results["offline_push"] = error_of(lambda: HepJepaForJetClassification.from_pretrained(
    {repo!r}).push_to_hub("org/offline-push"))
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def hf_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hf_home")


@pytest.fixture(scope="module")
def round_trip(hub_server: LocalHub, saved_taggers: dict[str, Any], hf_home: Path) -> dict:
    """One client pushes, pulls, reads the card and provokes every error (imports are slow)."""
    root = saved_taggers["root"]
    hub_server.publish(root / "pickle_only", "org/pickle-only")
    hub_server.publish(root / "corrupted", "org/corrupted")
    code = CLIENT_PREAMBLE + PUSH_AND_PULL_CODE.format(root=str(root), repo=REPO_ID)
    stdout = run_client(code, hub_server.client_env(hf_home))
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.mark.network
def test_push_uploads_everything_in_one_commit(hub_server: LocalHub, round_trip: dict) -> None:
    repo = mirror_path(hub_server.mirrors, REPO_ID)
    first = round_trip["first_commit"]
    files = set(git(repo, "ls-tree", "--name-only", first).split())
    assert {
        "config.json",
        "model.safetensors",
        "processor_config.json",
        "README.md",
        "roc.png",
        "eval_results.json",
        "training_info.json",
    } <= files
    assert git(repo, "log", "--format=%s", "-1", first) == "first tagger"
    assert git(repo, "rev-parse", f"{first}^") == git(repo, "rev-list", "--max-parents=0", "main")
    assert git(repo, "rev-parse", "main") == round_trip["second_commit"]
    assert git(repo, "log", "--format=%s", "-1", "dev") == "first tagger on dev"
    assert round_trip["cli_status"] == 0


@pytest.mark.network
def test_pull_gives_identical_outputs_and_processor(
    round_trip: dict, saved_taggers: dict[str, Any]
) -> None:
    torch.testing.assert_close(
        torch.tensor(round_trip["pinned"]), torch.tensor(saved_taggers["first"])
    )
    torch.testing.assert_close(
        torch.tensor(round_trip["main"]), torch.tensor(saved_taggers["second"])
    )
    torch.testing.assert_close(
        torch.tensor(round_trip["dev"]), torch.tensor(saved_taggers["first"])
    )
    assert round_trip["pinned_processor"] == saved_taggers["processor"]
    assert round_trip["pinned_processor"]["max_particles"] == 48


@pytest.mark.network
def test_pushed_card_parses_and_matches_its_metrics(
    round_trip: dict, saved_taggers: dict[str, Any]
) -> None:
    data, text = round_trip["card"]["data"], round_trip["card"]["text"]
    assert data["library_name"] == "hep-jepa"
    assert data["base_model"] == BUNDLED and data["datasets"] == ["toy-jets"]
    index = {
        metric["name"]: metric["value"]
        for entry in data["model-index"]
        for result in entry["results"]
        for metric in result["metrics"]
    }
    values = saved_taggers["metrics"]["toy_test"]
    assert index == {name: values[key] for key, (_, name, _) in MODEL_INDEX_METRICS.items()}
    assert f'from_pretrained("{REPO_ID}")' in text and "(roc.png)" in text
    assert round_trip["snippet_scores_shape"] == [2, 2]


@pytest.mark.network
def test_pull_errors_are_clear(round_trip: dict) -> None:
    unknown = round_trip["unknown"]
    assert unknown["oserror"] and "org/no-such-model" in unknown["message"]
    for key in ("pickle_only", "pickle_only_check"):
        assert round_trip[key]["oserror"], round_trip[key]
    assert "never unpickles" in round_trip["pickle_only_check"]["message"]
    # from_pretrained of a Hub repo fails with transformers' OSError and unpickles nothing; the
    # clear messages come from check_checkpoint, which from_pretrained does not call yet for Hub
    # repos (local and bundled folders are checked on load).
    assert round_trip["corrupted_check"]["oserror"]
    assert "not a valid safetensors file" in round_trip["corrupted_check"]["message"]


@pytest.mark.network
def test_push_without_valid_token_is_refused_clearly(
    hub_server: LocalHub, round_trip: dict
) -> None:
    for key in ("no_token", "wrong_token"):
        error = round_trip[key]
        assert error["type"] == "PermissionError", error
        assert "org/denied" in error["message"] and "HF_TOKEN" in error["message"]
    assert "no Hugging Face token" in round_trip["no_token"]["message"]
    assert "did not accept the token" in round_trip["wrong_token"]["message"]
    assert round_trip["cli_no_token"] == 1
    assert not mirror_path(hub_server.mirrors, "org/denied").exists()


@pytest.mark.network
def test_offline_reload_from_cache(
    hub_server: LocalHub, round_trip: dict, saved_taggers: dict[str, Any], hf_home: Path
) -> None:
    code = CLIENT_PREAMBLE + OFFLINE_CODE.format(repo=REPO_ID, commit=round_trip["first_commit"])
    with hub_server.olah_stopped():
        stdout = run_client(code, hub_server.client_env(hf_home, offline=True))
    results = json.loads(stdout.strip().splitlines()[-1])
    torch.testing.assert_close(
        torch.tensor(results["offline_pinned"]), torch.tensor(saved_taggers["first"])
    )
    torch.testing.assert_close(
        torch.tensor(results["offline_main"]), torch.tensor(saved_taggers["second"])
    )
    assert results["offline_push"]["type"] == "OSError"
    assert "HF_HUB_OFFLINE=1" in results["offline_push"]["message"]
