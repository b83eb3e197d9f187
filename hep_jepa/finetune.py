"""Fine-tuning a jet tagger on labelled jets with the transformers `Trainer`.

`finetune` takes a saved encoder or tagger (or a model object) and awkward jets with a
``label`` field, and returns a trained `HepJepaForJetClassification`:

- the jets are processed once, with the model's own `JetProcessor`, into in-memory
  tensors; each batch is cut to its longest jet (padding does not change the outputs);
- the labelled subset is `hep_jepa.data.dataset.labelled_subset` (per class, seeded,
  ``floor(labels_fraction * n_c)`` jets of class c; a class left empty is an error);
- the head and the encoder get separate learning rates, with weight decay only on
  tensors with ``ndim >= 2`` (matrices and embeddings, not biases and norms);
- the loss is a class-weighted cross-entropy (``class_weights="auto"``: inverse class
  frequency, so every weight is 1 when the classes are balanced);
- training stops early when the validation loss has not improved for
  ``early_stopping_patience`` epochs, and the best epoch's weights are kept. The
  validation jets are ``eval_jets``, or a stratified part of the labelled subset.

Tensor layout of one training example (N = the model's ``max_particles``): ``features``
(N, F), ``mask`` (N,) bool, ``vectors`` (N, 4), ``points`` (N, 2), ``labels`` () int64.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from transformers import EarlyStoppingCallback, PrinterCallback, Trainer, TrainingArguments
from transformers.utils import logging as transformers_logging

from hep_jepa.classification import HepJepaForJetClassification
from hep_jepa.data.dataset import labelled_subset
from hep_jepa.modeling import HepJepaModel

__all__ = ["JetTensorDataset", "class_weights_for", "collate_jets", "finetune"]

TRAINING_SUMMARY_NAME = "training_summary.json"


class JetTensorDataset(torch.utils.data.Dataset):
    """Processed jets held in memory: one dict of tensors per jet (see the module layout)."""

    def __init__(self, model: HepJepaForJetClassification, jets: Any) -> None:
        batch = model.processor(jets)
        if batch.labels is None:
            raise ValueError("the jets have no 'label' field: fine-tuning needs labelled jets.")
        self.tensors = {**batch.model_inputs(), "labels": batch.labels}

    def __len__(self) -> int:
        return int(self.tensors["labels"].shape[0])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {name: tensor[index] for name, tensor in self.tensors.items()}


def collate_jets(examples: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack examples into a batch and drop the particle slots that are padding in every jet."""
    batch = {name: torch.stack([e[name] for e in examples]) for name in examples[0]}
    # Slots are filled hardest first, so the real particles are a prefix of each row.
    longest = max(int(batch["mask"].sum(dim=1).max()), 1)
    for name in ("features", "mask", "vectors", "points"):
        batch[name] = batch[name][:, :longest]  # (B, N) -> (B, n_longest)
    return batch


def class_weights_for(labels: np.ndarray, num_labels: int) -> torch.Tensor:
    """Inverse-frequency class weights ``n / (C_present * n_c)``; 0 for absent classes.

    Shape: (num_labels,). All ones when the present classes are balanced.
    """
    counts = np.bincount(labels, minlength=num_labels).astype(np.float64)
    present = counts > 0
    weights = np.zeros(num_labels)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return torch.tensor(weights, dtype=torch.float32)


