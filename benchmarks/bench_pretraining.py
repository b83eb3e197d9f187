"""Pretraining speed (steps/s, jets/s) of `HepJepaForPretraining` for the tiny and small presets.

Run:  python benchmarks/bench_pretraining.py [--quick] [--threads 1] [--batch-size 128]
      [--out benchmarks/results/pretraining.json]

One step is what the pretraining engine does per batch: forward (EMA target encoder on the
whole jet, context encoder on the context tokens, predictor), backward, AdamW step and the
EMA update. Jets: real top-tagging jets (JetProcessor, max_particles=128) with masks from
`hep_jepa.pretrain.MaskSampler` (the data collator's step), drawn before the timing.

References measured in the same run: an inference forward of the same encoder on the same
batch (`step_over_encoder_forward`: how many encoder passes a step costs) and the float32
matmul rate (`matmul_fraction`: real-token FLOPs of a step per second over it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    BLOCK_FLOPS,
    RESULTS,
    best_time,
    encoder_flops,
    load_batch,
    matmul_flops,
    max_rss_mib,
    print_table,
    probe_in_subprocess,
    set_threads,
    write_json,
)

from hep_jepa import HepJepaConfig
from hep_jepa.masking import JepaMasks
from hep_jepa.pretrain import MaskSampler
from hep_jepa.pretraining import HepJepaForPretraining

PRESETS = ("tiny", "small")


def step_flops(config: HepJepaConfig, mask: torch.Tensor, masks: JepaMasks) -> float:
    """Real-token FLOPs of one step; backward counted as twice the forward."""
    width, layers, inter = config.hidden_size, config.num_hidden_layers, config.intermediate_size
    features = config.num_features
    n = mask.sum(dim=1).numpy().astype(np.float64)  # (B,)
    k = masks.context_mask.sum(dim=1).numpy().astype(np.float64)  # (B,)
    t = masks.target_mask.sum(dim=2).numpy().astype(np.float64)  # (B, M)
    encoder = dict(width=width, intermediate=inter, layers=layers, embed_dims=(width, width))
    target = encoder_flops(n, num_features=features, **encoder)
    embedding = float(np.sum(2 * n * (features * width + width * width)))
    context = encoder_flops(k, num_features=features, **encoder) - float(
        np.sum(2 * k * (features * width + width * width))
    )
    p = config.predictor_hidden_size
    position = 2 * (2 * p + p * p)  # per token, (Δη, Δφ) -> P -> P
    sequence = k[:, None] + t  # (B, M) real tokens per predictor sequence
    predictor_blocks = config.predictor_num_hidden_layers * (
        8 * sequence * p**2 + 4 * sequence * p * 4 * p + 4 * sequence**2 * p
    )
    predictor = float(
        np.sum(2 * k * width * p + position * k)
        + np.sum(position * t + predictor_blocks + 2 * t * p * width)
    )
    return target + 3 * (embedding + context + predictor)


def build(preset: str, batch: Any) -> tuple[Any, dict[str, torch.Tensor], torch.optim.Optimizer]:
    torch.manual_seed(0)
    config = HepJepaConfig.from_preset(preset)
    model = HepJepaForPretraining(config).train()
    inputs = MaskSampler.from_config(config)(batch.model_inputs())  # the collator's masks
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.05
    )
    return model, inputs, optimizer


def train_step(model: Any, inputs: dict[str, torch.Tensor], optimizer: Any, step: int) -> None:
    loss = model(**inputs).loss
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    model.update_target_encoder(step, 1000)


def probe_memory(preset: str, inputs_file: Path, steps: int) -> dict[str, float]:
    """Peak-memory growth (MiB) over `steps` training steps, in a fresh process."""
    from hep_jepa.processor import JetBatch

    batch = JetBatch(**torch.load(inputs_file))
    model, inputs, optimizer = build(preset, batch)
    baseline = max_rss_mib()
    for step in range(steps):
        train_step(model, inputs, optimizer, step)
    return {"peak_mib": max_rss_mib() - baseline}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5, help="timed steps after one warm-up step")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="2 timed steps")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory probes")
    parser.add_argument("--probe-memory", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS / "pretraining.json")
    args = parser.parse_args()
    set_threads(args.threads)
    if args.quick:
        args.steps = 2
    if args.probe_memory:
        preset, inputs_file = args.probe_memory
        print(json.dumps(probe_memory(preset, Path(inputs_file), 2)))
        return

    batch, source = load_batch(args.batch_size)
    peak_start = matmul_flops()
    rows: list[dict[str, Any]] = []
    for preset in PRESETS:
        model, inputs, optimizer = build(preset, batch)
        sampler = MaskSampler.from_config(model.config)
        masks_time = best_time(lambda s=sampler: s(batch.model_inputs()), 3)
        train_step(model, inputs, optimizer, 0)  # warm-up, allocates the optimiser state
        times = []
        for step in range(1, args.steps + 1):
            start = time.perf_counter()
            train_step(model, inputs, optimizer, step)
            times.append(time.perf_counter() - start)
        encoder = model.target_encoder

        def forward(encoder: Any = encoder) -> None:
            with torch.inference_mode():
                encoder(batch.features, batch.mask)

        forward()
        forward_time = best_time(forward, 2)
        seconds = statistics.median(times)
        masks = JepaMasks(**{k: inputs[k] for k in JepaMasks.__dataclass_fields__})
        rows.append(
            {
                "preset": preset,
                "batch": args.batch_size,
                "steps_per_s": 1.0 / seconds,
                "jets_per_s": args.batch_size / seconds,
                "step_over_encoder_forward": seconds / forward_time,
                "step_flops": step_flops(model.config, batch.mask, masks),
                "mask_sampling_jets_per_s": args.batch_size / masks_time,
                "parameters": sum(p.numel() for p in model.parameters()),
            }
        )
        print(f"{preset}: {rows[-1]['jets_per_s']:.1f} jets/s", file=sys.stderr)
        del model, optimizer
    peak_end = matmul_flops()
    peak = max(peak_start, peak_end)
    for row in rows:
        row["matmul_fraction"] = row["step_flops"] * row["steps_per_s"] / peak

    memory: dict[str, Any] = {}
    if not args.no_memory:
        with tempfile.TemporaryDirectory() as folder:
            inputs_file = Path(folder) / "inputs.pt"
            torch.save(
                {k: v for k, v in vars(batch).items() if k != "labels"},
                inputs_file,
            )
            for row in rows:
                row["peak_mib"] = probe_in_subprocess(
                    Path(__file__).resolve(),
                    [row["preset"], str(inputs_file), "--threads", str(args.threads)],
                )["peak_mib"]
                memory[row["preset"]] = row["peak_mib"]

    results = {
        "source": source,
        "threads": args.threads,
        "timed_steps": args.steps,
        "mean_real_particles": float(batch.mask.sum(dim=1).float().mean()),
        "torch_version": torch.__version__,
        "matmul_flop_per_s": {"start": peak_start, "end": peak_end, "reference": peak},
        "flops_formula": (
            "step FLOPs over real tokens only: target-encoder forward on the n real particles "
            "+ 3 × (forward + backward = 3 × forward) of the particle embedding on n, the "
            "context encoder's blocks on the k real context tokens and the predictor on "
            f"k + t real tokens per target block; {BLOCK_FLOPS}. "
            "matmul_fraction = step_flops × steps_per_s / matmul_flop_per_s.reference"
        ),
        "rows": rows,
        "peak_memory_mib": memory,
    }
    print_table(
        rows,
        [
            "preset",
            "batch",
            "steps_per_s",
            "jets_per_s",
            "step_over_encoder_forward",
            "matmul_fraction",
            "peak_mib",
        ],
    )
    write_json(args.out, results)


if __name__ == "__main__":
    main()
