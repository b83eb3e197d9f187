"""Where a model name points: a local folder, a model bundled with the package, or the Hub.

Bundled models live in ``hep_jepa/pretrained/<org>--<name>/`` (package data) and are
resolved before any network call, so they load on worker nodes with no network.
Every other name is a Hugging Face Hub repository id and goes through
huggingface_hub, with its cache, revisions, tokens and ``HF_HUB_OFFLINE``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_BUNDLED_DIR = Path(__file__).resolve().parent / "pretrained"


def _bundled_folder(name: str) -> Path:
    return _BUNDLED_DIR / name.replace("/", "--")


def list_pretrained() -> list[str]:
    """Names of the models that ship with the package (loadable with no network)."""
    if not _BUNDLED_DIR.is_dir():
        return []
    return sorted(
        folder.name.replace("--", "/")
        for folder in _BUNDLED_DIR.iterdir()
        if (folder / "config.json").is_file()
    )


def bundled_info(name: str) -> dict[str, Any]:
    """The ``bundled.json`` description of a bundled model (what it is, how it was made)."""
    path = _bundled_folder(name) / "bundled.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def resolve_model_path(name_or_path: str | os.PathLike[str]) -> str:
    """A local folder for local paths and bundled names; the repo id unchanged otherwise."""
    path = Path(name_or_path)
    if path.is_dir():
        return str(path)
    if isinstance(name_or_path, str) and _bundled_folder(name_or_path).is_dir():
        return str(_bundled_folder(name_or_path))
    return str(name_or_path)


def resolve_file(
    name_or_path: str | os.PathLike[str], filename: str, **hub_kwargs: Any
) -> str | None:
    """Local path of `filename` in a model folder, bundled model or Hub repo; None if absent.

    `hub_kwargs` (``revision``, ``cache_dir``, ``token``, ``local_files_only``,
    ``force_download``) are passed to `huggingface_hub.hf_hub_download`.
    """
    resolved = Path(resolve_model_path(name_or_path))
    if resolved.is_dir():
        candidate = resolved / filename
        return str(candidate) if candidate.is_file() else None
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    try:
        return hf_hub_download(str(name_or_path), filename, **hub_kwargs)
    except EntryNotFoundError:
        return None
