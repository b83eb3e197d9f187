"""Shared pieces of the benchmarks: real jets, the matmul reference, FLOP formulas, memory.

Every benchmark reports its figures against a reference measured in the same run (the
machine is shared, so absolute timings drift); the float32 matmul rate from `matmul_flops`
is the common one.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "top_tagging"
RESULTS = Path(__file__).resolve().parent / "results"

# FLOPs count a multiply-add as 2. Per jet with n real particles, width D, feed-forward
# width I, L blocks, F input features; pair-feature MLPs run on the n(n+1)/2 distinct pairs
# (the pair features are symmetric), whatever an implementation does with padding.
BLOCK_FLOPS = "per block: 8·n·D² (qkv + out) + 4·n·D·I (feed-forward) + 4·n²·D (QKᵀ and AV)"


def set_threads(threads: int) -> None:
    """Intra-op threads. One by default: with background load, 2 OpenMP threads on 2 shared
    cores spin against each other and run 5-10x slower than one."""
    torch.set_num_threads(threads)


def load_real_jets(n_jets: int) -> tuple[Any, str]:
    """`n_jets` real top-tagging jets as awkward jets, in the file's order.

    A sample smaller than `n_jets` is replicated (whole copies, each in the file's order).
    Returns the jets and a description of the source.
    """
    from hep_jepa.data import load_jets

    if not REALDATA.is_dir():
        raise SystemExit(f"real jets not found at {REALDATA}; the benchmarks need them")
    jets = load_jets(REALDATA)
    repeat = -(-n_jets // len(jets))
    if repeat > 1:
        import awkward as ak

        jets = ak.concatenate([jets] * repeat)
    return (
        jets[:n_jets],
        f"top_tagging (real, {len(jets) // repeat} jets{', replicated' if repeat > 1 else ''})",
    )


def load_batch(n_jets: int, max_particles: int = 128) -> tuple[Any, str]:
    """`n_jets` real top-tagging jets (replicated if the sample is smaller) as a `JetBatch`."""
    from hep_jepa import JetProcessor

    jets, source = load_real_jets(n_jets)
    return JetProcessor(feature_set="kin", max_particles=max_particles)(jets), source


def matmul_flops(size: int = 1024, seconds: float = 1.0, windows: int = 3) -> float:
    """Float32 FLOP/s of a ``torch.mm`` loop on (size, size) matrices: best of `windows`."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    out = torch.empty(size, size)
    torch.mm(a, b, out=out)
    best = 0.0
    for _ in range(windows):
        calls, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            torch.mm(a, b, out=out)
            calls += 1
        best = max(best, 2.0 * size**3 * calls / elapsed)
    return best


def best_time(fn: Callable[[], Any], repeats: int) -> float:
    """Smallest wall time of `repeats` calls (the least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def encoder_flops(
    counts: np.ndarray,
    *,
    width: int,
    intermediate: int,
    layers: int,
    embed_dims: Sequence[int],
    num_features: int,
    pair_dims: Sequence[int] = (),
) -> float:
    """Real-particle FLOPs of a transformer encoder over jets with `counts` real particles.

    Args:
        counts: (B,) real particles per jet.
        embed_dims: widths of the per-particle embedding MLP, ending with `width`.
        pair_dims: widths of the pair MLP from its 4 inputs to its per-head output, or ()
            without a pair bias.
    """
    n = counts.astype(np.float64)
    embed = (
        2
        * n
        * sum(a * b for a, b in zip((num_features, *embed_dims[:-1]), embed_dims, strict=True))
    )
    block = 8 * n * width**2 + 4 * n * width * intermediate + 4 * n**2 * width
    pairs = n * (n + 1) / 2
    pair = (
        2 * pairs * sum(a * b for a, b in zip((4, *pair_dims[:-1]), pair_dims, strict=True))
        if pair_dims
        else 0
    )
    return float(np.sum(embed + layers * block + pair))


def max_rss_mib() -> float:
    """This process's peak resident memory so far, in MiB.

    Reads VmHWM, the high-water mark of this process image: `ru_maxrss` would carry over
    the parent's resident size at fork (Linux keeps it across exec), which hides the peak
    of a small probe started from a large benchmark process.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def probe_in_subprocess(script: Path, arguments: Sequence[str]) -> dict[str, Any]:
    """Run ``script --probe-memory ...`` in a fresh interpreter and parse its JSON line.

    The high-water mark only ever grows, so peak memory is measured in a fresh process per
    model, as the growth over the peak after the imports, the model and its inputs.
    """
    done = subprocess.run(
        [sys.executable, str(script), "--probe-memory", *arguments],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain-text table of `rows` (floats with thousands separators); printed and returned."""

    def show(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"
        return "" if value is None else str(value)

    cells = [[show(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    text = "\n".join(lines)
    print(text)
    return text


def batches_of(counts: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Consecutive batches of a multiplicity array, in its order."""
    return [counts[start : start + batch_size] for start in range(0, len(counts), batch_size)]


def padded_tokens(batches: Sequence[np.ndarray], slots: int | None = None) -> tuple[int, int]:
    """(real, processed) particle tokens when each batch of multiplicities is padded to
    `slots`, or to its own longest jet (at least 1 slot) when `slots` is None."""
    real = processed = 0
    for counts in batches:
        if len(counts):
            width = slots if slots is not None else max(1, int(counts.max()))
            real += int(counts.sum())
            processed += width * len(counts)
    return real, processed


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
