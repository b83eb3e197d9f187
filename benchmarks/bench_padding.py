"""Padding share of the tokens a model processes, for each way of forming batches.

Run:  python benchmarks/bench_padding.py [--data DIR ...] [--batch-size 128 256]

No timing: the share of padded slots among all slots processed, Σ(B·N_max − Σn) / Σ(B·N_max),
counted from the jets' multiplicities (capped at 128), for

- fixed 128 slots (a processor without trimming, as stored datasets are laid out);
- random batches padded to their longest jet (weaver's trimming; the collator's own);
- training batches of `ShardedJetDataset(..., bucket_by_multiplicity=True)` (what
  `hep-jepa pretrain` streams), padded to their longest jet;
- `embed` / `map_jets`: all jets sorted by multiplicity, then cut into batches.

Default data: the generated corpus `data/pretrain` when it exists, and the real
top-tagging sample.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import awkward as ak
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REALDATA, RESULTS, batches_of, padded_tokens, print_table, write_json

SLOTS = 128


def padding_share(batches: list[np.ndarray], slots: int | None = None) -> float:
    """Share of processed slots that are padding (see `_common.padded_tokens`)."""
    real, processed = padded_tokens(batches, slots)
    return 1.0 - real / processed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=None)
    parser.add_argument("--batch-size", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--out", default=str(RESULTS / "padding.json"))
    args = parser.parse_args()

    from hep_jepa.data import load_jets
    from hep_jepa.data.dataset import ShardedJetDataset

    sources = args.data or [p for p in ("data/pretrain", str(REALDATA)) if Path(p).exists()]
    rows = []
    for source in sources:
        jets = load_jets(source)
        counts = np.minimum(ak.to_numpy(ak.num(jets["particles"], axis=1)), SLOTS)
        shuffled = counts[np.random.default_rng(0).permutation(len(counts))]
        streamable = Path(source).is_dir() and any(Path(source).rglob("*.parquet"))
        for batch_size in args.batch_size:
            row = {
                "data": Path(source).name,
                "jets": len(counts),
                "mean n": round(float(counts.mean()), 1),
                "batch": batch_size,
                "fixed 128": padding_share(batches_of(shuffled, batch_size), SLOTS),
                "random, trimmed": padding_share(batches_of(shuffled, batch_size)),
                "embed (sorted)": padding_share(batches_of(np.sort(counts), batch_size)),
                "training (bucketed)": float("nan"),
            }
            if streamable:
                dataset = ShardedJetDataset(
                    source, batch_size=batch_size, batched=True, bucket_by_multiplicity=True
                )
                row["training (bucketed)"] = padding_share(
                    [
                        np.minimum(ak.to_numpy(ak.num(b["particles"], axis=1)), SLOTS)
                        for b in dataset
                    ]
                )
            rows.append(row)
    columns = list(rows[0])
    for row in rows:
        for key in ("fixed 128", "random, trimmed", "embed (sorted)", "training (bucketed)"):
            value = row[key]
            row[key] = "n/a" if value != value else f"{100 * value:.1f} %"
    print_table(rows, columns)
    write_json(Path(args.out), {"rows": rows})


if __name__ == "__main__":
    main()
