"""Evaluate a jet tagger, record its results next to the weights, and push it with its card.

    python examples/push_tagger.py --repo my-group/top-tagger        # needs a Hub token
    python examples/push_tagger.py --out runs/toy-tagger --dry-run   # writes the folder and card only

The tagger here is the bundled random encoder with a fresh head, scored on toy jets, so the
numbers mean nothing: swap in your fine-tuned model and real test data. See docs/sharing.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quickstart import toy_jets  # the example next to this one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default="my-group/toy-tagger", help="Hub repo id, ORG/NAME")
    parser.add_argument("--out", type=Path, default=Path("runs/toy-tagger"))
    parser.add_argument("--private", action="store_true")
    parser.add_argument("--dry-run", action="store_true", help="write the card, do not push")
    args = parser.parse_args()

    from hep_jepa import HepJepaForJetClassification
    from hep_jepa.metrics import evaluate_scores
    from hep_jepa.model_card import write_card_folder, write_eval_results, write_training_info
    from hep_jepa.plotting import plot_roc

    base_model = "hep-jepa/hep-jepa-tiny"
    tagger = HepJepaForJetClassification.from_pretrained(base_model, num_labels=2, head="mlp")
    tagger.config.id2label, tagger.config.label2id = {0: "QCD", 1: "top"}, {"QCD": 0, "top": 1}
    # ... fine-tune here (hep-jepa finetune, or a transformers Trainer) ...

    jets = toy_jets(n_jets=400, seed=1)
    labels = np.random.default_rng(1).integers(0, 2, len(jets))
    probabilities = tagger.predict_proba(jets)

    # What the card is built from lives next to the weights (format: docs/sharing.md).
    tagger.save_pretrained(args.out)
    metrics = evaluate_scores(labels, probabilities, n_bootstrap=20)
    write_eval_results(args.out, {"toy_test": {**metrics, "num_jets": len(jets)}})
    plot_roc({"toy tagger": (labels, probabilities[:, 1])}, args.out / "roc.png", label="toy jets")
    write_training_info(
        args.out,
        {
            "description": "Example only: a random encoder with an untrained head.",
            "base_model": base_model,
            "datasets": ["toy-jets"],
            "objective": "none (untrained)",
        },
    )

    if args.dry_run:
        write_card_folder(tagger, args.out, repo_id=args.repo, source=args.out)
        print(
            f"wrote {args.out}/README.md; push it with: hep-jepa push --model {args.out} --repo {args.repo}"
        )
        return
    reloaded = HepJepaForJetClassification.from_pretrained(str(args.out))  # picks up the results
    commit = reloaded.push_to_hub(args.repo, private=args.private or None)
    print(f"pushed {args.repo} at commit {commit.oid}: {commit}")


if __name__ == "__main__":
    main()
