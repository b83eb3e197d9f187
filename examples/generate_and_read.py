"""Generate a few labelled jets with Pythia 8 + FastJet, read them back, and check the physics.

    python examples/generate_and_read.py [--n-jets 200] [--out data/example]

Needs the generator extra: pip install "hep-jepa[generate]". Generates top (Tbqq) and QCD
jets, reads the parquet shards with `load_jets` (the same entry point reads JetClass ROOT,
top-tagging HDF5, EnergyFlow npz and the weaver npy layout), prints the jet-mass and
multiplicity per class, and embeds the jets with the bundled encoder.
"""

from __future__ import annotations

import argparse

import awkward as ak
import numpy as np

from hep_jepa.data import generate, load_jets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jets", type=int, default=200)
    parser.add_argument("--out", default="data/example")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    for process in ("Tbqq", "QCD"):
        generate(
            process,
            args.n_jets,
            seed=args.seed,
            out=f"{args.out}/{process}",
            workers=2,
            shard_size=args.n_jets,
        )
    jets = load_jets(args.out)  # a folder of shards, searched recursively
    print(f"read {len(jets)} jets; fields {jets.fields}")
    print(f"provenance of the first shard: seed {jets.attrs.get('hep_jepa', {}).get('seed', '?')}")
    for label, name in ((8, "Tbqq"), (0, "QCD")):
        selected = jets[jets.label == label]
        mass = ak.to_numpy(selected.mass)
        print(
            f"{name:>5}: {len(selected)} jets, median mass {np.median(mass):.0f} GeV, "
            f"mean multiplicity {ak.mean(ak.num(selected.particles)):.0f}"
        )

    from hep_jepa import HepJepaModel

    model = HepJepaModel.from_pretrained("hep-jepa/hep-jepa-tiny")
    print(f"embeddings: {model.embed(jets).shape}")


if __name__ == "__main__":
    main()
