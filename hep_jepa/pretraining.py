"""`HepJepaForPretraining`: context encoder, EMA target encoder and predictor (HEP-JEPA).

The context encoder sees the context tokens; the target encoder, an exponential moving
average of it that gets no gradients, sees the whole jet; the predictor, fed the encoded
context plus one mask token per target carrying only the target's (Δη, Δφ), predicts the
layer-normed target-encoder embeddings of every target block. Loss: smooth-L1.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from transformers import initialization as init
from transformers.utils import ModelOutput

from hep_jepa.configuration import HepJepaConfig
from hep_jepa.layers import TransformerBlock, attention_bias, masked_mean
from hep_jepa.masking import check_masking_settings, gather_tokens
from hep_jepa.modeling import HepJepaModel, HepJepaPreTrainedModel


def variance_covariance(embeddings: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """VICReg's variance and covariance terms (Bardes et al., arXiv:2105.04906) of (S, D) rows.

    Returns the mean over dimensions of ``relu(1 - std)`` and the sum of the squared
    off-diagonal covariances divided by D. Both are 0 for an embedding whose dimensions have
    unit spread and are uncorrelated, and grow as it collapses onto fewer directions.
    """
    embeddings = embeddings.float()
    width = embeddings.shape[-1]
    if embeddings.shape[0] < 2:
        zero = embeddings.sum() * 0.0
        return zero, zero
    centred = embeddings - embeddings.mean(dim=0)
    std = torch.sqrt(centred.var(dim=0) + 1e-4)
    variance = F.relu(1.0 - std).mean()
    covariance = centred.T @ centred / (embeddings.shape[0] - 1)  # (D, D)
    off_diagonal = covariance - torch.diag(torch.diagonal(covariance))
    return variance, off_diagonal.pow(2).sum() / width


OBSERVABLE_NAMES = ("log_mass", "log_n_particles", "log_e2", "log_c2", "log_ptd", "width")


def jet_observables(vectors: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, 6) substructure observables of each jet, from its particles' four-momenta.

    Computed in float64 from the whole jet, in the order of `OBSERVABLE_NAMES`: log jet
    mass (log(1 + m/GeV)), log multiplicity, log e2 and log C2 = log(e3 / e2²) of the
    energy-correlation functions with β = 1 (Larkoski, Salam, Thaler, arXiv:1305.0007:
    e2 = Σ_{i<j} z_i z_j ΔR_ij, e3 = Σ_{i<j<k} z_i z_j z_k ΔR_ij ΔR_ik ΔR_jk, z = pT / Σ pT,
    ΔR in rapidity and azimuth), log pT dispersion (½ log Σ z²) and the width Σ pT_i ΔR(i, jet) / pT_jet as in
    `hep_jepa.substructure`.
    C2 separates two-prong from one-prong jets, the mass and e2 the heavy from the light ones.
    e3 is the trace of (√Z R √Z)³ / 6, a batched matrix product.

    Args:
        vectors: (B, N, 4) px, py, pz, E of the particles (zero at padding).
        mask: (B, N) 1 for real particles.
    """
    v = vectors.double() * mask[..., None].double()  # zero four-vectors at padding
    pt = torch.hypot(v[..., 0], v[..., 1])
    z = pt / pt.sum(-1, keepdim=True).clamp_min(1e-12)  # (B, N)
    energy, pz = v[..., 3], v[..., 2]
    rapidity = 0.5 * torch.log((energy + pz).clamp_min(1e-9) / (energy - pz).clamp_min(1e-9))
    phi = torch.atan2(v[..., 1], v[..., 0])
    jet = v.sum(1)  # (B, 4)
    jet_rapidity = 0.5 * torch.log(
        (jet[:, 3] + jet[:, 2]).clamp_min(1e-9) / (jet[:, 3] - jet[:, 2]).clamp_min(1e-9)
    )
    jet_phi = torch.atan2(jet[:, 1], jet[:, 0])

    def wrap(angle: torch.Tensor) -> torch.Tensor:
        return torch.remainder(angle + torch.pi, 2 * torch.pi) - torch.pi

    delta_r = torch.sqrt(
        (rapidity[:, :, None] - rapidity[:, None, :]) ** 2
        + wrap(phi[:, :, None] - phi[:, None, :]) ** 2
    )  # (B, N, N); padded particles have pT = z = 0 and drop out of every sum
    weighted = delta_r * z[:, :, None].sqrt() * z[:, None, :].sqrt()
    e2 = 0.5 * torch.einsum("bi,bij,bj->b", z, delta_r, z)
    e3 = (weighted @ weighted * weighted).sum((-1, -2)) / 6.0
    mass2 = jet[:, 3] ** 2 - (jet[:, :3] ** 2).sum(-1)
    axis_r = torch.sqrt((rapidity - jet_rapidity[:, None]) ** 2 + wrap(phi - jet_phi[:, None]) ** 2)
    tiny = 1e-12
    return torch.stack(
        [
            torch.log1p(mass2.clamp_min(0.0).sqrt()),
            torch.log(mask.double().sum(-1).clamp_min(1.0)),
            torch.log(e2 + tiny),
            torch.log(e3 + tiny) - 2.0 * torch.log(e2 + tiny),
            0.5 * torch.log((z**2).sum(-1) + tiny),
            (pt * axis_r).sum(-1) / torch.hypot(jet[:, 0], jet[:, 1]).clamp_min(1e-12),
        ],
        dim=-1,
    )


