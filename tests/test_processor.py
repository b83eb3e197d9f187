"""JetProcessor: features, ordering, padding, serialisation, and agreement with published data."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import torch
import vector
from conftest import make_jets

from hep_jepa import JetProcessor
from hep_jepa.features import FEATURE_SETS, charge_from_pid


def _weaver_jets(folder, prefix):
    vectors = np.load(folder / f"{prefix}pf_vectors.npy")  # (N, 4, 128)
    mask = np.load(folder / f"{prefix}pf_mask.npy")[:, 0, :] > 0  # (N, 128)
    points = np.load(folder / f"{prefix}pf_points.npy")  # (N, 2, 128)
    counts = mask.sum(axis=1)
    flat = {name: vectors[:, i, :][mask] for i, name in enumerate(("px", "py", "pz", "energy"))}
    particles = ak.unflatten(ak.zip(flat), counts)
    return ak.zip({"particles": particles}, depth_limit=1), points, mask


def test_output_layout(jets):
    batch = JetProcessor(feature_set="kin", max_particles=32)(jets)
    n = len(jets)
    assert batch.features.shape == (n, 32, 7) and batch.features.dtype == torch.float32
    assert batch.mask.shape == (n, 32) and batch.mask.dtype == torch.bool
    assert batch.vectors.shape == (n, 32, 4) and batch.points.shape == (n, 32, 2)
    assert batch.labels.tolist() == ak.to_list(jets.label)
    counts = ak.to_numpy(ak.num(jets.particles))
    assert batch.mask.sum(1).tolist() == np.minimum(counts, 32).tolist()
    padded = ~batch.mask
    assert torch.all(batch.features[padded] == 0) and torch.all(batch.vectors[padded] == 0)


@pytest.mark.parametrize("feature_set", list(FEATURE_SETS))
def test_feature_set_sizes(feature_set):
    jets = make_jets(with_pid=True, with_tracks=True)
    batch = JetProcessor(feature_set=feature_set)(jets)
    assert batch.features.shape[-1] == len(FEATURE_SETS[feature_set])
    assert torch.isfinite(batch.features).all()


def test_particles_sorted_by_pt_and_truncated_to_hardest():
    jets = make_jets(n_jets=5, min_particles=40, max_particles=80, shuffled=True)
    batch = JetProcessor(max_particles=16)(jets)
    pt = torch.hypot(batch.vectors[..., 0], batch.vectors[..., 1])
    assert torch.all(pt[:, :-1] >= pt[:, 1:])
    for i in range(len(jets)):
        p = jets.particles[i]
        hardest = np.sort(np.hypot(ak.to_numpy(p.px), ak.to_numpy(p.py)))[::-1][:16]
        np.testing.assert_allclose(pt[i].numpy(), hardest, rtol=1e-6)


def test_sorted_and_shuffled_input_give_the_same_batch():
    shuffled = make_jets(n_jets=6, seed=3, shuffled=True)
    ordered = make_jets(n_jets=6, seed=3, shuffled=False)
    a, b = JetProcessor()(shuffled), JetProcessor()(ordered)
    assert torch.equal(a.features, b.features) and torch.equal(a.vectors, b.vectors)


def test_kinematic_features_by_hand():
    # two particles, jet axis = their sum; check every kin feature against a direct computation
    p = [
        {"px": 100.0, "py": 10.0, "pz": 50.0, "energy": 112.25},
        {"px": 30.0, "py": -5.0, "pz": 20.0, "energy": 36.4},
    ]
    jets = ak.Array([{"particles": p}])
    processor = JetProcessor(standardization={})
    batch = processor(jets)
    v = np.array([[q["px"], q["py"], q["pz"], q["energy"]] for q in p])
    jet = v.sum(0)
    jet_pt, jet_eta, jet_phi = (
        np.hypot(*jet[:2]),
        np.arcsinh(jet[2] / np.hypot(*jet[:2])),
        np.arctan2(jet[1], jet[0]),
    )
    pt = np.hypot(v[:, 0], v[:, 1])
    deta = (np.arcsinh(v[:, 2] / pt) - jet_eta) * np.sign(jet_eta)
    dphi = np.arctan2(v[:, 1], v[:, 0]) - jet_phi
    expected = np.stack(
        [
            deta,
            dphi,
            np.log(pt),
            np.log(v[:, 3]),
            np.log(pt / jet_pt),
            np.log(v[:, 3] / jet[3]),
            np.hypot(deta, dphi),
        ],
        axis=1,
    )
    np.testing.assert_allclose(batch.features[0, :2].numpy(), expected, rtol=1e-5, atol=1e-6)


def test_delta_phi_wraps_across_pi():
    p = [
        {"pt": 50.0, "eta": 0.1, "phi": 3.1, "mass": 0.0},
        {"pt": 50.0, "eta": 0.1, "phi": -3.1, "mass": 0.0},
    ]
    batch = JetProcessor()(ak.Array([{"particles": p}]))
    dphi = batch.points[0, :2, 1].numpy()
    assert np.all(np.abs(dphi) < 0.1)
    np.testing.assert_allclose(
        np.sort(dphi), [-(2 * np.pi - 6.2) / 2, (2 * np.pi - 6.2) / 2], atol=1e-5
    )


def test_input_spellings_agree(jets):
    reference = JetProcessor()(jets)
    renamed = ak.zip(
        {
            "particles": ak.zip(
                {
                    "px": jets.particles.px,
                    "py": jets.particles.py,
                    "pz": jets.particles.pz,
                    "E": jets.particles.energy,
                }
            )
        },
        depth_limit=1,
    )
    lorentz = ak.with_name(
        ak.zip(
            {
                "px": jets.particles.px,
                "py": jets.particles.py,
                "pz": jets.particles.pz,
                "E": jets.particles.energy,
            }
        ),
        "Momentum4D",
        behavior=vector.backends.awkward.behavior,
    )
    p4 = ak.zip(
        {
            "px": jets.particles.px,
            "py": jets.particles.py,
            "pz": jets.particles.pz,
            "E": jets.particles.energy,
        },
        with_name="Momentum4D",
    )
    pt = np.hypot(p4.px, p4.py)
    cylindrical = ak.zip(
        {
            "pt": pt,
            "eta": np.arcsinh(p4.pz / pt),
            "phi": np.arctan2(p4.py, p4.px),
            "mass": np.sqrt(np.maximum(p4.E**2 - p4.px**2 - p4.py**2 - p4.pz**2, 0)),
        }
    )
    for variant in (
        renamed,
        jets.particles,
        lorentz,
        ak.zip({"particles": cylindrical}, depth_limit=1),
    ):
        batch = JetProcessor()(variant)
        torch.testing.assert_close(batch.features, reference.features, atol=2e-4, rtol=1e-4)


def test_save_and_load(tmp_path):
    processor = JetProcessor(feature_set="kinpid", max_particles=50)
    processor.save_pretrained(tmp_path)
    assert (tmp_path / "processor_config.json").is_file()
    assert JetProcessor.from_pretrained(tmp_path) == processor


def test_charge_from_pid():
    np.testing.assert_array_equal(
        charge_from_pid(np.array([11, -11, 211, -211, 22, 2212, 130, 13])),
        [-1, 1, 1, -1, 0, 1, 0, -1],
    )
    with pytest.raises(ValueError, match="PDG id 21"):
        charge_from_pid(np.array([211, 21]))


@pytest.mark.parametrize("folder,prefix", [("top_tagging", "tl_"), ("quark_gluon", "qg_")])
def test_points_agree_with_published(realdata_dir, folder, prefix):
    jets, stored_points, stored_mask = _weaver_jets(realdata_dir / folder, prefix)
    batch = JetProcessor(max_particles=128)(jets)
    assert torch.equal(batch.mask, torch.from_numpy(stored_mask))
    stored = np.transpose(stored_points, (0, 2, 1))[stored_mask]  # (particles, 2)
    np.testing.assert_allclose(batch.points.numpy()[stored_mask], stored, atol=1e-5, rtol=0)
