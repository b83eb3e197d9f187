"""Classification heads, picked by name from `HEADS`.

Every head maps the encoder output to logits:
``head(last_hidden_state (B, N, D), pooler_output (B, D), mask (B, N)) -> (B, C)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hep_jepa.configuration import HEAD_NAMES, HepJepaConfig
from hep_jepa.layers import attention_bias


class LinearHead(nn.Module):
    """A linear layer on the pooled jet embedding (a linear probe when the backbone is frozen)."""

    def __init__(self, config: HepJepaConfig) -> None:
        super().__init__()
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(config.hidden_size, _num_labels(config))

    def forward(
        self, hidden: torch.Tensor, pooled: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        return self.classifier(self.dropout(pooled))


class MLPHead(nn.Module):
    """A two-layer MLP on the pooled jet embedding."""

    def __init__(self, config: HepJepaConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.act = nn.GELU()
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(config.hidden_size, _num_labels(config))

    def forward(
        self, hidden: torch.Tensor, pooled: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        return self.classifier(self.dropout(self.act(self.dense(pooled))))


class AttentionPoolingHead(nn.Module):
    """A learned query attends over the particle tokens (attentive probe, as in I-JEPA / V-JEPA)."""

    def __init__(self, config: HepJepaConfig) -> None:
        super().__init__()
        self.num_heads = config.num_attention_heads
        self.head_size = config.hidden_size // config.num_attention_heads
        self.query = nn.Parameter(torch.zeros(1, config.hidden_size))
        self.key_value = nn.Linear(config.hidden_size, 2 * config.hidden_size)
        self.out = nn.Linear(config.hidden_size, config.hidden_size)
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(config.hidden_size, _num_labels(config))

    def forward(
        self, hidden: torch.Tensor, pooled: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        batch, length, width = hidden.shape
        key, value = (
            self.key_value(hidden)
            .view(batch, length, 2, self.num_heads, self.head_size)
            .permute(2, 0, 3, 1, 4)
            .unbind(0)
        )  # each (B, H, N, hs)
        query = self.query.view(1, self.num_heads, 1, self.head_size).expand(
            batch, -1, -1, -1
        )  # (B, H, 1, hs)
        context = F.scaled_dot_product_attention(
            query, key, value, attn_mask=attention_bias(mask, hidden.dtype)
        )
        attended = self.out(context.transpose(1, 2).reshape(batch, width))  # (B, D)
        return self.classifier(self.dropout(self.norm(attended)))


def _num_labels(config: HepJepaConfig) -> int:
    if not config.num_labels or config.num_labels < 1:
        raise ValueError(f"num_labels must be a positive integer, got {config.num_labels}.")
    return int(config.num_labels)


HEADS: dict[str, type[nn.Module]] = {
    "linear": LinearHead,
    "mlp": MLPHead,
    "attention": AttentionPoolingHead,
}

if tuple(HEADS) != HEAD_NAMES:  # the config validates names without importing torch
    raise RuntimeError(f"HEADS {tuple(HEADS)} and configuration.HEAD_NAMES {HEAD_NAMES} differ")


def build_head(config: HepJepaConfig) -> nn.Module:
    """The head named by `config.head`, sized by `config.hidden_size` and `config.num_labels`."""
    if config.head not in HEADS:
        raise ValueError(f"Unknown head {config.head!r}; allowed values: {', '.join(HEADS)}.")
    return HEADS[config.head](config)
