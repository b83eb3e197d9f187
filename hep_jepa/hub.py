"""Where a model name points: a local folder, a model bundled with the package, or the Hub.

Bundled models live in ``hep_jepa/pretrained/<org>--<name>/`` (package data) and are
resolved before any network call, so they load on worker nodes with no network.
Every other name is a Hugging Face Hub repository id and goes through
huggingface_hub, with its cache, revisions, tokens and ``HF_HUB_OFFLINE``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
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
    """A local folder for local paths and bundled names; the repo id unchanged otherwise.

    Raises:
        OSError: a local or bundled folder whose weights are pickle-only or corrupted (see
            `check_checkpoint_folder`).
    """
    path = Path(name_or_path)
    if (
        isinstance(name_or_path, str)
        and not path.is_dir()
        and _bundled_folder(name_or_path).is_dir()
    ):
        path = _bundled_folder(name_or_path)
    if path.is_dir():
        # Refuse pickle-only or corrupted weights here, with a message that says what to do.
        check_checkpoint_folder(path)
        return str(path)
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


# -- checkpoints: safetensors only ---------------------------------------------------------------

SAFETENSORS_NAME = "model.safetensors"
SAFETENSORS_INDEX_NAME = "model.safetensors.index.json"
# Weight files that can only be read by unpickling (which can run arbitrary code).
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


def _pickle_refusal(where: str, pickles: list[str]) -> OSError:
    return OSError(
        f"{where} holds weights only as pickle files ({', '.join(sorted(pickles)[:3])}); "
        "hep-jepa loads safetensors only and never unpickles, because unpickling can run "
        "arbitrary code. If you trust the file, convert it once: load the state dict with "
        "torch.load(path, weights_only=True), then model.load_state_dict(...) and "
        "model.save_pretrained(folder), which writes model.safetensors."
    )


def check_safetensors_file(path: str | os.PathLike[str]) -> None:
    """Raise OSError if `path` is not a complete safetensors file (bad header or truncated).

    Reads only the header: an 8-byte little-endian length, a JSON table of tensors with their
    byte ranges, then the data, whose size must match the table exactly.
    """
    path = Path(path)
    size = path.stat().st_size

    def corrupted(reason: str) -> OSError:
        return OSError(
            f"{path} is not a valid safetensors file ({reason}): it is corrupted or was not "
            "downloaded completely. Download it again (force_download=True for a Hub model) "
            "or save the model again with save_pretrained."
        )

    with path.open("rb") as file:
        prefix = file.read(8)
        if len(prefix) < 8:
            raise corrupted(f"only {size} bytes")
        header_size = int.from_bytes(prefix, "little")
        if header_size > size - 8:
            raise corrupted(f"header of {header_size} bytes in a file of {size}")
        try:
            header = json.loads(file.read(header_size))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise corrupted("the header is not JSON") from None
    if not isinstance(header, dict):
        raise corrupted("the header is not a table of tensors")
    try:
        data_end = max(
            (
                int(entry["data_offsets"][1])
                for key, entry in header.items()
                if key != "__metadata__"
            ),
            default=0,
        )
    except (KeyError, TypeError, ValueError, IndexError):
        raise corrupted("the header has no valid byte ranges") from None
    if data_end != size - 8 - header_size:
        raise corrupted(
            f"{size - 8 - header_size} bytes of tensor data where the header lists {data_end}"
        )


def check_checkpoint_folder(folder: str | os.PathLike[str]) -> None:
    """Refuse a model folder whose weights are pickle-only or whose safetensors are corrupted.

    A folder without any weights passes: transformers then says which file it looked for.
    """
    folder = Path(folder)
    index = folder / SAFETENSORS_INDEX_NAME
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text()).get("weight_map", {}).values()))
        for shard in shards:
            if (folder / shard).is_file():
                check_safetensors_file(folder / shard)
        return
    if (folder / SAFETENSORS_NAME).is_file():
        check_safetensors_file(folder / SAFETENSORS_NAME)
        return
    pickles = [p.name for p in folder.iterdir() if p.is_file() and p.suffix in PICKLE_SUFFIXES]
    if pickles:
        raise _pickle_refusal(f"the model folder {folder}", pickles)


def check_checkpoint(name_or_path: str | os.PathLike[str], **hub_kwargs: Any) -> None:
    """Check before loading that a folder, bundled name or Hub repo has usable safetensors.

    For a Hub repo this downloads (or finds in the cache) ``model.safetensors`` or its index
    at the requested ``revision``, as loading would, and checks it; a repo with pickle weights
    only is refused without downloading them. `hub_kwargs` as for `resolve_file`.

    Raises:
        OSError: pickle-only weights, a corrupted or truncated safetensors file, or (from
            huggingface_hub) a repo that cannot be found or reached.
    """
    resolved = Path(resolve_model_path(name_or_path))
    if resolved.is_dir():
        check_checkpoint_folder(resolved)
        return
    repo_id = str(name_or_path)
    weights = resolve_file(repo_id, SAFETENSORS_NAME, **hub_kwargs)
    if weights is not None:
        check_safetensors_file(weights)
        return
    index = resolve_file(repo_id, SAFETENSORS_INDEX_NAME, **hub_kwargs)
    if index is not None:
        for shard in sorted(set(json.loads(Path(index).read_text())["weight_map"].values())):
            shard_path = resolve_file(repo_id, shard, **hub_kwargs)
            if shard_path is not None:
                check_safetensors_file(shard_path)
        return
    from huggingface_hub import HfApi

    with hub_errors(repo_id, "read"):
        files = HfApi().list_repo_files(
            repo_id, revision=hub_kwargs.get("revision"), token=hub_kwargs.get("token")
        )
    pickles = [name for name in files if Path(name).suffix in PICKLE_SUFFIXES]
    if pickles:
        raise _pickle_refusal(f"the Hub repo {repo_id}", pickles)
    raise OSError(
        f"the Hub repo {repo_id} has no {SAFETENSORS_NAME}: it is not a hep-jepa model "
        f"(files: {', '.join(sorted(files)[:8]) or 'none'})."
    )


# -- pushing ---------------------------------------------------------------------------------------


@contextmanager
def hub_errors(repo_id: str, action: str) -> Iterator[None]:
    """Turn huggingface_hub and HTTP errors into one clear OSError / PermissionError.

    `action` completes "cannot {action} {repo_id}", e.g. ``"push to"``.
    """
    import httpx
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    endpoint = constants.ENDPOINT
    prefix = f"cannot {action} {repo_id} on the Hub at {endpoint}"
    try:
        yield
    except OfflineModeIsEnabled:
        raise OSError(
            f"{prefix}: HF_HUB_OFFLINE=1 is set. Unset it (on a machine with network) to use the Hub."
        ) from None
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        server_message = getattr(error, "server_message", None) or ""
        detail = f" (HTTP {status}: {server_message})" if server_message else f" (HTTP {status})"
        if status == 401:
            raise PermissionError(
                f"{prefix}: the Hub did not accept the token{detail}. Log in with `hf auth login`, "
                "set HF_TOKEN, or pass token=... with a token that has write access."
            ) from None
        if status == 403:
            raise PermissionError(
                f"{prefix}: the token has no write access to it{detail}. Use a token with write "
                "access to that namespace (a fine-grained token needs 'write' on the repo)."
            ) from None
        if isinstance(error, RevisionNotFoundError):
            raise OSError(f"{prefix}: the revision does not exist{detail}.") from None
        if isinstance(error, RepositoryNotFoundError):
            raise OSError(
                f"{prefix}: no such repository{detail}. Check the name (ORG/NAME) and, for a "
                "private repo, that you are logged in."
            ) from None
        raise OSError(f"{prefix}{detail}.") from None
    except (httpx.HTTPError, ConnectionError) as error:
        raise OSError(
            f"{prefix}: the Hub is not reachable ({type(error).__name__}: {error}). Check the "
            "network, or HF_ENDPOINT if you use a mirror."
        ) from None


def _require_token(token: bool | str | None, repo_id: str) -> None:
    from huggingface_hub import constants, get_token

    if token is False or (not isinstance(token, str) and get_token() is None):
        raise PermissionError(
            f"cannot push to {repo_id} on the Hub at {constants.ENDPOINT}: no Hugging Face "
            "token. Log in with `hf auth login`, set HF_TOKEN, or pass token=... (a token with "
            "write access)."
        )


def push_folder(
    folder: str | os.PathLike[str],
    repo_id: str,
    *,
    token: bool | str | None = None,
    private: bool | None = None,
    revision: str | None = None,
    commit_message: str | None = None,
    commit_description: str | None = None,
    create_pr: bool = False,
) -> Any:
    """Upload every file of `folder` to Hub model repo `repo_id` in one commit.

    The repo is created if needed (``private`` applies only then); a ``revision`` branch is
    created from ``main`` if it does not exist.

    Returns:
        `huggingface_hub.CommitInfo` (a str: the commit URL; ``.oid`` is the commit sha).

    Raises:
        PermissionError: no token, or a token without write access.
        OSError: the Hub is unreachable, offline mode, or another refusal, with the reason.
    """
    from huggingface_hub import HfApi

    _require_token(token, repo_id)
    api = HfApi()
    with hub_errors(repo_id, "push to"):
        repo_id = api.create_repo(repo_id, private=private, token=token, exist_ok=True).repo_id
        if revision is not None and revision != "main" and not revision.startswith("refs/pr"):
            api.create_branch(repo_id, branch=revision, token=token, exist_ok=True)
        return api.upload_folder(
            repo_id=repo_id,
            folder_path=str(folder),
            commit_message=commit_message or "Upload hep-jepa model",
            commit_description=commit_description,
            token=token,
            revision=revision,
            create_pr=create_pr,
        )
