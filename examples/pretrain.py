"""Pretrain a small HEP-JEPA encoder on parquet shards, then look at its embeddings.

    python examples/pretrain.py --data data/pretrain --output runs/example --max-steps 300

Any folder of parquet shards works (`hep-jepa generate` or `hep-jepa convert` make them).
Prints the loss and the collapse monitors every 50 steps, then the per-dimension spread of
the embeddings of a few jets: a healthy encoder keeps it well above zero. The run folder
also gets `pretraining.png` (loss and spread curves).
"""

from __future__ import annotations

import argparse

from hep_jepa import HepJepaModel
from hep_jepa.data import load_jets
from hep_jepa.pretrain import PretrainingArguments, pretrain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", required=True)
    parser.add_argument("--output", default="runs/example")
    parser.add_argument("--config", default="tiny")
    parser.add_argument("--max-steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    training = PretrainingArguments(
        output_dir=args.output,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        learning_rate=5e-4,
        logging_steps=50,
    )
    pretrain(  # the settings of hep-jepa/hep-jepa-tiny (model_cards/hep-jepa-tiny/recipe.sh)
        args.data,
        args.config,
        training,
        masking="block",
        num_target_blocks=4,
        target_block_fraction=0.15,
        jet_loss_weight=1.0,  # the pooled context embedding predicts the whole jet's
        variance_weight=1.0,  # VICReg terms on every context token keep the embedding
        covariance_weight=0.04,  # spread out (see docs/pretraining.md)
        regularization_level="token",
        observable_loss_weight=1.0,  # and linearly regresses six substructure observables
    )

    encoder = HepJepaModel.from_pretrained(args.output)
    jets = load_jets(args.data[0])[:512]
    embeddings = encoder.embed(jets)
    print(
        f"embeddings of {len(jets)} jets: shape {embeddings.shape}, per-dimension std "
        f"min {embeddings.std(0).min():.3f} / mean {embeddings.std(0).mean():.3f}"
    )


if __name__ == "__main__":
    main()
