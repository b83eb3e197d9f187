"""`AutoModelForJetClassification`: the Auto class for jet taggers.

transformers has no jet-classification task, so hep-jepa defines its Auto class in the
same way transformers defines its own. `AutoConfig` and `AutoModel` learn about hep-jepa
checkpoints when hep_jepa is imported (see `hep_jepa._auto`).
"""

from __future__ import annotations

from collections import OrderedDict

from transformers.models.auto.auto_factory import _BaseAutoModelClass, _LazyAutoMapping

from hep_jepa.classification import HepJepaForJetClassification
from hep_jepa.configuration import HepJepaConfig


class AutoModelForJetClassification(_BaseAutoModelClass):
    """Loads the jet-classification model class that matches a checkpoint's config."""

    _model_mapping = _LazyAutoMapping(OrderedDict(), OrderedDict())  # type: ignore[assignment]


AutoModelForJetClassification.register(HepJepaConfig, HepJepaForJetClassification, exist_ok=True)
