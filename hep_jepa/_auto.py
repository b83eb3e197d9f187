"""Register hep-jepa with the transformers Auto classes, without slowing ``import hep_jepa``.

Registering needs our model classes, and importing them costs seconds
(``transformers.PreTrainedModel``). Most uses of the package (the command line,
the readers, the generator) never touch the Auto classes, so the registration
waits until transformers loads its Auto modules: a small import hook runs it
right after ``transformers.models.auto.configuration_auto`` (``AutoConfig``) and
``transformers.models.auto.modeling_auto`` (``AutoModel``) have executed. If they
are already loaded when hep_jepa is imported, it runs at once. Either way,
``import hep_jepa`` followed by ``AutoModel.from_pretrained(path)`` works in a
fresh process without ``trust_remote_code``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

_CONFIG_AUTO = "transformers.models.auto.configuration_auto"
_MODELING_AUTO = "transformers.models.auto.modeling_auto"


def _register_config() -> None:
    from transformers import AutoConfig

    from hep_jepa.configuration import HepJepaConfig

    AutoConfig.register(HepJepaConfig.model_type, HepJepaConfig, exist_ok=True)


def _register_models() -> None:
    from transformers import AutoModel

    from hep_jepa.configuration import HepJepaConfig
    from hep_jepa.modeling import HepJepaModel

    AutoModel.register(HepJepaConfig, HepJepaModel, exist_ok=True)


class _AfterImportHook(importlib.abc.MetaPathFinder):
    """Runs a callback right after a named module has finished executing."""

    def __init__(self, callbacks: dict[str, Callable[[], None]]) -> None:
        self._callbacks = callbacks

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self._callbacks:
            return None
        spec = None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        callback = self._callbacks.pop(fullname)
        if not self._callbacks and self in sys.meta_path:
            sys.meta_path.remove(self)
        loader = spec.loader
        original_exec_module = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            original_exec_module(module)
            callback()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def register_when_transformers_auto_loads() -> None:
    """Register now if transformers' Auto modules are loaded, else right after they load."""
    pending: dict[str, Callable[[], None]] = {}
    for module_name, register in (
        (_CONFIG_AUTO, _register_config),
        (_MODELING_AUTO, _register_models),
    ):
        if module_name in sys.modules:
            register()
        else:
            pending[module_name] = register
    if pending and not any(isinstance(finder, _AfterImportHook) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterImportHook(pending))
