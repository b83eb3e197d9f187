"""`HepJepaModel`: the particle transformer encoder, a transformers `PreTrainedModel`."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from hep_jepa.configuration import HepJepaConfig
from hep_jepa.layers import TransformerBlock, attention_bias, masked_mean
from hep_jepa.masking import gather_tokens
from hep_jepa.pair_bias import PairBias
from hep_jepa.processor import PROCESSOR_CONFIG_NAME, JetBatch, JetProcessor
from hep_jepa.tokenizers import PatchEmbedding, group_particles, hardest_particle, patch_vectors

logger = logging.getLogger(__name__)


@dataclass
class HepJepaModelOutput(ModelOutput):
    """Output of `HepJepaModel`. Shapes: B jets, N particle slots, D = hidden_size.

    Attributes:
        last_hidden_state: (B, N, D) particle token embeddings after the final LayerNorm
            (register tokens are not included).
        pooler_output: (B, D) jet embedding (see `HepJepaConfig.pooling`).
        mask: (B, N) bool, True for real particles (as given to `forward`).
        register_tokens: (B, R, D) register-token embeddings, or None when R = 0.
    """

    last_hidden_state: torch.Tensor | None = None
    pooler_output: torch.Tensor | None = None
    mask: torch.Tensor | None = None
    register_tokens: torch.Tensor | None = None


@dataclass
class Tokens:
    """The token sequence of a batch. Letters: B jets, L tokens (particles or patches), D width.

    Attributes:
        embeddings: (B, L, D) token embeddings, zero at padding.
        mask: (B, L) bool, True for real tokens.
        vectors: (B, L, 4) four-momenta of the tokens, or None.
        points: (B, L, 2) (Δη, Δφ) of the tokens, or None.
    """

    embeddings: torch.Tensor
    mask: torch.Tensor
    vectors: torch.Tensor | None
    points: torch.Tensor | None


class ParticleEmbedding(nn.Module):
    """Per-particle MLP from F input features to D. Shape: (B, N, F) -> (B, N, D)."""

    def __init__(self, num_features: int, hidden_size: int) -> None:
        super().__init__()
        self.up = nn.Linear(num_features, hidden_size)
        self.act = nn.GELU()
        self.down = nn.Linear(hidden_size, hidden_size)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.down(self.act(self.up(features)))


class RegisterTokens(nn.Module):
    """R learned tokens prepended to every jet."""

    def __init__(self, num_tokens: int, hidden_size: int) -> None:
        super().__init__()
        self.tokens = nn.Parameter(torch.zeros(num_tokens, hidden_size))

    def forward(self, batch_size: int) -> torch.Tensor:
        return self.tokens[None].expand(batch_size, -1, -1)  # (B, R, D)


class HepJepaPreTrainedModel(PreTrainedModel):
    """Shared loading, saving and initialisation for every hep-jepa model class.

    `save_pretrained` also writes the model's `JetProcessor` (``processor_config.json``);
    `from_pretrained` reads it back into ``model.processor``, so a model is never fed
    features it was not trained on. Weights are safetensors only; nothing is unpickled.
    """

    config_class = HepJepaConfig
    config: HepJepaConfig
    base_model_prefix = "hep_jepa"
    main_input_name = "features"
    _supports_sdpa = True
    _no_split_modules = ["TransformerBlock"]  # noqa: RUF012 (a transformers class attribute)

    def __init__(self, config: HepJepaConfig, *inputs: Any, **kwargs: Any) -> None:
        super().__init__(config, *inputs, **kwargs)
        self.processor = JetProcessor(
            feature_set=config.feature_set, max_particles=config.max_particles
        )

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, RegisterTokens):
            init.trunc_normal_(module.tokens, std=self.config.initializer_range)

    # -- processor attached to the weights ---------------------------------------------------

    def set_processor(self, processor: JetProcessor) -> None:
        """Attach `processor`, after checking it produces what this model was built for."""
        if processor.feature_set != self.config.feature_set:
            raise ValueError(
                f"processor feature_set {processor.feature_set!r} does not match the model's "
                f"{self.config.feature_set!r}; build JetProcessor(feature_set="
                f"{self.config.feature_set!r}) or load the processor saved with the model."
            )
        if processor.max_particles > self.config.max_particles:
            raise ValueError(
                f"processor max_particles ({processor.max_particles}) exceeds the model's "
                f"max_particles ({self.config.max_particles})."
            )
        self.processor = processor

    @torch.no_grad()
    def map_jets(
        self,
        jets: Any,
        function: Callable[[JetBatch], torch.Tensor],
        *,
        batch_size: int = 256,
        progress: bool = False,
        description: str = "jets",
    ) -> np.ndarray:
        """Apply `function` to processed batches of `jets` in eval mode; results in jet order.

        Jets are grouped by multiplicity and each batch is padded only to its longest jet,
        so little of the work is spent on padding; the results do not depend on it.
        """
        from tqdm.auto import tqdm

        n_jets = len(jets)
        order = (
            np.argsort(self.processor.multiplicities(jets), kind="stable")
            if n_jets
            else np.zeros(0, int)
        )
        results: np.ndarray | None = None
        was_training = self.training
        self.eval()
        try:
            starts = range(0, n_jets, batch_size)
            for start in tqdm(starts, disable=not progress, desc=description, unit="batch"):
                index = order[start : start + batch_size]
                batch = self.processor(jets[index], pad_to_longest=True)
                values = function(batch).float().cpu().numpy()
                if results is None:
                    results = np.empty((n_jets, *values.shape[1:]), dtype=np.float32)
                results[index] = values
        finally:
            self.train(was_training)
        return results if results is not None else np.zeros((0,), dtype=np.float32)

    def save_pretrained(self, save_directory: str | os.PathLike[str], **kwargs: Any) -> None:  # type: ignore[override]
        """Write ``config.json``, ``model.safetensors`` and ``processor_config.json``."""
        super().save_pretrained(save_directory, **kwargs)
        self.processor.save_pretrained(save_directory)

    @classmethod
    def from_pretrained(
        cls, pretrained_model_name_or_path: Any, *model_args: Any, **kwargs: Any
    ) -> Any:
        """Load a model (and its processor) from a folder, a bundled name or the Hub.

        Names listed by `hep_jepa.list_pretrained()` ship with the package and load with no
        network. Other names go through huggingface_hub (its cache, ``revision``,
        ``HF_HUB_OFFLINE``, ``token``). Loading never unpickles: only safetensors are read.
        """
        from hep_jepa.hub import resolve_file, resolve_model_path

        path = resolve_model_path(pretrained_model_name_or_path)
        hub_kwargs = {
            k: kwargs[k]
            for k in ("revision", "cache_dir", "token", "local_files_only", "force_download")
            if k in kwargs
        }
        if not Path(path).is_dir():  # a Hub repo: refuse pickle-only or corrupt weights first
            from hep_jepa.hub import check_checkpoint

            check_checkpoint(pretrained_model_name_or_path, **hub_kwargs)
        kwargs.setdefault("use_safetensors", True)
        want_info = kwargs.pop("output_loading_info", False)
        try:
            loaded: tuple[Any, dict[str, Any]] = super().from_pretrained(  # type: ignore[assignment]
                path, *model_args, output_loading_info=True, **kwargs
            )
        except RuntimeError as error:
            if "mismatched" not in str(error):
                raise
            raise ValueError(
                f"the weights of {str(pretrained_model_name_or_path)!r} do not match its config.json "
                "(tensor shapes differ; see the load report above). Fix or restore config.json, or "
                "pass ignore_mismatched_sizes=True to re-initialise the mismatched tensors."
            ) from None
        model, info = loaded
        if info["missing_keys"] and not kwargs.get("ignore_mismatched_sizes"):
            missing = sorted(info["missing_keys"])
            raise ValueError(
                f"the checkpoint {str(pretrained_model_name_or_path)!r} lacks {len(missing)} weights "
                f"that its config.json asks for (e.g. {missing[:3]}); the config and the weights "
                "come from different models. Fix or restore config.json."
            )
        processor_file = resolve_file(path, PROCESSOR_CONFIG_NAME, **hub_kwargs)
        if processor_file is not None:
            model.set_processor(JetProcessor.from_pretrained(Path(processor_file).parent))
        return (model, info) if want_info else model

    def push_to_hub(  # type: ignore[override]
        self,
        repo_id: str,
        *,
        commit_message: str | None = None,
        commit_description: str | None = None,
        private: bool | None = None,
        token: bool | str | None = None,
        revision: str | None = None,
        create_pr: bool = False,
        max_shard_size: int | str | None = "50GB",
        tags: list[str] | None = None,
        metrics: dict[str, dict[str, Any]] | None = None,
        roc_image: str | os.PathLike[str] | None = None,
        training: dict[str, Any] | None = None,
        base_model: str | None = None,
        datasets: list[str] | None = None,
        license: str | None = None,
    ) -> Any:
        """Upload weights, config, processor and a model card to the Hub in one commit.

        The keyword arguments up to `tags` are those of transformers' ``push_to_hub``. The card
        (``README.md``, see `hep_jepa.model_card.build_model_card`) is built from `metrics`,
        `roc_image`, `training`, `base_model`, `datasets` and `license`; inputs not given are
        read from the folder the model was loaded from (``eval_results.json``,
        ``training_info.json``, ``roc.png``), which are uploaded too.

        Returns:
            `huggingface_hub.CommitInfo` (a str: the commit URL; ``.oid`` is the commit sha).

        Raises:
            PermissionError: no token, or a token without write access.
            OSError: the Hub is unreachable, ``HF_HUB_OFFLINE=1``, or the Hub refused the push.

        Examples:

        ```python
        >>> tagger.push_to_hub("my-group/top-tagger", metrics={"top_tagging_test": scores},
        ...                    roc_image="runs/top-tagger/roc.png")
        ```
        """
        import tempfile

        from hep_jepa.hub import push_folder
        from hep_jepa.model_card import write_card_folder

        source = self.name_or_path if Path(str(self.name_or_path)).is_dir() else None
        with tempfile.TemporaryDirectory() as folder:
            self.save_pretrained(folder, max_shard_size=max_shard_size)
            write_card_folder(
                self,
                folder,
                repo_id=repo_id,
                source=source,
                metrics=metrics,
                roc_image=roc_image,
                training=training,
                base_model=base_model,
                datasets=datasets,
                license=license,
                tags=tags,
            )
            return push_folder(
                folder,
                repo_id,
                token=token,
                private=private,
                revision=revision,
                commit_message=commit_message,
                commit_description=commit_description,
                create_pr=create_pr,
            )


# Jets per chunk in CPU inference hold about this many tokens (see `_inference_chunk`).
CPU_INFERENCE_CHUNK_TOKENS = 4096


def _inference_chunk(tokens: torch.Tensor) -> int:
    """Jets per chunk for running each block over a large batch in pieces, or 0 for not.

    Without autograd on a CPU, a block over, say, 256 jets of 60 particles makes a
    (15,360 × intermediate) feed-forward activation that no longer fits in the caches, so the
    element-wise work (GELU, copies) runs at memory speed. Running each block over chunks of
    about `CPU_INFERENCE_CHUNK_TOKENS` tokens keeps it cache-resident, and each chunk is cut
    to its own longest jet (`HepJepaModel._run_blocks_in_chunks`): the real tokens' outputs
    are the same as for the whole batch (every operation acts on each jet separately;
    padded slots of `last_hidden_state` come back as the norm of zeros instead). Off under
    autograd, on GPUs and while compiling or tracing (ONNX export). Measured gain:
    docs/speed.md.
    """
    if (
        tokens.device.type != "cpu"
        or torch.is_grad_enabled()
        or torch.compiler.is_compiling()
        or torch.jit.is_tracing()
        or tokens.shape[0] * tokens.shape[1] <= CPU_INFERENCE_CHUNK_TOKENS
    ):
        return 0
    return max(1, CPU_INFERENCE_CHUNK_TOKENS // tokens.shape[1])


class HepJepaModel(HepJepaPreTrainedModel):
    """The hep-jepa jet encoder: particle embedding -> pre-norm transformer blocks -> pooling.

    Examples:

    ```python
    >>> from hep_jepa import HepJepaModel
    >>> model = HepJepaModel.from_pretrained("hep-jepa/hep-jepa-tiny")
    >>> embeddings = model.embed(jets)      # awkward jets -> (n_jets, hidden_size) numpy array
    ```
    """

    def __init__(self, config: HepJepaConfig) -> None:
        super().__init__(config)
        self.embedding: nn.Module = (
            PatchEmbedding(config.num_features, config.hidden_size)
            if config.tokenizer == "patch"
            else ParticleEmbedding(config.num_features, config.hidden_size)
        )
        self.registers = (
            RegisterTokens(config.num_register_tokens, config.hidden_size)
            if config.num_register_tokens > 0
            else None
        )
        self.pair_bias = (
            PairBias(config.num_attention_heads, config.pair_bias_hidden_size)
            if config.use_pair_bias
            else None
        )
        self.blocks = nn.ModuleList(
            [
                TransformerBlock(
                    config.hidden_size,
                    config.num_attention_heads,
                    config.intermediate_size,
                    activation=config.hidden_act,
                    dropout=config.hidden_dropout_prob,
                    attention_dropout=config.attention_probs_dropout_prob,
                    layer_norm_eps=config.layer_norm_eps,
                )
                for _ in range(config.num_hidden_layers)
            ]
        )
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.post_init()

    def forward(
        self,
        features: torch.Tensor,
        mask: torch.Tensor,
        vectors: torch.Tensor | None = None,
        points: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> HepJepaModelOutput:
        """Encode a padded batch of jets.

        Args:
            features: (B, N, F) standardised particle features (from `JetProcessor`).
            mask: (B, N) bool, True = real particle. Every jet needs at least one.
            vectors: (B, N, 4) px, py, pz, E; required when `config.use_pair_bias`.
            points: (B, N, 2) Δη, Δφ; accepted for API symmetry (used by pretraining).

        Returns:
            `HepJepaModelOutput` with `last_hidden_state` (B, L, D) and `pooler_output` (B, D);
            L = N particles, or `num_patches` with the patch tokenizer (``mask`` is then the
            patch mask).
        """
        tokens = self.tokenize(features, mask, vectors, points)
        hidden, registers = self.encode_tokens(tokens.embeddings, tokens.mask, tokens.vectors)
        if self.config.pooling == "registers" and registers is not None:
            pooled = registers.mean(dim=1)
        else:
            pooled = masked_mean(hidden, tokens.mask)
        return HepJepaModelOutput(
            last_hidden_state=hidden,
            pooler_output=pooled,
            mask=tokens.mask,
            register_tokens=registers,
        )

    @classmethod
    def from_pretrained(
        cls, pretrained_model_name_or_path: Any, *model_args: Any, **kwargs: Any
    ) -> Any:
        """As `HepJepaPreTrainedModel.from_pretrained`; a local pretraining checkpoint
        (e.g. ``runs/x/checkpoint-500``) gives its EMA target encoder, the product of
        pretraining (as in I-JEPA), rather than the context encoder stored under ``hep_jepa.``.
        """
        if _architectures(pretrained_model_name_or_path) != ["HepJepaForPretraining"]:
            return super().from_pretrained(pretrained_model_name_or_path, *model_args, **kwargs)
        from hep_jepa.pretraining import HepJepaForPretraining

        if kwargs.get("output_loading_info"):
            raise ValueError("output_loading_info is not supported for pretraining checkpoints.")
        logger.info(
            "%s: a pretraining checkpoint; loading its target encoder.",
            pretrained_model_name_or_path,
        )
        full = HepJepaForPretraining.from_pretrained(
            pretrained_model_name_or_path, *model_args, **kwargs
        )
        encoder = full.target_encoder
        encoder.config.architectures = ["HepJepaModel"]
        encoder.requires_grad_(True)
        encoder.set_processor(full.processor)
        return encoder

    def tokenize(
        self,
        features: torch.Tensor,
        mask: torch.Tensor,
        vectors: torch.Tensor | None = None,
        points: torch.Tensor | None = None,
    ) -> Tokens:
        """Particles -> tokens: one per particle, or one per patch (``tokenizer="patch"``).

        Shapes: features (B, N, F), mask (B, N), vectors (B, N, 4), points (B, N, 2).
        """
        self._check_inputs(features, mask)
        if self.config.tokenizer == "particle":
            embeddings = self.embedding(features) * mask[:, :, None].to(features.dtype)
            return Tokens(embeddings, mask, vectors, points)
        if points is None:
            raise ValueError(
                "the patch tokenizer needs `points` (B, N, 2); pass JetBatch.model_inputs()."
            )
        groups = group_particles(
            points,
            mask,
            self.config.num_patches,
            self.config.patch_size,
            hardest_particle(features, mask),
        )
        embeddings = self.embedding(features, points, groups)  # (B, P, D)
        return Tokens(
            embeddings,
            groups.patch_mask,
            None if vectors is None else patch_vectors(vectors, groups),
            gather_tokens(points, groups.centre_index),
        )

    def encode_tokens(
        self, tokens: torch.Tensor, mask: torch.Tensor, vectors: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Run the transformer blocks over (a subset of) particle tokens.

        Args:
            tokens: (B, K, D) token embeddings.
            mask: (B, K) bool, True = real token.
            vectors: (B, K, 4) four-momenta of the tokens, for the pair bias.

        Returns:
            (B, K, D) normalised particle tokens and (B, R, D) register tokens (or None).
        """
        if self.pair_bias is not None and vectors is None:
            raise ValueError(
                "this model uses the pair bias (use_pair_bias=True) and needs `vectors` "
                "(B, N, 4); pass JetBatch.model_inputs() rather than features and mask alone."
            )
        n_registers = 0
        if self.registers is not None:
            n_registers = self.config.num_register_tokens
            tokens = torch.cat([self.registers(tokens.shape[0]).to(tokens.dtype), tokens], dim=1)
            mask = torch.cat([mask.new_ones(mask.shape[0], n_registers), mask], dim=1)
        implementation = self.config._attn_implementation or "sdpa"
        chunk = _inference_chunk(tokens)
        if chunk:
            tokens = self._run_blocks_in_chunks(
                tokens, mask, vectors, n_registers, chunk, implementation
            )
        else:
            bias = self._attention_bias(mask, vectors, n_registers, tokens.dtype)
            for block in self.blocks:
                tokens = block(tokens, bias, implementation)
        tokens = self.norm(tokens)
        registers = tokens[:, :n_registers] if n_registers else None
        return tokens[:, n_registers:], registers

    def _attention_bias(
        self,
        mask: torch.Tensor,
        vectors: torch.Tensor | None,
        n_registers: int,
        dtype: torch.dtype,
    ) -> torch.Tensor:
        """Attention bias of tokens with `mask` (registers first): padding plus any pair bias."""
        pair = None
        if self.pair_bias is not None:
            assert vectors is not None
            pair = self.pair_bias(vectors)  # (B, H, K, K)
            if n_registers:
                pair = nn.functional.pad(pair, (n_registers, 0, n_registers, 0))  # (B, H, L, L)
        return attention_bias(mask, dtype, pair)

    def _run_blocks_in_chunks(
        self,
        tokens: torch.Tensor,
        mask: torch.Tensor,
        vectors: torch.Tensor | None,
        n_registers: int,
        chunk: int,
        implementation: str,
    ) -> torch.Tensor:
        """All blocks over `chunk` jets at a time, each chunk cut after its last real token.

        The jets are grouped by length (shortest first) into chunks, so a chunk's jets have
        similar lengths whatever the batch order. Slots after the last real token of every
        jet in a chunk are padding keys that attention ignores, so dropping them changes no
        real token's output; the dropped slots come back as zeros (before the final norm).
        The pair bias is computed per chunk too.
        """
        out = torch.zeros_like(tokens)
        slots = torch.arange(1, mask.shape[1] + 1, device=mask.device)
        last = (mask * slots).amax(dim=1)  # (B,) one past each jet's last real token
        order = torch.argsort(last, stable=True)  # shortest jets first
        for start in range(0, tokens.shape[0], chunk):
            index = order[start : start + chunk]
            length = max(int(last[index].max()), n_registers + 1)
            x = tokens[index, :length]
            chunk_vectors = None if vectors is None else vectors[index, : length - n_registers]
            bias = self._attention_bias(mask[index, :length], chunk_vectors, n_registers, x.dtype)
            for block in self.blocks:
                x = block(x, bias, implementation)
            out[index, :length] = x
        return out

    def _check_inputs(self, features: torch.Tensor, mask: torch.Tensor) -> None:
        expected = self.config.num_features
        if features.ndim != 3 or features.shape[-1] != expected:
            raise ValueError(
                f"features must have shape (B, N, {expected}) for feature_set="
                f"{self.config.feature_set!r}, got {tuple(features.shape)}; make them with "
                "the model's processor (model.processor(jets))."
            )
        if mask.shape != features.shape[:2] or mask.dtype != torch.bool:
            raise ValueError(
                f"mask must be a bool tensor of shape {tuple(features.shape[:2])}, got "
                f"{mask.dtype} {tuple(mask.shape)} (True = real particle)."
            )
        if features.shape[1] > self.config.max_particles:
            raise ValueError(
                f"{features.shape[1]} particle slots exceed max_particles="
                f"{self.config.max_particles} of this model."
            )
        # A data-dependent check would break a torch.compile graph: it runs in eager mode
        # (and `embed` builds batches from the processor, which refuses empty jets).
        if not torch.compiler.is_compiling() and not bool(mask.any(dim=1).all()):
            empty = int((~mask.any(dim=1)).nonzero()[0, 0])
            raise ValueError(f"jet {empty} has no real particle in `mask`; remove empty jets.")

    @torch.no_grad()
    def embed(
        self,
        jets: Any,
        *,
        batch_size: int = 256,
        progress: bool = False,
        device: torch.device | str | None = None,
        compile: bool = False,
        bf16: bool = False,
    ) -> np.ndarray:
        """Jet embeddings (``pooler_output``) for awkward jets, with the model's own processor.

        Jets are grouped by multiplicity and each batch is padded only to its longest jet (see
        `map_jets`), so little of the work is spent on padding; the embeddings do not depend
        on the grouping or on `batch_size` beyond float32 rounding.

        Args:
            jets: awkward array of jets (see ``docs/jets.md``).
            batch_size: jets per forward pass.
            progress: show a progress bar.
            device: where to run; defaults to the model's device.
            compile: run the forward pass through ``torch.compile(model, dynamic=True)``
                (PyTorch's inductor: needs a C++ compiler on CPU, Triton on CUDA). The
                compiled module is cached on the model and reused by later calls with any
                batch size or multiplicity; it is not a submodule, so it is not saved. The
                first call compiles (tens of seconds to minutes on CPU), so this pays off on
                large samples only. Embeddings agree with eager ones to float32 rounding
                (inductor fuses and reorders operations: differences of up to a few 1e-5
                at the ParT size with the pair bias).
            bf16: run the forward pass under ``torch.autocast(device type, bfloat16)``: the
                matrix products in bfloat16, the rest in float32. Meant for GPUs with bf16
                tensor cores (Ampere and later), where it is several times faster; it also
                runs on CPUs, where it is usually slower. Embeddings then agree with float32
                ones to about 1e-2; the result is float32 either way.

        Returns:
            (n_jets, hidden_size) float32 numpy array, in the order of `jets`.
        """
        device = torch.device(device) if device is not None else self.device
        forward: Callable[..., Any] = self
        if compile:
            # Kept in __dict__ rather than as an attribute: nn.Module would register the
            # compiled wrapper (which holds this model) as a submodule and save it twice.
            compiled = self.__dict__.get("_compiled_forward")
            if compiled is None:
                compiled = torch.compile(self, dynamic=True)
                self.__dict__["_compiled_forward"] = compiled
            forward = compiled

        def run(batch: JetBatch) -> torch.Tensor:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                return forward(**batch.to(device).model_inputs()).pooler_output

        embeddings = self.map_jets(
            jets,
            run,
            batch_size=batch_size,
            progress=progress,
            description="embedding jets",
        )
        return embeddings.reshape(len(jets), self.config.hidden_size)


def _architectures(path: Any) -> list[str] | None:
    """`architectures` from a local folder's config.json, or None (no folder, no file)."""
    if not isinstance(path, (str, os.PathLike)):
        return None
    config_file = Path(path) / "config.json"
    if not config_file.is_file():
        return None
    try:
        value = json.loads(config_file.read_text()).get("architectures")
    except (OSError, ValueError):
        return None
    return value if isinstance(value, list) else None
