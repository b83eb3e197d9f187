"""Run every speed benchmark, print one table and write benchmarks/results/all.json.

Needs:  pip install --no-deps weaver-core==0.5.3   (for the ParT reference)
Run:    python benchmarks/run_all.py [--quick] [--threads 1]

Each benchmark runs as its own script (see benchmarks/README.md) and writes its JSON to
benchmarks/results/; every figure in the table is a ratio against a reference measured in
the same script run: the per-jet numpy processor, weaver-core's ParticleTransformer at the
same size, and the machine's float32 matmul rate (``% matmul``: real-particle FLOP/s of the
model over it).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import RESULTS, print_table, write_json  # noqa: E402


def run(script: str, arguments: list[str], out: Path) -> dict[str, Any]:
    command = [sys.executable, str(HERE / script), *arguments, "--out", str(out)]
    print("$", " ".join(command[1:]), flush=True)
    subprocess.run(command, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return json.loads(out.read_text())


def table_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    processor = results["processor"]
    rows.append(
        {
            "benchmark": "JetProcessor (kin, N=128)",
            "case": f"{processor['jets']} jets",
            "hep-jepa jets/s": processor["processor_jets_per_s_pt_ordered_input"],
            "reference": "per-jet numpy",
            "reference jets/s": processor["reference_jets_per_s"],
            "ratio": processor["speedup_ordered"],
        }
    )
    for row in results["inference"]["rows"]:
        rows.append(
            {
                "benchmark": f"inference {row['model']} (ParT size)",
                "case": f"batch {row['batch']}, pair {'on' if row['pair_bias'] else 'off'}",
                "hep-jepa jets/s": row["hep_jepa_jets_per_s"],
                "reference": "weaver ParT",
                "reference jets/s": row["part_jets_per_s"],
                "ratio": row["speedup"],
                "% matmul": 100 * row["hep_jepa_matmul_fraction"],
                "ref % matmul": 100 * row["part_matmul_fraction"],
                "peak MiB": row.get("hep_jepa_peak_mib"),
                "ref peak MiB": row.get("part_peak_mib"),
            }
        )
    for row in results["pretraining"]["rows"]:
        rows.append(
            {
                "benchmark": f"pretraining {row['preset']}",
                "case": f"batch {row['batch']}, {row['steps_per_s']:.2f} steps/s",
                "hep-jepa jets/s": row["jets_per_s"],
                "reference": "encoder forward",
                "reference jets/s": row["jets_per_s"] * row["step_over_encoder_forward"],
                "ratio": 1.0 / row["step_over_encoder_forward"],
                "% matmul": 100 * row["matmul_fraction"],
                "peak MiB": row.get("peak_mib"),
            }
        )
    return rows


COLUMNS = [
    "benchmark",
    "case",
    "hep-jepa jets/s",
    "reference",
    "reference jets/s",
    "ratio",
    "% matmul",
    "ref % matmul",
    "peak MiB",
    "ref peak MiB",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (about 3 minutes)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS / "all.json")
    args = parser.parse_args()
    quick = ["--quick"] if args.quick else []
    threads = ["--threads", str(args.threads)]
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()
    results = {
        "processor": run(
            "bench_processor.py",
            ["--jets", "10000", "--reference-jets", "500", "--repeats", "2"] if args.quick else [],
            RESULTS / "processor.json",
        ),
        "inference": run("bench_inference.py", quick + threads, RESULTS / "inference.json"),
        "pretraining": run("bench_pretraining.py", quick + threads, RESULTS / "pretraining.json"),
    }
    rows = table_rows(results)
    print()
    table = print_table(rows, COLUMNS)
    write_json(
        args.out,
        {
            "date": started.isoformat(timespec="seconds"),
            "quick": args.quick,
            "threads": args.threads,
            "cpu_count": os.cpu_count(),
            "load_average_1_5_15_before": load_before,
            "load_average_1_5_15_after": os.getloadavg(),
            "table": table,
            "rows": rows,
            **results,
        },
    )
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
