"""Generator speed: jets per second per core for each process.

Runs ``generate_jets`` on one core (one Pythia instance, no multiprocessing) and
times Pythia initialisation and generation separately.

Usage:
    python benchmarks/bench_generate.py --n-jets 200 --out bench_generate.json
    python benchmarks/bench_generate.py --process QCD --process Tbqq
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path


def bench_process(name: str, n_jets: int, seed: int) -> dict[str, float]:
    """Time ``n_jets`` jets of one process; the first jet (initialisation) is timed apart."""
    from hep_jepa.data.generate import generate_jets

    start = time.perf_counter()
    generate_jets(name, 1, seed, batch_size=1)
    init_s = time.perf_counter() - start
    start = time.perf_counter()
    cpu_start = time.process_time()
    generate_jets(name, n_jets, seed + 1)
    wall_s = time.perf_counter() - start
    cpu_s = time.process_time() - cpu_start
    return {
        "n_jets": n_jets,
        "wall_s": round(wall_s, 2),
        "cpu_s": round(cpu_s, 2),
        "jets_per_s_per_core": round(n_jets / cpu_s, 2),
        "jets_per_s_wall": round(n_jets / wall_s, 2),
        "first_jet_s": round(init_s, 2),
    }


def main() -> None:
    from hep_jepa.data.processes import PROCESSES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--process", action="append", help="process (repeatable; default all)")
    parser.add_argument("--n-jets", type=int, default=200)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--out", type=Path, default=Path("bench_generate.json"))
    args = parser.parse_args()

    results = {}
    for name in args.process or list(PROCESSES):
        results[name] = bench_process(name, args.n_jets, args.seed)
        row = results[name]
        print(
            f"{name:5s} {row['jets_per_s_per_core']:7.2f} jets/s/core "
            f"({row['n_jets']} jets in {row['cpu_s']:.1f} CPU s, {row['wall_s']:.1f} s wall)",
            flush=True,
        )
    report = {"machine": platform.processor() or platform.machine(), "results": results}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
