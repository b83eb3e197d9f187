"""The test Hub itself, proved with a tiny standard transformers model.

olah serves models published as git commits; ``from_pretrained`` reads them over HTTP at a
pinned commit, a tag and ``main``, then again from the cache with olah stopped and
``HF_HUB_OFFLINE=1``. ``push_to_hub`` goes through the test-only write front and round-trips.
Every client runs in a subprocess because ``HF_ENDPOINT`` is read when huggingface_hub is
imported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from hub_server import LocalHub, git, mirror_path, run_client
from transformers import BertConfig, BertModel

pytest_plugins = ["hub_fixtures"]  # the hub_server fixture
pytestmark = pytest.mark.network

REPO_ID = "org/tiny-bert"
TAG = "v1.0"
INPUT_IDS = [[2, 17, 45, 98, 3, 0, 0], [2, 61, 8, 33, 71, 5, 3]]  # (B=2, T=7)


def tiny_bert(seed: int) -> BertModel:
    """A 2-layer BERT of width 32 with weights drawn from ``seed``."""
    config = BertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        vocab_size=99,
    )
    model = BertModel(config).eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(0.1 * torch.randn(parameter.shape, generator=generator))
    return model


def outputs_of(model: BertModel) -> torch.Tensor:
    """``last_hidden_state`` on ``INPUT_IDS``. Shape: (B, T, D)."""
    with torch.no_grad():
        return model(torch.tensor(INPUT_IDS)).last_hidden_state


def load_outputs_code(repo_id: str, revisions: dict[str, str | None]) -> str:
    """Client code: load ``repo_id`` at each revision, print ``{label: last_hidden_state}``."""
    return f"""
import json, torch
from transformers import BertModel
outputs = {{}}
for label, revision in {revisions!r}.items():
    model = BertModel.from_pretrained({repo_id!r}, revision=revision).eval()
    with torch.no_grad():
        outputs[label] = model(torch.tensor({INPUT_IDS!r})).last_hidden_state.tolist()
print(json.dumps(outputs))
"""


def assert_same_outputs(actual: Any, expected: torch.Tensor) -> None:
    torch.testing.assert_close(torch.tensor(actual), expected)


@pytest.fixture(scope="module")
def published(hub_server: LocalHub, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``REPO_ID`` published twice: model 1 tagged ``TAG``, then model 2 as the new ``main``."""
    folder = tmp_path_factory.mktemp("published")
    first, second = tiny_bert(seed=1), tiny_bert(seed=2)
    first.save_pretrained(folder / "first")
    second.save_pretrained(folder / "second")
    return {
        "first_sha": hub_server.publish(folder / "first", REPO_ID, tag=TAG),
        "second_sha": hub_server.publish(folder / "second", REPO_ID),
        "first": outputs_of(first),
        "second": outputs_of(second),
    }


@pytest.fixture(scope="module")
def hf_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Hugging Face cache for the online loads and the offline reload after them."""
    return tmp_path_factory.mktemp("hf_home")


MISSING_REPO_CODE = """
try:
    BertModel.from_pretrained("org/no-such-model")
except OSError as error:
    print(json.dumps({"missing_repo_error": str(error)}))
