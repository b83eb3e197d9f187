"""JetProcessor throughput (jets/s, one core) against a straightforward per-jet numpy reference.

Run:  python benchmarks/bench_processor.py [--jets 50000] [--out benchmarks/results/processor.json]

Jets: the real top-tagging sample in ../shared/realdata (replicated to --jets), or toy jets
if it is absent. Both implementations compute the `kin` feature set with max_particles=128;
the reference loops over jets in Python (what a first implementation usually does). Every
figure is measured in the same run, so the ratio holds even on a noisy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import awkward as ak
import numpy as np
import torch

from hep_jepa import JetProcessor
from hep_jepa.features import STANDARDIZATION, delta_phi

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REALDATA, best_time


def load_jets(n_jets: int) -> tuple[ak.Array, str]:
    if (REALDATA / "tl_pf_vectors.npy").is_file():
        vectors = np.load(REALDATA / "tl_pf_vectors.npy")
        mask = np.load(REALDATA / "tl_pf_mask.npy")[:, 0, :] > 0
        source = "top_tagging (real, replicated)"
    else:
        rng = np.random.default_rng(0)
        mask = np.arange(128)[None] < rng.integers(20, 100, 2000)[:, None]
        pt = rng.exponential(20, mask.shape) + 0.5
        eta, phi = rng.normal(0, 0.2, mask.shape), rng.normal(0, 0.2, mask.shape)
        vectors = np.stack(
            [pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)], 1
        )
        source = "toy"
    repeat = -(-n_jets // len(mask))
    vectors, mask = np.tile(vectors, (repeat, 1, 1))[:n_jets], np.tile(mask, (repeat, 1))[:n_jets]
    flat = {
        n: vectors[:, i, :][mask].astype(np.float32)
        for i, n in enumerate(("px", "py", "pz", "energy"))
    }
    particles = ak.unflatten(ak.zip(flat), mask.sum(1))
    return ak.zip({"particles": particles}, depth_limit=1), source


def reference_process(jets: ak.Array, max_particles: int = 128) -> np.ndarray:
    """The per-jet loop a first implementation would write (same features and constants)."""
    out = np.zeros((len(jets), max_particles, 7), dtype=np.float32)
    for i, jet in enumerate(ak.to_list(jets.particles)):
        p = np.array([[q["px"], q["py"], q["pz"], q["energy"]] for q in jet], dtype=np.float64)
        pt = np.hypot(p[:, 0], p[:, 1])
        p, pt = p[np.argsort(-pt, kind="stable")][:max_particles], np.sort(pt)[::-1][:max_particles]
        axis = np.array([[q["px"], q["py"], q["pz"], q["energy"]] for q in jet]).sum(0)
        jet_pt = np.hypot(axis[0], axis[1])
        jet_eta, jet_phi = np.arcsinh(axis[2] / jet_pt), np.arctan2(axis[1], axis[0])
        deta = (np.arcsinh(p[:, 2] / pt) - jet_eta) * (1.0 if jet_eta >= 0 else -1.0)
        dphi = delta_phi(np.arctan2(p[:, 1], p[:, 0]), jet_phi)
        raw = {
            "deta": deta,
            "dphi": dphi,
            "log_pt": np.log(pt),
            "log_energy": np.log(p[:, 3]),
            "log_pt_rel": np.log(pt / jet_pt),
            "log_energy_rel": np.log(p[:, 3] / axis[3]),
            "delta_r": np.hypot(deta, dphi),
        }
        for k, (name, values) in enumerate(raw.items()):
            if name in STANDARDIZATION:
                sub, mul, lo, hi = STANDARDIZATION[name]
                values = np.clip((values - sub) * mul, lo, hi)
            out[i, : len(values), k] = values
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jets", type=int, default=50_000)
    parser.add_argument("--reference-jets", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/processor.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)

    jets, source = load_jets(args.jets)
    # the same jets with their particles in random order (sorted by a random key per particle)
    counts = ak.num(jets.particles)
    random_keys = ak.unflatten(np.random.default_rng(1).random(int(ak.sum(counts))), counts)
    shuffled = ak.zip({"particles": jets.particles[ak.argsort(random_keys, axis=1)]}, depth_limit=1)
    processor = JetProcessor(feature_set="kin", max_particles=128)

    np.testing.assert_allclose(
        processor(jets[:200]).features.numpy(), reference_process(jets[:200]), atol=1e-5, rtol=1e-5
    )
    t_sorted = best_time(lambda: processor(jets), args.repeats)
    t_shuffled = best_time(lambda: processor(shuffled), args.repeats)
    reference_jets = jets[: args.reference_jets]
    t_reference = best_time(lambda: reference_process(reference_jets), 1)

    results = {
        "source": source,
        "feature_set": "kin",
        "max_particles": 128,
        "threads": 1,
        "jets": args.jets,
        "mean_particles": float(ak.mean(ak.num(jets.particles))),
        "processor_jets_per_s_pt_ordered_input": args.jets / t_sorted,
        "processor_jets_per_s_unordered_input": args.jets / t_shuffled,
        "reference_jets_per_s": args.reference_jets / t_reference,
    }
    results["speedup_ordered"] = (
        results["processor_jets_per_s_pt_ordered_input"] / results["reference_jets_per_s"]
    )
    results["speedup_unordered"] = (
        results["processor_jets_per_s_unordered_input"] / results["reference_jets_per_s"]
    )
    width = max(map(len, results))
    for key, value in results.items():
        print(
            f"{key:<{width}}  {value:,.1f}"
            if isinstance(value, float)
            else f"{key:<{width}}  {value}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
