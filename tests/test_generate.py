"""The Pythia 8 + FastJet jet generator: process table, shards, reproducibility, physics."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from hep_jepa.commands import generate as generate_command
from hep_jepa.data.processes import PROCESSES, get_process

JETCLASS_ORDER = ["QCD", "Hbb", "Hcc", "Hgg", "H4q", "Hqql", "Zqq", "Wqq", "Tbqq", "Tbl"]
PARTICLE_FIELDS = ["px", "py", "pz", "energy", "pid", "charge", "d0", "d0err", "dz", "dzerr"]
JET_FIELDS = ["particles", "pt", "eta", "phi", "mass", "n_particles", "label", "process"]


# ---------------------------------------------------------------------------
# Without Pythia


def test_labels_follow_jetclass_order():
    assert [name for name in PROCESSES if name != "qg"] == JETCLASS_ORDER
    assert [PROCESSES[name].label for name in JETCLASS_ORDER] == list(range(10))
    assert PROCESSES["qg"].radius == 0.4 and PROCESSES["qg"].use_rapidity


@pytest.mark.parametrize("name", list(PROCESSES))
def test_process_cuts(name):
    process = PROCESSES[name]
    assert process.pt_min < process.pt_max
    assert process.resonance or name in ("QCD", "qg")
    assert all(" = " in setting for setting in process.settings)


def test_unknown_process_gives_clear_error(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"unknown process 'Top'.*known processes: QCD"):
        get_process("Top")
    from hep_jepa.cli import main

    assert (
        main(
            ["generate", "--process", "Top", "--n-jets", "5", "--seed", "1", "--out", str(tmp_path)]
        )
        == 2
    )
    assert "unknown process 'Top'" in capsys.readouterr().err


def test_shard_seeds_and_sizes():
    from hep_jepa.data.generate import _shard_sizes, shard_path, shard_seed

    assert shard_seed(0, 0) == 1 and shard_seed(3, 7) == 30008
    assert len({shard_seed(s, k) for s in range(5) for k in range(50)}) == 250
    with pytest.raises(ValueError):
        shard_seed(1, 10_000)
    assert _shard_sizes(2500, 1000) == [1000, 1000, 500]
    assert shard_path("out", "QCD", 3, 12).name == "QCD_seed3_00012.parquet"


def test_cut_overrides_rescale_pthat():
    from hep_jepa.data.generate import _with_cuts

    process = _with_cuts(PROCESSES["QCD"], pt_min=250.0, radius=0.4)
    assert (process.pt_min, process.radius, process.pt_max) == (250.0, 0.4, 1000.0)
    assert "PhaseSpace:pTHatMin = 175.0" in process.settings
    assert _with_cuts(PROCESSES["Wqq"]) is PROCESSES["Wqq"]


def test_cli_help_imports_nothing_heavy():
    code = (
        "import sys, argparse; from hep_jepa.commands import generate; "
        "generate.add_arguments(argparse.ArgumentParser()); "
        "heavy = {'pythia8mc', 'fastjet', 'torch', 'transformers', 'awkward'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert "--shard" in generate_command._EPILOG


# ---------------------------------------------------------------------------
# With Pythia

generator = pytest.mark.generator


@pytest.fixture(scope="module")
def ak():
    pytest.importorskip("pythia8mc")
    pytest.importorskip("fastjet")
    import awkward

    return awkward


@generator
def test_schema_and_reproducibility(ak):
    from hep_jepa.data.generate import generate_jets

    jets = generate_jets("Wqq", 12, 3)
    again = generate_jets("Wqq", 12, 3)
    other = generate_jets("Wqq", 12, 4)
    assert len(jets) == 12 and ak.all(jets.label == 7) and ak.all(jets.process == "Wqq")
    assert jets.fields == JET_FIELDS and jets.particles.fields == PARTICLE_FIELDS
    assert ak.to_list(jets) == ak.to_list(again)
    assert not np.allclose(ak.to_numpy(jets.pt), ak.to_numpy(other.pt))

    particles = jets.particles
    pt = np.hypot(particles.px, particles.py)
    assert ak.all(pt[:, :-1] >= pt[:, 1:] * (1 - 1e-6))  # sorted by decreasing pT
    assert ak.all(ak.num(particles) == jets.n_particles)
    neutral = particles[particles.charge == 0]
    for field in ("d0", "d0err", "dz", "dzerr"):
        assert ak.all(neutral[field] == 0)
    assert ak.all(particles[particles.charge != 0].d0err > 0)
    assert not ak.any(abs(particles.pid) == 12) and not ak.any(abs(particles.pid) == 14)
    # jet four-momentum is the sum of its constituents
    jet_pt = np.hypot(ak.sum(particles.px, axis=1), ak.sum(particles.py, axis=1))
    np.testing.assert_allclose(ak.to_numpy(jet_pt), ak.to_numpy(jets.pt), rtol=1e-4)
    assert ak.all((jets.pt >= 500) & (jets.pt < 1000) & (abs(jets.eta) < 2))


@generator
def test_shards_provenance_and_resume(ak, tmp_path, monkeypatch):
    from hep_jepa.data import generate as generate_module
    from hep_jepa.data.generate import generate

    paths = generate("Zqq", 9, 2, tmp_path, workers=1, shard_size=5, progress=False)
    assert [path.name for path in paths] == ["Zqq_seed2_00000.parquet", "Zqq_seed2_00001.parquet"]
    jets = ak.from_parquet(paths)
    assert len(jets) == 9 and ak.all(jets.label == 6)
    provenance = ak.from_parquet(paths[1]).attrs["hep_jepa"]
    assert provenance["seed"] == 2 and provenance["shard"] == 1
    assert "Random:seed = 20002" in provenance["pythia_settings"]
    assert "Beams:eCM = 13000." in provenance["pythia_settings"]
    assert set(provenance["versions"]) >= {"pythia8mc", "fastjet", "awkward"}

    # One shard alone (as a batch job would) reproduces the same jets.
    single = generate("Zqq", 9, 2, tmp_path / "job", shards=[1], shard_size=5, progress=False)
    assert ak.to_list(ak.from_parquet(single)) == ak.to_list(ak.from_parquet(paths[1]))

    # A rerun skips finished shards: nothing is generated again.
    def fail(*args, **kwargs):
        raise AssertionError("finished shard generated again")

    monkeypatch.setattr(generate_module, "_write_shard", fail)
    assert generate("Zqq", 9, 2, tmp_path, workers=1, shard_size=5, progress=False) == paths


@generator
@pytest.mark.slow
@pytest.mark.parametrize("name", list(PROCESSES))
def test_every_process_yields_labelled_jets(ak, name):
    from hep_jepa.data.generate import generate_jets

    jets = generate_jets(name, 10, 17)
    assert len(jets) == 10
    labels = {0, 1} if name == "qg" else {PROCESSES[name].label}
    assert set(ak.to_numpy(jets.label).tolist()) <= labels
    assert 10 < ak.mean(jets.n_particles) < 200


@pytest.fixture(scope="module")
def physics_sample(ak):
    """A few hundred jets of the main classes (about two minutes on one core)."""
    from hep_jepa.data.generate import generate_jets

    return {
        name: generate_jets(name, 300, 99) for name in ("QCD", "Tbqq", "Wqq", "Zqq", "Hbb", "qg")
    }


def _mass_peak(ak, jets):
    counts, edges = np.histogram(ak.to_numpy(jets.mass), bins=30, range=(0.0, 300.0))
    return edges[np.argmax(counts)] + 5.0


@generator
@pytest.mark.slow
@pytest.mark.parametrize(
    "name, low, high", [("Tbqq", 150, 200), ("Wqq", 65, 95), ("Zqq", 75, 105), ("Hbb", 105, 140)]
)
def test_resonance_mass_peaks(ak, physics_sample, name, low, high):
    assert low <= _mass_peak(ak, physics_sample[name]) <= high


@generator
@pytest.mark.slow
def test_qcd_mass_falls_and_multiplicities(ak, physics_sample):
    mass = ak.to_numpy(physics_sample["QCD"].mass)
    density = [
        np.mean((mass >= lo) & (mass < hi)) / (hi - lo)
        for lo, hi in [(50, 100), (100, 150), (150, 200), (200, 300)]
    ]
    assert density == sorted(density, reverse=True)
    for name, jets in physics_sample.items():
        assert 20 < ak.mean(jets.n_particles) < 120, name


@generator
@pytest.mark.slow
def test_quark_jets_narrower_than_gluon_jets(ak, physics_sample):
    jets = physics_sample["qg"]
    particles = jets.particles
    pt = np.hypot(particles.px, particles.py)
    eta = np.arcsinh(particles.pz / pt)
    phi = np.arctan2(particles.py, particles.px)
    d_phi = (phi - jets.phi + np.pi) % (2 * np.pi) - np.pi
    width = ak.sum(pt * np.hypot(eta - jets.eta, d_phi), axis=1) / ak.sum(pt, axis=1)
    quark, gluon = jets.label == 1, jets.label == 0
    assert ak.sum(gluon) >= 20
    assert ak.mean(width[quark]) < ak.mean(width[gluon])
    assert ak.mean(jets.n_particles[quark]) < ak.mean(jets.n_particles[gluon])
