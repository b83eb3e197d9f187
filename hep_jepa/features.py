"""Per-particle physics features, as small pure numpy functions.

The feature sets and their standardisation follow the Particle Transformer
(Qu, Li, Qian, arXiv:2202.03772) configuration for JetClass: each feature x is
replaced by ``clip((x - subtract) * multiply, lo, hi)``; features with no
entry in `STANDARDIZATION` are used as they are.
"""

from __future__ import annotations

import numpy as np

KIN_FEATURES = ("deta", "dphi", "log_pt", "log_energy", "log_pt_rel", "log_energy_rel", "delta_r")
PID_FEATURES = (
    "charge",
    "is_charged_hadron",
    "is_neutral_hadron",
    "is_photon",
    "is_electron",
    "is_muon",
)
TRACK_FEATURES = ("d0", "d0err", "dz", "dzerr")

FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "kin": KIN_FEATURES,
    "kinpid": KIN_FEATURES + PID_FEATURES,
    "full": KIN_FEATURES + PID_FEATURES + TRACK_FEATURES,
}

# feature -> (subtract, multiply, clip_min, clip_max); values of the ParT JetClass config.
STANDARDIZATION: dict[str, tuple[float, float, float, float]] = {
    "log_pt": (1.7, 0.7, -5.0, 5.0),
    "log_energy": (2.0, 0.7, -5.0, 5.0),
    "log_pt_rel": (-4.7, 0.7, -5.0, 5.0),
    "log_energy_rel": (-4.7, 0.7, -5.0, 5.0),
    "delta_r": (0.2, 4.0, -5.0, 5.0),
    "d0err": (0.0, 1.0, 0.0, 1.0),
    "dzerr": (0.0, 1.0, 0.0, 1.0),
}

# Electric charge of the long-lived particles that reach a detector, by |PDG id| (sign from id).
_CHARGED_PDG_IDS = np.array([11, 13, 211, 321, 2212, 3112, 3222, 3312, 3334])
_NEUTRAL_PDG_IDS = np.array([22, 130, 310, 2112, 3122, 3212, 3322, 12, 14, 16])
# Particles with a negative PDG id have the opposite charge to their antiparticle;
# for leptons the particle (positive id) is negative.
_NEGATIVE_FOR_POSITIVE_ID = np.array([11, 13, 3112, 3312, 3334])


def delta_phi(phi: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``phi - reference`` wrapped to (−π, π]."""
    return np.pi - np.mod(np.pi - (phi - reference), 2 * np.pi)


def pseudorapidity(px: np.ndarray, py: np.ndarray, pz: np.ndarray) -> np.ndarray:
    """η = asinh(pz / pT); pT must be positive."""
    return np.arcsinh(pz / np.hypot(px, py))


def charge_from_pid(pid: np.ndarray) -> np.ndarray:
    """Electric charge (−1, 0, +1) of stable particles from their PDG ids.

    Raises:
        ValueError: if an id is not a particle that reaches the detector (quarks, gluons,
            short-lived hadrons), naming the first such id.
    """
    pid = np.asarray(pid, dtype=np.int64)
    absolute = np.abs(pid)
    charged = np.isin(absolute, _CHARGED_PDG_IDS)
    known = charged | np.isin(absolute, _NEUTRAL_PDG_IDS)
    if not known.all():
        bad = int(pid[~known][0])
        raise ValueError(
            f"cannot derive a charge for PDG id {bad}; give the particles a 'charge' field."
        )
    sign = np.where(np.isin(absolute, _NEGATIVE_FOR_POSITIVE_ID), -1, 1) * np.sign(pid)
    return np.where(charged, sign, 0).astype(np.float64)


def particle_id_flags(pid: np.ndarray, charge: np.ndarray) -> dict[str, np.ndarray]:
    """The five ParT particle-identification flags, as floats (0 or 1).

    Electrons (|id| 11), muons (13) and photons (22) by id; any other charged particle
    is a charged hadron and any other neutral one a neutral hadron.
    """
    absolute = np.abs(np.asarray(pid))
    is_electron = absolute == 11
    is_muon = absolute == 13
    is_photon = absolute == 22
    charged = np.asarray(charge) != 0
    return {
        "is_charged_hadron": (charged & ~is_electron & ~is_muon).astype(np.float64),
        "is_neutral_hadron": (~charged & ~is_photon).astype(np.float64),
        "is_photon": is_photon.astype(np.float64),
        "is_electron": is_electron.astype(np.float64),
        "is_muon": is_muon.astype(np.float64),
    }


def standardize(
    name: str, values: np.ndarray, table: dict[str, tuple[float, float, float, float]]
) -> np.ndarray:
    """Apply the ``(x - subtract) * multiply`` then clip rule of `table` to one feature."""
    if name not in table:
        return values
    subtract, multiply, lo, hi = table[name]
    return np.clip((values - subtract) * multiply, lo, hi)
