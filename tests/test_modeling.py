"""HepJepaModel and HepJepaForJetClassification: invariances, attention kernels, save/load."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import make_jets

from hep_jepa import HepJepaConfig, HepJepaForJetClassification, HepJepaModel, JetProcessor

VARIANTS = {
    "plain": {},
    "pair_bias": {"use_pair_bias": True},
    "registers": {"num_register_tokens": 2, "pooling": "registers"},
    "pair_bias+registers": {"use_pair_bias": True, "num_register_tokens": 3},
    "patches": {"tokenizer": "patch", "num_patches": 8, "patch_size": 6, "use_pair_bias": True},
}


def tiny_config(**overrides) -> HepJepaConfig:
    settings = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "max_particles": 64,
        **overrides,
    }
    return HepJepaConfig(**settings)


def _model(**overrides) -> HepJepaModel:
    torch.manual_seed(0)
    return HepJepaModel(tiny_config(**overrides)).eval()


@pytest.fixture
def batch():
    return JetProcessor(max_particles=64)(make_jets(n_jets=6, max_particles=50))


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_output_shapes(variant, batch):
    out = _model(**VARIANTS[variant])(**batch.model_inputs())
    tokens = 8 if variant == "patches" else 64
    assert out.last_hidden_state.shape == (6, tokens, 32)
    assert out.pooler_output.shape == (6, 32)
    assert torch.equal(out.mask, batch.mask) or variant == "patches"


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_extra_padding_changes_nothing(variant, batch):
    model = _model(**VARIANTS[variant])
    short = JetProcessor(max_particles=50)(make_jets(n_jets=6, max_particles=50))
    reference = model(**short.model_inputs()).pooler_output
    extra = 14
    padded = {
        # garbage in padded slots must not leak into real ones
        "features": torch.cat([short.features, torch.randn(6, extra, 7)], dim=1),
        "mask": torch.cat([short.mask, torch.zeros(6, extra, dtype=torch.bool)], dim=1),
        "vectors": torch.cat([short.vectors, torch.rand(6, extra, 4) * 10], dim=1),
        "points": torch.cat([short.points, torch.randn(6, extra, 2)], dim=1),
    }
    torch.testing.assert_close(model(**padded).pooler_output, reference, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_particle_permutation_changes_nothing(variant, batch):
    model = _model(**VARIANTS[variant])
    reference = model(**batch.model_inputs())
    permutation = torch.randperm(batch.mask.shape[1], generator=torch.Generator().manual_seed(1))
    permuted = {k: v[:, permutation] for k, v in batch.model_inputs().items()}
    out = model(**permuted)
    torch.testing.assert_close(out.pooler_output, reference.pooler_output, atol=1e-5, rtol=1e-5)
    if variant != "patches":  # patch tokens come in farthest-point order, not slot order
        torch.testing.assert_close(
            out.last_hidden_state[:, permutation.argsort()][batch.mask],
            reference.last_hidden_state[batch.mask],
            atol=1e-5,
            rtol=1e-5,
        )


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_eager_and_sdpa_agree(variant, batch, tmp_path):
    _model(**VARIANTS[variant]).save_pretrained(tmp_path)
    sdpa = HepJepaModel.from_pretrained(tmp_path, attn_implementation="sdpa").eval()
    eager = HepJepaModel.from_pretrained(tmp_path, attn_implementation="eager").eval()
    assert (
        sdpa.config._attn_implementation == "sdpa" and eager.config._attn_implementation == "eager"
    )
    torch.testing.assert_close(
        sdpa(**batch.model_inputs()).last_hidden_state,
        eager(**batch.model_inputs()).last_hidden_state,
        atol=1e-5,
        rtol=1e-5,
    )


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_save_load_round_trip(variant, batch, tmp_path):
    model = _model(**VARIANTS[variant])
    model.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "config.json",
        "model.safetensors",
        "processor_config.json",
    ]
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "hep_jepa"
    loaded = HepJepaModel.from_pretrained(tmp_path).eval()
    assert torch.equal(
        loaded(**batch.model_inputs()).last_hidden_state,
        model(**batch.model_inputs()).last_hidden_state,
    )
    assert loaded.processor == model.processor


def test_embed_matches_forward_and_batches(tmp_path):
    model = _model()
    jets = make_jets(n_jets=10, max_particles=50)
    direct = model(**model.processor(jets).model_inputs()).pooler_output.detach().numpy()
    embedded = model.embed(jets, batch_size=3)
    assert embedded.shape == (10, 32) and embedded.dtype == "float32"
    torch.testing.assert_close(
        torch.from_numpy(embedded), torch.from_numpy(direct), atol=1e-5, rtol=1e-5
    )


def test_processor_saved_with_model_is_used(tmp_path):
    model = _model()
    model.set_processor(JetProcessor(max_particles=20))
    model.save_pretrained(tmp_path)
    assert HepJepaModel.from_pretrained(tmp_path).processor.max_particles == 20


def test_classifier_round_trip_and_loss(batch, tmp_path):
    torch.manual_seed(0)
    tagger = HepJepaForJetClassification(tiny_config(num_labels=3, head="attention")).eval()
    out = tagger(**batch.model_inputs(), labels=torch.tensor([0, 1, 2, 0, 1, 2]))
    assert out.logits.shape == (6, 3) and out.loss.ndim == 0
    out.loss.backward()
    tagger.save_pretrained(tmp_path)
    loaded = HepJepaForJetClassification.from_pretrained(tmp_path).eval()
    assert torch.equal(loaded(**batch.model_inputs()).logits, tagger(**batch.model_inputs()).logits)


@pytest.mark.parametrize("new_head", ["linear", "mlp", "attention"])
def test_swapping_the_head_keeps_every_encoder_weight(new_head, tmp_path):
    torch.manual_seed(0)
    tagger = HepJepaForJetClassification(tiny_config(num_labels=2, head="mlp"))
    tagger.save_pretrained(tmp_path / "tagger")
    tagger.hep_jepa.save_pretrained(tmp_path / "encoder")
    for source in ("tagger", "encoder"):
        swapped = HepJepaForJetClassification.from_pretrained(
            tmp_path / source, num_labels=5, head=new_head
        )
        assert swapped.config.num_labels == 5 and swapped.config.head == new_head
        saved = tagger.hep_jepa.state_dict()
        for name, value in swapped.hep_jepa.state_dict().items():
            assert torch.equal(value, saved[name]), name
        assert swapped.head.classifier.out_features == 5


def test_fresh_head_on_same_head_name_is_reinitialised(tmp_path):
    torch.manual_seed(0)
    tagger = HepJepaForJetClassification(tiny_config(num_labels=2, head="mlp"))
    tagger.save_pretrained(tmp_path)
    swapped = HepJepaForJetClassification.from_pretrained(tmp_path, num_labels=4)
    assert not torch.equal(swapped.head.dense.weight, tagger.head.dense.weight)


def test_freeze_backbone(batch, tmp_path):
    _model().save_pretrained(tmp_path)
    tagger = HepJepaForJetClassification.from_pretrained(
        tmp_path, num_labels=2, freeze_backbone=True
    )
    tagger(**batch.model_inputs(), labels=torch.zeros(6, dtype=torch.long)).loss.backward()
    assert all(p.grad is None for p in tagger.hep_jepa.parameters())
    assert all(p.grad is not None for p in tagger.head.parameters())


def test_embed_groups_by_multiplicity_without_changing_results():
    model = _model(use_pair_bias=True)
    jets = make_jets(n_jets=23, min_particles=2, max_particles=60, seed=5)
    reference = torch.cat(
        [
            model(**model.processor(jets[i : i + 1]).model_inputs()).pooler_output.detach()
            for i in range(23)
        ]
    )
    embedded = model.embed(jets, batch_size=4)
    torch.testing.assert_close(torch.from_numpy(embedded), reference, atol=1e-5, rtol=1e-5)
    assert model.embed(jets[:0]).shape == (0, 32)


def test_pad_to_longest():
    jets = make_jets(n_jets=5, max_particles=20)
    batch = JetProcessor(max_particles=64)(jets, pad_to_longest=True)
    assert batch.features.shape[1] == int(batch.mask.sum(1).max())
