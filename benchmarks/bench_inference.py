"""Encoder inference (jets/s) of hep-jepa against weaver-core's ParticleTransformer, same size.

Needs:  pip install --no-deps weaver-core==0.5.3   (benchmark only; not a package dependency)
Run:    python benchmarks/bench_inference.py [--quick] [--threads 1] [--compile]
            [--rows all|same-batch|end-to-end] [--jets N] [--out benchmarks/results/inference.json]

Both models have d = 128, 8 blocks, 8 heads, feed-forward 512 (hep-jepa preset `part`), fixed
random weights, and are timed with their pair bias on (hep-jepa ``use_pair_bias``, ParT's
pair embedding of ln Δ, ln kT, ln z, ln m²) and off (no pair inputs). Two kinds of rows:

Same-batch rows (``encoder`` and ``tagger``; the kernel-level comparison): both models see
the same real top-tagging jets (JetProcessor, max_particles=128), the same batches in the
file's order, each padded to its longest jet: hep-jepa ``features, mask, vectors``
batch-first; ParT ``features, lorentz_vectors, mask`` channel-first. ParT runs as weaver
0.5.3 does in eval mode, trimming padding to the longest jet of each batch. ParT's 2
class-attention blocks are not part of its encoder: the ``encoder`` rows compare the
8-block encoders (ParT with num_cls_layers=0 and no fc, hep-jepa `HepJepaModel`); the
``tagger`` rows compare the full taggers at batch 256 (or the largest batch): ParT with its
2 class-attention blocks and fc against `HepJepaForJetClassification` with the
attention-pooling head.

End-to-end rows (``embed, end-to-end``; ``..., compiled`` with --compile): the time to turn
the same --jets real awkward jets (the top-tagging sample in the file's order, whole copies
appended when it is smaller) into one embedding per jet, each library used as its users do.
The processing cost is INCLUDED ON BOTH SIDES, with the same JetProcessor:
- hep-jepa: ``model.embed(jets, batch_size=B)``, which processes the jets batch by batch,
  groups them by multiplicity and pads each batch to its longest jet; ``compile=True`` in
  the compiled rows (its one-off compilation is done before the timing and reported apart).
- weaver ParT: the jets processed once by JetProcessor into fixed 128-slot arrays (as a
  weaver data pipeline delivers them), laid out channel-first, fed in the file's order in
  batches of B; ParT trims each batch to its longest jet (weaver 0.5.3 in eval mode); the
  encoder output is mean-pooled over real particles into a numpy array, as `embed` does.
Both run under ``torch.no_grad()`` (weaver's evaluation loop, and `embed`'s own). The rows
also give the share of the processed particle tokens that are padding, for each model.

Timings alternate between the models (best of --repeats each), and the float32 matmul rate
is measured at the start and the end of the run: the fraction of it each model reaches
counts only real-particle FLOPs (see `_common.encoder_flops`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    BLOCK_FLOPS,
    RESULTS,
    batches_of,
    best_time,
    encoder_flops,
    load_batch,
    load_real_jets,
    matmul_flops,
    max_rss_mib,
    padded_tokens,
    print_table,
    probe_in_subprocess,
    set_threads,
    write_json,
)

from hep_jepa import HepJepaConfig, HepJepaForJetClassification, HepJepaModel, JetProcessor
from hep_jepa.processor import JetBatch

WIDTH, LAYERS, HEADS, INTERMEDIATE, PAIR_HIDDEN = 128, 8, 8, 512, 64
PART_EMBED_DIMS, PART_PAIR_DIMS = (128, 512, 128), (64, 64, 64)


def build(model: str, pair: bool, tagger: bool = False) -> torch.nn.Module:
    """The model under test, in eval mode, with fixed random weights."""
    torch.manual_seed(0)
    if model == "hep-jepa":
        config = HepJepaConfig.from_preset(
            "part",
            use_pair_bias=pair,
            pair_bias_hidden_size=PAIR_HIDDEN,
            num_labels=2,
            head="attention",
        )
        if tagger:
            return HepJepaForJetClassification(config).eval()
        return HepJepaModel(config).eval()
    from weaver.nn.model.ParticleTransformer import ParticleTransformer

    part = ParticleTransformer(
        input_dim=7,
        num_classes=2 if tagger else None,
        pair_input_dim=4 if pair else 0,
        embed_dims=PART_EMBED_DIMS,
        pair_embed_dims=PART_PAIR_DIMS,
        num_heads=HEADS,
        num_layers=LAYERS,
        num_cls_layers=2 if tagger else 0,
        fc_params=() if tagger else None,
    ).eval()
    # SequenceTrimmer starts trimming after 5 calls; make those before any timing.
    with torch.inference_mode():
        warm = torch.zeros(2, 7, 4), torch.ones(2, 4, 4), torch.ones(2, 1, 4)
        for _ in range(5):
            part(warm[0], v=warm[1], mask=warm[2])
    return part


def run_model(model: str, module: torch.nn.Module, inputs: dict[str, torch.Tensor]) -> None:
    with torch.inference_mode():
        if model == "hep-jepa":
            module(inputs["features"], inputs["mask"], vectors=inputs["vectors"])
        else:
            module(inputs["features_cf"], v=inputs["vectors_cf"], mask=inputs["mask_cf"])


def make_inputs(batch: Any, size: int) -> dict[str, torch.Tensor]:
    # Both models get the batch padded only to its longest jet, as weaver's ParT does to
    # itself in eval mode and as hep-jepa's `embed` does (it also groups jets by
    # multiplicity, which this comparison leaves out).
    longest = int(batch.mask[:size].sum(dim=1).max())
    features, mask, vectors = (
        batch.features[:size, :longest],
        batch.mask[:size, :longest],
        batch.vectors[:size, :longest],
    )
    return {
        "features": features,
        "mask": mask,
        "vectors": vectors,
        # weaver's layout: (B, C, N), mask (B, 1, N) float
        "features_cf": features.transpose(1, 2).contiguous(),
        "vectors_cf": vectors.transpose(1, 2).contiguous(),
        "mask_cf": mask[:, None, :].float(),
    }


def flops(model: str, pair: bool, counts: np.ndarray) -> float:
    if model == "hep-jepa":
        embed, pair_dims = (WIDTH, WIDTH), (PAIR_HIDDEN, HEADS)
    else:
        embed, pair_dims = PART_EMBED_DIMS, (*PART_PAIR_DIMS, HEADS)
    return encoder_flops(
        counts,
        width=WIDTH,
        intermediate=INTERMEDIATE,
        layers=LAYERS,
        embed_dims=embed,
        num_features=7,
        pair_dims=pair_dims if pair else (),
    )


def probe_memory(model: str, pair: bool, inputs_file: Path, sizes: list[int]) -> dict[str, float]:
    """Peak-memory growth (MiB) of one forward pass per batch size, smallest first.

    Runs in a fresh process that reads ready tensors, so the high-water mark before the
    first pass is that of the imports and the model alone.
    """
    batch = JetBatch(**torch.load(inputs_file), points=torch.zeros(0))
    module = build(model, pair)
    all_inputs = {size: make_inputs(batch, size) for size in sizes}
    baseline = max_rss_mib()
    peaks = {}
    for size in sorted(sizes):
        run_model(model, module, all_inputs[size])
        peaks[str(size)] = max_rss_mib() - baseline
    return peaks


def hep_embed(model: HepJepaModel, jets: Any, batch_size: int, compile: bool = False) -> np.ndarray:
    """Jet embeddings from hep-jepa, the way its users get them: ``model.embed``."""
    return model.embed(jets, batch_size=batch_size, compile=compile)


def part_embed(
    module: torch.nn.Module, processor: JetProcessor, jets: Any, batch_size: int
) -> np.ndarray:
    """Jet embeddings from weaver's ParT encoder, the way its users run it (see the docstring).

    Processing the jets once into fixed slots is part of the timed work, as the processing
    is inside hep-jepa's `embed`.
    """
    with torch.no_grad():
        batch = processor(jets)  # (n, 128, ...) fixed slots
        features = batch.features.transpose(1, 2).contiguous()  # weaver's (n, C, N)
        vectors = batch.vectors.transpose(1, 2).contiguous()
        mask = batch.mask[:, None, :].float()
        out = np.empty((len(features), WIDTH), dtype=np.float32)
        for start in range(0, len(features), batch_size):
            end = start + batch_size
            x, padding = module(features[start:end], v=vectors[start:end], mask=mask[start:end])
            real = (~padding).unsqueeze(-1).to(x.dtype)  # ParT trimmed x to its longest jet
            out[start:end] = ((x * real).sum(dim=1) / real.sum(dim=1)).numpy()
    return out


def embed_padding(model: HepJepaModel, jets: Any, batch_size: int) -> tuple[int, int]:
    """(real, processed) particle tokens of ``model.embed(jets, batch_size=...)``.

    Processed tokens are counted at the input of the first transformer block, so that the
    chunks a large CPU batch is cut into (each to its longest jet, see
    `hep_jepa.modeling._inference_chunk`) count with the slots they really run; register
    tokens are not counted.
    """
    processed: list[int] = []
    registers = model.config.num_register_tokens

    def record(module: Any, args: tuple[torch.Tensor, ...]) -> None:
        tokens = args[0]
        processed.append(tokens.shape[0] * (tokens.shape[1] - registers))

    hook = model.blocks[0].register_forward_pre_hook(record)
    try:
        model.embed(jets, batch_size=batch_size, progress=False)
    finally:
        hook.remove()
    real = int(model.processor.multiplicities(jets).sum())
    return real, sum(processed)


def end_to_end_rows(
    jets: Any, batch_sizes: list[int], repeats: int, compile: bool
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The end-to-end rows (hep-jepa `embed`, optionally compiled, against weaver ParT)."""
    processor = JetProcessor(feature_set="kin", max_particles=128)
    counts = processor.multiplicities(jets)
    rows: list[dict[str, Any]] = []
    checks: dict[str, Any] = {}
    for pair in (False, True):
        hep = build("hep-jepa", pair)
        assert isinstance(hep, HepJepaModel) and hep.processor == processor
        part = build("weaver ParT", pair)
        # Outputs do not depend on the grouping: embed against a forward pass on the first
        # jets padded to 128 slots in file order.
        head = jets[: min(len(jets), 256)]
        with torch.no_grad():
            direct = hep(**processor(head).model_inputs()).pooler_output.numpy()
        pair_name = "on" if pair else "off"
        checks[f"pair {pair_name}: max |embed - padded forward|"] = float(
            np.abs(hep.embed(head, batch_size=64) - direct).max()
        )
        runners: dict[str, Callable[[Any, int], Any]] = {
            "hep-jepa": partial(hep_embed, hep),
            "weaver ParT": partial(part_embed, part, processor),
        }
        if compile:
            start = time.perf_counter()
            compiled = hep.embed(head, batch_size=64, compile=True)
            checks[f"pair {pair_name}: compile seconds (first call)"] = time.perf_counter() - start
            checks[f"pair {pair_name}: max |compiled embed - padded forward|"] = float(
                np.abs(compiled - direct).max()
            )
            runners["hep-jepa compiled"] = partial(hep_embed, hep, compile=True)
        for size in batch_sizes:
            for runner in runners.values():  # untimed warm-up on two batches
                runner(jets[: 2 * size], size)
            times: dict[str, list[float]] = {name: [] for name in runners}
            graphs = _compiled_graphs()
            for _ in range(repeats):
                for name, runner in runners.items():
                    times[name].append(best_time(partial(runner, jets, size), 1))
            if compile:  # a recompilation inside the timing would be counted as run time
                checks[f"pair {pair_name}, batch {size}: graphs compiled while timed"] = (
                    _compiled_graphs() - graphs
                )
            real, hep_tokens = embed_padding(hep, jets, size)
            _, part_tokens = padded_tokens(batches_of(counts, size))  # ParT: file order, trimmed
            part_seconds = min(times["weaver ParT"])
            labels = {
                "hep-jepa": "embed, end-to-end",
                "hep-jepa compiled": "embed, end-to-end, compiled",
            }
            for name, label in labels.items():
                if name not in times:
                    continue
                seconds = min(times[name])
                row = {
                    "model": label,
                    "batch": size,
                    "pair_bias": pair,
                    "jets": len(jets),
                    "hep_jepa_jets_per_s": len(jets) / seconds,
                    "part_jets_per_s": len(jets) / part_seconds,
                    "speedup": part_seconds / seconds,
                    "hep_jepa_padding_pct": 100 * (1 - real / hep_tokens),
                    "part_padding_pct": 100 * (1 - real / part_tokens),
                    "hep_jepa_flop_per_s": flops("hep-jepa", pair, counts) / seconds,
                    "part_flop_per_s": flops("weaver ParT", pair, counts) / part_seconds,
                }
                rows.append(row)
                print(
                    f"{label} batch {size} pair {pair}: hep-jepa {row['hep_jepa_jets_per_s']:.1f} "
                    f"jets/s, ParT {row['part_jets_per_s']:.1f} jets/s",
                    file=sys.stderr,
                )
    return rows, checks


