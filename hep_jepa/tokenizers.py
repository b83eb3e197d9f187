"""Tokenizers: how a jet's particles become transformer tokens.

- ``particle``: one token per particle (the default).
- ``patch``: the HEP-JEPA patch tokenizer (arXiv:2502.03933): `num_patches` centres chosen
  by farthest-point sampling in (Δη, Δφ), each grouped with its `patch_size` nearest
  particles, each group embedded by a small permutation-invariant network (a shared MLP
  on the members, then a max over them).

Grouping is a pure function of (points, mask) with no parameters, so the pretraining
collator computes the same patches as the model and masks whole patches.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from hep_jepa.features import FEATURE_SETS
from hep_jepa.masking import gather_tokens

LOG_PT_COLUMN = FEATURE_SETS["kin"].index("log_pt")
assert all(names.index("log_pt") == LOG_PT_COLUMN for names in FEATURE_SETS.values())


@dataclass
class PatchGroups:
    """Patches of a batch. Letters: B jets, P patches, K particles per patch.

    Attributes:
        centre_index: (B, P) long, the particle at each patch centre.
        member_index: (B, P, K) long, the particles of each patch (nearest first).
        patch_mask: (B, P) bool, True for real patches (a jet with n < P particles has n).
        member_mask: (B, P, K) bool, True for real members.
    """

    centre_index: torch.Tensor
    member_index: torch.Tensor
    patch_mask: torch.Tensor
    member_mask: torch.Tensor


def _wrapped_distance(points: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """Squared (Δη, Δφ) distances. Shapes: points (B, N, 2), centres (B, P, 2) -> (B, P, N)."""
    offset = points[:, None, :, :] - centres[:, :, None, :]  # (B, P, N, 2)
    dphi = torch.remainder(offset[..., 1] + torch.pi, 2 * torch.pi) - torch.pi
    return offset[..., 0] ** 2 + dphi**2


def hardest_particle(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Index (B,) of each jet's highest-pT particle, from the ``log_pt`` feature (column 2 of
    every feature set), so that it does not depend on the order of the slots."""
    return features[..., LOG_PT_COLUMN].masked_fill(~mask, float("-inf")).argmax(dim=1)


def group_particles(
    points: torch.Tensor, mask: torch.Tensor, num_patches: int, patch_size: int, first: torch.Tensor
) -> PatchGroups:
    """Farthest-point sampling of patch centres, then k-nearest-neighbour groups.

    Args:
        points: (B, N, 2) Δη, Δφ.
        mask: (B, N) bool, True = real particle.
        num_patches: P.
        patch_size: K, particles per patch (clamped to N).
        first: (B,) the first centre of each jet (`hardest_particle`), which makes the
            grouping deterministic and independent of the slot order.
    """
    batch, n_particles = mask.shape
    device = mask.device
    counts = mask.sum(dim=1)  # (B,)
    centres = torch.zeros(batch, num_patches, dtype=torch.long, device=device)
    nearest = torch.full((batch, n_particles), float("inf"), device=device).masked_fill(~mask, -1.0)
    chosen = first
    rows = torch.arange(batch, device=device)
    for patch in range(num_patches):
        centres[:, patch] = chosen
        centre_point = points[rows, chosen][:, None, :]  # (B, 1, 2)
        distance = _wrapped_distance(points, centre_point)[:, 0]  # (B, N)
        nearest = torch.minimum(nearest, distance.masked_fill(~mask, -1.0))
        chosen = nearest.argmax(dim=1)  # farthest from every centre so far
    patch_mask = torch.arange(num_patches, device=device)[None, :] < counts[:, None]  # (B, P)
    size = min(patch_size, n_particles)
    distance = _wrapped_distance(points, gather_tokens(points, centres))  # (B, P, N)
    distance = distance.masked_fill(~mask[:, None, :], float("inf"))
    member_distance, member_index = distance.topk(size, dim=-1, largest=False)  # (B, P, K)
    member_mask = torch.isfinite(member_distance) & patch_mask[:, :, None]
    return PatchGroups(centres, member_index, patch_mask, member_mask)


class PatchEmbedding(nn.Module):
    """Embeds each patch from its members' features and offsets to the centre.

    Shape: features (B, N, F), points (B, N, 2), groups -> (B, P, D).
    """

    def __init__(self, num_features: int, hidden_size: int) -> None:
        super().__init__()
        self.member_mlp = nn.Sequential(
            nn.Linear(num_features + 2, hidden_size), nn.GELU(), nn.Linear(hidden_size, hidden_size)
        )
        self.out = nn.Linear(hidden_size, hidden_size)

    def forward(
        self, features: torch.Tensor, points: torch.Tensor, groups: PatchGroups
    ) -> torch.Tensor:
        members = gather_tokens(features, groups.member_index)  # (B, P, K, F)
        centre_points = gather_tokens(points, groups.centre_index)  # (B, P, 2)
        offsets = (
            gather_tokens(points, groups.member_index) - centre_points[:, :, None, :]
        )  # (B, P, K, 2)
        offsets[..., 1] = torch.remainder(offsets[..., 1] + torch.pi, 2 * torch.pi) - torch.pi
        hidden = self.member_mlp(torch.cat([members, offsets], dim=-1))  # (B, P, K, D)
        hidden = hidden.masked_fill(~groups.member_mask[..., None], float("-inf")).amax(
            dim=2
        )  # (B, P, D)
        hidden = torch.where(groups.patch_mask[..., None], hidden, torch.zeros_like(hidden))
        return self.out(hidden)


def patch_vectors(vectors: torch.Tensor, groups: PatchGroups) -> torch.Tensor:
    """Four-momentum of each patch, the sum over its members. Shape: (B, P, 4)."""
    members = gather_tokens(vectors, groups.member_index)  # (B, P, K, 4)
    return (members * groups.member_mask[..., None].to(members.dtype)).sum(dim=2)
