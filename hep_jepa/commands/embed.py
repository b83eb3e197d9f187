"""``hep-jepa embed``: jet embeddings from a pretrained encoder, written to a .npy file."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        required=True,
        help="model folder, bundled name (see `hep_jepa.list_pretrained()`) or Hub repo id",
    )
    parser.add_argument(
        "--data",
        required=True,
        type=Path,
        help="jets in any supported format (parquet shards, weaver npy folder, "
        "JetClass ROOT, top-tagging HDF5, EnergyFlow npz)",
    )
    parser.add_argument("--format", default=None, help="input format, if it cannot be detected")
    parser.add_argument(
        "--out", required=True, type=Path, help="output .npy file (n_jets, hidden_size)"
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default=None, help="torch device, e.g. cuda:0 (default: cpu)")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from hep_jepa import HepJepaModel
    from hep_jepa.data import load_jets

    jets = load_jets(args.data, format=args.format)
    model = HepJepaModel.from_pretrained(args.model)
    if args.device:
        model.to(args.device)
    embeddings = model.embed(jets, batch_size=args.batch_size, progress=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.out, embeddings)
    print(f"wrote {embeddings.shape[0]} embeddings of size {embeddings.shape[1]} to {args.out}")
    return 0
