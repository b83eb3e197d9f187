"""Reader speed: jets per second of ``load_jets`` for each supported format.

Builds one file per format from the real samples in ``../shared/realdata``
(tiled to ``--jets`` jets, written with the same writers the tests use), then
times ``load_jets`` on it, best of ``--repeats``. Single process; reading is
mostly single-threaded numpy/awkward work, so numbers from a busy machine are
low but their ratios hold.

    python benchmarks/bench_readers.py --jets 20000 --output bench_readers.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import awkward as ak
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_readers import (  # noqa: E402  (the format writers live with the tests)
    read_weaver,
    write_energyflow_npz,
    write_jetclass_root,
    write_top_tagging_h5,
)

from hep_jepa.data import load_jets  # noqa: E402
from hep_jepa.data.shards import write_shards  # noqa: E402

REALDATA = ROOT.parent / "shared" / "realdata"


def tile(arrays: tuple[np.ndarray, ...], n_jets: int) -> tuple[np.ndarray, ...]:
    """Repeat the sample's jets until there are ``n_jets``."""
    reps = -(-n_jets // len(arrays[0]))
    return tuple(np.concatenate([a] * reps)[:n_jets] for a in arrays)


def write_weaver(folder: Path, momenta: np.ndarray, mask: np.ndarray, labels: np.ndarray) -> Path:
    folder.mkdir()
    np.save(folder / "b_pf_vectors.npy", (momenta * mask[..., None]).transpose(0, 2, 1))
    np.save(folder / "b_pf_mask.npy", mask[:, None, :].astype(np.float32))
    np.save(folder / "b_labels.npy", labels)
    return folder


def build_files(workdir: Path, n_jets: int) -> dict[str, Path]:
    """One file (or folder) per format, each holding ``n_jets`` jets."""
    jetclass = tile(read_weaver(REALDATA / "jetclass"), n_jets)
    top = tile(read_weaver(REALDATA / "top_tagging"), n_jets)
    qg = tile(read_weaver(REALDATA / "quark_gluon"), n_jets)
    files = {
        "jetclass-root": workdir / "jetclass.root",
        "top-tagging-h5": workdir / "top.h5",
        "energyflow-npz": workdir / "qg.npz",
    }
    write_jetclass_root(files["jetclass-root"], *jetclass)
    write_top_tagging_h5(files["top-tagging-h5"], *top, pandas_fixed=True)
    write_energyflow_npz(files["energyflow-npz"], *qg)
    files["weaver-npy"] = write_weaver(workdir / "weaver", *top)
    write_shards(load_jets(files["weaver-npy"]), workdir / "parquet", shard_size=10_000, prefix="t")
    files["parquet"] = workdir / "parquet"
    return files


def time_reader(path: Path, repeats: int) -> tuple[float, ak.Array]:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jets = load_jets(path)
        best = min(best, time.perf_counter() - start)
    return best, jets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jets", type=int, default=20_000, help="jets per file (default 20000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed reads, best kept")
    parser.add_argument("--output", type=Path, default=Path("bench_readers.json"))
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        files = build_files(Path(tmp), args.jets)
        for fmt, path in files.items():
            seconds, jets = time_reader(path, args.repeats)
            n_particles = int(ak.sum(ak.num(jets.particles, axis=1)))
            size = sum(f.stat().st_size for f in (path.rglob("*") if path.is_dir() else [path]))
            rows.append(
                {
                    "format": fmt,
                    "jets": len(jets),
                    "particles": n_particles,
                    "seconds": round(seconds, 4),
                    "jets_per_s": round(len(jets) / seconds),
                    "particles_per_s": round(n_particles / seconds),
                    "file_mb": round(size / 2**20, 2),
                }
            )

    print(f"{'format':16} {'jets':>7} {'seconds':>8} {'jets/s':>10} {'particles/s':>12} {'MB':>7}")
    for row in rows:
        print(
            f"{row['format']:16} {row['jets']:7d} {row['seconds']:8.3f} {row['jets_per_s']:10,d} "
            f"{row['particles_per_s']:12,d} {row['file_mb']:7.1f}"
        )
    result = {
        "benchmark": "load_jets",
        "python": platform.python_version(),
        "awkward": ak.__version__,
        "machine": platform.machine(),
        "repeats": args.repeats,
        "results": rows,
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
