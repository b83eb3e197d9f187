"""Pretraining on the transformers `Trainer`: streamed shards, JEPA masks, EMA in a callback.

One machine: ``hep-jepa pretrain --data DIR --config tiny --output runs/tiny``.
Many GPUs or nodes: the same command under ``torchrun --nproc_per_node=K`` or
``accelerate launch``; each rank streams its own part of the shards. The Trainer brings
checkpoints that resume exactly (weights including the EMA target encoder, optimiser,
scheduler, RNG states, step; the data position is replayed deterministically), mixed
precision on GPU, gradient accumulation, a progress bar and the cosine schedule.
"""

from __future__ import annotations

import json
import logging
import math
import os
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader
from transformers import Trainer, TrainerCallback, TrainingArguments

from hep_jepa.configuration import PRESETS, HepJepaConfig
from hep_jepa.masking import check_masking_settings, gather_tokens, sample_jepa_masks
from hep_jepa.pretraining import HepJepaForPretraining
from hep_jepa.processor import JetProcessor
from hep_jepa.tokenizers import group_particles, hardest_particle

logger = logging.getLogger(__name__)


@dataclass
class PretrainingArguments:
    """Training settings (kept apart from the architecture in `HepJepaConfig`).

    Args:
        output_dir: where checkpoints (``checkpoint-*``), the final encoder and logs go.
        max_steps: optimiser steps.
        batch_size: jets per device per step.
        learning_rate: peak AdamW learning rate (cosine decay after linear warm-up).
        weight_decay: applied to weight matrices only (tensors with ndim >= 2).
        warmup_ratio: fraction of `max_steps` spent warming up.
        gradient_accumulation_steps: batches per optimiser step.
        seed: seeds the model init, the data order and the masks.
        shuffle_buffer: jets held in the streaming shuffle buffer.
        num_workers: dataloader worker processes.
        logging_steps, save_steps, save_total_limit: as in `transformers.TrainingArguments`.
        resume_from_checkpoint: a checkpoint folder, or True for the latest in `output_dir`.
        progress: show the progress bar.
    """

    output_dir: str
    max_steps: int = 1000
    batch_size: int = 128
    learning_rate: float = 1e-3
    weight_decay: float = 0.05
    warmup_ratio: float = 0.05
    gradient_accumulation_steps: int = 1
    seed: int = 0
    shuffle_buffer: int = 10_000
    num_workers: int = 0
    logging_steps: int = 50
    save_steps: int = 500
    save_total_limit: int | None = 2
    resume_from_checkpoint: str | bool | None = None
    progress: bool = True
    extra_training_arguments: dict[str, Any] = field(default_factory=dict)


