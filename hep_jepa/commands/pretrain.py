"""``hep-jepa pretrain``: HEP-JEPA pretraining on parquet shards (one machine or torchrun)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        nargs="+",
        required=True,
        help="folders (searched recursively) or files of parquet shards",
    )
    parser.add_argument(
        "--config",
        default="tiny",
        help="preset (tiny, small, base, part) or a config.json / model folder",
    )
    parser.add_argument("--output", required=True, help="output folder")
    parser.add_argument("--max-steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=128, help="jets per device per step")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--warmup-ratio", type=float, default=0.05)
    parser.add_argument("--gradient-accumulation-steps", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-workers", type=int, default=0, help="dataloader worker processes")
    parser.add_argument("--logging-steps", type=int, default=50)
    parser.add_argument("--save-steps", type=int, default=500)
    parser.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=None,
        help="resume from the latest checkpoint in --output, or from the one given",
    )
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="config overrides, e.g. feature_set=kinpid num_target_blocks=4 "
        "use_pair_bias=true (values parsed as JSON)",
    )
    parser.add_argument("--no-progress", action="store_true")


def _parse_overrides(pairs: list[str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    return overrides


def run(args: argparse.Namespace) -> int:
    from hep_jepa.pretrain import PretrainingArguments, pretrain

    training = PretrainingArguments(
        output_dir=args.output,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        weight_decay=args.weight_decay,
        warmup_ratio=args.warmup_ratio,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        seed=args.seed,
        num_workers=args.num_workers,
        logging_steps=args.logging_steps,
        save_steps=args.save_steps,
        resume_from_checkpoint=args.resume,
        progress=not args.no_progress,
    )
    pretrain(args.data, args.config, training, **_parse_overrides(args.set))
    print(f"saved the pretrained encoder to {args.output}")
    return 0
