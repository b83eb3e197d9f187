"""ParT-style physics pair bias: interaction features of particle pairs -> one attention bias per head.

For particles a and b (Qu, Li, Qian, arXiv:2202.03772, eq. 3):

- Δ  = sqrt((y_a − y_b)² + (φ_a − φ_b)²)       (rapidity y, azimuth φ)
- kT = min(pT_a, pT_b) · Δ
- z  = min(pT_a, pT_b) / (pT_a + pT_b)
- m² = (E_a + E_b)² − |p_a + p_b|²

The logarithms of the four are embedded by a small per-pair MLP into `num_heads` values.
"""

from __future__ import annotations

import torch
from torch import nn

_EPS = 1e-8


def pair_features(vectors: torch.Tensor, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """ln Δ, ln kT, ln z, ln m² of the particle pairs (first[t], second[t]).

    Args:
        vectors: (B, N, 4) px, py, pz, E.
        first, second: (T,) particle indices of the T pairs.

    Returns:
        (B, T, 4) float tensor; values at padded particles are finite but meaningless.
    """
    px, py, pz, energy = vectors.unbind(dim=-1)  # each (B, N)
    pt = torch.sqrt(px**2 + py**2).clamp_min(_EPS)
    rapidity = 0.5 * torch.log((energy + pz).clamp_min(_EPS) / (energy - pz).clamp_min(_EPS))
    phi = torch.atan2(py, px)
    delta_y = rapidity[:, first] - rapidity[:, second]  # (B, T)
    delta_phi = torch.remainder(phi[:, first] - phi[:, second] + torch.pi, 2 * torch.pi) - torch.pi
    delta = torch.sqrt(delta_y**2 + delta_phi**2).clamp_min(_EPS)
    pt_a, pt_b = pt[:, first], pt[:, second]
    pt_min = torch.minimum(pt_a, pt_b)
    pair_sum = vectors[:, first] + vectors[:, second]  # (B, T, 4)
    mass_squared = pair_sum[..., 3] ** 2 - (pair_sum[..., :3] ** 2).sum(-1)
    return torch.stack(
        [
            torch.log(delta),
            torch.log((pt_min * delta).clamp_min(_EPS)),
            torch.log((pt_min / (pt_a + pt_b)).clamp_min(_EPS)),
            torch.log(mass_squared.clamp_min(_EPS)),
        ],
        dim=-1,
    )


class PairBias(nn.Module):
    """Embeds pair features into an additive attention bias, one value per head.

    The features are symmetric in the two particles, so only the N(N+1)/2 pairs with
    i <= j are embedded and the result is mirrored. Shape: vectors (B, N, 4) -> (B, H, N, N).
    """

    def __init__(self, num_heads: int, hidden_size: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(4)
        self.mlp = nn.Sequential(
            nn.Linear(4, hidden_size), nn.GELU(), nn.Linear(hidden_size, num_heads)
        )

    def forward(self, vectors: torch.Tensor) -> torch.Tensor:
        n_particles = vectors.shape[1]
        index = torch.arange(n_particles, device=vectors.device)
        rows = index[:, None].expand(n_particles, n_particles)  # (N, N)
        cols = index[None, :].expand(n_particles, n_particles)
        upper = rows <= cols
        features = pair_features(vectors.float(), rows[upper], cols[upper])  # (B, T, 4), row-major
        values = self.mlp(self.norm(features))  # (B, T, H)
        # Position of pair (min(i, j), max(i, j)) in the row-major list of upper pairs.
        low, high = torch.minimum(rows, cols), torch.maximum(rows, cols)
        position = low * n_particles - (low * (low - 1)) // 2 + (high - low)  # (N, N)
        bias = values[:, position.flatten()]  # (B, N*N, H); gathers export to ONNX
        return bias.view(vectors.shape[0], n_particles, n_particles, -1).permute(
            0, 3, 1, 2
        )  # (B, H, N, N)
