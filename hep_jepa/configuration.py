"""`HepJepaConfig`: the architecture settings saved with every hep-jepa checkpoint."""

from __future__ import annotations

from typing import Any

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig

from hep_jepa.features import FEATURE_SETS

POOLINGS = ("mean", "registers")
TOKENIZERS = ("particle", "patch")
MASKINGS = ("block", "random")
REGULARIZATION_LEVELS = ("jet", "token")
HIDDEN_ACTS = ("gelu", "relu", "silu")
# Kept in sync with hep_jepa.heads.HEADS (checked there at import); listed here
# so that validating a config does not import torch.
HEAD_NAMES = ("linear", "mlp", "attention")

# Named sizes. `part` matches the Particle Transformer (d = 128, 8 blocks, 8 heads).
PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {
        "hidden_size": 64,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "intermediate_size": 256,
    },
    "small": {
        "hidden_size": 128,
        "num_hidden_layers": 6,
        "num_attention_heads": 8,
        "intermediate_size": 512,
    },
    "base": {
        "hidden_size": 256,
        "num_hidden_layers": 8,
        "num_attention_heads": 8,
        "intermediate_size": 1024,
    },
    "part": {
        "hidden_size": 128,
        "num_hidden_layers": 8,
        "num_attention_heads": 8,
        "intermediate_size": 512,
    },
}


