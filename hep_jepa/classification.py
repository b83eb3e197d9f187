"""`HepJepaForJetClassification`: the encoder plus a head picked by name (see `hep_jepa.heads`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from transformers.utils import ModelOutput

from hep_jepa.configuration import HepJepaConfig
from hep_jepa.heads import build_head
from hep_jepa.modeling import HepJepaModel, HepJepaPreTrainedModel

CLASSIFIER_ARCHITECTURE = "HepJepaForJetClassification"


@dataclass
class JetClassifierOutput(ModelOutput):
    """Output of `HepJepaForJetClassification`. Shapes: B jets, C classes, D = hidden_size.

    Attributes:
        loss: scalar cross-entropy, when `labels` were given.
        logits: (B, C) unnormalised class scores.
        pooler_output: (B, D) the encoder's jet embedding.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None


class HepJepaForJetClassification(HepJepaPreTrainedModel):
    """A jet tagger: `HepJepaModel` + a classification head (`linear`, `mlp` or `attention`).

    Examples:

    ```python
    >>> from hep_jepa import HepJepaForJetClassification
    >>> tagger = HepJepaForJetClassification.from_pretrained(
    ...     "hep-jepa/hep-jepa-tiny", num_labels=2, head="attention", freeze_backbone=True)
    >>> probabilities = tagger.predict_proba(jets)      # (n_jets, 2)
    ```
    """

    def __init__(self, config: HepJepaConfig) -> None:
        super().__init__(config)
        self.hep_jepa = HepJepaModel(config)
        self.head = build_head(config)
        self.post_init()

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: Any,
        *model_args: Any,
        num_labels: int | None = None,
        head: str | None = None,
        freeze_backbone: bool = False,
        **kwargs: Any,
    ) -> HepJepaForJetClassification:
        """Load a tagger, or put a fresh head on a saved encoder.

        The head is fresh (randomly initialised) when the checkpoint is a bare encoder
        (a `HepJepaModel`), or when `num_labels` or `head` differ from the saved ones; the
        encoder weights are then loaded exactly as saved. Otherwise the saved tagger,
        head included, is loaded for inference or further training.

        Args:
            pretrained_model_name_or_path: folder, bundled name or Hub repo id.
            num_labels: number of classes of the (new) head.
            head: head name from `hep_jepa.heads.HEADS`.
            freeze_backbone: stop gradients into the encoder (a probe).
            **kwargs: passed on to `transformers.PreTrainedModel.from_pretrained`.
        """
        from hep_jepa.hub import resolve_model_path

        path = resolve_model_path(pretrained_model_name_or_path)
        config_kwargs = {
            k: kwargs[k]
            for k in ("revision", "cache_dir", "token", "local_files_only")
            if k in kwargs
        }
        saved = HepJepaConfig.from_pretrained(path, **config_kwargs)
        is_tagger = CLASSIFIER_ARCHITECTURE in (saved.architectures or [])
        overrides = {k: v for k, v in (("num_labels", num_labels), ("head", head)) if v is not None}
        fresh_head = not is_tagger or any(getattr(saved, k) != v for k, v in overrides.items())
        if not fresh_head:
            model = super().from_pretrained(path, *model_args, **kwargs)
        else:
            encoder = HepJepaModel.from_pretrained(path, *model_args, **kwargs)
            config = HepJepaConfig.from_dict({**encoder.config.to_dict(), **overrides})
            config.architectures = [CLASSIFIER_ARCHITECTURE]
            model = cls(config)
            model.to(device=encoder.device, dtype=encoder.dtype)  # type: ignore[call-arg]
            model.hep_jepa = encoder
            model.set_processor(encoder.processor)
        if freeze_backbone:
            model.freeze_backbone()
        return model

    def freeze_backbone(self, frozen: bool = True) -> None:
        """Stop (or restore) gradients into the encoder; the head stays trainable."""
        for parameter in self.hep_jepa.parameters():
            parameter.requires_grad_(not frozen)

    def reset_classifier(self, num_labels: int, head: str | None = None) -> None:
        """Replace the head by a fresh one with `num_labels` classes (and another `head`)."""
        self.config.num_labels = num_labels
        if head is not None:
            self.config.head = head
        self.config.validate_architecture()
        self.head = build_head(self.config).to(device=self.device, dtype=self.dtype)
        self.head.apply(self._init_weights)

    def forward(
        self,
        features: torch.Tensor,
        mask: torch.Tensor,
        vectors: torch.Tensor | None = None,
        points: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> JetClassifierOutput:
        """Classify a padded batch of jets.

        Args:
            features, mask, vectors, points: as for `HepJepaModel.forward`.
            labels: (B,) int64 class indices in [0, num_labels); gives the cross-entropy loss.

        Returns:
            `JetClassifierOutput` with `logits` (B, C) and, given labels, `loss`.
        """
        encoded = self.hep_jepa(features, mask, vectors=vectors, points=points)
        logits = self.head(encoded.last_hidden_state, encoded.pooler_output, mask)  # (B, C)
        loss = None
        num_labels = int(logits.shape[-1])
        if labels is not None:
            if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_labels):
                raise ValueError(
                    f"labels must lie in [0, {num_labels}) for num_labels="
                    f"{num_labels}; got values from {int(labels.min())} to "
                    f"{int(labels.max())}. Load the model with num_labels matching the data."
                )
            loss = F.cross_entropy(logits, labels)
        return JetClassifierOutput(loss=loss, logits=logits, pooler_output=encoded.pooler_output)

    @torch.no_grad()
    def predict_proba(
        self, jets: Any, *, batch_size: int = 256, progress: bool = False
    ) -> np.ndarray:
        """Class probabilities (n_jets, num_labels) for awkward jets, with the saved processor."""
        probabilities = self.map_jets(
            jets,
            lambda batch: (
                self(**batch.to(self.device).model_inputs()).logits.float().softmax(dim=-1)
            ),
            batch_size=batch_size,
            progress=progress,
            description="tagging jets",
        )
        return probabilities.reshape(len(jets), int(self.config.num_labels or 0))
