"""GPU speed check (prepared for a session with a CUDA device; not run on the CPU machines).

Run:  python benchmarks/gpu_check.py [--out benchmarks/results/gpu.json] [--seconds 5]

Records, on one CUDA device with bf16 autocast, for the `small` and `base` presets:
encoder inference jets/s at batch 256 and 1024 (pair bias off and on) and pretraining
jets/s (forward + backward + AdamW + EMA) at batch 256, on real top-tagging jets
(JetProcessor, max_particles=128), with peak memory from torch.cuda.max_memory_allocated.
The reference measured in the same run is the device's bf16 and float32 matmul rate
(`torch.mm` of 8192² matrices), and `matmul_fraction` counts real-particle FLOPs only.
Keeps well inside 5 minutes on an H100/H200.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, encoder_flops, load_batch, print_table, write_json
from bench_pretraining import build as build_pretraining
from bench_pretraining import step_flops, train_step

from hep_jepa import HepJepaConfig, HepJepaModel
from hep_jepa.masking import JepaMasks


def device_matmul_flops(dtype: torch.dtype, size: int = 8192, calls: int = 20) -> float:
    a = torch.randn(size, size, device="cuda", dtype=dtype)
    b = torch.randn(size, size, device="cuda", dtype=dtype)
    torch.mm(a, b)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(calls):
        torch.mm(a, b)
    torch.cuda.synchronize()
    return 2.0 * size**3 * calls / (time.perf_counter() - start)


def timed(fn: Any, seconds: float) -> float:
    """Mean seconds per call over at least `seconds` of calls, after two warm-up calls."""
    fn()
    fn()
    torch.cuda.synchronize()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        calls += 1
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="timing window per case")
    parser.add_argument("--out", type=Path, default=RESULTS / "gpu.json")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("gpu_check.py needs a CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = False
    peak_bf16 = device_matmul_flops(torch.bfloat16)
    peak_fp32 = device_matmul_flops(torch.float32)
    cpu_batch, source = load_batch(1024)
    batch = cpu_batch.to("cuda")
    rows: list[dict[str, Any]] = []
    for preset in ("small", "base"):
        for pair in (False, True):
            config = HepJepaConfig.from_preset(preset, use_pair_bias=pair)
            model = HepJepaModel(config).cuda().eval()
            for size in (256, 1024):
                inputs = {
                    "features": batch.features[:size],
                    "mask": batch.mask[:size],
                    "vectors": batch.vectors[:size],
                }

                def forward(model: Any = model, inputs: Any = inputs) -> None:
                    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
                        model(**inputs)

                torch.cuda.reset_peak_memory_stats()
                seconds = timed(forward, args.seconds)
                counts = cpu_batch.mask[:size].sum(dim=1).numpy()
                flops = encoder_flops(
                    counts,
                    width=config.hidden_size,
                    intermediate=config.intermediate_size,
                    layers=config.num_hidden_layers,
                    embed_dims=(config.hidden_size, config.hidden_size),
                    num_features=config.num_features,
                    pair_dims=(config.pair_bias_hidden_size, config.num_attention_heads)
                    if pair
                    else (),
                )
                rows.append(_row("inference", preset, pair, size, seconds, flops / peak_bf16))
                print(rows[-1], file=sys.stderr)
            del model
        size = 256
        # the optimiser holds the parameters themselves, which .cuda() moves in place
        pretraining, inputs, optimizer = build_pretraining(preset, _slice(cpu_batch, size))
        pretraining.cuda()
        inputs = {k: v.cuda() for k, v in inputs.items()}

        def train(
            model: Any = pretraining, inputs: Any = inputs, optimizer: Any = optimizer
        ) -> None:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                train_step(model, inputs, optimizer, 1)

        torch.cuda.reset_peak_memory_stats()
        seconds = timed(train, args.seconds)
        masks = JepaMasks(**{k: inputs[k].cpu() for k in JepaMasks.__dataclass_fields__})
        flops = step_flops(pretraining.config, cpu_batch.mask[:size], masks)
        rows.append(_row("pretraining", preset, False, size, seconds, flops / peak_bf16))
        print(rows[-1], file=sys.stderr)
        del pretraining, optimizer
    print_table(
        rows,
        ["task", "preset", "pair_bias", "batch", "jets_per_s", "bf16_matmul_fraction", "peak_mib"],
    )
    write_json(
        args.out,
        {
            "device": torch.cuda.get_device_name(),
            "source": source,
            "torch_version": torch.__version__,
            "matmul_flop_per_s": {"bfloat16": peak_bf16, "float32_no_tf32": peak_fp32},
            "rows": rows,
        },
    )


def _slice(batch: Any, size: int) -> Any:
    from hep_jepa.processor import JetBatch

    return JetBatch(
        features=batch.features[:size],
        mask=batch.mask[:size],
        vectors=batch.vectors[:size],
        points=batch.points[:size],
    )


def _row(
    task: str, preset: str, pair: bool, size: int, seconds: float, peak_seconds: float
) -> dict[str, Any]:
    """One result row; `peak_seconds` = the step's FLOPs / the measured bf16 matmul rate."""
    return {
        "task": task,
        "preset": preset,
        "pair_bias": pair,
        "batch": size,
        "jets_per_s": size / seconds,
        "bf16_matmul_fraction": peak_seconds / seconds,
        "peak_mib": torch.cuda.max_memory_allocated() / 2**20,
    }


if __name__ == "__main__":
    main()