"""


@pytest.fixture(scope="module")
def online_outputs(
    hub_server: LocalHub, published: dict[str, Any], hf_home: Path
) -> dict[str, Any]:
    """One client (imports are slow) loads every revision, then asks for a missing repo."""
    revisions = {"commit": published["first_sha"], "tag": TAG, "main": None}
    code = load_outputs_code(REPO_ID, revisions) + MISSING_REPO_CODE
    stdout = run_client(code, hub_server.client_env(hf_home))
    return {key: value for line in stdout.splitlines() for key, value in json.loads(line).items()}


def test_publish_makes_a_git_commit_and_tag(hub_server: LocalHub, published: dict) -> None:
    repo = mirror_path(hub_server.mirrors, REPO_ID)
    assert git(repo, "rev-parse", f"{TAG}^{{commit}}") == published["first_sha"]
    assert git(repo, "rev-parse", "main") == published["second_sha"]
    files = git(repo, "ls-tree", "--name-only", "main").split()
    assert files == ["config.json", "model.safetensors"]


def test_from_pretrained_at_pinned_commit(online_outputs: dict, published: dict) -> None:
    assert_same_outputs(online_outputs["commit"], published["first"])


def test_from_pretrained_at_tag(online_outputs: dict, published: dict) -> None:
    assert_same_outputs(online_outputs["tag"], published["first"])


def test_from_pretrained_main_is_the_latest_publish(online_outputs: dict, published: dict) -> None:
    assert_same_outputs(online_outputs["main"], published["second"])


def test_offline_reload_from_cache_with_server_stopped(
    hub_server: LocalHub,
    published: dict[str, Any],
    hf_home: Path,
    online_outputs: dict[str, Any],
) -> None:
    revisions = {"commit": published["first_sha"], "tag": TAG, "main": None}
    code = load_outputs_code(REPO_ID, revisions)
    with hub_server.olah_stopped():
        env = hub_server.client_env(hf_home, offline=True)
        offline_outputs = json.loads(run_client(code, env))
    assert_same_outputs(offline_outputs["commit"], published["first"])
    assert_same_outputs(offline_outputs["tag"], published["first"])
    assert_same_outputs(offline_outputs["main"], published["second"])


def test_unknown_repo_fails_with_oserror(online_outputs: dict) -> None:
    message = online_outputs.get("missing_repo_error")
    assert message is not None, "loading a missing repo did not raise OSError"
    assert "org/no-such-model is not a local folder and is not a valid model identifier" in message


@pytest.fixture(scope="module")
def pushed(hub_server: LocalHub, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A client pushes a saved model with a token, reloads it, then pushes without a token."""
    folder = tmp_path_factory.mktemp("to_push")
    model = tiny_bert(seed=3)
    model.save_pretrained(folder)
    code = f"""
import json, torch
from transformers import BertModel
model = BertModel.from_pretrained({str(folder)!r})
commit = model.push_to_hub("org/pushed", token={hub_server.token!r})
reloaded = BertModel.from_pretrained("org/pushed").eval()
with torch.no_grad():
    outputs = reloaded(torch.tensor({INPUT_IDS!r})).last_hidden_state.tolist()
try:
    model.push_to_hub("org/pushed-without-token")
    anonymous = None
except Exception as error:
    anonymous = {{"type": type(error).__name__, "status": error.response.status_code}}
print(json.dumps({{"commit": commit.oid, "outputs": outputs, "anonymous": anonymous}}))
"""
    env = hub_server.client_env(tmp_path_factory.mktemp("hf_push"), token=False)
    return {**json.loads(run_client(code, env)), "expected": outputs_of(model)}


def test_push_to_hub_then_from_pretrained_round_trips(
    hub_server: LocalHub,
    pushed: dict[str, Any],
) -> None:
    assert_same_outputs(pushed["outputs"], pushed["expected"])
    repo = mirror_path(hub_server.mirrors, "org/pushed")
    assert git(repo, "rev-parse", "main") == pushed["commit"]
    files = git(repo, "ls-tree", "--name-only", "main").split()
    assert {"README.md", "config.json", "model.safetensors"} <= set(files)
    commit_path = "/api/models/org/pushed/commit/main"
    assert ("POST", commit_path, 200) in hub_server.requests


def test_push_without_token_fails_with_401(hub_server: LocalHub, pushed: dict[str, Any]) -> None:
    assert pushed["anonymous"] is not None, "a push without a token succeeded"
    assert pushed["anonymous"]["status"] == 401
    assert not mirror_path(hub_server.mirrors, "org/pushed-without-token").exists()
