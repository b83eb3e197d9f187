"""Write jets as parquet shards that ``load_jets`` reads back exactly.

A shard set is ``<prefix>-00000.parquet``, ``<prefix>-00001.parquet``, ... in
one folder, each written with ``ak.to_parquet`` (types preserved), plus a
``<prefix>-metadata.json`` sidecar that names the shards, counts the jets and
carries the caller's metadata (source file, format, generator settings, ...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import awkward as ak

__all__ = ["shard_paths", "write_shards"]


def write_shards(
    jets: ak.Array,
    out_dir: str | Path,
    *,
    shard_size: int,
    prefix: str,
    metadata: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Split ``jets`` into parquet files of ``shard_size`` jets each.

    Args:
        jets: Jets in the schema of ``docs/jets.md`` (any awkward array works).
        out_dir: Folder for the shards; created if missing.
        shard_size: Jets per shard (the last one may hold fewer). Must be > 0.
        prefix: File name stem shared by the shards, e.g. ``"jetclass"``.
        metadata: JSON-serialisable facts stored in ``<prefix>-metadata.json``
            under ``"metadata"``. Default: none.
        overwrite: Replace an existing shard set with this prefix (all its
            shards, so no stale ones remain). Default: False, which raises.

    Returns:
        The shard paths in order. Zero jets write no shard.

    Raises:
        ValueError: ``shard_size`` < 1, or ``prefix`` empty or with a path separator.
        FileExistsError: Shards with this prefix exist and ``overwrite`` is False.

    Examples:
        >>> write_shards(jets, "out", shard_size=100_000, prefix="qg")  # doctest: +SKIP
        [PosixPath('out/qg-00000.parquet'), ...]
    """
    if shard_size < 1:
        raise ValueError(f"shard_size must be at least 1, got {shard_size}")
    if not prefix or "/" in prefix or "\\" in prefix:
        raise ValueError(f"prefix must be a plain file name stem, got {prefix!r}")
    out_dir = Path(out_dir)
    metadata_path = out_dir / f"{prefix}-metadata.json"
    existing = shard_paths(out_dir, prefix)
    if existing or metadata_path.exists():
        if not overwrite:
            raise FileExistsError(
                f"{out_dir}: shards with prefix {prefix!r} already exist "
                f"({len(existing)} files); choose another prefix or folder, or overwrite"
            )
        for path in existing:
            path.unlink()
        metadata_path.unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)

    paths = []
    for index, start in enumerate(range(0, len(jets), shard_size)):
        path = out_dir / f"{prefix}-{index:05d}.parquet"
        ak.to_parquet(jets[start : start + shard_size], path)
        paths.append(path)
    sidecar = {
        "n_jets": len(jets),
        "shard_size": shard_size,
        "shards": [path.name for path in paths],
        "metadata": dict(metadata or {}),
    }
    metadata_path.write_text(json.dumps(sidecar, indent=2) + "\n")
    return paths


def shard_paths(out_dir: str | Path, prefix: str) -> list[Path]:
    """The shards ``<prefix>-NNNNN.parquet`` in ``out_dir``, in order."""
    return sorted(
        path
        for path in Path(out_dir).glob(f"{prefix}-*.parquet")
        if path.stem[len(prefix) + 1 :].isdigit()
    )
