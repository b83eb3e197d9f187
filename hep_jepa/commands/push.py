"""``hep-jepa push``: upload a saved model folder, with a model card, to the Hugging Face Hub."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        required=True,
        type=Path,
        help="model folder written by save_pretrained (eval_results.json, training_info.json "
        "and roc.png beside the weights go into the card)",
    )
    parser.add_argument("--repo", required=True, help="Hub repo id, ORG/NAME")
    parser.add_argument(
        "--private", action="store_true", help="create the repo as private (if it is new)"
    )
    parser.add_argument("--revision", default=None, help="branch to push to (default: main)")
    parser.add_argument("--message", default=None, help="commit message")
    parser.add_argument(
        "--token", default=None, help="Hub token (default: HF_TOKEN or `hf auth login`)"
    )


def run(args: argparse.Namespace) -> int:
    if not (args.model / "config.json").is_file():
        print(f"error: {args.model} is not a saved model folder (no config.json)", file=sys.stderr)
        return 2
    import hep_jepa
    from hep_jepa.modeling import HepJepaModel, HepJepaPreTrainedModel

    config = json.loads((args.model / "config.json").read_text())
    # The class that saved the folder (tagger, encoder, pretraining model), by its name.
    saved_as = getattr(hep_jepa, (config.get("architectures") or ["HepJepaModel"])[0], None)
    model_class: type[HepJepaPreTrainedModel] = HepJepaModel
    if isinstance(saved_as, type) and issubclass(saved_as, HepJepaPreTrainedModel):
        model_class = saved_as
    try:
        model = model_class.from_pretrained(str(args.model))
        commit = model.push_to_hub(
            args.repo,
            private=args.private or None,
            revision=args.revision,
            commit_message=args.message,
            token=args.token,
        )
    except (OSError, ValueError) as error:  # PermissionError is an OSError
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"pushed {args.model} to {args.repo} (commit {commit.oid}): {commit}")
    return 0
