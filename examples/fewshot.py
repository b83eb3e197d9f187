"""The few-shot study from Python: QCD against Tbqq jets from the generator's parquet shards.

    python examples/fewshot.py --data data/fewshot --out runs/fewshot

Trains every regime (from scratch, frozen probe, fine-tuned, substructure MLP) at each
label fraction and seed, then writes fewshot.json, fewshot.md and fewshot.png.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import awkward as ak
import numpy as np

from hep_jepa.data import load_jets
from hep_jepa.fewshot import FewShotConfig, run_fewshot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="hep-jepa/hep-jepa-tiny")
    parser.add_argument("--data", type=Path, default=Path("data/fewshot"))
    parser.add_argument("--classes", nargs="+", default=["QCD", "Tbqq"])
    parser.add_argument("--jets-per-class", type=int, default=200)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("runs/fewshot"))
    args = parser.parse_args()

    parts = [load_jets(args.data / name)[: args.jets_per_class] for name in args.classes]
    jets = ak.concatenate(parts)
    print(f"{len(jets)} jets, labels {np.unique(ak.to_numpy(jets.label)).tolist()}")
    config = FewShotConfig(
        seeds=tuple(args.seeds), max_epochs=args.epochs, early_stopping_patience=2
    )
    run_fewshot(
        args.model,
        jets,
        config=config,
        output_dir=args.out,
        name=" vs ".join(args.classes),
        progress=True,
    )
    print((args.out / "fewshot.md").read_text())


if __name__ == "__main__":
    main()
