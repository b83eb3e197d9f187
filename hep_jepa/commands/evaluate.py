"""``hep-jepa evaluate``: a tagger's metrics on labelled jets, as metrics.json and roc.png."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model", required=True, help="tagger: folder, bundled name or Hub repo id"
    )
    parser.add_argument(
        "--data",
        required=True,
        type=Path,
        help="labelled jets in any supported format (parquet shards, weaver npy folder, "
        "JetClass ROOT, top-tagging HDF5, EnergyFlow npz)",
    )
    parser.add_argument("--format", default=None, help="input format, if it cannot be detected")
    parser.add_argument("--out", required=True, type=Path, help="folder for metrics.json, roc.png")
    parser.add_argument("--name", default=None, help="evaluation set name (default: data folder)")
    parser.add_argument(
        "--jets",
        default=None,
        help="evaluate a slice START:STOP of the jets (e.g. 1500: for the last 500)",
    )
    parser.add_argument(
        "--class-names",
        nargs="+",
        default=None,
        help="names of the model's classes in index order, for the plot (e.g. QCD top); "
        "default: the model's id2label, unless it is the placeholder LABEL_k",
    )
    parser.add_argument("--n-bootstrap", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default=None, help="torch device, e.g. cuda:0 (default: cpu)")
    parser.add_argument(
        "--record",
        action="store_true",
        help="also add the metrics to the model folder's eval_results.json (for the model card)",
    )


def run(args: argparse.Namespace) -> int:
    from hep_jepa.classification import HepJepaForJetClassification
    from hep_jepa.commands.finetune import jet_slice
    from hep_jepa.data import load_jets
    from hep_jepa.evaluation import evaluation_labels, metrics_from_probabilities, write_evaluation

    name = args.name or args.data.resolve().name
    try:
        jets = load_jets(args.data, format=args.format)
        jets = jet_slice(jets, args.jets)
        model = HepJepaForJetClassification.from_pretrained(args.model)
        if args.device:
            model.to(args.device)
        labels = evaluation_labels(jets, int(model.config.num_labels or 0))
        probabilities = model.predict_proba(jets, batch_size=args.batch_size, progress=True)
        metrics = metrics_from_probabilities(
            labels, probabilities, n_bootstrap=args.n_bootstrap, seed=args.seed
        )
        paths = write_evaluation(
            args.out,
            metrics,
            labels,
            probabilities,
            name=name,
            class_names=_class_names(args.class_names, model.config.id2label),
            model_dir=args.model if args.record else None,
        )
    except (FileNotFoundError, ValueError, ImportError) as err:
        print(f"hep-jepa evaluate: error: {err}", file=sys.stderr)
        return 1
    summary = {k: metrics[k] for k in ("accuracy", "auc", "rej30", "rej50")}
    print(json.dumps({"data": name, "n_jets": metrics["n_jets"], **summary}))
    print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0


def _class_names(given: list[str] | None, id2label: dict[Any, str] | None) -> dict[int, str]:
    if given:
        return dict(enumerate(given))
    names = {int(k): v for k, v in (id2label or {}).items()}
    return {k: v for k, v in names.items() if v != f"LABEL_{k}"}
