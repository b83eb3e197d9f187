"""Substructure observables on hand-made jets, against FastJet, and on real top/QCD jets."""

from __future__ import annotations

import math
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from hep_jepa.substructure import SUBSTRUCTURE_FEATURES, jet_substructure, substructure_features


def _jet(particles: list[tuple[float, float, float]]) -> list[dict[str, float]]:
    """Massless particles from (pt, eta, phi)."""
    return [{"pt": pt, "eta": eta, "phi": phi, "mass": 0.0} for pt, eta, phi in particles]


# a hard core with eight soft particles on a ring around it: one prong
ONE_PRONG = _jet(
    [(500.0, 0.0, 0.0)]
    + [(10.0, 0.1 * math.cos(a), 0.1 * math.sin(a)) for a in np.linspace(0, 2 * np.pi, 8, False)]
)
# two hard, well separated clusters, each with a little soft radiation
TWO_PRONG = _jet(
    [
        *[(300.0, 0.0, 0.0), (8.0, 0.03, 0.02), (6.0, -0.02, 0.01)],
        *[(250.0, 0.4, 0.3), (7.0, 0.42, 0.28), (5.0, 0.38, 0.33)],
    ]
)
THREE_PRONG = [*TWO_PRONG, *_jet([(200.0, -0.3, 0.4), (6.0, -0.31, 0.42)])]


def _cartesian(particles: list[dict[str, float]]) -> list[dict[str, float]]:
    out = []
    for p in particles:
        pz = p["pt"] * math.sinh(p["eta"])
        out.append(
            {
                "px": p["pt"] * math.cos(p["phi"]),
                "py": p["pt"] * math.sin(p["phi"]),
                "pz": pz,
                "energy": math.hypot(p["pt"], pz),
            }
        )
    return out


def test_prong_counting() -> None:
    result = jet_substructure(ak.Array([ONE_PRONG, TWO_PRONG, THREE_PRONG]))
    one, two, three = 0, 1, 2
    assert result["tau21"][one] > 0.9  # kT axes are not minimised: may exceed 1 slightly
    assert result["tau21"][two] < 0.05
    assert result["tau32"][two] > 0.3
    assert result["tau21"][three] > 0.3
    assert result["tau32"][three] < 0.05


def test_mass_width_and_tau1_by_hand() -> None:
    # two equal massless particles at y = 0, φ = ±0.1: the jet axis is at φ = 0
    jets = ak.Array([_jet([(100.0, 0.0, 0.1), (100.0, 0.0, -0.1)])])
    result = jet_substructure(jets, jet_radius=0.8)
    # m² = 2 pT1 pT2 (cosh Δη − cos Δφ)
    assert result["mass"][0] == pytest.approx(math.sqrt(2 * 100 * 100 * (1 - math.cos(0.2))))
    # width = Σ pT ΔR / pT_jet, pT_jet = 2 · 100 · cos 0.1
    assert result["width"][0] == pytest.approx(2 * 100 * 0.1 / (200 * math.cos(0.1)))
    # τ1 = Σ pT ΔR / (Σ pT · R0) = 0.1 / 0.8; τ2 = 0 with two particles
    assert result["tau1"][0] == pytest.approx(0.125)
    assert result["tau2"][0] == 0.0
    assert result["tau21"][0] == 0.0
    assert jet_substructure(jets, jet_radius=0.4)["tau1"][0] == pytest.approx(0.25)


def test_tau_n_vanishes_with_at_most_n_particles() -> None:
    jets = ak.Array([ONE_PRONG[:1], TWO_PRONG[:2], TWO_PRONG[:3], [], TWO_PRONG[:4]])
    result = jet_substructure(jets)
    np.testing.assert_array_equal(result["n_particles"], [1, 2, 3, 0, 4])
    assert result["tau1"][0] == 0.0
    assert result["tau2"][1] == 0.0 and result["tau1"][1] > 0
    assert result["tau3"][2] == 0.0 and result["tau2"][2] > 0
    assert result["tau3"][4] > 0
    for name in ("mass", "width", "tau1", "tau2", "tau3", "tau21", "tau32"):
        assert result[name][3] == 0.0  # the empty jet
    assert np.isfinite(substructure_features(jets)).all()


