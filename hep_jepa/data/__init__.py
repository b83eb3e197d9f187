"""Jet data: readers for the benchmark formats, the Pythia 8 + FastJet generator, shards.

Everything here returns or writes jets in the awkward schema described in
``docs/jets.md``. Submodules are imported lazily: reading parquet needs neither
torch nor Pythia.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "load_jets": "hep_jepa.data.readers",
    "generate": "hep_jepa.data.generate",
    "PROCESSES": "hep_jepa.data.processes",
    "ShardedJetDataset": "hep_jepa.data.dataset",
    "JetCollator": "hep_jepa.data.dataset",
    "find_shards": "hep_jepa.data.dataset",
    "labelled_subset": "hep_jepa.data.dataset",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hep_jepa.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
