"""``hep-jepa fewshot``: test accuracy against label fraction for several training regimes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from hep_jepa.commands.finetune import DATA_HELP

    parser.add_argument(
        "--model", default=None, help="pretrained encoder: folder, bundled name or Hub id"
    )
    parser.add_argument("--data", nargs="+", type=Path, help=DATA_HELP)
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        default=None,
        help="instead of running: merge the fewshot.json of these folders (parts of one study "
        "run as separate jobs, e.g. one per fraction) into --output",
    )
    parser.add_argument(
        "--allow-different",
        nargs="+",
        default=[],
        metavar="SETTING",
        help="with --merge: settings the parts may differ in (e.g. max_epochs); recorded",
    )
    parser.add_argument(
        "--test-data",
        nargs="+",
        type=Path,
        default=None,
        help="test jets (default: a share of --data)",
    )
    parser.add_argument("--format", default=None, help="input format, if it cannot be detected")
    parser.add_argument(
        "--output", required=True, type=Path, help="folder for fewshot.json/.md/.png"
    )
    parser.add_argument(
        "--max-jets-per-class",
        type=int,
        default=None,
        help="keep at most this many jets of each class (the first ones), for quick studies",
    )
    parser.add_argument(
        "--fractions", type=float, nargs="+", default=[0.0005, 0.005, 0.02, 0.1, 1.0]
    )
    parser.add_argument(
        "--regimes",
        nargs="+",
        default=["scratch", "probe", "finetune", "substructure"],
        choices=["scratch", "probe", "finetune", "substructure"],
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--head", choices=("linear", "mlp", "attention"), default="linear")
    parser.add_argument("--probe-head", choices=("linear", "mlp", "attention"), default="linear")
    parser.add_argument(
        "--finetune-head-init",
        choices=("probe", "random"),
        default=None,
        help="start the fine-tuned head at random (the default) or, for --head linear, "
        "from the fitted linear probe (LP-FT)",
    )
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument(
        "--min-steps-per-epoch",
        type=int,
        default=10,
        help="repeat small labelled subsets so an epoch has at least this many steps",
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--head-learning-rate", type=float, default=1e-3, help="head of scratch and finetune"
    )
    parser.add_argument(
        "--backbone-learning-rate",
        type=float,
        default=1e-4,
        help="pretrained encoder in finetune (use the scratch rate for a same-recipe comparison)",
    )
    parser.add_argument(
        "--scratch-learning-rate", type=float, default=1e-3, help="random encoder in scratch"
    )
    parser.add_argument(
        "--probe-learning-rate",
        type=float,
        default=3e-3,
        help="probe head other than linear (the linear probe is fitted by L-BFGS)",
    )
    parser.add_argument("--test-fraction", type=float, default=0.3)
    parser.add_argument("--validation-fraction", type=float, default=0.1)
    parser.add_argument("--name", default=None, help="data set name for the plot and table")


def run(args: argparse.Namespace) -> int:
    import json

    from hep_jepa.commands.finetune import load_many
    from hep_jepa.fewshot import FewShotConfig, merge_fewshot, run_fewshot

    if args.merge is not None:
        try:
            parts = [json.loads((folder / "fewshot.json").read_text()) for folder in args.merge]
            merge_fewshot(parts, args.output, allow_different=args.allow_different)
        except (FileNotFoundError, ValueError) as err:
            print(f"hep-jepa fewshot: error: {err}", file=sys.stderr)
            return 1
        print((args.output / "fewshot.md").read_text())
        print(f"merged {len(parts)} parts into {args.output}/fewshot.json, fewshot.md, fewshot.png")
        return 0
    if args.model is None or args.data is None:
        print(
            "hep-jepa fewshot: error: --model and --data are required (or --merge)", file=sys.stderr
        )
        return 2
    try:
        config = FewShotConfig(
            fractions=tuple(args.fractions),
            regimes=tuple(args.regimes),
            seeds=tuple(args.seeds),
            head=args.head,
            probe_head=args.probe_head,
            finetune_head_init=args.finetune_head_init,
            max_epochs=args.epochs,
            early_stopping_patience=args.patience,
            min_steps_per_epoch=args.min_steps_per_epoch,
            batch_size=args.batch_size,
            head_learning_rate=args.head_learning_rate,
            backbone_learning_rate=args.backbone_learning_rate,
            scratch_learning_rate=args.scratch_learning_rate,
            probe_learning_rate=args.probe_learning_rate,
            test_fraction=args.test_fraction,
            validation_fraction=args.validation_fraction,
        )
        jets = load_many(args.data, args.format)
        if args.max_jets_per_class is not None:
            jets = _first_per_class(jets, args.max_jets_per_class)
        test_jets = None if args.test_data is None else load_many(args.test_data, args.format)
        run_fewshot(
            args.model,
            jets,
            test_jets=test_jets,
            config=config,
            output_dir=args.output,
            name=args.name,
            progress=True,
        )
    except (FileNotFoundError, ValueError, ImportError) as err:
        print(f"hep-jepa fewshot: error: {err}", file=sys.stderr)
        return 1
    print((args.output / "fewshot.md").read_text())
    print(f"wrote {args.output}/fewshot.json, fewshot.md, fewshot.png")
    return 0


def _first_per_class(jets: object, limit: int) -> object:
    import awkward as ak
    import numpy as np

    labels = ak.to_numpy(jets["label"])  # type: ignore[index]
    keep = np.concatenate([np.flatnonzero(labels == c)[:limit] for c in np.unique(labels)])
    return jets[np.sort(keep)]  # type: ignore[index]
