"""``hep-jepa convert``: read jets in any supported format, write parquet shards.

Example::

    hep-jepa convert ../shared/realdata/top_tagging shards/top --shard-size 1000
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hep_jepa import __version__


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from hep_jepa.data.readers import FORMATS

    parser.add_argument("input", type=Path, help="file or folder to read")
    parser.add_argument("out_dir", type=Path, help="folder for the parquet shards")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="input format (default: detected from the path)",
    )
    parser.add_argument(
        "--shard-size", type=int, default=100_000, help="jets per shard (default: 100000)"
    )
    parser.add_argument(
        "--prefix", default=None, help="shard file name stem (default: the input's name)"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace shards with the same prefix"
    )


def run(args: argparse.Namespace) -> int:
    from hep_jepa.data.readers import detect_format, load_jets
    from hep_jepa.data.shards import write_shards

    prefix = args.prefix or args.input.resolve().stem
    try:
        fmt = args.format or detect_format(args.input)
        jets = load_jets(args.input, format=fmt)
        paths = write_shards(
            jets,
            args.out_dir,
            shard_size=args.shard_size,
            prefix=prefix,
            overwrite=args.overwrite,
            metadata={
                "source": str(args.input.resolve()),
                "format": fmt,
                "hep_jepa_version": __version__,
            },
        )
    except (FileNotFoundError, FileExistsError, ValueError, ImportError) as err:
        print(f"hep-jepa convert: error: {err}", file=sys.stderr)
        return 1
    print(f"wrote {len(jets)} jets ({fmt}) to {len(paths)} shards in {args.out_dir}/{prefix}-*")
    return 0