@dataclass
class MaskSampler:
    """The collator step of pretraining: adds JEPA masks to a processed batch.

    The masks of a batch are drawn from a generator seeded with `seed` and a checksum of
    the batch's four-vectors, so they are a pure function of (seed, batch). A resumed run,
    which replays the same batches, therefore gets the same masks, whichever dataloader
    worker builds the batch. Labels, if the shards have them, are dropped: pretraining
    uses none.
    """

    num_blocks: int
    block_fraction: float
    context_fraction: float
    mode: str
    seed: int = 0
    num_patches: int | None = None  # set for the patch tokenizer: masks then act on patches
    patch_size: int = 8

    @classmethod
    def from_config(cls, config: HepJepaConfig, seed: int = 0) -> MaskSampler:
        return cls(
            config.num_target_blocks,
            config.target_block_fraction,
            config.context_fraction,
            config.masking,
            seed,
            config.num_patches if config.tokenizer == "patch" else None,
            config.patch_size,
        )

    def __call__(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        checksum = zlib.crc32(batch["vectors"].numpy().tobytes())
        generator = torch.Generator().manual_seed(self.seed * 2**32 + checksum)
        points, mask = batch["points"], batch["mask"]
        if self.num_patches is not None:
            first = hardest_particle(batch["features"], mask)
            groups = group_particles(points, mask, self.num_patches, self.patch_size, first)
            points, mask = gather_tokens(points, groups.centre_index), groups.patch_mask
        masks = sample_jepa_masks(
            points,
            mask,
            num_blocks=self.num_blocks,
            block_fraction=self.block_fraction,
            context_fraction=self.context_fraction,
            mode=self.mode,
            generator=generator,
        )
        inputs = {k: v for k, v in batch.items() if k != "labels"}
        return {**inputs, **masks.as_dict()}


class EmaCallback(TrainerCallback):
    """Updates the target encoder after every optimiser step."""

    def on_step_end(
        self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any
    ) -> None:
        model.update_target_encoder(state.global_step, state.max_steps)


class _EpochAwareLoader(DataLoader):
    """Forwards `set_epoch` to the streaming dataset, and a pending resume position with it."""

    resume_batches = 0

    def set_epoch(self, epoch: int) -> None:
        self.dataset.set_epoch(epoch)  # type: ignore[attr-defined]
        if self.resume_batches:
            self.dataset.resume(epoch, self.resume_batches)  # type: ignore[attr-defined]
            self.resume_batches = 0


class JepaTrainer(Trainer):
    """`Trainer` with weight decay on matrices only, per-rank streaming, and collapse monitors."""

    def __init__(self, *args: Any, num_workers: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._num_workers = num_workers
        self._spread: dict[str, list[float]] = {
            name: []
            for name in (
                "prediction_std",
                "target_std",
                "prediction_loss",
                "jet_loss",
                "variance",
                "covariance",
                "observable_loss",
            )
        }

    def get_decay_parameter_names(self, model: Any) -> list[str]:
        return [name for name, parameter in model.named_parameters() if parameter.ndim >= 2]

    def get_train_dataloader(self) -> DataLoader:
        # The dataset yields whole batches and splits the shards by rank itself, so the
        # loader is not re-sharded by accelerate.
        return _EpochAwareLoader(
            self.train_dataset,  # type: ignore[arg-type]
            batch_size=None,
            collate_fn=self.data_collator,
            num_workers=self._num_workers,
        )

    def get_resumed_dataloader(self, dataloader: DataLoader, num_batches: int) -> DataLoader:
        # Skip by position in the stream (read nothing twice) rather than by replaying batches.
        assert isinstance(dataloader, _EpochAwareLoader)
        dataloader.resume_batches = num_batches
        return dataloader

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        outputs = model(**inputs)
        for name, values in self._spread.items():
            value = getattr(outputs, name)
            if value is not None:
                values.append(float(value))
        return (outputs.loss, outputs) if return_outputs else outputs.loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        for name, values in self._spread.items():
            if values:
                logs[name] = round(sum(values) / len(values), 5)
                values.clear()
        unwrapped = self.accelerator.unwrap_model(self.model)
        logs["ema_momentum"] = round(float(unwrapped.momentum), 6)
        super().log(logs, start_time)


def build_config(config: str | HepJepaConfig | os.PathLike[str], **overrides: Any) -> HepJepaConfig:
    """A config from a preset name, a folder / config.json path, or a config object."""
    if isinstance(config, HepJepaConfig):
        return HepJepaConfig.from_dict({**config.to_dict(), **overrides})
    if str(config) in PRESETS:
        return HepJepaConfig.from_preset(str(config), **overrides)
    path = Path(config)
    if path.exists():
        return HepJepaConfig.from_pretrained(path if path.is_dir() else path.parent, **overrides)
    raise ValueError(
        f"Unknown config {str(config)!r}: give a preset ({', '.join(PRESETS)}) or a config path."
    )


def required_fields(feature_set: str) -> list[str]:
    """Particle fields the shards must hold for a feature set."""
    fields = {"kin": [], "kinpid": ["pid"], "full": ["pid", "d0", "d0err", "dz", "dzerr"]}
    return fields[feature_set]


def pretrain(
    data: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    config: str | HepJepaConfig = "tiny",
    args: PretrainingArguments | None = None,
    *,
    callbacks: Sequence[TrainerCallback] = (),
    **config_overrides: Any,
) -> HepJepaForPretraining:
    """Pretrain a HEP-JEPA encoder on parquet shards and save the target encoder.

    Args:
        data: folders (searched recursively) or files of parquet shards.
        config: a preset name (``tiny``, ``small``, ``base``), a config path or object.
        args: training settings; defaults to `PretrainingArguments(output_dir="runs/pretrain")`.
        callbacks: extra `transformers.TrainerCallback` objects (logging, early stop, ...).
        **config_overrides: architecture or masking settings that replace the config's.

    Returns:
        The trained `HepJepaForPretraining`. Its target encoder is saved as a `HepJepaModel`
        checkpoint (with processor) in ``args.output_dir``, and the recipe in
        ``training_info.json`` there.
    """
    from hep_jepa.data.dataset import JetCollator, ShardedJetDataset, find_shards

    args = args or PretrainingArguments(output_dir="runs/pretrain")
    model_config = build_config(config, **config_overrides)
    check_masking_settings(
        model_config.num_target_blocks,
        model_config.target_block_fraction,
        model_config.context_fraction,
    )
    shards = find_shards([data] if isinstance(data, (str, os.PathLike)) else list(data))
    processor = JetProcessor(
        feature_set=model_config.feature_set, max_particles=model_config.max_particles
    )
    dataset = ShardedJetDataset(
        shards,
        batch_size=args.batch_size,
        batched=True,
        shuffle=True,
        bucket_by_multiplicity=True,
        buffer_size=args.shuffle_buffer,
        seed=args.seed,
        required_fields=required_fields(model_config.feature_set),
    )

    torch.manual_seed(args.seed)
    model = HepJepaForPretraining(model_config)
    model.set_processor(processor)
    use_gpu = torch.cuda.is_available()
    training_arguments = TrainingArguments(
        output_dir=args.output_dir,
        max_steps=args.max_steps,
        per_device_train_batch_size=args.batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        learning_rate=args.learning_rate,
        weight_decay=args.weight_decay,
        warmup_steps=math.ceil(args.warmup_ratio * args.max_steps),
        lr_scheduler_type="cosine",
        logging_steps=args.logging_steps,
        save_steps=args.save_steps,
        save_total_limit=args.save_total_limit,
        seed=args.seed,
        data_seed=args.seed,
        bf16=use_gpu and torch.cuda.is_bf16_supported(),
        use_cpu=not use_gpu,
        report_to=[],
        disable_tqdm=not args.progress,
        remove_unused_columns=False,
        dataloader_num_workers=args.num_workers,
        ddp_find_unused_parameters=False,
        **args.extra_training_arguments,
    )
    trainer = JepaTrainer(
        model=model,
        args=training_arguments,
        train_dataset=dataset,
        data_collator=JetCollator(
            processor, transform=MaskSampler.from_config(model_config, args.seed)
        ),
        callbacks=[EmaCallback(), *callbacks],
        num_workers=args.num_workers,
    )
    result = trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    if trainer.is_world_process_zero():
        model.save_encoder(args.output_dir)
        info = {
            "task": "pretraining",
            "method": "HEP-JEPA (arXiv:2502.03933)",
            "data": [str(s) for s in shards],
            "n_shards": len(shards),
            "training_arguments": asdict(args),
            "global_step": result.global_step,
            "final_train_loss": result.training_loss,
            "log_history": trainer.state.log_history,
            "world_size": training_arguments.world_size,
        }
        Path(args.output_dir, "training_info.json").write_text(
            json.dumps(info, indent=2, default=str) + "\n"
        )
        try:  # the loss and collapse monitors as a picture, when matplotlib is there
            from hep_jepa.plotting import plot_pretraining_history

            plot_pretraining_history(
                trainer.state.log_history, Path(args.output_dir, "pretraining.png")
            )
        except (ImportError, ValueError) as error:
            logger.info("no pretraining.png: %s", error)
    return model
