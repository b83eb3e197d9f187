"""HepJepaForPretraining: the loss learns, the target branch gets no gradients, EMA is exact."""

from __future__ import annotations

import pytest
import torch
from conftest import make_jets

from hep_jepa import HepJepaConfig, HepJepaModel, JetProcessor
from hep_jepa.masking import sample_jepa_masks
from hep_jepa.pretraining import (
    OBSERVABLE_NAMES,
    HepJepaForPretraining,
    ema_momentum,
    jet_observables,
    variance_covariance,
)


def _config(**overrides):
    settings = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "intermediate_size": 64,
        "max_particles": 48,
        "predictor_hidden_size": 16,
        "predictor_num_attention_heads": 2,
        "predictor_num_hidden_layers": 1,
        **overrides,
    }
    return HepJepaConfig(**settings)


@pytest.fixture
def inputs():
    batch = JetProcessor(max_particles=48)(make_jets(n_jets=8, max_particles=40))
    masks = sample_jepa_masks(
        batch.points,
        batch.mask,
        num_blocks=4,
        block_fraction=0.15,
        generator=torch.Generator().manual_seed(0),
    )
    return {**batch.model_inputs(), **masks.as_dict()}


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"use_pair_bias": True, "num_register_tokens": 2},
        {"variance_weight": 1.0, "covariance_weight": 0.04},
        {"variance_weight": 1.0, "covariance_weight": 0.04, "regularization_level": "token"},
        {"jet_loss_weight": 1.0},
        {"observable_loss_weight": 1.0},
    ],
)
def test_loss_falls_on_a_fixed_batch(inputs, overrides):
    torch.manual_seed(0)
    model = HepJepaForPretraining(_config(**overrides))
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for step in range(15):
        out = model(**inputs)
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        model.update_target_encoder(step, 15)
        losses.append(out.loss.item())
    assert (
        out.predictions.shape == out.targets.shape == (8, 4, inputs["target_index"].shape[-1], 32)
    )
    # With the VICReg terms on, 8 jets cannot reach unit spread in every dimension, so the
    # total falls less there.
    assert losses[-1] < (0.8 if "variance_weight" in overrides else 0.6) * losses[0]


def test_target_encoder_gets_no_gradients(inputs):
    model = HepJepaForPretraining(_config())
    model(**inputs).loss.backward()
    assert all(not p.requires_grad and p.grad is None for p in model.target_encoder.parameters())
    assert all(p.grad is not None for p in model.hep_jepa.parameters())
    assert all(p.grad is not None for p in model.predictor.parameters())


def test_one_ema_step_matches_the_formula():
    torch.manual_seed(0)
    model = HepJepaForPretraining(_config(ema_momentum_start=0.9, ema_momentum_end=1.0))
    with torch.no_grad():
        for p in model.hep_jepa.parameters():
            p.add_(torch.randn_like(p))
    before_target = {k: v.clone() for k, v in model.target_encoder.state_dict().items()}
    online = model.hep_jepa.state_dict()
    momentum = model.update_target_encoder(step=25, total_steps=100)
    assert momentum == pytest.approx(0.9 + 0.1 * 0.25) and momentum == ema_momentum(
        25, 100, 0.9, 1.0
    )
    for name, value in model.target_encoder.state_dict().items():
        expected = momentum * before_target[name] + (1 - momentum) * online[name]
        torch.testing.assert_close(value, expected, rtol=1e-6, atol=1e-6)  # float32 rounding


def test_momentum_schedule_is_a_pure_function_of_the_step():
    assert ema_momentum(0, 10, 0.996, 1.0) == 0.996
    assert ema_momentum(10, 10, 0.996, 1.0) == 1.0
    assert ema_momentum(20, 10, 0.996, 1.0) == 1.0


def test_saved_encoder_loads_as_a_hep_jepa_model(inputs, tmp_path):
    model = HepJepaForPretraining(_config())
    model.save_encoder(tmp_path)
    encoder = HepJepaModel.from_pretrained(tmp_path)
    assert type(encoder) is HepJepaModel and encoder.processor == model.processor
    for name, value in encoder.state_dict().items():
        assert torch.equal(value, model.target_encoder.state_dict()[name])
    assert encoder.embed(make_jets(n_jets=3)).shape == (3, 32)