def ema_momentum(step: int, total_steps: int, start: float, end: float) -> float:
    """EMA momentum at `step`: linear from `start` (step 0) to `end` (step `total_steps`)."""
    if total_steps <= 0:
        return end
    progress = min(max(step / total_steps, 0.0), 1.0)
    return start + (end - start) * progress


@dataclass
class JepaPretrainingOutput(ModelOutput):
    """Output of `HepJepaForPretraining`. Shapes: B jets, M blocks, T tokens per block, D width.

    Attributes:
        loss: scalar smooth-L1 loss over the real target tokens.
        predictions: (B, M, T, D) predicted target embeddings.
        targets: (B, M, T, D) layer-normed target-encoder embeddings.
        prediction_std: mean over dimensions of the std of predictions over all target tokens
            of the batch; near 0 means collapse.
        target_std: the same for the targets.
        prediction_loss: the smooth-L1 part of `loss`.
        jet_loss: the unweighted jet-level term when `HepJepaConfig.jet_loss_weight` > 0.
        variance, covariance: the unweighted VICReg terms of the context embedding when the
            config turns them on (see `HepJepaConfig.variance_weight`), else None.
        observable_loss: the unweighted observable term when
            `HepJepaConfig.observable_loss_weight` > 0, else None.
    """

    loss: torch.Tensor | None = None
    predictions: torch.Tensor | None = None
    targets: torch.Tensor | None = None
    prediction_std: torch.Tensor | None = None
    target_std: torch.Tensor | None = None
    prediction_loss: torch.Tensor | None = None
    jet_loss: torch.Tensor | None = None
    variance: torch.Tensor | None = None
    covariance: torch.Tensor | None = None
    observable_loss: torch.Tensor | None = None


