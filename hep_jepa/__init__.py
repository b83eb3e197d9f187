"""hep-jepa: a foundation model for jet physics (HEP-JEPA, arXiv:2502.03933).

The public API is imported lazily, so that light entry points (the command
line, the data readers, the generator) do not pay for importing torch and
transformers::

    from hep_jepa import HepJepaModel
    model = HepJepaModel.from_pretrained("hep-jepa/hep-jepa-tiny")
    embeddings = model.embed(jets)

Importing the package also arranges for the transformers Auto classes
(``AutoConfig``, ``AutoModel``, ``AutoModelForJetClassification``) to know
hep-jepa checkpoints, without ``trust_remote_code`` (see ``hep_jepa._auto``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "HepJepaConfig": "hep_jepa.configuration",
    "PRESETS": "hep_jepa.configuration",
    "JetProcessor": "hep_jepa.processor",
    "JetBatch": "hep_jepa.processor",
    "HepJepaModel": "hep_jepa.modeling",
    "HepJepaModelOutput": "hep_jepa.modeling",
    "HepJepaPreTrainedModel": "hep_jepa.modeling",
    "HepJepaForJetClassification": "hep_jepa.classification",
    "HepJepaForPretraining": "hep_jepa.pretraining",
    "JetClassifierOutput": "hep_jepa.classification",
    "HEADS": "hep_jepa.heads",
    "AutoModelForJetClassification": "hep_jepa.auto",
    "list_pretrained": "hep_jepa.hub",
    "finetune": "hep_jepa.finetune",
    "evaluate": "hep_jepa.evaluation",
}

__all__ = [
    "HEADS",
    "PRESETS",
    "AutoModelForJetClassification",
    "HepJepaConfig",
    "HepJepaForJetClassification",
    "HepJepaForPretraining",
    "HepJepaModel",
    "HepJepaModelOutput",
    "HepJepaPreTrainedModel",
    "JetBatch",
    "JetClassifierOutput",
    "JetProcessor",
    "__version__",
    "evaluate",
    "finetune",
    "list_pretrained",
]

if TYPE_CHECKING:
    from hep_jepa.auto import AutoModelForJetClassification
    from hep_jepa.classification import HepJepaForJetClassification, JetClassifierOutput
    from hep_jepa.configuration import PRESETS, HepJepaConfig
    from hep_jepa.evaluation import evaluate
    from hep_jepa.finetune import finetune
    from hep_jepa.heads import HEADS
    from hep_jepa.hub import list_pretrained
    from hep_jepa.modeling import HepJepaModel, HepJepaModelOutput, HepJepaPreTrainedModel
    from hep_jepa.pretraining import HepJepaForPretraining
    from hep_jepa.processor import JetBatch, JetProcessor


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hep_jepa' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


def _install_auto_registration() -> None:
    from hep_jepa._auto import register_when_transformers_auto_loads

    register_when_transformers_auto_loads()


_install_auto_registration()
