"""Transformer building blocks shared by the encoder and the JEPA predictor."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS: dict[str, type[nn.Module]] = {"gelu": nn.GELU, "relu": nn.ReLU, "silu": nn.SiLU}


def attention_bias(
    mask: torch.Tensor, dtype: torch.dtype, pair_bias: torch.Tensor | None = None
) -> torch.Tensor:
    """The additive attention bias: 0 for real keys, −inf for padded ones, plus any pair bias.

    This is the one place where the package's padding convention (``mask`` True = real
    particle) becomes the "large negative = ignore" form that attention kernels take.

    Args:
        mask: (B, L) bool, True = real token.
        dtype: dtype of the attention logits.
        pair_bias: optional (B, H, L, L) bias added to the logits.

    Returns:
        (B, 1, 1, L) or (B, H, L, L) float tensor.
    """
    bias = torch.zeros(mask.shape, dtype=dtype, device=mask.device)
    bias = bias.masked_fill(~mask, float("-inf"))[:, None, None, :]  # (B, 1, 1, L)
    if pair_bias is not None:
        # One contiguous (B, H, L, L) tensor, so no attention layer has to copy it again.
        bias = (bias + pair_bias.to(dtype)).contiguous()
    return bias


class SelfAttention(nn.Module):
    """Multi-head self-attention; ``implementation`` is ``"sdpa"`` or ``"eager"``."""

    def __init__(self, hidden_size: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.head_size = hidden_size // num_heads
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        self.out = nn.Linear(hidden_size, hidden_size)
        self.dropout = dropout

    def forward(
        self, x: torch.Tensor, bias: torch.Tensor, implementation: str = "sdpa"
    ) -> torch.Tensor:
        batch, length, width = x.shape
        qkv = self.qkv(x).view(batch, length, 3, self.num_heads, self.head_size)
        query, key, value = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B, H, L, hs)
        dropout = self.dropout if self.training else 0.0
        if implementation == "eager":
            logits = (
                query @ key.transpose(-2, -1) / math.sqrt(self.head_size) + bias
            )  # (B, H, L, L)
            weights = F.dropout(logits.softmax(dim=-1), p=dropout, training=self.training)
            context = weights @ value  # (B, H, L, hs)
        else:
            context = F.scaled_dot_product_attention(
                query, key, value, attn_mask=bias, dropout_p=dropout
            )
        return self.out(context.transpose(1, 2).reshape(batch, length, width))  # (B, L, D)


class FeedForward(nn.Module):
    def __init__(
        self, hidden_size: int, intermediate_size: int, activation: str, dropout: float
    ) -> None:
        super().__init__()
        self.up = nn.Linear(hidden_size, intermediate_size)
        self.act = ACTIVATIONS[activation]()
        self.down = nn.Linear(intermediate_size, hidden_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(self.dropout(self.act(self.up(x))))


class TransformerBlock(nn.Module):
    """Pre-norm block: ``x + attn(ln(x))`` then ``x + mlp(ln(x))``."""

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        intermediate_size: int,
        *,
        activation: str = "gelu",
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        layer_norm_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        self.attention_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.attention = SelfAttention(hidden_size, num_heads, attention_dropout)
        self.mlp_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.mlp = FeedForward(hidden_size, intermediate_size, activation, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, bias: torch.Tensor, implementation: str = "sdpa"
    ) -> torch.Tensor:
        x = x + self.dropout(self.attention(self.attention_norm(x), bias, implementation))
        return x + self.dropout(self.mlp(self.mlp_norm(x)))


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of x over the real tokens. Shapes: x (B, L, D), mask (B, L) -> (B, D)."""
    weights = mask.to(x.dtype)[:, :, None]  # (B, L, 1)
    return (x * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)
