"""`JetProcessor`: awkward jets in, padded torch tensors out.

This is the one place where physics features are built. Tensor layout of the
output (`JetBatch`), B jets and N = `max_particles` slots:

- ``features``: (B, N, F) float32, standardised per `hep_jepa.features`
- ``mask``:     (B, N) bool, True = real particle
- ``vectors``:  (B, N, 4) float32, px, py, pz, E in GeV
- ``points``:   (B, N, 2) float32, Δη, Δφ to the jet axis (not standardised)
- ``labels``:   (B,) int64, when the jets have a ``label`` field

Everything is vectorised over the whole array (numpy on the flattened
particles); there is no Python loop over jets.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import torch

from hep_jepa.features import (
    FEATURE_SETS,
    PID_FEATURES,
    STANDARDIZATION,
    TRACK_FEATURES,
    charge_from_pid,
    particle_id_flags,
    standardize,
)

PROCESSOR_CONFIG_NAME = "processor_config.json"

# Accepted spellings of the four-momentum, tried in this order.
_CARTESIAN = ("px", "py", "pz")
_ENERGY_NAMES = ("energy", "E", "e", "t")
_CYLINDRICAL = ("pt", "eta", "phi")
_MASS_NAMES = ("mass", "m", "M")


@dataclass
class JetBatch:
    """A padded batch of jets. Shapes: B jets, N particle slots, F features.

    Attributes:
        features: (B, N, F) float32 standardised particle features, zero at padding.
        mask: (B, N) bool, True for real particles.
        vectors: (B, N, 4) float32 four-momenta (px, py, pz, E) in GeV, zero at padding.
        points: (B, N, 2) float32 (Δη, Δφ) to the jet axis, zero at padding.
        labels: (B,) int64 class labels, or None when the jets carry no ``label`` field.
    """

    features: torch.Tensor
    mask: torch.Tensor
    vectors: torch.Tensor
    points: torch.Tensor
    labels: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.features.shape[0])

    def to(self, device: torch.device | str) -> JetBatch:
        """The same batch with every tensor moved to `device`."""
        return JetBatch(
            features=self.features.to(device),
            mask=self.mask.to(device),
            vectors=self.vectors.to(device),
            points=self.points.to(device),
            labels=None if self.labels is None else self.labels.to(device),
        )

    def model_inputs(self) -> dict[str, torch.Tensor]:
        """The keyword arguments of `HepJepaModel.forward`."""
        return {
            "features": self.features,
            "mask": self.mask,
            "vectors": self.vectors,
            "points": self.points,
        }


@dataclass
class JetProcessor:
    """Turns awkward jets into a `JetBatch` (see the module docstring for the layout).

    Args:
        feature_set: ``kin`` (7 features), ``kinpid`` (13) or ``full`` (17), as defined for the
            Particle Transformer on JetClass.
        max_particles: number N of particle slots. Jets with more particles keep their
            `max_particles` hardest (highest-pT) ones; this truncation is deliberate and is
            the same as the Particle Transformer's.
        standardization: feature -> (subtract, multiply, clip_min, clip_max); defaults to the
            ParT JetClass constants in `hep_jepa.features.STANDARDIZATION`.

    Input: an awkward array of jets, each a record with a ``particles`` list (see
    ``docs/jets.md``), or a bare jagged array of particles. Particles need ``px, py, pz``
    and ``energy`` (or ``E``), or ``pt, eta, phi, mass``, or form a ``vector`` Momentum4D
    array. ``kinpid`` also needs ``pid`` (``charge`` is derived from it when absent);
    ``full`` also needs ``d0, d0err, dz, dzerr``.

    Raises:
        ValueError: for a jet with no particles, NaN or infinite values, a negative energy,
            a particle with zero transverse momentum, a missing field or a non-numeric
            field; the message names the field and the first offending jet index.

    Examples:

    ```python
    >>> processor = JetProcessor(feature_set="kin", max_particles=128)
    >>> batch = processor(jets)          # awkward array of n jets
    >>> batch.features.shape             # (n, 128, 7)
    ```
    """

    feature_set: str = "kin"
    max_particles: int = 128
    standardization: dict[str, tuple[float, float, float, float]] = field(
        default_factory=lambda: dict(STANDARDIZATION)
    )

    def __post_init__(self) -> None:
        if self.feature_set not in FEATURE_SETS:
            raise ValueError(
                f"Unknown feature_set {self.feature_set!r}; allowed values: {', '.join(FEATURE_SETS)}."
            )
        if self.max_particles < 1:
            raise ValueError(f"max_particles must be a positive integer, got {self.max_particles}.")
        self.standardization = {
            name: _four_floats(values) for name, values in self.standardization.items()
        }

    @property
    def feature_names(self) -> tuple[str, ...]:
        return FEATURE_SETS[self.feature_set]

    @property
    def num_features(self) -> int:
        return len(self.feature_names)

    def __call__(self, jets: Any, *, pad_to_longest: bool = False) -> JetBatch:
        """Process `jets` (awkward array) into a padded `JetBatch`.

        Args:
            jets: awkward array of jets (see the class docstring).
            pad_to_longest: pad to the longest jet of this batch (at most `max_particles`)
                instead of to `max_particles`; outputs of the model do not change, and
                batches of jets with similar multiplicity then carry little padding.
        """
        particles, labels = _split_jets(jets)
        counts = _particle_counts(particles)
        kinematics = _four_momenta(particles, counts)
        flat = _particle_features(kinematics, particles, counts, self.feature_set)
        n_slots = (
            min(self.max_particles, int(counts.max())) if pad_to_longest else self.max_particles
        )
        slots, mask = _sorted_slots(kinematics["pt"], counts, n_slots)

        # One (P + 1, C) table per output, its last row zero for the padding slots, then a
        # single row gather each: (B, N) slot indices -> (B, N, C).
        table = _table([standardize(n, flat[n], self.standardization) for n in self.feature_names])
        vectors = _table([kinematics[n] for n in ("px", "py", "pz", "energy")])
        points = _table([flat["deta"], flat["dphi"]])
        return JetBatch(
            features=torch.from_numpy(np.take(table, slots, axis=0)),
            mask=torch.from_numpy(mask),
            vectors=torch.from_numpy(np.take(vectors, slots, axis=0)),
            points=torch.from_numpy(np.take(points, slots, axis=0)),
            labels=None if labels is None else torch.from_numpy(labels),
        )

    def multiplicities(self, jets: Any) -> np.ndarray:
        """Particles per jet after truncation to `max_particles`, shape (n_jets,)."""
        particles, _ = _split_jets(jets)
        return np.minimum(ak.to_numpy(ak.num(particles, axis=1)), self.max_particles)

    # -- serialisation -------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "processor_class": type(self).__name__,
            "feature_set": self.feature_set,
            "max_particles": self.max_particles,
            "standardization": {k: list(v) for k, v in self.standardization.items()},
        }

    def save_pretrained(self, save_directory: str | os.PathLike[str]) -> Path:
        """Write ``processor_config.json`` into `save_directory` (created if needed)."""
        directory = Path(save_directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / PROCESSOR_CONFIG_NAME
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> JetProcessor:
        config = dict(config)
        processor_class = config.pop("processor_class", cls.__name__)
        if processor_class != cls.__name__:
            raise ValueError(
                f"processor_config.json describes a {processor_class}, not a {cls.__name__}."
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"Unknown processor settings {unknown}; known: {sorted(known)}.")
        if "standardization" in config:
            config["standardization"] = {k: tuple(v) for k, v in config["standardization"].items()}
        return cls(**config)

    @classmethod
    def from_pretrained(
        cls, name_or_path: str | os.PathLike[str], **hub_kwargs: Any
    ) -> JetProcessor:
        """Load from a folder holding ``processor_config.json``, a bundled model name, or a
        Hub repository (``hub_kwargs`` such as ``revision``, ``cache_dir``, ``token`` are
        passed to `huggingface_hub.hf_hub_download`)."""
        from hep_jepa.hub import resolve_file

        path = resolve_file(name_or_path, PROCESSOR_CONFIG_NAME, **hub_kwargs)
        if path is None:
            raise FileNotFoundError(f"No {PROCESSOR_CONFIG_NAME} found for {str(name_or_path)!r}.")
        return cls.from_dict(json.loads(Path(path).read_text()))


def _four_floats(values: Any) -> tuple[float, float, float, float]:
    subtract, multiply, lo, hi = (float(x) for x in values)
    return subtract, multiply, lo, hi


# -- input parsing (vectorised) ---------------------------------------------------------------


def _split_jets(jets: Any) -> tuple[ak.Array, np.ndarray | None]:
    """Separate the particle lists from jet-level labels."""
    if isinstance(jets, ak.Record):
        jets = ak.Array([jets])
    if not isinstance(jets, ak.Array):
        raise ValueError(
            f"JetProcessor expects an awkward Array of jets, got {type(jets).__name__}; "
            "build one with ak.Array(...) or a reader from hep_jepa.data (see docs/jets.md)."
        )
    if jets.ndim != 1 and not (jets.ndim == 2 and ak.fields(jets)):
        raise ValueError(
            f"expected jets as n * {{particles: var * {{...}}}} or n * var * {{px, py, ...}}, "
            f"got type {jets.type}."
        )
    fields_ = ak.fields(jets)
    if jets.ndim == 1:
        if "particles" not in fields_:
            raise ValueError(
                f"jets have no 'particles' field (fields: {fields_}); each jet must be a record "
                "with a 'particles' list, or pass a bare jagged array of particles."
            )
        particles = jets["particles"]
        labels = None
        if "label" in fields_:
            labels = _numeric(jets["label"], "label", None)
            if not np.issubdtype(labels.dtype, np.integer):
                if not np.all(labels == np.round(labels)):
                    raise ValueError("the 'label' field must hold integer class indices.")
            labels = labels.astype(np.int64)
    else:
        particles, labels = jets, None
    if particles.ndim != 2:
        raise ValueError(
            f"'particles' must be a list of particles per jet, got type {particles.type}."
        )
    return particles, labels


def _particle_counts(particles: ak.Array) -> np.ndarray:
    counts = ak.to_numpy(ak.num(particles, axis=1)).astype(np.int64)
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        raise ValueError(
            f"jet {int(empty[0])} has no particles ({empty.size} empty jets in all); "
            "remove empty jets before processing, e.g. jets[ak.num(jets.particles) > 0]."
        )
    return counts


def _numeric(values: ak.Array, name: str, counts: np.ndarray | None) -> np.ndarray:
    """A field as a flat numpy array, checked to be finite numbers."""
    flat = ak.flatten(values, axis=None) if counts is not None else values
    try:
        array = ak.to_numpy(flat, allow_missing=False)
    except ValueError as error:
        raise ValueError(f"field {name!r} has missing (None) values: {error}") from None
    if array.dtype.kind not in "iuf":
        raise ValueError(
            f"field {name!r} must be numeric (int or float), got dtype {array.dtype}; "
            "convert it with ak.values_astype(..., np.float32)."
        )
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        first = int(np.flatnonzero(~np.isfinite(array))[0])
        jet = first if counts is None else _jet_of(first, counts)
        raise ValueError(
            f"field {name!r} has a NaN or infinite value in jet {jet}; "
            "drop or repair such jets before processing."
        )
    return array


def _jet_of(particle_index: int, counts: np.ndarray) -> int:
    return int(np.searchsorted(np.cumsum(counts), particle_index, side="right"))


def _field(particles: ak.Array, names: tuple[str, ...]) -> str | None:
    available = ak.fields(particles)
    return next((n for n in names if n in available), None)


def _four_momenta(particles: ak.Array, counts: np.ndarray) -> dict[str, np.ndarray]:
    """Flat float32 px, py, pz, energy, pt of every particle, validated."""
    available = ak.fields(particles)
    energy_name = _field(particles, _ENERGY_NAMES)
    mass_name = _field(particles, _MASS_NAMES)
    if _is_vector(particles):
        import vector

        vector.register_awkward()
        lorentz = ak.with_name(particles, "Momentum4D")
        px, py, pz, energy = (
            ak.to_numpy(ak.flatten(getattr(lorentz, n))) for n in ("px", "py", "pz", "E")
        )
    elif all(n in available for n in _CARTESIAN) and energy_name is not None:
        px, py, pz = (_numeric(particles[n], n, counts) for n in _CARTESIAN)
        energy = _numeric(particles[energy_name], energy_name, counts)
    elif all(n in available for n in _CYLINDRICAL) and mass_name is not None:
        pt, eta, phi = (_numeric(particles[n], n, counts).astype(np.float64) for n in _CYLINDRICAL)
        mass = _numeric(particles[mass_name], mass_name, counts).astype(np.float64)
        px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        energy = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    else:
        missing = [n for n in (*_CARTESIAN, "energy") if n not in available]
        raise ValueError(
            f"particles lack the four-momentum field(s) {missing} (have {available}); give "
            "px, py, pz, energy (or E), or pt, eta, phi, mass, or a vector Momentum4D array."
        )
    px, py, pz, energy = (np.asarray(v, dtype=np.float32) for v in (px, py, pz, energy))
    negative = np.flatnonzero(energy < 0)
    if negative.size:
        raise ValueError(
            f"field 'energy' is negative in jet {_jet_of(int(negative[0]), counts)}; "
            "energies must be >= 0 GeV."
        )
    pt = np.hypot(px, py)
    zero_pt = np.flatnonzero(pt == 0)
    if zero_pt.size:
        raise ValueError(
            f"a particle of jet {_jet_of(int(zero_pt[0]), counts)} has zero transverse momentum "
            "(px = py = 0), so its η is undefined; remove zero-pT particles (padding?) first."
        )
    return {"px": px, "py": py, "pz": pz, "energy": energy, "pt": pt}


def _is_vector(particles: ak.Array) -> bool:
    name = ak.parameters(
        particles.layout.content if hasattr(particles.layout, "content") else particles.layout
    ).get("__record__", "")
    return isinstance(name, str) and name.startswith(("Momentum4D", "Vector4D", "Lorentz"))


def _particle_features(
    kin: dict[str, np.ndarray], particles: ak.Array, counts: np.ndarray, feature_set: str
) -> dict[str, np.ndarray]:
    """Every feature of `feature_set` (unstandardised), flat over all particles."""
    jet_starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # The jet axis is the constituent sum, accumulated in float64.
    jet = {
        n: np.add.reduceat(kin[n], jet_starts, dtype=np.float64)
        for n in ("px", "py", "pz", "energy")
    }
    jet_pt = np.hypot(jet["px"], jet["py"])
    jet_eta = np.arcsinh(jet["pz"] / jet_pt)
    # ParT convention: Δη flips sign with the jet's η (sign(0) taken as +1).
    eta_sign = np.where(jet_eta < 0, -1.0, 1.0)

    def per_particle(values: np.ndarray) -> np.ndarray:
        return np.repeat(values.astype(np.float32), counts)

    pt, energy = kin["pt"], np.maximum(kin["energy"], np.finfo(np.float32).tiny)
    deta = (np.arcsinh(kin["pz"] / pt) - per_particle(jet_eta)) * per_particle(eta_sign)
    # Δφ as the signed angle between the particle and the jet axis in the transverse plane:
    # one arctan2, already in (−π, π].
    jet_ux, jet_uy = per_particle(jet["px"] / jet_pt), per_particle(jet["py"] / jet_pt)
    dphi = np.arctan2(
        kin["py"] * jet_ux - kin["px"] * jet_uy, kin["px"] * jet_ux + kin["py"] * jet_uy
    )
    log_pt, log_energy = np.log(pt), np.log(energy)
    features = {
        "deta": deta,
        "dphi": dphi,
        "log_pt": log_pt,
        "log_energy": log_energy,
        "log_pt_rel": log_pt - per_particle(np.log(jet_pt)),
        "log_energy_rel": log_energy - per_particle(np.log(jet["energy"])),
        "delta_r": np.hypot(deta, dphi),
    }
    wanted = FEATURE_SETS[feature_set]
    if any(name in wanted for name in PID_FEATURES):
        if "pid" not in ak.fields(particles):
            raise ValueError(
                f"feature_set={feature_set!r} needs a 'pid' field (PDG id) on the particles; "
                "use feature_set='kin' for jets without particle identification."
            )
        pid = _numeric(particles["pid"], "pid", counts).astype(np.int64)
        if "charge" in ak.fields(particles):
            charge = _numeric(particles["charge"], "charge", counts).astype(np.float32)
        else:
            charge = charge_from_pid(pid)
        features["charge"] = charge
        features.update(particle_id_flags(pid, charge))
    if any(name in wanted for name in TRACK_FEATURES):
        missing = [n for n in TRACK_FEATURES if n not in ak.fields(particles)]
        if missing:
            raise ValueError(
                f"feature_set={feature_set!r} needs the track fields {missing} on the particles; "
                "use feature_set='kinpid' or 'kin' for jets without track information."
            )
        track = {n: _numeric(particles[n], n, counts).astype(np.float32) for n in TRACK_FEATURES}
        features["d0"] = np.tanh(track["d0"])
        features["d0err"] = track["d0err"]
        features["dz"] = np.tanh(track["dz"])
        features["dzerr"] = track["dzerr"]
    return features


def _sorted_slots(
    pt: np.ndarray, counts: np.ndarray, max_particles: int
) -> tuple[np.ndarray, np.ndarray]:
    """Flat particle index for every (jet, slot), hardest first, and the slot mask.

    Returns:
        slots: (B, N) int64 index into the flat particle arrays; padded slots point one past
            the last particle (the zero row of the gather tables).
        mask: (B, N) bool, True where the slot holds a particle.
    """
    n_slots = max_particles
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    mask = np.arange(n_slots)[None, :] < counts[:, None]  # (B, N)
    # Fast path: inputs that are already pT-ordered (most files are) need no sort.
    within_jet = np.ones(max(pt.size - 1, 0), dtype=bool)
    within_jet[starts[1:] - 1] = False
    if np.all((pt[1:] <= pt[:-1]) | ~within_jet):
        local = np.arange(n_slots)[None, :]
    else:
        longest = int(counts.max())
        position = np.arange(pt.size) - np.repeat(starts, counts)
        padded = np.full((counts.size, longest), -np.inf, dtype=np.float32)  # (B, Lmax)
        padded[np.repeat(np.arange(counts.size), counts), position] = pt
        local = np.argsort(-padded, axis=1, kind="stable")[:, :n_slots]
        if local.shape[1] < n_slots:
            local = np.pad(local, ((0, 0), (0, n_slots - local.shape[1])))
    slots = np.where(mask, starts[:, None] + local, pt.size)
    return slots, mask


def _table(columns: list[np.ndarray]) -> np.ndarray:
    """Stack flat per-particle columns into a (P + 1, C) float32 table with a zero last row."""
    table = np.zeros((columns[0].size + 1, len(columns)), dtype=np.float32)
    for index, column in enumerate(columns):
        table[:-1, index] = column
    return table
