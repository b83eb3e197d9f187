"""Linear probes on frozen embeddings: how much does an encoder know about the jet classes?

    python examples/probe_embeddings.py --model runs/tiny --data data/test/QCD data/test/Tbqq
    python examples/probe_embeddings.py --model runs/tiny --random-baseline --data ../shared/realdata/top_tagging

For each model: embed the jets, then 5-fold cross-validated logistic regression (scikit-learn,
standardised inputs) on the embeddings; prints accuracy and AUC (mean ± std over folds) and
the per-dimension spread of the embeddings. `--random-baseline` adds a randomly initialised
encoder with the first model's config (seed 0; `--random-seeds 0 1 2` for several),
the baseline a pretrained encoder must beat.
"""

from __future__ import annotations

import argparse

import awkward as ak
import numpy as np
import torch


def probe(embeddings: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from hep_jepa.metrics import accuracy, auc

    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    accuracies, aucs = [], []
    for train, test in folds.split(embeddings, labels):
        classifier.fit(embeddings[train], labels[train])
        scores = classifier.predict_proba(embeddings[test])
        accuracies.append(accuracy(labels[test], scores))
        if scores.shape[1] == 2:
            aucs.append(auc(labels[test], scores[:, 1]))
    result = {"accuracy": float(np.mean(accuracies)), "accuracy_std": float(np.std(accuracies))}
    if aucs:
        result |= {"auc": float(np.mean(aucs)), "auc_std": float(np.std(aucs))}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", nargs="+", required=True)
    parser.add_argument("--data", nargs="+", required=True)
    parser.add_argument("--random-baseline", action="store_true")
    parser.add_argument(
        "--random-seeds", type=int, nargs="+", default=[0], help="seeds of the random encoders"
    )
    parser.add_argument("--max-jets", type=int, default=None)
    parser.add_argument(
        "--substructure",
        action="store_true",
        help="add the same probe on five substructure observables (mass, multiplicity, width, "
        "tau21, tau32)",
    )
    parser.add_argument("--jet-radius", type=float, default=0.8, help="for --substructure")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args()

    from hep_jepa import HepJepaModel
    from hep_jepa.data import load_jets

    jets = ak.concatenate([load_jets(path) for path in args.data])
    if args.max_jets:
        jets = jets[np.random.default_rng(0).permutation(len(jets))[: args.max_jets]]
    labels = np.asarray(jets.label)
    _, labels = np.unique(labels, return_inverse=True)
    models = {name: HepJepaModel.from_pretrained(name) for name in args.model}
    if args.random_baseline:
        first = models[args.model[0]]
        for seed in args.random_seeds:
            torch.manual_seed(seed)
            baseline = HepJepaModel(first.config)
            baseline.set_processor(first.processor)
            models[f"random init (same config, seed {seed})"] = baseline
    print(f"{len(jets)} jets, classes {np.bincount(labels).tolist()}")
    results = {}
    for name, model in models.items():
        embeddings = model.embed(jets, batch_size=256)
        result = probe(embeddings, labels)
        results[name] = result
        spread = embeddings.std(0)
        text = f"accuracy {result['accuracy']:.4f} ± {result['accuracy_std']:.4f}"
        if "auc" in result:
            text += f", AUC {result['auc']:.4f} ± {result['auc_std']:.4f}"
        print(f"{name}: {text}; per-dimension std min {spread.min():.3f}, mean {spread.mean():.3f}")
    if args.substructure:
        from hep_jepa.substructure import substructure_features

        result = probe(substructure_features(jets, jet_radius=args.jet_radius), labels)
        results["substructure (5 observables)"] = result
        text = f"accuracy {result['accuracy']:.4f} ± {result['accuracy_std']:.4f}"
        if "auc" in result:
            text += f", AUC {result['auc']:.4f} ± {result['auc_std']:.4f}"
        print(f"substructure (5 observables): {text}")
    if args.json:
        import json

        summary = {"data": args.data, "n_jets": len(jets), "results": results}
        with open(args.json, "w") as stream:
            json.dump(summary, stream, indent=1)


if __name__ == "__main__":
    main()
