"""The ``hep-jepa`` command line.

Each subcommand lives in the module that implements it, which exposes two
functions: ``add_arguments(parser)`` and ``run(args) -> int``. The modules are
imported only when their subcommand runs, so ``hep-jepa --help`` stays fast
(no torch, no transformers).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from hep_jepa import __version__

# name -> (module, one-line help). Modules are imported lazily.
COMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("hep_jepa.commands.generate", "generate labelled jets with Pythia 8 + FastJet"),
    "convert": (
        "hep_jepa.commands.convert",
        "convert jets from any supported format to parquet shards",
    ),
    "pretrain": ("hep_jepa.commands.pretrain", "pretrain a HEP-JEPA encoder on parquet shards"),
    "embed": ("hep_jepa.commands.embed", "embed jets with a pretrained encoder into a .npy file"),
    "finetune": ("hep_jepa.commands.finetune", "fine-tune a jet tagger on labelled jets"),
    "evaluate": ("hep_jepa.commands.evaluate", "evaluate a tagger: metrics JSON and ROC plot"),
    "fewshot": ("hep_jepa.commands.fewshot", "few-shot study: accuracy against label fraction"),
    "push": ("hep_jepa.commands.push", "push a model folder with its card to the Hugging Face Hub"),
    "export-onnx": ("hep_jepa.commands.export_onnx", "export an encoder or tagger to ONNX"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hep-jepa",
        description="HEP-JEPA: a foundation model for jet physics (arXiv:2502.03933).",
    )
    parser.add_argument("--version", action="version", version=f"hep-jepa {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        # The subcommand's own options are added only when it is chosen (see main).
        subparsers.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] not in COMMANDS:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
    name = argv[0]
    module_name, help_text = COMMANDS[name]
    command = argparse.ArgumentParser(prog=f"hep-jepa {name}", description=help_text)
    module = importlib.import_module(module_name)
    module.add_arguments(command)
    args = command.parse_args(argv[1:])
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
