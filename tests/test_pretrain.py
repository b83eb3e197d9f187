"""The pretraining engine: end to end on shards, exact resume, clear errors, torchrun."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from conftest import TINY as SHARED_TINY
from conftest import make_jets
from transformers import TrainerCallback

from hep_jepa import HepJepaModel
from hep_jepa.data.shards import write_shards
from hep_jepa.pretrain import PretrainingArguments, pretrain

# The shared tiny test encoder, with a one-block predictor of two heads.
TINY = {**SHARED_TINY, "predictor_num_attention_heads": 2, "predictor_num_hidden_layers": 1}


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shards")
    write_shards(
        make_jets(n_jets=96, seed=1, max_particles=30), folder / "a", shard_size=32, prefix="a"
    )
    write_shards(
        make_jets(n_jets=64, seed=2, max_particles=30),
        folder / "b" / "nested",
        shard_size=32,
        prefix="b",
    )
    return folder


def _args(output, **overrides):
    settings = {
        "max_steps": 4,
        "batch_size": 16,
        "logging_steps": 1,
        "save_steps": 100,
        "progress": False,
        "seed": 3,
        "shuffle_buffer": 64,
        **overrides,
    }
    return PretrainingArguments(output_dir=str(output), **settings)


def _losses(output):
    history = json.loads((output / "training_info.json").read_text())["log_history"]
    return {entry["step"]: entry["loss"] for entry in history if "loss" in entry}


def test_end_to_end_saves_an_encoder_that_embeds(shards, tmp_path):
    pretrain(shards, "tiny", _args(tmp_path / "run"), **TINY)
    run = tmp_path / "run"
    assert {"config.json", "model.safetensors", "processor_config.json", "training_info.json"} <= {
        p.name for p in run.iterdir()
    }
    encoder = HepJepaModel.from_pretrained(run)
    embeddings = encoder.embed(make_jets(n_jets=5))
    assert embeddings.shape == (5, 16) and embeddings.std(0).mean() > 0
    history = json.loads((run / "training_info.json").read_text())["log_history"]
    logged = [entry for entry in history if "loss" in entry]
    assert len(logged) == 4
    assert {"prediction_std", "target_std", "prediction_loss", "ema_momentum"} <= set(logged[0])
    assert (run / "pretraining.png").read_bytes()[:4] == b"\x89PNG"  # matplotlib: test extra


class _StopAt(TrainerCallback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_save = True
            control.should_training_stop = True


def test_resume_gives_the_same_losses(shards, tmp_path):
    steps = 16
    pretrain(shards, "tiny", _args(tmp_path / "full", max_steps=steps), **TINY)
    pretrain(
        shards, "tiny", _args(tmp_path / "split", max_steps=steps), callbacks=[_StopAt(6)], **TINY
    )
    assert (tmp_path / "split" / "checkpoint-6").is_dir()
    pretrain(
        shards,
        "tiny",
        _args(tmp_path / "split", max_steps=steps, resume_from_checkpoint=True),
        **TINY,
    )
    full, resumed = _losses(tmp_path / "full"), _losses(tmp_path / "split")
    assert sorted(resumed) == list(range(1, steps + 1))  # the history survives the checkpoint
    for step in range(7, steps + 1):
        assert resumed[step] == pytest.approx(full[step], rel=1e-5), step


def test_no_shards_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no parquet shards"):
        pretrain(tmp_path / "empty", "tiny", _args(tmp_path / "run"), **TINY)


def test_shards_without_the_needed_fields(shards, tmp_path):
    with pytest.raises(ValueError, match="pid"):
        pretrain(shards, "tiny", _args(tmp_path / "run"), **{**TINY, "feature_set": "kinpid"})


def test_masking_without_context_is_refused_before_training(shards, tmp_path):
    with pytest.raises(ValueError, match="leave no context"):
        pretrain(
            shards,
            "tiny",
            _args(tmp_path / "run"),
            **{**TINY, "num_target_blocks": 4, "target_block_fraction": 0.3},
        )
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_torchrun_two_processes(shards, tmp_path):
    overrides = [f"{k}={v}" for k, v in TINY.items()]
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_port=29533",
        "-m",
        "hep_jepa.cli",
        "pretrain",
        "--data",
        str(shards),
        "--config",
        "tiny",
        "--output",
        str(tmp_path / "ddp"),
        "--max-steps",
        "3",
        "--batch-size",
        "8",
        "--logging-steps",
        "1",
        "--no-progress",
        "--set",
        *overrides,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    info = json.loads((tmp_path / "ddp" / "training_info.json").read_text())
    assert info["world_size"] == 2 and info["global_step"] == 3
    assert torch.isfinite(torch.tensor(info["final_train_loss"]))
    HepJepaModel.from_pretrained(tmp_path / "ddp")
