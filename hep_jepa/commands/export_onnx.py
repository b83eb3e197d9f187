"""``hep-jepa export-onnx``: write an encoder or a tagger as an ONNX file (see docs/onnx.md)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        required=True,
        help="model folder, bundled name (see `hep_jepa.list_pretrained()`) or Hub repo id; "
        "a tagger checkpoint exports logits, an encoder checkpoint its embeddings",
    )
    parser.add_argument("--out", required=True, type=Path, help="output .onnx file")
    parser.add_argument("--opset", type=int, default=None, help="ONNX opset (default: 17)")
    parser.add_argument(
        "--check",
        type=Path,
        default=None,
        metavar="JETS",
        help="jets in any supported format: compare onnxruntime with PyTorch on up to 256 of them",
    )


def run(args: argparse.Namespace) -> int:
    from hep_jepa import HepJepaConfig, HepJepaForJetClassification, HepJepaModel
    from hep_jepa.classification import CLASSIFIER_ARCHITECTURE
    from hep_jepa.hub import resolve_model_path
    from hep_jepa.onnx_export import DEFAULT_OPSET, export_onnx, onnx_max_abs_difference

    path = resolve_model_path(args.model)
    config = HepJepaConfig.from_pretrained(path)
    model: HepJepaModel | HepJepaForJetClassification
    if CLASSIFIER_ARCHITECTURE in (config.architectures or []):
        model = HepJepaForJetClassification.from_pretrained(path)
    else:
        model = HepJepaModel.from_pretrained(path)
    written = export_onnx(model, args.out, opset=args.opset or DEFAULT_OPSET)
    print(f"wrote {type(model).__name__} to {written}")
    if args.check is not None:
        from hep_jepa.data import load_jets

        jets = load_jets(args.check)[:256]
        differences = onnx_max_abs_difference(model, written, model.processor(jets).model_inputs())
        for name, difference in differences.items():
            print(f"max |onnxruntime - torch| on {len(jets)} jets, {name}: {difference:.2e}")
    return 0