def finetune(
    model: str | os.PathLike[str] | HepJepaModel | HepJepaForJetClassification,
    train_jets: Any,
    *,
    eval_jets: Any = None,
    num_labels: int | None = None,
    head: str | None = None,
    freeze_backbone: bool = False,
    labels_fraction: float = 1.0,
    seed: int = 0,
    head_learning_rate: float = 1e-3,
    backbone_learning_rate: float = 1e-4,
    weight_decay: float = 0.01,
    max_epochs: int = 20,
    max_steps: int = -1,
    batch_size: int = 64,
    early_stopping_patience: int | None = 3,
    validation_fraction: float = 0.1,
    class_weights: str | Sequence[float] | None = "auto",
    output_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> HepJepaForJetClassification:
    """Fine-tune (or probe) a jet tagger on labelled jets.

    Args:
        model: A saved encoder or tagger (folder, bundled name, Hub id), or a model object.
            A bare encoder gets a fresh head; a tagger keeps its head unless `num_labels`
            or `head` differ from its own.
        train_jets: Awkward jets with an integer ``label`` field (see ``docs/jets.md``).
        eval_jets: Labelled validation jets for early stopping. ``None`` carves a
            stratified `validation_fraction` out of the labelled training subset.
        num_labels: Classes of the head. Default: the tagger's own, or for a bare encoder
            ``max(label) + 1`` over the training and validation jets.
        head: Head name (``linear``, ``mlp``, ``attention``); default: the model's.
        freeze_backbone: Train the head only (a probe); `backbone_learning_rate` is unused.
        labels_fraction: Fraction of `train_jets` used, drawn per class with `seed`
            (`hep_jepa.data.dataset.labelled_subset`).
        seed: Seed of the labelled subset, the validation split, the fresh head's weights,
            the batch order and dropout.
        head_learning_rate: Peak AdamW learning rate of the head.
        backbone_learning_rate: Peak AdamW learning rate of the encoder.
        weight_decay: AdamW weight decay, applied to tensors with ``ndim >= 2`` only.
        max_epochs: Upper bound on the number of passes over the labelled subset.
        max_steps: If positive, an upper bound on optimiser steps that overrides `max_epochs`.
        batch_size: Jets per optimiser step.
        early_stopping_patience: Epochs without a better validation loss before stopping;
            ``None`` trains for `max_epochs` (the best epoch is still kept).
        validation_fraction: Share of the labelled subset held out when `eval_jets` is None.
        class_weights: ``"auto"`` (inverse class frequency), ``None`` (unweighted), or one
            weight per class.
        output_dir: Where the trained tagger is saved with ``save_pretrained`` (with a
            ``training_summary.json``); ``None`` saves nothing. Checkpoints written during
            training are removed at the end.
        progress: Show progress bars.

    Returns:
        The trained tagger, in eval mode, holding the weights of its best validation epoch.

    Raises:
        ValueError: Jets without labels; labels outside ``[0, num_labels)``; a labels
            fraction that keeps no jet of some class; a validation split that would leave a
            class without training or validation jets.

    Examples:

    ```python
    >>> from hep_jepa import finetune
    >>> from hep_jepa.data import load_jets
    >>> jets = load_jets("realdata/top_tagging")
    >>> tagger = finetune("hep-jepa/hep-jepa-tiny", jets[:1500], eval_jets=jets[1500:],
    ...                   head="attention", freeze_backbone=True, output_dir="top-probe")
    ```
    """
    train_labels = _labels(train_jets, "training")
    eval_labels = None if eval_jets is None else _labels(eval_jets, "validation")
    with _progress_bars(progress):
        tagger = _tagger(model, train_labels, eval_labels, num_labels, head, seed)
    num_classes = int(tagger.config.num_labels or 0)
    _check_label_range(train_labels, num_classes, "training")
    if eval_labels is not None:
        _check_label_range(eval_labels, num_classes, "validation")
    tagger.freeze_backbone(freeze_backbone)

    labelled = labelled_subset(train_labels, labels_fraction, seed)
    if eval_jets is None:
        train_index, eval_index = _validation_split(
            train_labels, labelled, validation_fraction, seed
        )
        eval_jets, train_jets = train_jets[eval_index], train_jets[train_index]
    else:
        train_jets = train_jets[labelled]
    train_data = JetTensorDataset(tagger, train_jets)
    eval_data = JetTensorDataset(tagger, eval_jets)
    weights = _class_weights(class_weights, train_data.tensors["labels"].numpy(), num_classes)

    with tempfile.TemporaryDirectory(prefix="hep-jepa-finetune-") as checkpoints:
        arguments = TrainingArguments(
            output_dir=checkpoints,
            num_train_epochs=max_epochs,
            max_steps=max_steps,
            per_device_train_batch_size=batch_size,
            per_device_eval_batch_size=max(batch_size, 256),
            learning_rate=head_learning_rate,
            weight_decay=weight_decay,
            lr_scheduler_type="cosine",
            warmup_steps=0.05,
            eval_strategy="epoch",
            save_strategy="epoch",
            save_total_limit=1,
            save_only_model=True,
            load_best_model_at_end=True,
            metric_for_best_model="eval_loss",
            greater_is_better=False,
            logging_strategy="epoch",
            report_to=[],
            disable_tqdm=not progress,
            seed=seed,
            data_seed=seed,
            use_cpu=not torch.cuda.is_available(),
            dataloader_num_workers=0,
            dataloader_pin_memory=False,
        )
        callbacks = []
        if early_stopping_patience is not None:
            callbacks.append(EarlyStoppingCallback(early_stopping_patience=early_stopping_patience))
        trainer = _JetTrainer(
            model=tagger,
            args=arguments,
            train_dataset=train_data,
            eval_dataset=eval_data,
            data_collator=collate_jets,
            callbacks=callbacks,
            class_weights=weights,
            backbone_learning_rate=backbone_learning_rate,
        )
        if not progress:
            trainer.remove_callback(PrinterCallback)
        with _progress_bars(progress):
            trainer.train()
        history = trainer.state.log_history
        best_loss = trainer.state.best_metric
    # load_best_model_at_end loaded the best epoch's weights into `tagger` itself
    tagger.to("cpu")  # type: ignore[arg-type]
    tagger.eval()
    if output_dir is not None:
        summary = {
            "labels_fraction": labels_fraction,
            "seed": seed,
            "head": tagger.config.head,
            "freeze_backbone": freeze_backbone,
            "head_learning_rate": head_learning_rate,
            "backbone_learning_rate": backbone_learning_rate,
            "train_class_counts": np.bincount(
                train_data.tensors["labels"].numpy(), minlength=num_classes
            ).tolist(),
            "eval_class_counts": np.bincount(
                eval_data.tensors["labels"].numpy(), minlength=num_classes
            ).tolist(),
            "class_weights": None if weights is None else weights.tolist(),
            "best_eval_loss": best_loss,
            "epochs": [entry for entry in history if "eval_loss" in entry],
        }
        with _progress_bars(progress):
            tagger.save_pretrained(output_dir)
        Path(output_dir, TRAINING_SUMMARY_NAME).write_text(json.dumps(summary, indent=2) + "\n")
    return tagger


class _JetTrainer(Trainer):
    """A `Trainer` with separate head and encoder learning rates and a class-weighted loss."""

    def __init__(
        self, *, class_weights: torch.Tensor | None, backbone_learning_rate: float, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.class_weights = class_weights
        self.backbone_learning_rate = backbone_learning_rate
        # The loss below is a per-batch mean that never sees `num_items_in_batch`.
        self.model_accepts_loss_kwargs = False
        self.loss_is_scaled_for_ga = False

    def create_optimizer(self, model: Any = None) -> torch.optim.Optimizer:
        if self.optimizer is None:
            self.optimizer = torch.optim.AdamW(
                _parameter_groups(
                    cast(HepJepaForJetClassification, self.model),
                    head_learning_rate=self.args.learning_rate,
                    backbone_learning_rate=self.backbone_learning_rate,
                    weight_decay=self.args.weight_decay,
                ),
                lr=self.args.learning_rate,
            )
        return self.optimizer

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, torch.Tensor],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        labels = inputs.pop("labels")
        outputs = model(**inputs)
        weight = None if self.class_weights is None else self.class_weights.to(labels.device)
        loss = F.cross_entropy(outputs.logits, labels, weight=weight)
        outputs.loss = loss
        return (loss, outputs) if return_outputs else loss


@contextlib.contextmanager
def _progress_bars(enabled: bool) -> Iterator[None]:
    """Show or hide the transformers progress bars (checkpoint writing) inside the block."""
    was_enabled = transformers_logging.is_progress_bar_enabled()
    if enabled:
        transformers_logging.enable_progress_bar()
    else:
        transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            transformers_logging.enable_progress_bar()
        else:
            transformers_logging.disable_progress_bar()


def _parameter_groups(
    model: HepJepaForJetClassification,
    *,
    head_learning_rate: float,
    backbone_learning_rate: float,
    weight_decay: float,
) -> list[dict[str, Any]]:
    """AdamW groups: (head, encoder) x (decayed ndim >= 2, not decayed); frozen ones left out."""
    groups = []
    for module, learning_rate in (
        (model.head, head_learning_rate),
        (model.hep_jepa, backbone_learning_rate),
    ):
        trainable = [p for p in module.parameters() if p.requires_grad]
        for decay in (True, False):
            params = [p for p in trainable if (p.ndim >= 2) == decay]
            if params:
                groups.append(
                    {
                        "params": params,
                        "lr": learning_rate,
                        "weight_decay": weight_decay if decay else 0.0,
                    }
                )
    return groups


def _labels(jets: Any, what: str) -> np.ndarray:
    import awkward as ak

    if not isinstance(jets, ak.Array) or "label" not in ak.fields(jets):
        raise ValueError(
            f"the {what} jets have no 'label' field: fine-tuning needs labelled jets "
            "(an awkward array of records with 'particles' and an integer 'label')."
        )
    if len(jets) == 0:
        raise ValueError(f"the {what} jets are empty.")
    return ak.to_numpy(jets["label"]).astype(np.int64)


def _check_label_range(labels: np.ndarray, num_labels: int, what: str) -> None:
    if labels.min() < 0 or labels.max() >= num_labels:
        raise ValueError(
            f"the {what} labels run from {int(labels.min())} to {int(labels.max())}, but the "
            f"model has num_labels={num_labels}: load it with num_labels={int(labels.max()) + 1} "
            "(a fresh head), or use data whose classes match the model's."
        )


def _tagger(
    model: Any,
    train_labels: np.ndarray,
    eval_labels: np.ndarray | None,
    num_labels: int | None,
    head: str | None,
    seed: int,
) -> HepJepaForJetClassification:
    """The model to train; a fresh head is initialised from `seed`."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if isinstance(model, HepJepaForJetClassification):
            if (num_labels is not None and num_labels != model.config.num_labels) or (
                head is not None and head != model.config.head
            ):
                model.reset_classifier(num_labels or int(model.config.num_labels or 0), head)
            return model
        if isinstance(model, HepJepaModel):
            tagger = HepJepaForJetClassification(model.config)
            tagger.hep_jepa = model
            tagger.set_processor(model.processor)
            tagger.reset_classifier(
                num_labels or _inferred_classes(train_labels, eval_labels), head
            )
            return tagger
        from hep_jepa.classification import CLASSIFIER_ARCHITECTURE
        from hep_jepa.configuration import HepJepaConfig
        from hep_jepa.hub import resolve_model_path

        saved = HepJepaConfig.from_pretrained(resolve_model_path(model))
        if num_labels is None and CLASSIFIER_ARCHITECTURE not in (saved.architectures or []):
            num_labels = _inferred_classes(train_labels, eval_labels)
        labels: dict[str, Any] = {}
        if num_labels is not None and num_labels != saved.num_labels:  # fresh names, no warning
            labels = {"id2label": {i: f"LABEL_{i}" for i in range(num_labels)}}
        return HepJepaForJetClassification.from_pretrained(
            model, num_labels=num_labels, head=head, **labels
        )


def _inferred_classes(train_labels: np.ndarray, eval_labels: np.ndarray | None) -> int:
    highest = (
        int(train_labels.max())
        if eval_labels is None
        else int(max(train_labels.max(), eval_labels.max()))
    )
    return max(highest + 1, 2)


def _validation_split(
    labels: np.ndarray, labelled: np.ndarray, validation_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split the labelled indices into (train, validation), per class, at least one each."""
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    rng = np.random.default_rng([seed, 1])
    train, validation = [], []
    for label in np.unique(labels[labelled]):
        members = rng.permutation(labelled[labels[labelled] == label])
        if members.size < 2:
            raise ValueError(
                f"the labelled subset holds {members.size} jet of class {int(label)}: too few "
                "to split off validation jets; pass eval_jets, or use a larger labels fraction."
            )
        n_validation = min(max(math.floor(validation_fraction * members.size), 1), members.size - 1)
        validation.append(members[:n_validation])
        train.append(members[n_validation:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(validation))


def _class_weights(
    setting: str | Sequence[float] | None, labels: np.ndarray, num_labels: int
) -> torch.Tensor | None:
    if setting is None:
        return None
    if isinstance(setting, str):
        if setting != "auto":
            raise ValueError(f"class_weights must be 'auto', None or a sequence, got {setting!r}")
        return class_weights_for(labels, num_labels)
    weights = torch.tensor([float(w) for w in setting], dtype=torch.float32)
    if weights.shape != (num_labels,):
        raise ValueError(f"class_weights needs {num_labels} values, got {weights.numel()}")
    return weights
