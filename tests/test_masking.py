"""JEPA masks: reproducible, spatially coherent, never padding, always leaving context."""

from __future__ import annotations

import pytest
import torch
from conftest import make_jets

from hep_jepa import JetProcessor
from hep_jepa.masking import check_masking_settings, gather_tokens, sample_jepa_masks


@pytest.fixture
def batch():
    return JetProcessor(max_particles=64)(make_jets(n_jets=12, min_particles=2, max_particles=60))


def _masks(batch, seed=0, **settings):
    options = {
        "num_blocks": 4,
        "block_fraction": 0.15,
        "context_fraction": 1.0,
        "mode": "block",
        **settings,
    }
    return sample_jepa_masks(
        batch.points, batch.mask, generator=torch.Generator().manual_seed(seed), **options
    )


@pytest.mark.parametrize("mode", ["block", "random"])
def test_deterministic_given_a_generator(batch, mode):
    a, b, c = _masks(batch, 0, mode=mode), _masks(batch, 0, mode=mode), _masks(batch, 1, mode=mode)
    assert all(
        torch.equal(x, y) for x, y in zip(a.as_dict().values(), b.as_dict().values(), strict=True)
    )
    assert not torch.equal(a.target_index, c.target_index)


@pytest.mark.parametrize("mode", ["block", "random"])
@pytest.mark.parametrize("context_fraction", [1.0, 0.5])
def test_no_padding_and_context_disjoint_from_targets(batch, mode, context_fraction):
    masks = _masks(batch, mode=mode, context_fraction=context_fraction)
    real = batch.mask
    for jet in range(len(batch)):
        context = masks.context_index[jet][masks.context_mask[jet]]
        targets = masks.target_index[jet][masks.target_mask[jet]]
        assert real[jet, context].all() and real[jet, targets].all()
        assert len(context) >= 1
        assert not set(context.tolist()) & set(targets.tolist())
        if context_fraction == 1.0:  # the context is everything that is not a target
            assert set(context.tolist()) | set(targets.tolist()) == set(
                real[jet].nonzero().flatten().tolist()
            )


def test_block_size_follows_the_fraction(batch):
    masks = _masks(batch, block_fraction=0.2)
    expected = torch.clamp(torch.round(0.2 * batch.mask.sum(1).float()).long(), min=1)
    assert torch.equal(masks.target_mask.sum(-1)[:, 0][expected > 1], expected[expected > 1])


def test_blocks_are_spatially_coherent(batch):
    """Each block is a seed and its nearest neighbours: every token outside the block is
    at least as far from the block's nearest-to-seed token as the block's farthest one."""
    masks = _masks(batch, block_fraction=0.3, num_blocks=2)
    for jet in range(len(batch)):
        points = batch.points[jet][batch.mask[jet]]
        for block in range(2):
            members = masks.target_index[jet, block][masks.target_mask[jet, block]]
            if len(members) < 2 or len(members) == len(points):
                continue
            seed = points[members[0]]
            distance = (points - seed).norm(dim=-1)
            inside = distance[members].max()
            outside = torch.ones(len(points), dtype=torch.bool)
            outside[members] = False
            assert distance[outside].min() >= inside - 1e-6


def test_context_kept_when_blocks_cover_a_tiny_jet():
    tiny = JetProcessor(max_particles=8)(make_jets(n_jets=4, min_particles=1, max_particles=2))
    masks = sample_jepa_masks(
        tiny.points,
        tiny.mask,
        num_blocks=4,
        block_fraction=0.24,
        generator=torch.Generator().manual_seed(0),
    )
    assert masks.context_mask.any(dim=1).all()


def test_settings_that_leave_no_context_are_refused():
    with pytest.raises(ValueError, match="leave no context"):
        check_masking_settings(8, 0.2, 1.0)
    with pytest.raises(ValueError, match="context_fraction"):
        check_masking_settings(4, 0.15, 0.0)


def test_gather_tokens_shapes():
    values = torch.arange(2 * 5 * 3, dtype=torch.float32).view(2, 5, 3)
    index = torch.tensor([[[0, 4], [1, 1]], [[3, 2], [0, 0]]])
    out = gather_tokens(values, index)
    assert out.shape == (2, 2, 2, 3)
    assert torch.equal(out[1, 0, 0], values[1, 3])
