"""Shared fixtures. Test-specific fixtures live in the test modules that use them."""

from __future__ import annotations

from pathlib import Path

import pytest

# A tiny encoder configuration for fast tests (HepJepaConfig keyword arguments).
TINY = {
    "hidden_size": 16,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "max_particles": 32,
    "pair_bias_hidden_size": 16,
    "predictor_hidden_size": 16,
}

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def realdata_dir() -> Path:
    """The folder of real benchmark samples (``../shared/realdata``), skipped if absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"real data samples not found at {REALDATA}")
    return REALDATA


def make_jets(
    n_jets: int = 8,
    *,
    seed: int = 0,
    min_particles: int = 3,
    max_particles: int = 60,
    with_pid: bool = False,
    with_tracks: bool = False,
    shuffled: bool = True,
):
    """Random but physical jets in the hep-jepa awkward schema (see docs/jets.md)."""
    import awkward as ak
    import numpy as np

    rng = np.random.default_rng(seed)
    counts = rng.integers(min_particles, max_particles + 1, n_jets)
    total = int(counts.sum())
    jet_eta = np.repeat(rng.uniform(-2, 2, n_jets), counts)
    jet_phi = np.repeat(rng.uniform(-np.pi, np.pi, n_jets), counts)
    pt = rng.exponential(15.0, total) + 0.5
    eta = jet_eta + rng.normal(0, 0.2, total)
    phi = jet_phi + rng.normal(0, 0.2, total)
    mass = np.where(rng.random(total) < 0.6, 0.13957, 0.0)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    fields = {
        "px": px.astype(np.float32),
        "py": py.astype(np.float32),
        "pz": pz.astype(np.float32),
        "energy": np.sqrt(px**2 + py**2 + pz**2 + mass**2).astype(np.float32),
    }
    if with_pid:
        pid = rng.choice([211, -211, 22, 130, 11, -13, 321, 2112], total)
        fields["pid"] = pid.astype(np.int32)
        fields["charge"] = np.select(
            [np.isin(pid, [211, 321, -13]), np.isin(pid, [-211, 11])], [1, -1], 0
        ).astype(np.float32)
    if with_tracks:
        for name in ("d0", "dz"):
            fields[name] = rng.normal(0, 0.05, total).astype(np.float32)
        for name in ("d0err", "dzerr"):
            fields[name] = rng.uniform(0.01, 0.1, total).astype(np.float32)
    particles = ak.unflatten(ak.zip(fields), counts)
    if not shuffled:
        order = ak.argsort(np.hypot(particles.px, particles.py), axis=1, ascending=False)
        particles = particles[order]
    labels = rng.integers(0, 2, n_jets)
    return ak.zip({"particles": particles, "label": labels}, depth_limit=1)


@pytest.fixture
def jets():
    """Eight random jets with 3-60 particles, in random order, with labels."""
    return make_jets()