def test_input_layouts_agree() -> None:
    polar = ak.Array([ONE_PRONG, THREE_PRONG])
    cartesian = [_cartesian(ONE_PRONG), _cartesian(THREE_PRONG)]
    as_records = ak.Array([{"particles": jet, "label": i} for i, jet in enumerate(cartesian)])
    with_capital_e = ak.Array(
        [[{"px": p["px"], "py": p["py"], "pz": p["pz"], "E": p["energy"]} for p in jet]
         for jet in cartesian]
    )  # fmt: skip
    expected = substructure_features(polar)
    for jets in (as_records, with_capital_e, ak.Array(cartesian)):
        np.testing.assert_allclose(substructure_features(jets), expected, rtol=1e-5, atol=1e-6)
    vector = pytest.importorskip("vector")
    momenta = vector.zip(
        {"pt": polar["pt"], "eta": polar["eta"], "phi": polar["phi"], "mass": polar["mass"]}
    )
    np.testing.assert_allclose(substructure_features(momenta), expected, rtol=1e-5, atol=1e-6)


def test_unknown_fields_raise() -> None:
    with pytest.raises(ValueError, match="particles need px, py, pz"):
        jet_substructure(ak.Array([[{"a": 1.0, "b": 2.0}]]))


def test_a_jet_does_not_depend_on_its_batch_neighbours() -> None:
    rng = np.random.default_rng(0)
    batch = [_random_jet(rng, int(n)) for n in rng.integers(1, 60, 40)]
    alone = np.concatenate([substructure_features(ak.Array([jet])) for jet in batch[:5]])
    together = substructure_features(ak.Array(batch))[:5]
    np.testing.assert_allclose(together, alone, rtol=1e-6)


def _random_jet(rng: np.random.Generator, n: int) -> list[dict[str, float]]:
    pt = rng.exponential(20.0, n) + 1.0
    eta, phi = rng.normal(0.5, 0.25, n), rng.normal(3.0, 0.25, n)  # straddles φ = π
    phi = np.mod(phi + np.pi, 2 * np.pi) - np.pi
    return _jet(list(zip(pt.tolist(), eta.tolist(), phi.tolist(), strict=True)))


def test_kt_axes_match_fastjet_exclusive_jets() -> None:
    fastjet = pytest.importorskip("fastjet")
    rng = np.random.default_rng(1)
    jets = [_cartesian(_random_jet(rng, int(n))) for n in rng.integers(4, 40, 12)]
    result = jet_substructure(ak.Array(jets), jet_radius=0.8)
    definition = fastjet.JetDefinition(fastjet.kt_algorithm, 1000.0, fastjet.E_scheme)
    for index, jet in enumerate(jets):
        pseudojets = [fastjet.PseudoJet(p["px"], p["py"], p["pz"], p["energy"]) for p in jet]
        sequence = fastjet.ClusterSequence(pseudojets, definition)
        pt = np.array([p.pt() for p in pseudojets])
        for n_axes in (2, 3):
            axes = sequence.exclusive_jets(n_axes)
            distances = [
                min(math.sqrt(p.squared_distance(axis)) for axis in axes) for p in pseudojets
            ]
            expected = np.sum(pt * distances) / (pt.sum() * 0.8)
            assert result[f"tau{n_axes}"][index] == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_top_jets_versus_qcd_on_real_data(realdata_dir: Path) -> None:
    folder = realdata_dir / "top_tagging"
    n_jets = 400
    vectors = np.load(folder / "tl_pf_vectors.npy")[:n_jets]  # (B, 4, 128)
    mask = np.load(folder / "tl_pf_mask.npy")[:n_jets, 0] > 0  # (B, 128)
    labels = np.load(folder / "tl_labels.npy")[:n_jets]
    counts = mask.sum(axis=1)
    jets = ak.zip(
        {
            name: ak.unflatten(vectors[:, i][mask], counts)
            for i, name in enumerate(("px", "py", "pz", "energy"))
        }
    )
    features = substructure_features(jets)
    assert features.shape == (n_jets, len(SUBSTRUCTURE_FEATURES))
    assert features.dtype == np.float32
    mass, tau32 = features[:, 0], features[:, SUBSTRUCTURE_FEATURES.index("tau32")]
    # the README of the samples quotes median masses of 174 (top) and 83 GeV (QCD)
    assert 160 < np.median(mass[labels == 1]) < 185
    assert 70 < np.median(mass[labels == 0]) < 95
    assert np.median(tau32[labels == 1]) < np.median(tau32[labels == 0])

    linear_model = pytest.importorskip("sklearn.linear_model")
    from hep_jepa.metrics import auc

    standardised = (features - features.mean(axis=0)) / features.std(axis=0)
    half = n_jets // 2
    classifier = linear_model.LogisticRegression().fit(standardised[:half], labels[:half])
    scores = classifier.predict_proba(standardised[half:])[:, 1]
    assert auc(labels[half:], scores) > 0.85
