"""Bad input gets a ValueError that names the problem and the first offending jet."""

from __future__ import annotations

import json

import awkward as ak
import numpy as np
import pytest
import torch
from conftest import make_jets

from hep_jepa import HepJepaConfig, HepJepaForJetClassification, HepJepaModel, JetProcessor


def _with_particle_field(jets, name, values_for_jet, jet_index):
    """Copy of `jets` whose particle field `name` is replaced in jet `jet_index`."""
    field = ak.to_list(jets.particles[name])
    field[jet_index] = values_for_jet(field[jet_index])
    particles = ak.with_field(jets.particles, ak.Array(field), name)
    return ak.with_field(jets, particles, "particles")


def test_jet_with_no_particles():
    jets = ak.concatenate([make_jets(3), make_jets(1)[:, ["particles", "label"]]])
    particles = ak.to_list(jets.particles)
    particles[2] = []
    jets = ak.zip({"particles": ak.Array(particles), "label": jets.label}, depth_limit=1)
    with pytest.raises(ValueError, match="jet 2 has no particles"):
        JetProcessor()(jets)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_nan_or_inf_momentum(bad):
    jets = _with_particle_field(make_jets(5), "pz", lambda v: [bad, *v[1:]], 3)
    with pytest.raises(ValueError, match=r"field 'pz' has a NaN or infinite value in jet 3"):
        JetProcessor()(jets)


def test_negative_energy():
    jets = _with_particle_field(make_jets(5), "energy", lambda v: [*v[:-1], -1.0], 4)
    with pytest.raises(ValueError, match=r"'energy' is negative in jet 4"):
        JetProcessor()(jets)


def test_missing_momentum_field():
    jets = make_jets(3)
    particles = jets.particles[["px", "py", "energy"]]
    with pytest.raises(ValueError, match=r"lack the four-momentum field\(s\) \['pz'\]"):
        JetProcessor()(ak.zip({"particles": particles}, depth_limit=1))


def test_missing_pid_for_kinpid():
    with pytest.raises(ValueError, match="needs a 'pid' field"):
        JetProcessor(feature_set="kinpid")(make_jets(3))


def test_missing_track_fields_for_full():
    with pytest.raises(
        ValueError, match=r"needs the track fields \['d0', 'd0err', 'dz', 'dzerr'\]"
    ):
        JetProcessor(feature_set="full")(make_jets(3, with_pid=True))


def test_missing_particles_field():
    with pytest.raises(ValueError, match="no 'particles' field"):
        JetProcessor()(ak.Array([{"constituents": [{"px": 1.0}]}]))


def test_wrong_dtype():
    jets = make_jets(3)
    as_strings = ak.Array([[str(x) for x in row] for row in ak.to_list(jets.particles.px)])
    for wrong in (as_strings, jets.particles.px > 0):
        particles = ak.with_field(jets.particles, wrong, "px")
        with pytest.raises(ValueError, match="field 'px' must be numeric"):
            JetProcessor()(ak.zip({"particles": particles}, depth_limit=1))
    with pytest.raises(ValueError, match="expects an awkward Array"):
        JetProcessor()(np.zeros((3, 4)))


def test_zero_pt_particle():
    jets = _with_particle_field(make_jets(4), "px", lambda v: [*v[:-1], 0.0], 1)
    jets = _with_particle_field(jets, "py", lambda v: [*v[:-1], 0.0], 1)
    with pytest.raises(ValueError, match="particle of jet 1 has zero transverse momentum"):
        JetProcessor()(jets)


def test_more_particles_than_max_particles_keeps_the_hardest():
    jets = make_jets(2, min_particles=100, max_particles=100)
    batch = JetProcessor(max_particles=10)(jets)
    assert batch.mask.all() and batch.features.shape == (2, 10, 7)


def test_model_rejects_too_many_slots_and_wrong_features():
    model = HepJepaModel(
        HepJepaConfig(
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            max_particles=10,
        )
    )
    with pytest.raises(ValueError, match="exceed max_particles=10"):
        model(torch.zeros(1, 20, 7), torch.ones(1, 20, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"shape \(B, N, 7\) for feature_set='kin'"):
        model(torch.zeros(1, 5, 13), torch.ones(1, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask must be a bool tensor"):
        model(torch.zeros(1, 5, 7), torch.ones(1, 5))
    mask = torch.ones(2, 5, dtype=torch.bool)
    mask[1] = False
    with pytest.raises(ValueError, match="jet 1 has no real particle"):
        model(torch.zeros(2, 5, 7), mask)


def test_processor_feature_set_must_match_model(tmp_path):
    model = HepJepaModel(
        HepJepaConfig(
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            feature_set="kinpid",
        )
    )
    with pytest.raises(
        ValueError, match="processor feature_set 'kin' does not match the model's 'kinpid'"
    ):
        model.set_processor(JetProcessor(feature_set="kin"))
    model.save_pretrained(tmp_path)
    JetProcessor(feature_set="kin").save_pretrained(tmp_path)  # a processor that does not belong
    with pytest.raises(ValueError, match="does not match the model's 'kinpid'"):
        HepJepaModel.from_pretrained(tmp_path)


def test_labels_out_of_range():
    tagger = HepJepaForJetClassification(
        HepJepaConfig(
            hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
        )
    )
    batch = JetProcessor()(make_jets(3))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        tagger(**batch.model_inputs(), labels=torch.tensor([0, 1, 5]))


@pytest.mark.parametrize("change", [{"intermediate_size": 48}, {"num_hidden_layers": 2}])
def test_checkpoint_that_does_not_match_its_config(change, tmp_path):
    HepJepaModel(
        HepJepaConfig(
            hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
        )
    ).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, **change}))
    with pytest.raises(ValueError, match=r"config\.json"):
        HepJepaModel.from_pretrained(tmp_path)


@pytest.mark.parametrize(
    "settings,message",
    [
        (
            {"hidden_size": 30, "num_attention_heads": 4},
            r"hidden_size \(30\) must be divisible by num_attention_heads \(4\)",
        ),
        (
            {"feature_set": "kinematics"},
            "Unknown feature_set 'kinematics'; allowed values: kin, kinpid, full",
        ),
        (
            {"head": "transformer"},
            "Unknown head 'transformer'; allowed values: linear, mlp, attention",
        ),
        ({"pooling": "registers"}, "needs register tokens"),
        ({"pooling": "cls"}, "Unknown pooling 'cls'"),
        ({"hidden_dropout_prob": 1.5}, r"must be in \[0, 1\)"),
    ],
)
def test_invalid_config(settings, message):
    with pytest.raises(ValueError, match=message):
        HepJepaConfig(**settings)


def test_unknown_preset():
    with pytest.raises(ValueError, match="Unknown preset 'huge'"):
        HepJepaConfig.from_preset("huge")
