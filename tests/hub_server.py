"""A test-only Hugging Face Hub on 127.0.0.1: olah for reads, a small write front for pushes.

Reads are served by `olah <https://pypi.org/project/olah/>`_ out of plain git repositories under
``<root>/mirrors/models/<org>/<name>``. olah cannot accept uploads, so :class:`WriteFront` sits
in front of it. It implements the Hub's repo-creation, pre-upload and commit endpoints by
committing to the same git repositories, answers the few requests olah gets wrong (repo info
without a revision, missing files and revisions) and forwards everything else to olah.

Test-only by design: one shared token, every file stored as a regular git blob (no LFS, no
Xet), no pull requests, no deletions. It listens on loopback only; never use it for anything
but tests.

``HF_ENDPOINT`` is read when huggingface_hub is imported, so client code runs in a fresh
interpreter (:func:`run_client`) with :meth:`LocalHub.client_env` in its environment.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

HOST = "127.0.0.1"

# Commits must not depend on the user's git configuration (signing, hooks, identity).
_GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "hep-jepa tests",
    "GIT_AUTHOR_EMAIL": "tests@localhost",
    "GIT_COMMITTER_NAME": "hep-jepa tests",
    "GIT_COMMITTER_EMAIL": "tests@localhost",
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Git mirror repositories
# ---------------------------------------------------------------------------------------------


def git(
    repo: Path, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None
) -> str:
    """Run ``git -C repo *args`` and return its stripped stdout; raise with stderr on failure."""
    result = subprocess.run(
        ["git", "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        env={**os.environ, **_GIT_ENV, **(env or {})},
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {repo}:\n{result.stderr.decode()}")
    return result.stdout.decode().strip()


def mirror_path(mirrors: Path, repo_id: str) -> Path:
    """Where olah looks for the git repository of model ``repo_id`` (``org/name``)."""
    org, name = repo_id.split("/")
    return mirrors / "models" / org / name


def init_mirror_repo(mirrors: Path, repo_id: str) -> Path:
    """Create an empty git repository (branch ``main``) for model ``repo_id``."""
    repo = mirror_path(mirrors, repo_id)
    repo.mkdir(parents=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    return repo


def resolve_revision(repo: Path, revision: str) -> str | None:
    """The commit sha that ``revision`` (branch, tag or sha) names in ``repo``, or None."""
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except RuntimeError:
        return None


def has_file(repo: Path, commit: str, path: str) -> bool:
    """Whether ``path`` is a file in ``commit``."""
    try:
        return git(repo, "cat-file", "-t", f"{commit}:{path}") == "blob"
    except RuntimeError:
        return False


def commit_files(
    repo: Path,
    files: Mapping[str, bytes],
    *,
    message: str,
    branch: str = "main",
    replace: bool = False,
) -> str:
    """Commit ``files`` (path in repo -> content) on ``branch`` and return the new commit sha.

    The commit is built with git plumbing in a private index, so other branches and tags never
    move. With ``replace=True`` the commit holds exactly ``files``; otherwise they are added to
    (or overwrite files in) the branch's current tree.
    """
    parent = resolve_revision(repo, f"refs/heads/{branch}")
    with tempfile.TemporaryDirectory() as scratch:
        index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        if parent is not None and not replace:
            git(repo, "read-tree", parent, env=index)
        for path, content in files.items():
            blob = git(repo, "hash-object", "-w", "--stdin", stdin=content)
            git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=index)
        tree = git(repo, "write-tree", env=index)
    parent_args = ["-p", parent] if parent is not None else []
    commit = git(repo, "commit-tree", tree, *parent_args, "-m", message)
    # The old value makes the ref update fail rather than lose a concurrent commit.
    git(repo, "update-ref", f"refs/heads/{branch}", commit, parent or "")
    if git(repo, "symbolic-ref", "HEAD") == f"refs/heads/{branch}":
        git(repo, "reset", "--quiet", "--hard")  # keep the work tree readable for people
    return commit


def publish_folder(
    mirrors: Path,
    folder: str | os.PathLike[str],
    repo_id: str,
    *,
    tag: str | None = None,
    message: str | None = None,
) -> str:
    """Commit the files of ``folder`` as the new ``main`` of model ``repo_id``; return the sha.

    The repository is created if needed; the commit holds exactly the folder's files. With
    ``tag``, a git tag of that name points at the new commit.
    """
    folder = Path(folder)
    repo = mirror_path(mirrors, repo_id)
    if not repo.exists():
        init_mirror_repo(mirrors, repo_id)
    files = {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    commit = commit_files(repo, files, message=message or f"Publish {folder.name}", replace=True)
    if tag is not None:
        git(repo, "tag", tag, commit)
    return commit


# ---------------------------------------------------------------------------------------------
# olah
# ---------------------------------------------------------------------------------------------


def write_olah_config(root: Path, *, port: int, mirrors: Path) -> Path:
    """Write ``root/olah.toml``: loopback, offline, serving the git repositories in ``mirrors``."""
    netloc = f"{HOST}:{port}"
    config = root / "olah.toml"
    config.write_text(
        "[basic]\n"
        f'host = "{HOST}"\n'
        f"port = {port}\n"
        f'repos-path = "{(root / "olah-cache").as_posix()}"\n'
        f'mirrors-path = ["{mirrors.as_posix()}"]\n'
        f'mirror-netloc = "{netloc}"\n'
        f'mirror-lfs-netloc = "{netloc}"\n'
        "\n[accessibility]\n"
        "offline = true\n"
    )
    return config


def _olah_command() -> str:
    beside_python = Path(sys.executable).with_name("olah-cli")
    found = str(beside_python) if beside_python.exists() else shutil.which("olah-cli")
    if found is None:
        raise FileNotFoundError("olah-cli not found: pip install olah (part of the test extras)")
    return found


def _answers_http(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", "/api/models/-/-/refs")
        connection.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        connection.close()


class OlahServer:
    """An ``olah-cli`` subprocess on a fixed loopback port, serving ``mirrors`` offline."""

    def __init__(self, root: Path, mirrors: Path) -> None:
        self.root = root
        self.port = free_port()
        self.config = write_olah_config(root, port=self.port, mirrors=mirrors)
        self.log = root / "olah.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None

    def start(self, timeout: float = 60.0) -> None:
        """Start olah (same port and repositories on a restart) and wait until it answers."""
        if self._process is not None:
            return
        command = [_olah_command(), "-c", str(self.config), "--log-path", str(self.root / "logs")]
        with self.log.open("ab") as log:
            # olah writes relative paths (its default log folder) under its working directory.
            self._process = subprocess.Popen(command, cwd=self.root, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while not _answers_http(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"olah did not start on {self.url}; log tail:\n{tail}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None


# ---------------------------------------------------------------------------------------------
# The write front
# ---------------------------------------------------------------------------------------------

_REPO = r"(?P<repo>[^/]+/[^/]+)"
_REV = r"(?P<rev>[^/]+)"
_CREATE = re.compile(r"/api/repos/create")
_VALIDATE_YAML = re.compile(r"/api/validate-yaml")
_PREUPLOAD = re.compile(rf"/api/models/{_REPO}/preupload/{_REV}")
_COMMIT = re.compile(rf"/api/models/{_REPO}/commit/{_REV}")
_BRANCH = re.compile(rf"/api/models/{_REPO}/branch/{_REV}")
_INFO = re.compile(rf"/api/models/{_REPO}(?:/revision/{_REV})?")
_RESOLVE = re.compile(rf"/{_REPO}/resolve/{_REV}/(?P<path>.+)")

_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}

_GITATTRIBUTES = b"# Test Hub: every file is a regular git blob (no LFS).\n"


class HubError(Exception):
    """An error answer in the Hub's style: status, JSON body and ``X-Error-*`` headers."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    front: WriteFront


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._dispatch({_INFO: self._repo_info, _RESOLVE: self._resolve})

    def do_HEAD(self) -> None:
        self._dispatch({_INFO: self._repo_info, _RESOLVE: self._resolve})

    def do_POST(self) -> None:
        self._dispatch(
            {
                _CREATE: self._create_repo,
                _VALIDATE_YAML: self._validate_yaml,
                _PREUPLOAD: self._preupload,
                _COMMIT: self._commit,
                _BRANCH: self._create_branch,
            }
        )

    def do_PUT(self) -> None:
        self._proxy()

    def do_DELETE(self) -> None:
        self._proxy()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.server.front.requests.append((self.command, self.path, int(code)))

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the test output stays clean; :attr:`WriteFront.requests` keeps the record."""

    # -- plumbing ----------------------------------------------------------------------------

    def _dispatch(self, routes: Mapping[re.Pattern[str], Any]) -> None:
        path = urlsplit(self.path).path  # revisions arrive quoted ("refs%2Fpr%2F1")
        for pattern, handle in routes.items():
            match = pattern.fullmatch(path)
            if match is None:
                continue
            try:
                handle(**{key: unquote(value) for key, value in match.groupdict().items() if value})
            except HubError as error:
                self._send_error(error)
            except Exception as error:  # answer, rather than drop the connection
                self._send_error(HubError(500, f"Test Hub failure: {error!r}"))
            return
        self._proxy()

    def _query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _send(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, payload: Any, status: int = 200) -> None:
        self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    def _send_error(self, error: HubError) -> None:
        headers = {"Content-Type": "application/json", "X-Error-Message": error.message}
        if error.code is not None:
            headers["X-Error-Code"] = error.code
        self._send(error.status, json.dumps({"error": error.message}).encode(), headers)

    def _proxy(self, path: str | None = None) -> None:
        """Forward the request to olah and its answer back, byte for byte."""
        front = self.server.front
        body = self._body()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP | {"host"}}
        connection = http.client.HTTPConnection(HOST, front.olah_port, timeout=120)
        try:
            connection.request(self.command, path or self.path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        except OSError as error:
            self._send_error(HubError(502, f"olah at {front.olah_url} is not reachable: {error}"))
            return
        finally:
            connection.close()
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in _HOP_BY_HOP | {"content-length", "date", "server"}:
                self.send_header(key, value)
        length = response.getheader("Content-Length") if self.command == "HEAD" else None
        self.send_header("Content-Length", length or str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    # -- helpers shared by the routes --------------------------------------------------------

    def _existing_repo(self, repo_id: str) -> Path:
        repo = mirror_path(self.server.front.mirrors, repo_id)
        if not repo.is_dir():
            raise HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def _require_token(self) -> None:
        authorization = self.headers.get("Authorization")
        if authorization is None:
            raise HubError(401, "A token is required to write to the test Hub")
        if authorization != f"Bearer {self.server.front.token}":
            raise HubError(401, "Invalid credentials in Authorization header")

    def _refuse_pull_requests(self) -> None:
        if self._query().get("create_pr", ["0"])[0] not in ("0", "false", "False"):
            raise HubError(400, "The test Hub does not support pull requests")

    # -- routes ------------------------------------------------------------------------------

    def _repo_info(self, repo: str, rev: str | None = None) -> None:
        """olah answers 401 for ``model_info`` without a revision and for unknown revisions."""
        path = mirror_path(self.server.front.mirrors, repo)
        if not path.is_dir():
            self._proxy()  # olah's answer (401 RepoNotFound) is the Hub's
            return
        rev = rev or git(path, "symbolic-ref", "--short", "HEAD")
        if resolve_revision(path, rev) is None:
            raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        query = urlsplit(self.path).query
        self._proxy(f"/api/models/{repo}/revision/{rev}" + (f"?{query}" if query else ""))

    def _resolve(self, repo: str, rev: str, path: str) -> None:
        """olah answers 401 or 500 for a missing file or revision; the Hub answers 404."""
        git_repo = mirror_path(self.server.front.mirrors, repo)
        if not git_repo.is_dir():
            self._proxy()
            return
        commit = resolve_revision(git_repo, rev)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        if not has_file(git_repo, commit, path):
            raise HubError(404, "Entry not found", "EntryNotFound")
        self._proxy()

    def _create_repo(self) -> None:
        self._require_token()
        request = json.loads(self._body() or b"{}")
        if request.get("type", "model") != "model":
            raise HubError(400, "The test Hub only holds model repositories")
        if not request.get("organization"):
            raise HubError(400, "The test Hub needs a namespace: use repo ids like 'org/name'")
        repo_id = f"{request['organization']}/{request['name']}"
        url = f"{self.server.front.url}/{repo_id}"
        front = self.server.front
        with front.write_lock:
            if mirror_path(front.mirrors, repo_id).exists():
                self._send_json({"error": "You already created this model repo", "url": url}, 409)
                return
            repo = init_mirror_repo(front.mirrors, repo_id)
            commit_files(repo, {".gitattributes": _GITATTRIBUTES}, message="initial commit")
        self._send_json({"url": url, "name": repo_id, "id": repo_id})

    def _validate_yaml(self) -> None:
        self._body()
        self._send_json({"errors": [], "warnings": []})

    def _preupload(self, repo: str, rev: str) -> None:
        self._require_token()
        self._refuse_pull_requests()
        self._existing_repo(repo)
        files = json.loads(self._body())["files"]
        modes = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]
        self._send_json({"files": modes, "commitOid": None})

    def _create_branch(self, repo: str, rev: str) -> None:
        """``create_branch``: a new branch from ``startingPoint`` (default: the repo's HEAD)."""
        self._require_token()
        git_repo = self._existing_repo(repo)
        start = json.loads(self._body() or b"{}").get("startingPoint") or "HEAD"
        with self.server.front.write_lock:
            if resolve_revision(git_repo, f"refs/heads/{rev}") is not None:
                raise HubError(409, f"Branch {rev} already exists")
            commit = resolve_revision(git_repo, start)
            if commit is None:
                raise HubError(404, f"Invalid rev id: {start}", "RevisionNotFound")
            git(git_repo, "branch", rev, commit)
        self._send_json({})

    def _commit(self, repo: str, rev: str) -> None:
        self._require_token()
        self._refuse_pull_requests()
        git_repo = self._existing_repo(repo)
        header, *operations = (json.loads(line) for line in self._body().splitlines() if line)
        files = {}
        for operation in operations:
            value = operation["value"]
            if operation["key"] != "file" or value.get("encoding") != "base64":
                unsupported = operation["key"]
                raise HubError(400, f"The test Hub stores regular files only, not {unsupported}")
            files[value["path"]] = base64.b64decode(value["content"])
        summary = header["value"]["summary"]
        description = header["value"].get("description")
        message = f"{summary}\n\n{description}" if description else summary
        front = self.server.front
        with front.write_lock:
            head = resolve_revision(git_repo, f"refs/heads/{rev}")
            if head is None:
                raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
            if header["value"].get("parentCommit") not in (None, head):
                raise HubError(412, "A commit has happened since the parent commit you gave")
            commit = commit_files(git_repo, files, message=message, branch=rev)
        self._send_json(
            {
                "success": True,
                "commitOid": commit,
                "commitUrl": f"{front.url}/{repo}/commit/{commit}",
                "commitMessage": message,
                "hookOutput": "",
                "pullRequestUrl": None,
            }
        )


class WriteFront:
    """The test-only write half of the Hub, in a thread; everything it does not handle goes to
    olah on ``olah_port``.

    ``requests`` records ``(method, path, status)`` of every request, so a test can show which
    endpoints a client used.
    """

    def __init__(self, mirrors: Path, olah_port: int, token: str) -> None:
        self.mirrors = mirrors
        self.olah_port = olah_port
        self.token = token
        self.write_lock = threading.Lock()
        self.requests: list[tuple[str, str, int]] = []
        self._server = _Server((HOST, 0), _Handler)
        self._server.front = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    @property
    def olah_url(self) -> str:
        return f"http://{HOST}:{self.olah_port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


# ---------------------------------------------------------------------------------------------
# The whole test Hub and its clients
# ---------------------------------------------------------------------------------------------


class LocalHub:
    """olah and the write front over one folder of git repositories (``root/mirrors``).

    Clients use :attr:`endpoint` (the write front); :attr:`olah_url` is olah itself.
    """

    def __init__(self, root: str | os.PathLike[str], *, token: str = "hf_test_hub_token") -> None:
        self.root = Path(root)
        self.mirrors = self.root / "mirrors"
        self.mirrors.mkdir(parents=True, exist_ok=True)
        self.token = token
        self._olah = OlahServer(self.root, self.mirrors)
        self._front = WriteFront(self.mirrors, self._olah.port, token)

    @property
    def endpoint(self) -> str:
        return self._front.url

    @property
    def olah_url(self) -> str:
        return self._olah.url

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        """``(method, path, status)`` of every request the write front received."""
        return self._front.requests

    def start(self) -> LocalHub:
        self._olah.start()
        self._front.start()
        return self

    def close(self) -> None:
        self._front.stop()
        self._olah.stop()

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def publish(
        self, folder: str | os.PathLike[str], repo_id: str, *, tag: str | None = None
    ) -> str:
        """Commit ``folder`` (e.g. from ``save_pretrained``) as ``main`` of ``repo_id``; return
        the commit sha. With ``tag``, also tag that commit."""
        return publish_folder(self.mirrors, folder, repo_id, tag=tag)

    def stop_olah(self) -> None:
        """Stop olah: from now on no client can download anything."""
        self._olah.stop()

    def start_olah(self) -> None:
        """Start olah again (same port and repositories) after :meth:`stop_olah`."""
        self._olah.start()

    @contextmanager
    def olah_stopped(self) -> Iterator[None]:
        """Stop olah for the duration of the block, so the Hub is shared safely between tests."""
        self.stop_olah()
        try:
            yield
        finally:
            self.start_olah()

    def client_env(
        self, hf_home: str | os.PathLike[str], *, token: bool = True, offline: bool = False
    ) -> dict[str, str]:
        """Environment for :func:`run_client`: this Hub, a cache in ``hf_home``, and the write
        token unless ``token=False``; ``offline=True`` sets ``HF_HUB_OFFLINE=1``."""
        env = {
            "HF_ENDPOINT": self.endpoint,
            "HF_HOME": str(hf_home),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        }
        if token:
            env["HF_TOKEN"] = self.token
        if offline:
            env["HF_HUB_OFFLINE"] = "1"
        return env


class ClientError(RuntimeError):
    """A client subprocess failed; ``stderr`` holds its traceback."""

    def __init__(self, returncode: int, stderr: str) -> None:
        super().__init__(f"client exited with status {returncode}; stderr:\n{stderr}")
        self.returncode = returncode
        self.stderr = stderr


def run_client(code: str, env: Mapping[str, str], *, timeout: float = 300.0) -> str:
    """Run ``python -c code`` with this interpreter and ``env`` on top of a clean environment.

    ``HF_*`` variables of the calling process are dropped, so the client sees only ``env``.
    Returns stdout; raises :class:`ClientError` (with stderr) on a non-zero exit.
    """
    base = {key: value for key, value in os.environ.items() if not key.startswith("HF_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise ClientError(result.returncode, result.stderr)
    return result.stdout
