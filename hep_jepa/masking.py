"""JEPA masking: which particles (or patches) the context encoder sees and which it must predict.

Pure functions of ``(points, mask, generator)``, run in the data collator (as in I-JEPA),
returning padded index tensors that the model applies with one `gather` each.
Letters: B jets, N tokens, M target blocks, T tokens per block, K context tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

MASKERS = ("block", "random")


@dataclass
class JepaMasks:
    """Context and target token indices of a batch (padded; padding has mask False).

    Attributes:
        context_index: (B, K) long, indices of the context tokens.
        context_mask: (B, K) bool, True for real context tokens.
        target_index: (B, M, T) long, indices of the tokens of each target block.
        target_mask: (B, M, T) bool, True for real target tokens.
    """

    context_index: torch.Tensor
    context_mask: torch.Tensor
    target_index: torch.Tensor
    target_mask: torch.Tensor

    def as_dict(self) -> dict[str, torch.Tensor]:
        return {
            "context_index": self.context_index,
            "context_mask": self.context_mask,
            "target_index": self.target_index,
            "target_mask": self.target_mask,
        }


def check_masking_settings(num_blocks: int, block_fraction: float, context_fraction: float) -> None:
    """Reject settings that leave no context to predict from, before any training starts."""
    if num_blocks < 1:
        raise ValueError(f"num_target_blocks must be >= 1, got {num_blocks}.")
    if not 0.0 < block_fraction < 1.0:
        raise ValueError(f"target_block_fraction must be in (0, 1), got {block_fraction}.")
    if num_blocks * block_fraction >= 1.0:
        raise ValueError(
            f"num_target_blocks × target_block_fraction = {num_blocks} × {block_fraction} = "
            f"{num_blocks * block_fraction:.2f} >= 1: the targets can cover whole jets and leave "
            "no context. Use fewer or smaller blocks (the HEP-JEPA default is 4 × 0.15)."
        )
    if not 0.0 < context_fraction <= 1.0:
        raise ValueError(f"context_fraction must be in (0, 1], got {context_fraction}.")


def sample_jepa_masks(
    points: torch.Tensor,
    mask: torch.Tensor,
    *,
    num_blocks: int,
    block_fraction: float,
    context_fraction: float = 1.0,
    mode: str = "block",
    generator: torch.Generator | None = None,
) -> JepaMasks:
    """Sample M target blocks and a context for every jet.

    Each block holds ``max(1, round(block_fraction * n))`` of a jet's n real tokens: in
    ``block`` mode a random seed token and its nearest neighbours in (Δη, Δφ), in ``random``
    mode random tokens. Blocks may overlap. The context is ``context_fraction`` of the real
    tokens in no block (at least one); if the blocks cover a whole jet, its hardest token
    (index 0, pT-ordered input) is taken out of them and given to the context. Padding
    never becomes context or target.

    Args:
        points: (B, N, 2) Δη, Δφ of the tokens.
        mask: (B, N) bool, True = real token.
        num_blocks: M.
        block_fraction: size of each block as a fraction of the jet's tokens.
        context_fraction: fraction of the remaining tokens the context keeps.
        mode: ``block`` or ``random``.
        generator: the source of randomness (seed it for reproducible masks).

    Returns:
        `JepaMasks` with K and T the largest counts in the batch.
    """
    if mode not in MASKERS:
        raise ValueError(f"Unknown masking {mode!r}; allowed values: {', '.join(MASKERS)}.")
    check_masking_settings(num_blocks, block_fraction, context_fraction)
    batch, n_tokens = mask.shape
    device = mask.device
    counts = mask.sum(dim=1)  # (B,)
    if bool((counts == 0).any()):
        raise ValueError(f"jet {int((counts == 0).nonzero()[0, 0])} has no real token to mask.")
    block_sizes = torch.clamp(torch.round(block_fraction * counts.float()).long(), min=1)  # (B,)
    longest_block = int(block_sizes.max())

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(shape, generator=generator).to(device)

    padded = ~mask[:, None, :]  # (B, 1, N)
    if mode == "block":
        seed_scores = uniform(batch, num_blocks, n_tokens).masked_fill(padded, -1.0)
        seeds = seed_scores.argmax(dim=-1)  # (B, M)
        seed_points = torch.gather(points, 1, seeds[..., None].expand(-1, -1, 2))  # (B, M, 2)
        offsets = points[:, None, :, :] - seed_points[:, :, None, :]  # (B, M, N, 2)
        offsets[..., 1] = torch.remainder(offsets[..., 1] + torch.pi, 2 * torch.pi) - torch.pi
        order_key = offsets.square().sum(-1)  # (B, M, N) squared distance to the seed
    else:
        order_key = uniform(batch, num_blocks, n_tokens)
    order_key = order_key.masked_fill(padded, float("inf"))
    target_index = order_key.argsort(dim=-1, stable=True)[..., :longest_block]  # (B, M, T)
    target_mask = (
        torch.arange(longest_block, device=device) < block_sizes[:, None, None]
    )  # (B, 1, T)
    target_mask = target_mask.expand(-1, num_blocks, -1).clone()  # (B, M, T)

    # Mark targets; block slots beyond a jet's block size write to a spare column N.
    is_target = torch.zeros(batch, n_tokens + 1, dtype=torch.bool, device=device)
    slots = torch.where(target_mask, target_index, n_tokens).flatten(1)
    is_target.scatter_(1, slots, True)
    candidates = mask & ~is_target[:, :n_tokens]  # (B, N)
    no_context = ~candidates.any(dim=1)
    if bool(no_context.any()):
        # Give the hardest token back to the context of jets the blocks cover completely.
        candidates[no_context, 0] = True
        target_mask &= ~((target_index == 0) & no_context[:, None, None])

    n_candidates = candidates.sum(dim=1)
    context_sizes = torch.clamp(torch.round(context_fraction * n_candidates.float()).long(), min=1)
    context_key = uniform(batch, n_tokens).masked_fill(~candidates, float("inf"))
    longest_context = int(context_sizes.max())
    chosen = context_key.argsort(dim=-1, stable=True)[:, :longest_context]  # (B, K)
    context_mask = torch.arange(longest_context, device=device) < context_sizes[:, None]  # (B, K)
    # Keep the chosen context tokens in their original (pT) order; padding sorts last.
    context_index = torch.where(context_mask, chosen, n_tokens).sort(dim=-1).values
    context_index = context_index.masked_fill(~context_mask, 0)
    return JepaMasks(context_index, context_mask, target_index, target_mask)


def gather_tokens(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Select tokens by index along dim 1.

    Shapes: values (B, N, C), index (B, *S) -> (B, *S, C).
    """
    batch, channels = values.shape[0], values.shape[-1]
    flat = index.reshape(batch, -1)  # (B, S)
    gathered = torch.gather(values, 1, flat[..., None].expand(-1, -1, channels))  # (B, S, C)
    return gathered.reshape(*index.shape, channels)
