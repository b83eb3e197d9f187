"""Fine-tune a tagger on the first 1500 jets of the real top-tagging sample; evaluate on the rest.

    python examples/finetune_top_tagging.py --model hep-jepa/hep-jepa-tiny --out runs/top

Writes the tagger (save_pretrained), metrics.json and roc.png under --out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hep_jepa import finetune
from hep_jepa.data import load_jets
from hep_jepa.evaluation import evaluation_labels, metrics_from_probabilities, write_evaluation

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "top_tagging"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="hep-jepa/hep-jepa-tiny")
    parser.add_argument("--data", type=Path, default=REALDATA)
    parser.add_argument("--out", type=Path, default=Path("runs/top-tagging"))
    parser.add_argument("--n-train", type=int, default=1500)
    parser.add_argument("--freeze-backbone", action="store_true")
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()

    jets = load_jets(args.data)
    train_jets, test_jets = jets[: args.n_train], jets[args.n_train :]
    tagger = finetune(
        args.model,
        train_jets,
        head="attention",
        freeze_backbone=args.freeze_backbone,
        head_learning_rate=1e-3,
        backbone_learning_rate=5e-4,
        max_epochs=args.epochs,
        early_stopping_patience=3,
        output_dir=args.out / "tagger",
    )
    labels = evaluation_labels(test_jets, int(tagger.config.num_labels or 0))
    probabilities = tagger.predict_proba(test_jets)
    metrics = metrics_from_probabilities(labels, probabilities)
    write_evaluation(
        args.out / "eval",
        metrics,
        labels,
        probabilities,
        name=f"Top tagging (jets {args.n_train}-{len(jets) - 1})",
        class_names={0: "QCD", 1: "top"},
        model_dir=args.out / "tagger",
    )
    print(json.dumps({k: metrics[k] for k in ("accuracy", "auc", "rej30", "rej50")}, indent=2))


if __name__ == "__main__":
    main()