def same_batch_rows(batch: Any, batch_sizes: list[int], repeats: int) -> list[dict[str, Any]]:
    """The same-batch rows: encoders at each batch size and taggers, pair bias off and on."""
    tagger_size = 256 if 256 in batch_sizes else max(batch_sizes)
    rows: list[dict[str, Any]] = []
    settings = [("encoder", size) for size in batch_sizes] + [("tagger", tagger_size)]
    for pair in (False, True):
        modules = {
            (kind, model): build(model, pair, tagger=kind == "tagger")
            for kind in ("encoder", "tagger")
            for model in ("hep-jepa", "weaver ParT")
        }
        for kind, size in settings:
            inputs = make_inputs(batch, size)
            times: dict[str, list[float]] = {"hep-jepa": [], "weaver ParT": []}
            for model in times:  # untimed first call of each
                run_model(model, modules[kind, model], inputs)
            for _ in range(repeats):
                for model in times:
                    times[model].append(
                        best_time(
                            lambda m=model, k=kind, x=inputs, ms=modules: run_model(m, ms[k, m], x),
                            1,
                        )
                    )
            counts = inputs["mask"].sum(dim=1).numpy()
            row: dict[str, Any] = {"model": kind, "batch": size, "pair_bias": pair}
            for model, label in (("hep-jepa", "hep_jepa"), ("weaver ParT", "part")):
                seconds = min(times[model])
                row[f"{label}_jets_per_s"] = size / seconds
                row[f"{label}_flop_per_s"] = flops(model, pair, counts) / seconds
            row["speedup"] = row["hep_jepa_jets_per_s"] / row["part_jets_per_s"]
            rows.append(row)
            print(
                f"{kind} batch {size} pair {pair}: hep-jepa {row['hep_jepa_jets_per_s']:.1f} "
                f"jets/s, ParT {row['part_jets_per_s']:.1f} jets/s",
                file=sys.stderr,
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="batches 64 and 256, 1 repeat")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory probes")
    parser.add_argument(
        "--rows",
        choices=["all", "same-batch", "end-to-end"],
        default="all",
        help="which rows to run (default all)",
    )
    parser.add_argument(
        "--jets", type=int, default=None, help="jets of the end-to-end rows (4000; --quick 2000)"
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="add end-to-end rows with embed(compile=True) (compiles first, minutes on CPU)",
    )
    parser.add_argument("--probe-memory", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS / "inference.json")
    args = parser.parse_args()
    set_threads(args.threads)
    if args.quick:
        args.batch_sizes, args.repeats = [64, 256], 1
    if args.jets is None:
        args.jets = 2000 if args.quick else 4000
    if args.probe_memory:
        model, pair, inputs_file = args.probe_memory
        print(json.dumps(probe_memory(model, pair == "on", Path(inputs_file), args.batch_sizes)))
        return

    batch, source = load_batch(max(args.batch_sizes))
    peak_start = matmul_flops()
    rows: list[dict[str, Any]] = []
    if args.rows in ("all", "same-batch"):
        rows += same_batch_rows(batch, args.batch_sizes, args.repeats)
    end_to_end: dict[str, Any] = {}
    if args.rows in ("all", "end-to-end"):
        jets, jets_source = load_real_jets(args.jets)
        e2e_rows, checks = end_to_end_rows(jets, args.batch_sizes, args.repeats, args.compile)
        rows += e2e_rows
        end_to_end = {
            "jets": len(jets),
            "source": jets_source,
            "order": "the file's order (replicas appended whole)",
            "mean_real_particles": float(
                JetProcessor(max_particles=128).multiplicities(jets).mean()
            ),
            "processing": "included on both sides (hep-jepa inside embed; ParT once, up front)",
            "checks": checks,
        }
    peak_end = matmul_flops()
    peak = max(peak_start, peak_end)
    for row in rows:
        for label in ("hep_jepa", "part"):
            row[f"{label}_matmul_fraction"] = row.pop(f"{label}_flop_per_s") / peak

    memory: dict[str, Any] = {}
    if not args.no_memory and args.rows != "end-to-end":
        script = Path(__file__).resolve()
        sizes = [str(size) for size in args.batch_sizes]
        with tempfile.TemporaryDirectory() as folder:
            inputs_file = Path(folder) / "inputs.pt"
            torch.save(
                {"features": batch.features, "mask": batch.mask, "vectors": batch.vectors},
                inputs_file,
            )
            for model in ("hep-jepa", "weaver ParT"):
                for pair_name in ("off", "on"):
                    memory[f"{model} pair {pair_name}"] = probe_in_subprocess(
                        script,
                        [
                            model,
                            pair_name,
                            str(inputs_file),
                            "--threads",
                            str(args.threads),
                            "--batch-sizes",
                            *sizes,
                        ],
                    )
        for row in rows:
            if row["model"] == "encoder":
                pair_name = "on" if row["pair_bias"] else "off"
                for model, label in (("hep-jepa", "hep_jepa"), ("weaver ParT", "part")):
                    row[f"{label}_peak_mib"] = memory[f"{model} pair {pair_name}"][
                        str(row["batch"])
                    ]

    results = {
        "source": source,
        "threads": args.threads,
        "repeats": args.repeats,
        "mean_real_particles": float(batch.mask.sum(dim=1).float().mean()),
        "max_particles": 128,
        "weaver_core_version": _weaver_version(),
        "torch_version": torch.__version__,
        "matmul_flop_per_s": {"start": peak_start, "end": peak_end, "reference": peak},
        "flops_formula": (
            f"real-particle FLOPs per jet with n real particles: embedding MLP 2·n·Σ(in·out) + "
            f"L·({BLOCK_FLOPS}) + pair MLP 2·n(n+1)/2·Σ(in·out); hep-jepa embedding 7→128→128 "
            f"and pair MLP 4→64→8, ParT embedding 7→128→512→128 and pair MLP 4→64→64→64→8; "
            "D=128, I=512, L=8. Tagger rows count the encoder only. "
            "matmul_fraction = FLOPs / time / matmul_flop_per_s.reference"
        ),
        "part_settings": {
            "embed_dims": PART_EMBED_DIMS,
            "pair_embed_dims": PART_PAIR_DIMS,
            "num_heads": HEADS,
            "num_layers": LAYERS,
            "num_cls_layers": "0 (encoder rows), 2 (tagger rows)",
        },
        "rows": rows,
        "end_to_end": end_to_end,
        "peak_memory_mib": memory,
    }
    columns = [
        "model",
        "batch",
        "pair_bias",
        "hep_jepa_jets_per_s",
        "part_jets_per_s",
        "speedup",
        "hep_jepa_matmul_fraction",
        "part_matmul_fraction",
    ]
    same = [row for row in rows if not row["model"].startswith("embed")]
    if same:
        print_table(same, columns)
    e2e = [row for row in rows if row["model"].startswith("embed")]
    if e2e:
        print(f"\nend to end: {end_to_end['jets']} jets, {end_to_end['source']}")
        print_table(e2e, [*columns, "hep_jepa_padding_pct", "part_padding_pct"])
        for name, value in end_to_end["checks"].items():
            print(f"  {name}: {value:.3g}")
    write_json(args.out, results)


def _compiled_graphs() -> int:
    """Graphs torch.compile has compiled so far in this process."""
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])


def _weaver_version() -> str:
    from importlib.metadata import version

    return version("weaver-core")


if __name__ == "__main__":
    main()
