"""``hep-jepa finetune``: train a jet tagger on labelled jets and save it with save_pretrained."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

DATA_HELP = (
    "labelled jets in any supported format (parquet shards, weaver npy folder, JetClass ROOT, "
    "top-tagging HDF5, EnergyFlow npz); several paths are concatenated"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", required=True, help="encoder or tagger: folder, bundled name or Hub repo id"
    )
    parser.add_argument("--data", required=True, nargs="+", type=Path, help=DATA_HELP)
    parser.add_argument(
        "--eval-data",
        nargs="+",
        type=Path,
        default=None,
        help="validation jets for early stopping (default: a share of --data)",
    )
    parser.add_argument("--format", default=None, help="input format, if it cannot be detected")
    parser.add_argument(
        "--jets",
        default=None,
        help="train on a slice START:STOP of --data (e.g. :1500 for the first 1500 jets)",
    )
    parser.add_argument("--output", required=True, type=Path, help="folder for the trained tagger")
    parser.add_argument("--head", choices=("linear", "mlp", "attention"), default=None)
    parser.add_argument(
        "--freeze-backbone", action="store_true", help="train the head only (a probe)"
    )
    parser.add_argument("--num-labels", type=int, default=None, help="default: from the data")
    parser.add_argument("--labels-fraction", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--backbone-lr", type=float, default=1e-4)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--max-steps", type=int, default=-1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--patience", type=int, default=3, help="early-stopping patience (epochs)")
    parser.add_argument("--validation-fraction", type=float, default=0.1)
    parser.add_argument(
        "--no-class-weights", action="store_true", help="unweighted loss on unbalanced classes"
    )
    parser.add_argument("--no-progress", action="store_true")


def load_many(paths: list[Path], format: str | None) -> Any:
    """Jets from one or more paths, concatenated."""
    import awkward as ak

    from hep_jepa.data import load_jets

    parts = [load_jets(path, format=format) for path in paths]
    return parts[0] if len(parts) == 1 else ak.concatenate(parts)


def jet_slice(jets: Any, text: str | None) -> Any:
    """``jets[start:stop]`` for a ``START:STOP`` text (either end may be empty); all for None."""
    if not text:
        return jets
    start, separator, stop = text.partition(":")
    if not separator:
        raise ValueError(f"--jets takes START:STOP (e.g. 1500: or :1500), got {text!r}")
    return jets[int(start) if start else None : int(stop) if stop else None]


def run(args: argparse.Namespace) -> int:
    from hep_jepa.finetune import finetune

    try:
        jets = jet_slice(load_many(args.data, args.format), args.jets)
        eval_jets = None if args.eval_data is None else load_many(args.eval_data, args.format)
        tagger = finetune(
            args.model,
            jets,
            eval_jets=eval_jets,
            num_labels=args.num_labels,
            head=args.head,
            freeze_backbone=args.freeze_backbone,
            labels_fraction=args.labels_fraction,
            seed=args.seed,
            head_learning_rate=args.head_lr,
            backbone_learning_rate=args.backbone_lr,
            weight_decay=args.weight_decay,
            max_epochs=args.epochs,
            max_steps=args.max_steps,
            batch_size=args.batch_size,
            early_stopping_patience=args.patience,
            validation_fraction=args.validation_fraction,
            class_weights=None if args.no_class_weights else "auto",
            output_dir=args.output,
            progress=not args.no_progress,
        )
    except (FileNotFoundError, ValueError, ImportError) as err:
        print(f"hep-jepa finetune: error: {err}", file=sys.stderr)
        return 1
    print(
        f"saved a {tagger.config.num_labels}-class tagger ({tagger.config.head} head) to "
        f"{args.output}"
    )
    return 0
