"""pytest fixtures for the test Hub of ``hub_server.py`` (olah plus a test-only write front).

Load them in a test module (or in ``conftest.py``) with::

    pytest_plugins = ["hub_fixtures"]

and mark the tests ``@pytest.mark.network``. (``from hub_fixtures import hub_server`` works
too, but ruff then flags every test argument named ``hub_server`` as a redefinition.)
Client code that talks to the Hub runs in a subprocess::

    run_client(code, hub_server.client_env(tmp_path / "hf_home"))
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hub_server import LocalHub


@pytest.fixture(scope="session")
def hub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHub]:
    """A running test Hub, shared by the session.

    Yields a :class:`hub_server.LocalHub`: ``.endpoint`` (the write front; use it as
    ``HF_ENDPOINT``), ``.olah_url``, ``.mirrors``, ``.token``,
    ``.publish(folder, "org/name", tag=None) -> sha``, ``.stop_olah()`` / ``.start_olah()`` /
    ``.olah_stopped()``, ``.client_env(hf_home, token=True, offline=False)`` and ``.requests``.
    Tests that stop olah must start it again (``with hub_server.olah_stopped(): ...`` does).
    """
    if not Path(sys.executable).with_name("olah-cli").exists() and not shutil.which("olah-cli"):
        pytest.skip("olah is not installed (pip install olah, part of the test extras)")
    if shutil.which("git") is None:
        pytest.skip("the test Hub stores repositories with the git command, which is missing")
    with LocalHub(tmp_path_factory.mktemp("hub")) as hub:
        yield hub
