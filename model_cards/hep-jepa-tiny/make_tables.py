"""Print the card's tables (markdown) from the JSON the recipe writes.

    python model_cards/hep-jepa-tiny/make_tables.py

Reads probes/*.json (examples/probe_embeddings.py --json) and fewshot/fewshot.json
(hep-jepa fewshot) next to this file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
PROBES = [
    ("generated-top-vs-qcd", "generated QCD vs Tbqq (this project's test set)"),
    ("generated-5-class", "generated, 5 classes (QCD, Hbb, Zqq, Wqq, Tbqq)"),
    ("real-top_tagging", "real: Top Tagging sample (Delphes ATLAS), top vs QCD"),
    ("real-quark_gluon", "real: EnergyFlow quark vs gluon (no detector, R = 0.4)"),
    ("real-jetclass", "real: JetClass (Delphes CMS), 10 classes"),
]


def _cell(result: dict) -> str:
    text = f"{result['accuracy']:.3f} ± {result['accuracy_std']:.3f}"
    return text + (f" (AUC {result['auc']:.3f})" if "auc" in result else "")


def probe_table() -> str:
    lines = [
        "| data | jets | hep-jepa-tiny | random init, seeds 0 / 1 / 2 | substructure (5 observables) |",
        "|---|---:|---|---|---|",
    ]
    for key, title in PROBES:
        data = json.loads((HERE / "probes" / f"{key}.json").read_text())
        results = data["results"]
        model = next(v for k, v in results.items() if not k.startswith(("random", "substructure")))
        randoms = [v for k, v in results.items() if k.startswith("random")]
        text = " / ".join(f"{r['accuracy']:.3f}" for r in randoms)
        if "auc" in randoms[0]:
            text += " (AUC " + " / ".join(f"{r['auc']:.3f}" for r in randoms) + ")"
        substructure = _cell(results["substructure (5 observables)"])
        lines.append(f"| {title} | {data['n_jets']} | {_cell(model)} | {text} | {substructure} |")
    return "\n".join(lines)


def fewshot_table() -> str:
    result = json.loads((HERE / "fewshot" / "fewshot.json").read_text())
    runs = result["runs"]
    regimes = ["scratch", "probe", "finetune", "substructure"]
    titles = ["from scratch", "frozen probe", "fine-tuned", "substructure MLP"]
    lines = [
        "| label fraction | labelled jets | "
        + " | ".join(titles)
        + " | fine-tuned − scratch | probe − scratch |",
        "|---|---:|" + "---|" * (len(regimes) + 2),
    ]
    for fraction in result["config"]["fractions"]:
        cells, by_seed = [], {}
        for regime in regimes:
            selected = sorted(
                (r for r in runs if r["regime"] == regime and r["fraction"] == fraction),
                key=lambda r: r["seed"],
            )
            values = np.array([r["accuracy"] for r in selected])
            by_seed[regime] = values
            cells.append(f"{values.mean():.3f} ± {values.std(ddof=1):.3f}")
            n_labelled = selected[0]["n_labelled"]
        for regime in ("finetune", "probe"):
            gain = 100 * (by_seed[regime] - by_seed["scratch"])  # paired by seed
            cells.append(f"{gain.mean():+.1f} ± {gain.std(ddof=1):.1f} pts")
        lines.append(f"| {100 * fraction:g} % | {n_labelled} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(probe_table())
    print()
    if (HERE / "fewshot" / "fewshot.json").is_file():
        print(fewshot_table())
