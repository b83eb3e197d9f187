"""ONNX export: onnxruntime agrees with PyTorch on real jets, at other shapes than exported."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")

import onnx  # noqa: E402
import torch  # noqa: E402

from hep_jepa import HepJepaConfig, HepJepaForJetClassification, HepJepaModel, JetProcessor  # noqa: E402
from hep_jepa.cli import main as cli_main  # noqa: E402
from hep_jepa.onnx_export import (  # noqa: E402
    DEFAULT_OPSET,
    export_onnx,
    onnx_input_names,
    onnx_max_abs_difference,
)

TOLERANCE = 1e-4
EXPORT_PARTICLES = 40  # the traced example: batch 3, 40 slots
CHECKED_SHAPES = [(5, 24), (17, 64)]  # (jets, particle slots), none equal to the export's

VARIANTS = {
    "encoder": (HepJepaModel, {}),
    "encoder-pair-bias": (HepJepaModel, {"use_pair_bias": True}),
    "encoder-registers": (
        HepJepaModel,
        {"use_pair_bias": True, "num_register_tokens": 2, "pooling": "registers"},
    ),
    "encoder-patch": (HepJepaModel, {"tokenizer": "patch", "num_patches": 8, "patch_size": 4}),
    "tagger": (HepJepaForJetClassification, {"num_labels": 2}),
    "tagger-pair-bias-attention": (
        HepJepaForJetClassification,
        {"num_labels": 2, "use_pair_bias": True, "head": "attention"},
    ),
}


def build(variant: str) -> HepJepaModel | HepJepaForJetClassification:
    model_class, overrides = VARIANTS[variant]
    torch.manual_seed(0)
    config = HepJepaConfig.from_preset("tiny", max_particles=64, **overrides)
    return model_class(config).eval()


@pytest.fixture(scope="module")
def top_jets(realdata_dir):
    from hep_jepa.data import load_jets

    return load_jets(realdata_dir / "top_tagging")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """variant -> (model, path), each exported once for the module."""
    folder = tmp_path_factory.mktemp("onnx")
    cache: dict[str, tuple] = {}

    def get(variant: str):
        if variant not in cache:
            model = build(variant)
            path = export_onnx(model, folder / f"{variant}.onnx", max_particles=EXPORT_PARTICLES)
            cache[variant] = (model, path)
        return cache[variant]

    return get


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize(("n_jets", "n_particles"), CHECKED_SHAPES)
def test_onnxruntime_matches_pytorch_on_real_jets(exported, top_jets, variant, n_jets, n_particles):
    model, path = exported(variant)
    # Jets from the middle of the file, so both classes and many multiplicities appear.
    batch = JetProcessor(max_particles=n_particles)(top_jets[1000 : 1000 + n_jets])
    differences = onnx_max_abs_difference(model, path, batch.model_inputs())
    assert set(differences) == (
        {"logits"} if variant.startswith("tagger") else {"last_hidden_state", "pooler_output"}
    )
    assert max(differences.values()) <= TOLERANCE, differences


@pytest.mark.parametrize("variant", ["encoder-pair-bias", "tagger"])
def test_graph_has_dynamic_axes_and_pinned_opset(exported, variant):
    model, path = exported(variant)
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph)
    assert {o.domain or "ai.onnx": o.version for o in graph.opset_import}[
        "ai.onnx"
    ] == DEFAULT_OPSET
    inputs = {i.name: i.type.tensor_type for i in graph.graph.input}
    assert tuple(inputs) == onnx_input_names(model)
    for tensor_type in inputs.values():
        batch_axis, particle_axis = tensor_type.shape.dim[:2]
        assert (batch_axis.dim_param, particle_axis.dim_param) == ("batch", "particles")
    assert inputs["mask"].elem_type == onnx.TensorProto.BOOL
    assert inputs["features"].elem_type == onnx.TensorProto.FLOAT


def test_extra_padding_does_not_change_onnx_outputs(exported, top_jets):
    model, path = exported("tagger-pair-bias-attention")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = onnx_input_names(model)
    short = JetProcessor(max_particles=32)(top_jets[:6]).model_inputs()
    padded = {
        name: torch.nn.functional.pad(
            short[name], (0, 0, 0, 16) if short[name].ndim == 3 else (0, 16)
        )
        for name in names
    }
    (logits_short,) = session.run(None, {n: short[n].numpy() for n in names})
    (logits_padded,) = session.run(None, {n: padded[n].numpy() for n in names})
    assert abs(logits_short - logits_padded).max() <= TOLERANCE


def test_export_onnx_cli_writes_a_tagger_and_checks_it(tmp_path, realdata_dir, capsys):
    tagger = build("tagger-pair-bias-attention")
    tagger.save_pretrained(tmp_path / "tagger")
    out = tmp_path / "out" / "tagger.onnx"
    code = cli_main(
        [
            "export-onnx",
            "--model",
            str(tmp_path / "tagger"),
            "--out",
            str(out),
            "--check",
            str(realdata_dir / "top_tagging"),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "HepJepaForJetClassification" in printed
    difference = float(printed.strip().splitlines()[-1].rsplit(" ", 1)[-1])
    assert difference <= TOLERANCE
    graph = onnx.load(str(out))
    assert [o.name for o in graph.graph.output] == ["logits"]


def test_export_onnx_cli_exports_an_encoder_checkpoint(tmp_path):
    encoder = build("encoder")
    encoder.save_pretrained(tmp_path / "encoder")
    config = json.loads((tmp_path / "encoder" / "config.json").read_text())
    assert config["architectures"] == ["HepJepaModel"]
    out = tmp_path / "encoder.onnx"
    assert cli_main(["export-onnx", "--model", str(tmp_path / "encoder"), "--out", str(out)]) == 0
    graph = onnx.load(str(out))
    assert [o.name for o in graph.graph.output] == ["last_hidden_state", "pooler_output"]


def test_export_onnx_rejects_other_modules(tmp_path):
    with pytest.raises(TypeError, match="HepJepaModel or HepJepaForJetClassification"):
        export_onnx(torch.nn.Linear(2, 2), tmp_path / "x.onnx")  # type: ignore[arg-type]
