"""ParT pair features, checked by hand, and the mirrored pair bias."""

from __future__ import annotations

import math

import torch

from hep_jepa.pair_bias import PairBias, pair_features


def test_pair_features_by_hand():
    # two massless particles at rapidity 0: pT 30 at φ = 0 and pT 10 at φ = 0.3
    vectors = torch.tensor(
        [[[30.0, 0.0, 0.0, 30.0], [10 * math.cos(0.3), 10 * math.sin(0.3), 0.0, 10.0]]],
        dtype=torch.float64,
    )
    features = pair_features(vectors, torch.tensor([0]), torch.tensor([1]))[0, 0]
    delta = 0.3
    mass_squared = 2 * 30 * 10 * (1 - math.cos(0.3))
    expected = [math.log(delta), math.log(10 * delta), math.log(10 / 40), math.log(mass_squared)]
    torch.testing.assert_close(
        features, torch.tensor(expected, dtype=torch.float64), rtol=1e-6, atol=1e-6
    )


def test_pair_bias_is_symmetric_and_matches_every_pair():
    torch.manual_seed(0)
    module = PairBias(num_heads=3, hidden_size=8)
    pt = torch.rand(2, 5) * 20 + 1
    eta, phi = torch.randn(2, 5) * 0.3, torch.randn(2, 5) * 0.3
    vectors = torch.stack(
        [pt * phi.cos(), pt * phi.sin(), pt * eta.sinh(), pt * eta.cosh()], dim=-1
    )
    bias = module(vectors)
    assert bias.shape == (2, 3, 5, 5)
    torch.testing.assert_close(bias, bias.transpose(-1, -2))
    first, second = torch.meshgrid(torch.arange(5), torch.arange(5), indexing="ij")
    every_pair = module.mlp(module.norm(pair_features(vectors, first.flatten(), second.flatten())))
    torch.testing.assert_close(
        bias, every_pair.transpose(1, 2).reshape(2, 3, 5, 5), atol=1e-6, rtol=1e-5
    )
