"""Auto classes and the command line, each in a fresh Python process."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from hep_jepa import HepJepaConfig, HepJepaForJetClassification


def _python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def saved_tagger(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tagger")
    torch.manual_seed(0)
    config = HepJepaConfig(
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        num_labels=3,
        head="mlp",
    )
    HepJepaForJetClassification(config).save_pretrained(folder)
    return folder


@pytest.mark.parametrize("order", ["hep_jepa first", "transformers first"])
def test_auto_classes_load_without_trust_remote_code(saved_tagger, order):
    imports = ["import hep_jepa", "from transformers import AutoConfig, AutoModel"]
    if order == "transformers first":
        imports.reverse()
    code = "\n".join(
        [
            *imports,
            f"path = {str(saved_tagger)!r}",
            "config = AutoConfig.from_pretrained(path)",
            "encoder = AutoModel.from_pretrained(path)",
            "from hep_jepa import AutoModelForJetClassification",
            "tagger = AutoModelForJetClassification.from_pretrained(path)",
            "print(type(config).__name__, type(encoder).__name__, type(tagger).__name__, tagger.config.num_labels)",
        ]
    )
    assert _python(code).split() == [
        "HepJepaConfig",
        "HepJepaModel",
        "HepJepaForJetClassification",
        "3",
    ]


def test_import_is_light():
    out = _python(
        "import sys, hep_jepa, hep_jepa.cli; print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    assert out.split() == ["False", "False"]


def test_cli_help():
    result = subprocess.run(
        [sys.executable, "-m", "hep_jepa.cli", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "embed" in result.stdout