def test_pretraining_checkpoint_loads_its_target_encoder(inputs, tmp_path):
    torch.manual_seed(0)
    model = HepJepaForPretraining(_config())
    with torch.no_grad():  # make the two encoders differ
        for p in model.hep_jepa.parameters():
            p.add_(torch.randn_like(p))
    model.set_processor(JetProcessor(max_particles=48))
    model.save_pretrained(tmp_path)
    encoder = HepJepaModel.from_pretrained(tmp_path)
    assert type(encoder) is HepJepaModel and encoder.processor == model.processor
    for name, value in encoder.state_dict().items():
        assert torch.equal(value, model.target_encoder.state_dict()[name])


def test_variance_covariance_terms():
    torch.manual_seed(0)
    white = torch.randn(20000, 8)
    variance, covariance = variance_covariance(white)
    assert variance.item() < 0.02 and covariance.item() < 0.01
    collapsed = white[:, :1].expand(-1, 8) * 0.1  # one direction, small spread
    variance, covariance = variance_covariance(collapsed)
    assert variance.item() == pytest.approx(0.9, abs=0.01)
    assert covariance.item() == pytest.approx(56 * 0.01**2 / 8, rel=0.05)


def test_jet_observables_match_brute_force_sums():
    import itertools
    import math

    import numpy as np

    from hep_jepa.substructure import jet_substructure

    jets = make_jets(n_jets=4, max_particles=12, seed=3)
    batch = JetProcessor(max_particles=16)(jets)
    observables = jet_observables(batch.vectors, batch.mask)
    assert observables.shape == (4, len(OBSERVABLE_NAMES))
    reference = jet_substructure(jets)
    for b in range(4):
        real = batch.mask[b].bool()
        px, py, pz, energy = batch.vectors[b][real].double().unbind(-1)
        pt = torch.hypot(px, py)
        z = pt / pt.sum()
        y = 0.5 * torch.log((energy + pz) / (energy - pz))
        phi = torch.atan2(py, px)

        dphi = torch.remainder(phi[:, None] - phi[None, :] + math.pi, 2 * math.pi) - math.pi
        dr = torch.sqrt((y[:, None] - y[None, :]) ** 2 + dphi**2).tolist()

        n = int(real.sum())
        e2 = sum(z[i] * z[j] * dr[i][j] for i, j in itertools.combinations(range(n), 2))
        e3 = sum(
            z[i] * z[j] * z[k] * dr[i][j] * dr[i][k] * dr[j][k]
            for i, j, k in itertools.combinations(range(n), 3)
        )
        expected = [
            math.log1p(float(reference["mass"][b])),
            math.log(n),
            math.log(e2),
            math.log(e3 / e2**2),
            0.5 * math.log(float((z**2).sum())),
            float(reference["width"][b]),
        ]
        np.testing.assert_allclose(observables[b].numpy(), expected, rtol=1e-5, atol=1e-6)


def test_observable_term_trains_its_linear_head(inputs):
    model = HepJepaForPretraining(_config(observable_loss_weight=1.0))
    out = model(**inputs)
    assert out.observable_loss is not None and out.observable_loss.item() > 0
    out.loss.backward()
    assert model.observable_head.weight.grad.abs().sum() > 0
    assert HepJepaForPretraining(_config()).observable_head is None
    with pytest.raises(ValueError, match="needs `vectors`"):
        model(**{**inputs, "vectors": None})
    with pytest.raises(ValueError, match="observable_loss_weight must be >= 0"):
        _config(observable_loss_weight=-0.5)


def test_bad_regularization_settings_are_refused():
    with pytest.raises(ValueError, match="variance_weight must be >= 0"):
        _config(variance_weight=-1.0)
    with pytest.raises(ValueError, match="regularization_level"):
        _config(regularization_level="particle")


def test_config_leaving_no_context_is_refused():
    with pytest.raises(ValueError, match="leave no context"):
        HepJepaForPretraining(_config(num_target_blocks=5, target_block_fraction=0.25))


def test_patch_tokenizer_masks_whole_patches():
    from hep_jepa.pretrain import MaskSampler

    config = _config(
        tokenizer="patch",
        num_patches=8,
        patch_size=6,
        num_target_blocks=2,
        target_block_fraction=0.25,
    )
    batch = JetProcessor(max_particles=48)(make_jets(n_jets=8, min_particles=10, max_particles=40))
    inputs = MaskSampler.from_config(config, seed=1)(batch.model_inputs())
    assert int(inputs["context_index"].max()) < 8 and int(inputs["target_index"].max()) < 8
    torch.manual_seed(0)
    model = HepJepaForPretraining(config)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for step in range(10):
        out = model(**inputs)
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        model.update_target_encoder(step, 10)
        losses.append(out.loss.item())
    assert out.predictions.shape[:2] == (8, 2)
    assert losses[-1] < losses[0]