class PositionEmbedding(nn.Module):
    """(Δη, Δφ) -> width, a small MLP. Shape: (..., 2) -> (..., D)."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(2, hidden_size), nn.GELU(), nn.Linear(hidden_size, hidden_size)
        )

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.mlp(points)


class JepaPredictor(nn.Module):
    """A narrow transformer that predicts target embeddings from context embeddings."""

    def __init__(self, config: HepJepaConfig) -> None:
        super().__init__()
        width = config.predictor_hidden_size
        self.project_in = nn.Linear(config.hidden_size, width)
        self.mask_token = nn.Parameter(torch.zeros(width))
        self.position = PositionEmbedding(width)
        self.blocks = nn.ModuleList(
            [
                TransformerBlock(
                    width,
                    config.predictor_num_attention_heads,
                    4 * width,
                    activation=config.hidden_act,
                    layer_norm_eps=config.layer_norm_eps,
                )
                for _ in range(config.predictor_num_hidden_layers)
            ]
        )
        self.norm = nn.LayerNorm(width, eps=config.layer_norm_eps)
        self.project_out = nn.Linear(width, config.hidden_size)

    def forward(
        self,
        context: torch.Tensor,
        context_points: torch.Tensor,
        context_mask: torch.Tensor,
        target_points: torch.Tensor,
        target_mask: torch.Tensor,
        implementation: str = "sdpa",
    ) -> torch.Tensor:
        """Predict every target block; blocks are processed in parallel as separate sequences.

        Args:
            context: (B, K, D) encoded context tokens.
            context_points: (B, K, 2), context_mask: (B, K).
            target_points: (B, M, T, 2), target_mask: (B, M, T).

        Returns:
            (B, M, T, D) predictions.
        """
        batch, n_blocks, block_length, _ = target_points.shape
        context = self.project_in(context) + self.position(context_points)  # (B, K, Dp)
        queries = self.mask_token + self.position(target_points)  # (B, M, T, Dp)
        context = context[:, None].expand(-1, n_blocks, -1, -1)  # (B, M, K, Dp)
        tokens = torch.cat([context, queries], dim=2).flatten(0, 1)  # (B*M, K+T, Dp)
        mask = torch.cat([context_mask[:, None].expand(-1, n_blocks, -1), target_mask], dim=2)
        mask = mask.flatten(0, 1)  # (B*M, K+T)
        # Blocks with no real target still attend over their context, so no row is empty.
        bias = attention_bias(mask, tokens.dtype)
        for block in self.blocks:
            tokens = block(tokens, bias, implementation)
        predicted = self.project_out(self.norm(tokens[:, -block_length:]))  # (B*M, T, D)
        return predicted.view(batch, n_blocks, block_length, -1)


class HepJepaForPretraining(HepJepaPreTrainedModel):
    """HEP-JEPA pretraining: context encoder (`hep_jepa`), EMA `target_encoder`, `predictor`.

    Call `update_target_encoder(step, total_steps)` after every optimiser step (the
    pretraining engine does it in a callback). `save_encoder(path)` writes the target
    encoder as a `HepJepaModel` checkpoint with its processor, which
    `HepJepaModel.from_pretrained` and `embed` load as they are.

    Examples:

    ```python
    >>> config = HepJepaConfig.from_preset("tiny")
    >>> model = HepJepaForPretraining(config)
    >>> out = model(**batch, **masks.as_dict())      # batch from JetProcessor, masks from the collator
    >>> out.loss.backward(); optimizer.step(); model.update_target_encoder(step, total_steps)
    ```
    """

    def __init__(self, config: HepJepaConfig) -> None:
        super().__init__(config)
        check_masking_settings(
            config.num_target_blocks, config.target_block_fraction, config.context_fraction
        )
        self.hep_jepa = HepJepaModel(config)
        self.target_encoder = HepJepaModel(config)
        self.predictor = JepaPredictor(config)
        self.jet_predictor = (
            nn.Sequential(
                nn.Linear(config.hidden_size, 2 * config.hidden_size),
                nn.GELU(),
                nn.Linear(2 * config.hidden_size, config.hidden_size),
            )
            if config.jet_loss_weight > 0
            else None
        )
        # Linear, so that the observables are linearly readable from the jet embedding.
        self.observable_head = (
            nn.Linear(config.hidden_size, len(OBSERVABLE_NAMES))
            if config.observable_loss_weight > 0
            else None
        )
        self.post_init()
        self.target_encoder.load_state_dict(self.hep_jepa.state_dict())
        self.target_encoder.requires_grad_(False)
        self.momentum = config.ema_momentum_start

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, JepaPredictor):
            init.trunc_normal_(module.mask_token, std=self.config.initializer_range)

    def forward(
        self,
        features: torch.Tensor,
        mask: torch.Tensor,
        context_index: torch.Tensor,
        context_mask: torch.Tensor,
        target_index: torch.Tensor,
        target_mask: torch.Tensor,
        vectors: torch.Tensor | None = None,
        points: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> JepaPretrainingOutput:
        """One JEPA step on a padded batch (see `hep_jepa.masking` for the index tensors).

        Args:
            features, mask, vectors: as for `HepJepaModel.forward`; (B, N, ...).
            points: (B, N, 2) Δη, Δφ (required: the predictor's positions).
            context_index, context_mask: (B, K) indices of tokens (particles, or patches with
                the patch tokenizer: see `MaskSampler`).
            target_index, target_mask: (B, M, T).
        """
        if points is None:
            raise ValueError("pretraining needs `points` (B, N, 2), the (Δη, Δφ) of the particles.")
        implementation = self.config._attn_implementation or "sdpa"

        with torch.no_grad():
            self.target_encoder.eval()
            encoded = self.target_encoder(features, mask, vectors=vectors, points=points)
            full = encoded.last_hidden_state  # (B, L, D)
            assert encoded.pooler_output is not None
            jet_target = F.layer_norm(encoded.pooler_output, full.shape[-1:])  # (B, D)
            full = F.layer_norm(full, full.shape[-1:])
            targets = gather_tokens(full, target_index)  # (B, M, T, D)

        tokens = self.hep_jepa.tokenize(features, mask, vectors, points)  # L tokens
        assert tokens.points is not None
        context_vectors = (
            None if tokens.vectors is None else gather_tokens(tokens.vectors, context_index)
        )
        context, _ = self.hep_jepa.encode_tokens(
            gather_tokens(tokens.embeddings, context_index), context_mask, context_vectors
        )  # (B, K, D)
        predictions = self.predictor(
            context,
            gather_tokens(tokens.points, context_index),
            context_mask,
            gather_tokens(tokens.points, target_index),
            target_mask,
            implementation,
        )  # (B, M, T, D)

        valid = target_mask[..., None].to(predictions.dtype)  # (B, M, T, 1)
        per_token = F.smooth_l1_loss(predictions, targets, reduction="none") * valid
        loss = per_token.sum() / (valid.sum() * predictions.shape[-1]).clamp_min(1.0)
        prediction_loss = loss
        variance = covariance = jet_loss = None
        config = self.config
        pooled = masked_mean(context, context_mask)  # (B, D) jet embedding of the context
        if self.jet_predictor is not None:
            jet_loss = F.smooth_l1_loss(self.jet_predictor(pooled), jet_target)
            loss = loss + config.jet_loss_weight * jet_loss
        if config.variance_weight > 0 or config.covariance_weight > 0:
            if config.regularization_level == "jet":
                rows = pooled
            else:
                rows = context[context_mask.bool()]  # (real context tokens, D)
            variance, covariance = variance_covariance(rows)
            loss = loss + config.variance_weight * variance + config.covariance_weight * covariance
        observable_loss = None
        if self.observable_head is not None:
            if vectors is None:
                raise ValueError(
                    "observable_loss_weight > 0 needs `vectors` (B, N, 4), the particles' "
                    "four-momenta, as JetProcessor returns them."
                )
            with torch.no_grad():
                observables = jet_observables(vectors, mask)
                # standardised over the batch, so that every observable weighs the same
                spread = observables.std(dim=0).clamp_min(1e-6)
                observables = ((observables - observables.mean(dim=0)) / spread).float()
            observable_loss = F.mse_loss(self.observable_head(pooled).float(), observables)
            loss = loss + config.observable_loss_weight * observable_loss
        with torch.no_grad():
            selected = target_mask.bool()
            prediction_std = predictions[selected].float().std(dim=0).mean()
            target_std = targets[selected].float().std(dim=0).mean()
        return JepaPretrainingOutput(
            loss=loss,
            predictions=predictions,
            targets=targets,
            prediction_std=prediction_std,
            target_std=target_std,
            prediction_loss=prediction_loss.detach(),
            jet_loss=None if jet_loss is None else jet_loss.detach(),
            variance=None if variance is None else variance.detach(),
            covariance=None if covariance is None else covariance.detach(),
            observable_loss=None if observable_loss is None else observable_loss.detach(),
        )

    @torch.no_grad()
    def update_target_encoder(self, step: int, total_steps: int) -> float:
        """EMA update ``target = m·target + (1 − m)·context`` with m = `ema_momentum(step, ...)`."""
        momentum = ema_momentum(
            step, total_steps, self.config.ema_momentum_start, self.config.ema_momentum_end
        )
        for target, online in zip(
            self.target_encoder.parameters(), self.hep_jepa.parameters(), strict=True
        ):
            target.mul_(momentum).add_(online.detach(), alpha=1.0 - momentum)
        self.momentum = momentum
        return momentum

    def save_encoder(self, save_directory: str | os.PathLike[str]) -> None:
        """Save the target encoder as a `HepJepaModel` checkpoint (weights, config, processor)."""
        encoder = copy.deepcopy(self.target_encoder)
        encoder.config.architectures = ["HepJepaModel"]
        encoder.set_processor(self.processor)
        encoder.save_pretrained(save_directory)