@strict
class HepJepaConfig(PreTrainedConfig):
    r"""Configuration of a hep-jepa encoder, its classification head and its pretraining.

    Args:
        hidden_size (`int`, defaults to 128): width D of the particle tokens.
        num_hidden_layers (`int`, defaults to 6): number of transformer blocks.
        num_attention_heads (`int`, defaults to 8): attention heads; must divide `hidden_size`.
        intermediate_size (`int`, defaults to 512): width of the feed-forward layer in each block.
        hidden_act (`str`, defaults to `"gelu"`): activation, one of `gelu`, `relu`, `silu`.
        hidden_dropout_prob (`float`, defaults to 0.0): dropout after attention and feed-forward.
        attention_probs_dropout_prob (`float`, defaults to 0.0): dropout on attention weights.
        layer_norm_eps (`float`, defaults to 1e-5): epsilon of every LayerNorm.
        initializer_range (`float`, defaults to 0.02): std of the truncated-normal weight init.
        max_particles (`int`, defaults to 128): particle slots N per jet; the processor keeps the
            `max_particles` hardest particles.
        feature_set (`str`, defaults to `"kin"`): per-particle inputs, one of `kin` (7 features),
            `kinpid` (13) and `full` (17), as defined for the Particle Transformer.
        num_register_tokens (`int`, defaults to 0): learned tokens prepended to the particles.
        use_pair_bias (`bool`, defaults to `False`): add a ParT-style physics bias (lnΔ, ln kT,
            ln z, ln m² of each particle pair) to the attention logits.
        pair_bias_hidden_size (`int`, defaults to 64): width of the pair-feature embedding MLP.
        pooling (`str`, defaults to `"mean"`): how `pooler_output` is made: `mean` over real
            particles, or `registers` (mean of the register tokens; needs `num_register_tokens > 0`).
        tokenizer (`str`, defaults to `"particle"`): `particle` (one token per particle) or
            `patch` (farthest-point-sampled groups of particles, as in the HEP-JEPA paper).
        num_patches (`int`, defaults to 32): number of patch centres when `tokenizer="patch"`.
        patch_size (`int`, defaults to 8): particles per patch when `tokenizer="patch"`.
        head (`str`, defaults to `"linear"`): classification head, one of `linear`, `mlp`,
            `attention` (learned-query attention pooling).
        classifier_dropout (`float`, defaults to 0.0): dropout inside the classification head.
        masking (`str`, defaults to `"block"`): target selection for pretraining: `block`
            (a seed particle and its nearest neighbours in (Δη, Δφ)) or `random`.
        num_target_blocks (`int`, defaults to 4): target blocks per jet.
        target_block_fraction (`float`, defaults to 0.15): size of each block, as a fraction of
            the jet's particles.
        context_fraction (`float`, defaults to 1.0): fraction of the non-target particles the
            context encoder sees.
        predictor_hidden_size (`int`, defaults to 64): width of the JEPA predictor.
        predictor_num_hidden_layers (`int`, defaults to 2): blocks in the predictor.
        predictor_num_attention_heads (`int`, defaults to 4): heads in the predictor.
        ema_momentum_start (`float`, defaults to 0.996): target-encoder EMA momentum at step 0.
        ema_momentum_end (`float`, defaults to 1.0): EMA momentum at the last step.
        variance_weight (`float`, defaults to 0.0): weight of a VICReg variance term (hinge on
            the per-dimension std over the batch, target 1) on the context encoder's output,
            as in C-JEPA (arXiv:2410.19560); 0 turns it off.
        covariance_weight (`float`, defaults to 0.0): weight of the VICReg covariance term
            (squared off-diagonal covariance / width) on the same output; 0 turns it off.
        jet_loss_weight (`float`, defaults to 0.0): weight of a jet-level JEPA term: a small MLP
            on the mean-pooled context embedding predicts the layer-normed jet embedding
            (`pooler_output`) of the target encoder on the whole jet; 0 turns it off.
        observable_loss_weight (`float`, defaults to 0.0): weight of an observable term: a
            linear map of the mean-pooled context embedding regresses six substructure
            observables of the whole jet (mass, multiplicity, e2, C2, pT dispersion, width;
            `hep_jepa.pretraining.jet_observables`), standardised over the batch. They are
            computed from the unlabelled jet itself, so pretraining stays label-free; 0 turns
            it off.
        regularization_level (`str`, defaults to `"jet"`): where the two terms act: `jet`
            (the mean-pooled context embedding of each jet) or `token` (every real context
            token).

    Examples:

    ```python
    >>> from hep_jepa import HepJepaConfig
    >>> config = HepJepaConfig.from_preset("tiny", feature_set="kin")
    >>> config.num_features
    7
    ```
    """

    model_type = "hep_jepa"

    hidden_size: int = 128
    num_hidden_layers: int = 6
    num_attention_heads: int = 8
    intermediate_size: int = 512
    hidden_act: str = "gelu"
    hidden_dropout_prob: float | int = 0.0
    attention_probs_dropout_prob: float | int = 0.0
    layer_norm_eps: float = 1e-5
    initializer_range: float = 0.02
    max_particles: int = 128
    feature_set: str = "kin"
    num_register_tokens: int = 0
    use_pair_bias: bool = False
    pair_bias_hidden_size: int = 64
    pooling: str = "mean"
    tokenizer: str = "particle"
    num_patches: int = 32
    patch_size: int = 8
    head: str = "linear"
    classifier_dropout: float | int = 0.0
    masking: str = "block"
    num_target_blocks: int = 4
    target_block_fraction: float = 0.15
    context_fraction: float = 1.0
    predictor_hidden_size: int = 64
    predictor_num_hidden_layers: int = 2
    predictor_num_attention_heads: int = 4
    ema_momentum_start: float = 0.996
    ema_momentum_end: float = 1.0
    jet_loss_weight: float | int = 0.0
    variance_weight: float | int = 0.0
    covariance_weight: float | int = 0.0
    observable_loss_weight: float | int = 0.0
    regularization_level: str = "jet"

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> HepJepaConfig:
        """A config with the sizes of a named preset (`tiny`, `small`, `base`, `part`)."""
        if name not in PRESETS:
            raise ValueError(f"Unknown preset {name!r}; choose one of {sorted(PRESETS)}.")
        return cls(**{**PRESETS[name], **overrides})

    @property
    def num_features(self) -> int:
        """Number F of per-particle input features of `feature_set`."""
        return len(FEATURE_SETS[self.feature_set])

    def __post_init__(self, **kwargs: Any) -> None:
        # Validate here, before `@strict` does, so that bad values raise a plain ValueError.
        self.validate_architecture()
        super().__post_init__(**kwargs)

    def validate_architecture(self) -> None:
        """Reject settings no model can be built from, saying what is allowed."""
        _check_choice("feature_set", self.feature_set, tuple(FEATURE_SETS))
        _check_choice("pooling", self.pooling, POOLINGS)
        _check_choice("tokenizer", self.tokenizer, TOKENIZERS)
        _check_choice("masking", self.masking, MASKINGS)
        _check_choice("hidden_act", self.hidden_act, HIDDEN_ACTS)
        _check_choice("regularization_level", self.regularization_level, REGULARIZATION_LEVELS)
        _check_choice("head", self.head, HEAD_NAMES)
        for name in (
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
            "max_particles",
            "predictor_hidden_size",
            "predictor_num_attention_heads",
            "num_target_blocks",
            "num_patches",
            "patch_size",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}.")
        if self.num_register_tokens < 0:
            raise ValueError(f"num_register_tokens must be >= 0, got {self.num_register_tokens}.")
        _check_divisible(
            "hidden_size", self.hidden_size, "num_attention_heads", self.num_attention_heads
        )
        _check_divisible(
            "predictor_hidden_size",
            self.predictor_hidden_size,
            "predictor_num_attention_heads",
            self.predictor_num_attention_heads,
        )
        if self.pooling == "registers" and self.num_register_tokens == 0:
            raise ValueError(
                "pooling='registers' needs register tokens: set num_register_tokens > 0 "
                "or use pooling='mean'."
            )
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}.")
        if not 0.0 < self.target_block_fraction < 1.0:
            raise ValueError(
                f"target_block_fraction must be in (0, 1), got {self.target_block_fraction}."
            )
        if not 0.0 < self.context_fraction <= 1.0:
            raise ValueError(f"context_fraction must be in (0, 1], got {self.context_fraction}.")
        for name in (
            "variance_weight",
            "covariance_weight",
            "jet_loss_weight",
            "observable_loss_weight",
        ):
            if getattr(self, name) < 0:
                raise ValueError(
                    f"{name} must be >= 0 (0 turns it off), got {getattr(self, name)}."
                )
        if not 0.0 <= self.ema_momentum_start <= self.ema_momentum_end <= 1.0:
            raise ValueError(
                "EMA momenta must satisfy 0 <= ema_momentum_start <= ema_momentum_end <= 1, got "
                f"{self.ema_momentum_start} and {self.ema_momentum_end}."
            )


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"Unknown {name} {value!r}; allowed values: {', '.join(allowed)}.")


def _check_divisible(name: str, value: int, divisor_name: str, divisor: int) -> None:
    if value % divisor != 0:
        raise ValueError(
            f"{name} ({value}) must be divisible by {divisor_name} ({divisor}); "
            f"e.g. use {name}={divisor * max(1, round(value / divisor))}."
        )


__all__ = ["PRESETS", "HepJepaConfig"]
