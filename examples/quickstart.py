"""The three-line quickstart: load the bundled hep-jepa-tiny encoder and embed jets, offline.

    python examples/quickstart.py [--data PATH]

PATH is any supported jet file or folder; by default the real top-tagging sample in
../shared/realdata/top_tagging when it is there, otherwise a few toy jets built here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import awkward as ak
import numpy as np

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "top_tagging"


def toy_jets(n_jets: int = 100, seed: int = 0) -> ak.Array:
    """Toy jets (not physics): particles scattered around a random axis."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(10, 80, n_jets)
    pt = rng.exponential(20.0, counts.sum()) + 1.0
    eta = np.repeat(rng.uniform(-2, 2, n_jets), counts) + rng.normal(0, 0.2, counts.sum())
    phi = np.repeat(rng.uniform(-3, 3, n_jets), counts) + rng.normal(0, 0.2, counts.sum())
    particles = ak.zip(
        {
            "px": pt * np.cos(phi),
            "py": pt * np.sin(phi),
            "pz": pt * np.sinh(eta),
            "energy": pt * np.cosh(eta),
        }
    )
    return ak.zip({"particles": ak.unflatten(particles, counts)}, depth_limit=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REALDATA if REALDATA.is_dir() else None)
    args = parser.parse_args()
    if args.data is not None:
        from hep_jepa.data import load_jets

        jets = load_jets(args.data)
    else:
        jets = toy_jets()

    # --- the quickstart -------------------------------------------------------------
    from hep_jepa import HepJepaModel

    model = HepJepaModel.from_pretrained("hep-jepa/hep-jepa-tiny")  # bundled: no network
    embeddings = model.embed(jets)
    # ---------------------------------------------------------------------------------

    print(
        f"embedded {len(jets)} jets from {args.data or 'toy jets'} with hep-jepa/hep-jepa-tiny: "
        f"array of shape {embeddings.shape}, dtype {embeddings.dtype}"
    )


if __name__ == "__main__":
    main()
