"""The shipped default model, hep-jepa/hep-jepa-tiny: pretrained weights, not a placeholder."""

from __future__ import annotations

import numpy as np
import torch

from hep_jepa import HepJepaModel
from hep_jepa.data import load_jets

DEFAULT = "hep-jepa/hep-jepa-tiny"


def test_default_model_is_trained_and_not_the_random_one():
    model = HepJepaModel.from_pretrained(DEFAULT)
    random_init = HepJepaModel.from_pretrained("hep-jepa/random-init-tiny")
    assert model.config.hidden_size == random_init.config.hidden_size == 64
    trained = dict(model.named_parameters())
    differs = [
        name
        for name, value in random_init.named_parameters()
        if not torch.allclose(value, trained[name])
    ]
    assert len(differs) == len(trained)  # every tensor moved away from any initialisation
    assert model.config.variance_weight > 0  # the recipe of the card
    assert model.config.observable_loss_weight > 0


def test_default_model_embeds_real_top_tagging_jets(realdata_dir):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    jets = load_jets(realdata_dir / "top_tagging")
    embeddings = HepJepaModel.from_pretrained(DEFAULT).embed(jets)
    assert embeddings.shape == (len(jets), 64) and np.isfinite(embeddings).all()
    assert embeddings.std(axis=0).min() > 0.1  # no collapsed dimension
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    accuracy = cross_val_score(probe, embeddings, np.asarray(jets.label), cv=5).mean()
    # The card reports 0.90 (5-fold); a broken processor or weights fall far below.
    assert accuracy > 0.87


def test_card_tables_are_the_ones_its_results_give():
    """The card's probe and few-shot tables are printed from the JSON next to it."""
    import subprocess
    import sys
    from pathlib import Path

    card = Path(__file__).resolve().parents[1] / "model_cards" / "hep-jepa-tiny"
    printed = subprocess.run(
        [sys.executable, str(card / "make_tables.py")], capture_output=True, text=True, check=True
    ).stdout
    text = (card / "README.md").read_text()
    rows = [line for line in printed.splitlines() if line.startswith("|")]
    assert len(rows) >= 12 and all(row in text for row in rows)
    assert (card / "fewshot" / "fewshot.png").is_file() and (card / "pretraining.png").is_file()
