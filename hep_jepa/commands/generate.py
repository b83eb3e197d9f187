"""``hep-jepa generate``: labelled jets from Pythia 8 + FastJet into parquet shards.

Thin wrapper around ``hep_jepa.data.generate.generate``; see ``docs/generate.md``.
"""

from __future__ import annotations

import argparse
import sys

# The process names are repeated here, not imported, so that ``--help`` stays instant.
_EPILOG = """\
processes (JetClass label): QCD 0, Hbb 1, Hcc 2, Hgg 3, H4q 4, Hqql 5, Zqq 6, Wqq 7,
Tbqq 8, Tbl 9; qg (quark 1, gluon 0).

Shard k of a run uses Pythia seed SEED * 10000 + k + 1 and is written to
OUT/<process>_seed<SEED>_<k:05d>.parquet. Finished shards are skipped, so a rerun
resumes. On a batch system, give every job the same --n-jets/--seed and its own
--shard, e.g. HTCondor: --shard $(Process); Slurm arrays: --shard $SLURM_ARRAY_TASK_ID.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--process", required=True, help="process name, e.g. QCD, Tbqq, qg")
    parser.add_argument("--n-jets", type=int, required=True, help="jets in the whole run")
    parser.add_argument("--seed", type=int, required=True, help="base seed of the run (0-89999)")
    parser.add_argument("--out", required=True, help="output folder for the parquet shards")
    parser.add_argument(
        "--workers", type=int, default=None, help="parallel processes (default: all cores)"
    )
    parser.add_argument("--shard-size", type=int, default=1000, help="jets per shard (1000)")
    parser.add_argument(
        "--shard",
        type=int,
        action="append",
        default=None,
        help="generate only this shard index of the run (repeatable; for batch systems)",
    )
    parser.add_argument("--pt-min", type=float, default=None, help="jet pT minimum in GeV")
    parser.add_argument("--pt-max", type=float, default=None, help="jet pT maximum in GeV")
    parser.add_argument("--eta-max", type=float, default=None, help="jet |eta| (or |y|) cut")
    parser.add_argument("--radius", type=float, default=None, help="anti-kT radius R")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from hep_jepa.data.generate import generate

    try:
        paths = generate(
            args.process,
            args.n_jets,
            args.seed,
            args.out,
            workers=args.workers,
            shard_size=args.shard_size,
            shards=args.shard,
            pt_min=args.pt_min,
            pt_max=args.pt_max,
            eta_max=args.eta_max,
            radius=args.radius,
            progress=not args.no_progress,
        )
    except ValueError as error:
        print(f"hep-jepa generate: error: {error}", file=sys.stderr)
        return 2
    print(f"{len(paths)} shard(s) of {args.process} in {args.out}")
    return 0
