"""Speed options of `HepJepaModel.embed`: multiplicity bucketing and ``compile=True``."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from conftest import TINY, make_jets

from hep_jepa import HepJepaConfig, HepJepaModel


def _model(**overrides) -> HepJepaModel:
    torch.manual_seed(0)
    return HepJepaModel(HepJepaConfig(**{**TINY, "use_pair_bias": True, **overrides})).eval()


def test_embed_batches_carry_little_padding_on_real_jets(realdata_dir):
    """`embed` groups jets by multiplicity: under 15 % of the tokens it runs are padding."""
    from hep_jepa.data import load_jets

    jets = load_jets(realdata_dir / "top_tagging")
    model = _model(max_particles=128)
    shapes: list[tuple[int, int, int]] = []

    def record(batch):
        shapes.append((*batch.mask.shape, int(batch.mask.sum())))
        return torch.zeros(len(batch.mask), 1)

    model.map_jets(jets, record, batch_size=256)
    tokens = sum(b * n for b, n, _ in shapes)
    real = sum(r for _, _, r in shapes)
    assert real == int(model.processor.multiplicities(jets).sum())
    assert 1 - real / tokens < 0.15
    # the same jets in file order, each batch padded to its longest jet: far more padding
    counts = model.processor.multiplicities(jets)
    random_tokens = sum(
        len(chunk) * int(chunk.max()) for chunk in np.array_split(counts, -(-len(counts) // 256))
    )
    assert 1 - real / random_tokens > 0.3


@pytest.mark.slow
# torch's inductor imports torch.utils.mkldnn, which uses the deprecated torch.jit.script_method
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_compiled_embed_matches_eager():
    if shutil.which("c++") is None and shutil.which("g++") is None and shutil.which("gcc") is None:
        pytest.skip("torch.compile's inductor needs a C++ compiler on CPU; none found on PATH")
    model = _model()
    jets = make_jets(n_jets=11, min_particles=2, max_particles=30, seed=3)
    eager = model.embed(jets, batch_size=4)
    compiled = model.embed(jets, batch_size=4, compile=True)
    np.testing.assert_allclose(compiled, eager, atol=1e-5, rtol=1e-5)
    # cached, reused with another batch size, and kept out of the weights
    wrapper = model.__dict__["_compiled_forward"]
    again = model.embed(jets, batch_size=5, compile=True)
    assert model.__dict__["_compiled_forward"] is wrapper
    np.testing.assert_allclose(again, eager, atol=1e-5, rtol=1e-5)
    assert not any(key.startswith("_compiled") for key in model.state_dict())
    assert all(name != "_compiled_forward" for name, _ in model.named_modules())


@pytest.mark.parametrize("pair", [False, True])
def test_chunked_cpu_inference_gives_the_same_outputs(monkeypatch, pair):
    """Large no-grad CPU batches run in chunks of jets of similar length, each cut to its
    longest jet: the real tokens' outputs and the pooled embedding are those of the whole
    batch, whatever the order of the jets."""
    import hep_jepa.modeling as modeling

    model = _model(use_pair_bias=pair, num_register_tokens=1)
    jets = make_jets(n_jets=21, max_particles=40, seed=5)  # in random multiplicity order
    inputs = model.processor(jets).model_inputs()
    real = inputs["mask"]
    with torch.no_grad():
        whole = model(**inputs)
        assert modeling._inference_chunk(whole.last_hidden_state) == 0  # below the default
        monkeypatch.setattr(modeling, "CPU_INFERENCE_CHUNK_TOKENS", 100)  # chunks of 2-3 jets
        assert 1 < modeling._inference_chunk(whole.last_hidden_state) < 21
        lengths: list[int] = []
        hook = model.blocks[0].register_forward_hook(
            lambda module, args, output: lengths.append(output.shape[1])
        )
        chunked = model(**inputs)
        hook.remove()
    torch.testing.assert_close(
        chunked.last_hidden_state[real], whole.last_hidden_state[real], rtol=1e-5, atol=1e-5
    )
    torch.testing.assert_close(chunked.pooler_output, whole.pooler_output, rtol=1e-5, atol=1e-5)
    # the chunks group the shortest jets, which ran on fewer slots than the batch has
    assert len(lengths) > 1 and min(lengths) < max(lengths) == real.shape[1] + 1
    with torch.enable_grad():
        assert modeling._inference_chunk(whole.last_hidden_state) == 0  # training: whole


@pytest.mark.parametrize("pair", [False, True])
def test_bf16_embed_is_close_to_float32(pair):
    """``embed(bf16=True)`` runs under bfloat16 autocast (here on the CPU) and stays close."""
    model = _model(use_pair_bias=pair)
    jets = make_jets(n_jets=12, max_particles=30, seed=2)
    full = model.embed(jets)
    half = model.embed(jets, bf16=True)
    assert half.dtype == np.float32 and half.shape == full.shape
    assert not np.array_equal(half, full)  # autocast did change the arithmetic
    np.testing.assert_allclose(half, full, atol=0.02 * float(np.abs(full).max()))
