"""ONNX export of a hep-jepa encoder (`HepJepaModel`) or tagger (`HepJepaForJetClassification`).

The graph takes the padded tensors that `JetProcessor` makes, batch-first, with dynamic
batch (B) and particle (N) axes:

- ``features``: (B, N, F) float32, standardised particle features
- ``mask``:     (B, N) bool, True = real particle; every jet needs at least one
- ``vectors``:  (B, N, 4) float32 px, py, pz, E in GeV; only when ``config.use_pair_bias``
- ``points``:   (B, N, 2) float32 Δη, Δφ; only with the patch tokenizer

Outputs: ``last_hidden_state`` (B, N, D) and ``pooler_output`` (B, D) for an encoder,
``logits`` (B, C) for a tagger. The input checks of `HepJepaModel.forward` (shapes, empty
jets) run in Python only; the graph does not repeat them. See ``docs/onnx.md``.

Examples:

```python
>>> from hep_jepa import HepJepaForJetClassification
>>> from hep_jepa.onnx_export import export_onnx
>>> tagger = HepJepaForJetClassification.from_pretrained("runs/top-tagger")
>>> export_onnx(tagger, "top-tagger.onnx")
```
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from hep_jepa.classification import HepJepaForJetClassification
from hep_jepa.modeling import HepJepaModel

# The opset the TorchScript exporter of torch 2.13 writes SDPA and LayerNorm in, and the one
# the parity tests run under onnxruntime >= 1.17.
DEFAULT_OPSET = 17

_AXES = {0: "batch", 1: "particles"}


def _graph_inputs(names: tuple[str, ...], inputs: tuple[torch.Tensor, ...]) -> dict[str, Any]:
    """Positional graph inputs -> model keyword arguments, with padding four-vectors replaced.

    ONNX has no atan2; the exporter writes it with a division that gives NaN at zero
    vectors (padding), and a NaN pair bias at a padded key poisons its whole attention row.
    Padded slots get a unit vector along x instead; their attention weight is zero either way.
    """
    named = dict(zip(names, inputs, strict=True))
    if "vectors" in named:
        unit = torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=named["vectors"].dtype)
        named["vectors"] = torch.where(named["mask"][:, :, None], named["vectors"], unit)
    return named


class _EncoderGraph(nn.Module):
    """`HepJepaModel` with positional inputs and a tuple output, as the exporter wants."""

    def __init__(self, model: HepJepaModel, input_names: tuple[str, ...]) -> None:
        super().__init__()
        self.model = model
        self.input_names = input_names

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        output = self.model(**_graph_inputs(self.input_names, inputs))
        return output.last_hidden_state, output.pooler_output


class _TaggerGraph(nn.Module):
    def __init__(self, model: HepJepaForJetClassification, input_names: tuple[str, ...]) -> None:
        super().__init__()
        self.model = model
        self.input_names = input_names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(**_graph_inputs(self.input_names, inputs)).logits


def onnx_input_names(model: HepJepaModel | HepJepaForJetClassification) -> tuple[str, ...]:
    """The graph inputs of `model`, in order: features, mask, then vectors and points if used."""
    config = model.config
    names = ["features", "mask"]
    if config.use_pair_bias:
        names.append("vectors")
    if config.tokenizer == "patch":
        names.append("points")
    return tuple(names)


def onnx_output_names(model: HepJepaModel | HepJepaForJetClassification) -> tuple[str, ...]:
    """``("logits",)`` for a tagger, ``("last_hidden_state", "pooler_output")`` for an encoder."""
    if isinstance(model, HepJepaForJetClassification):
        return ("logits",)
    return ("last_hidden_state", "pooler_output")


def example_inputs(
    model: HepJepaModel | HepJepaForJetClassification,
    *,
    batch_size: int = 2,
    num_particles: int = 16,
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """Random but valid inputs for tracing: physical four-momenta, ragged masks.

    Returns:
        name -> tensor for every name in `onnx_input_names(model)`.
    """
    generator = torch.Generator().manual_seed(seed)
    config = model.config
    counts = torch.randint(1, num_particles + 1, (batch_size,), generator=generator)
    counts[0] = num_particles  # one full jet, so no slot is padding in every jet
    mask = torch.arange(num_particles)[None, :] < counts[:, None]  # (B, N)
    momenta = torch.randn(batch_size, num_particles, 3, generator=generator) * 20.0
    energy = momenta.norm(dim=-1, keepdim=True) + 0.1
    tensors = {
        "features": torch.randn(
            batch_size, num_particles, config.num_features, generator=generator
        ),
        "mask": mask,
        "vectors": torch.cat([momenta, energy], dim=-1),
        "points": 0.3 * torch.randn(batch_size, num_particles, 2, generator=generator),
    }
    weights = mask[:, :, None].float()
    return {
        name: tensors[name] * weights if name != "mask" else mask
        for name in onnx_input_names(model)
    }


def export_onnx(
    model: HepJepaModel | HepJepaForJetClassification,
    path: str | os.PathLike[str],
    *,
    opset: int = DEFAULT_OPSET,
    max_particles: int | None = None,
) -> Path:
    """Export an encoder or a tagger to an ONNX file with dynamic batch and particle axes.

    Uses the TorchScript exporter (``dynamo=False``), which traces through
    ``scaled_dot_product_attention`` with an additive float mask; the model is put in eval
    mode for the export and left in the mode it was in.

    Args:
        model: a `HepJepaModel` (outputs ``last_hidden_state``, ``pooler_output``) or a
            `HepJepaForJetClassification` (output ``logits``).
        path: the ``.onnx`` file to write; parent folders are created.
        opset: ONNX opset (17 is the one tested).
        max_particles: particle slots of the example the graph is traced with; defaults to
            ``config.max_particles``. The exported graph takes any N up to that.

    Returns:
        The path written.

    Raises:
        TypeError: `model` is neither an encoder nor a tagger.
    """
    if isinstance(model, HepJepaForJetClassification):
        graph_class: type[nn.Module] = _TaggerGraph
    elif isinstance(model, HepJepaModel):
        graph_class = _EncoderGraph
    else:
        raise TypeError(
            f"export_onnx takes a HepJepaModel or HepJepaForJetClassification, got "
            f"{type(model).__name__}; for a pretraining model export `model.target_encoder`."
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    input_names = onnx_input_names(model)
    output_names = onnx_output_names(model)
    num_particles = max_particles or model.config.max_particles
    inputs = example_inputs(model, batch_size=3, num_particles=num_particles)
    dynamic_axes: dict[str, Any] = {name: _AXES for name in input_names}
    for name in output_names:
        dynamic_axes[name] = _AXES if name == "last_hidden_state" else {0: "batch"}
    was_training = model.training
    model.eval()
    try:
        with warnings.catch_warnings(), torch.no_grad():
            # The tracer warns about the Python-side input checks (they are not part of the
            # graph) and the legacy exporter about itself; neither affects the graph.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                graph_class(model, input_names),
                tuple(inputs[name] for name in input_names),
                str(path),
                dynamo=False,
                opset_version=opset,
                input_names=list(input_names),
                output_names=list(output_names),
                dynamic_axes=dynamic_axes,
            )
    finally:
        model.train(was_training)
    return path


def onnx_max_abs_difference(
    model: HepJepaModel | HepJepaForJetClassification,
    path: str | os.PathLike[str],
    inputs: dict[str, torch.Tensor],
) -> dict[str, float]:
    """Run the ONNX file with onnxruntime (CPU) and PyTorch on the same inputs.

    Args:
        model: the model that was exported.
        path: its ``.onnx`` file.
        inputs: name -> tensor, e.g. ``JetBatch.model_inputs()``; unused names are ignored.

    Returns:
        output name -> max |onnxruntime − PyTorch|; for ``last_hidden_state`` over real
        tokens only (padding rows carry no meaning).
    """
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = onnx_input_names(model)
    feed = {name: inputs[name].cpu().numpy() for name in names}
    onnx_outputs = dict(zip(onnx_output_names(model), session.run(None, feed), strict=True))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        output = model(**{name: inputs[name] for name in names})
    model.train(was_training)
    differences = {}
    for name, onnx_value in onnx_outputs.items():
        torch_value = getattr(output, name).float().cpu().numpy()
        difference = abs(onnx_value - torch_value)
        if name == "last_hidden_state":
            difference = difference[output.mask.cpu().numpy()]  # (real tokens, D)
        differences[name] = float(difference.max())
    return differences


__all__ = [
    "DEFAULT_OPSET",
    "example_inputs",
    "export_onnx",
    "onnx_input_names",
    "onnx_max_abs_difference",
    "onnx_output_names",
]
