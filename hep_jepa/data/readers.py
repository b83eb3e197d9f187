"""Read jets from the standard benchmark formats into the awkward schema of ``docs/jets.md``.

One entry point, :func:`load_jets`, detects the format from the path and returns
``n * {particles: var * {px, py, pz, energy, ...}, label: int64, ...}`` with the
four-momentum in float32 GeV. Supported formats (names accepted by ``format=``):

==================  ============================================================
``jetclass-root``   JetClass ROOT file (one ``TTree``, ``part_*``, ``label_*``)
``top-tagging-h5``  Top Tagging reference HDF5 (``E_i, PX_i, PY_i, PZ_i``)
``energyflow-npz``  EnergyFlow quark/gluon ``.npz`` (``X`` = pt, y, phi, pid; ``y``)
``weaver-npy``      weaver channel-first ``.npy`` folder (``*pf_vectors*`` etc.)
``parquet``         hep-jepa parquet shards (one file or a folder, recursively)
==================  ============================================================

Every reader is vectorised: it gathers the real particles of all jets into flat
numpy columns plus a count per jet and builds the awkward array once. Optional
dependencies (uproot, h5py, pyarrow) are imported only by the reader that needs
them; nothing here imports torch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

__all__ = ["FORMATS", "JETCLASS_LABELS", "detect_format", "load_jets"]

#: Class names of JetClass, in the order of its one-hot label columns.
JETCLASS_LABELS: tuple[str, ...] = (
    "QCD", "Hbb", "Hcc", "Hgg", "H4q", "Hqql", "Zqq", "Wqq", "Tbqq", "Tbl",
)  # fmt: skip

_SUFFIX_FORMATS: dict[str, str] = {
    ".root": "jetclass-root",
    ".h5": "top-tagging-h5",
    ".hdf5": "top-tagging-h5",
    ".npz": "energyflow-npz",
    ".parquet": "parquet",
}
_INSTALL_HINT = "install the readers extra: pip install 'hep-jepa[readers]'"

# JetClass: particle branch -> schema field. The aux_* branches (generator truth)
# are never read.
_JETCLASS_MOMENTUM = {
    "part_px": "px", "part_py": "py", "part_pz": "pz", "part_energy": "energy",
}  # fmt: skip
_JETCLASS_TRACK = {
    "part_d0val": "d0", "part_d0err": "d0err", "part_dzval": "dz", "part_dzerr": "dzerr",
}  # fmt: skip
_JETCLASS_FLAGS = (
    "part_isElectron", "part_isMuon", "part_isPhoton", "part_isChargedHadron",
    "part_isNeutralHadron",
)  # fmt: skip
_JETCLASS_JET = {
    "jet_pt": "pt", "jet_eta": "eta", "jet_phi": "phi", "jet_energy": "energy",
    "jet_sdmass": "sdmass", "jet_nparticles": "n_particles",
    "jet_tau1": "tau1", "jet_tau2": "tau2", "jet_tau3": "tau3", "jet_tau4": "tau4",
}  # fmt: skip

# weaver layout: file roles, matched case-insensitively with '_' removed.
_WEAVER_ROLES = ("pfvectors", "pfmask", "labels")
_WEAVER_PATTERN = re.compile(r"^(?P<prefix>.*?)_?(pf_?vectors|pf_?mask|pf_?points|labels)$", re.I)


def load_jets(path: str | Path, format: str | None = None) -> ak.Array:
    """Read jets from a file or folder in any supported format.

    Args:
        path: A file (``.root``, ``.h5``/``.hdf5``, ``.npz``, ``.parquet``, or a
            weaver ``*pf_vectors*.npy``) or a folder (weaver ``.npy`` files, or
            parquet shards searched recursively).
        format: One of :data:`FORMATS`; ``None`` (default) detects it from the
            path with :func:`detect_format`.

    Returns:
        ``n * {particles: var * {px, py, pz, energy: float32, ...}, label: int64, ...}``.
        Particle fields beyond the four-momentum (``charge``, ``pid``, ``d0``,
        ``d0err``, ``dz``, ``dzerr``) and jet-level fields appear where the
        format stores them; see each reader and ``docs/readers.md``.

    Raises:
        FileNotFoundError: ``path`` does not exist, or a weaver file is missing.
        ValueError: Unknown format, unreadable or corrupt file, missing branch
            or column, inconsistent array lengths. The message names the file.
        ImportError: The reader's optional dependency is not installed.

    Examples:
        >>> jets = load_jets("realdata/top_tagging")  # doctest: +SKIP
        >>> jets.particles.px, jets.label  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if format is None:
        format = detect_format(path)
    reader = _READERS.get(format)
    if reader is None:
        raise ValueError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    return reader(path)


def detect_format(path: str | Path) -> str:
    """Name the format of ``path`` (one of :data:`FORMATS`) from its suffix or contents.

    A folder is ``weaver-npy`` if it holds ``*pf_vectors*.npy`` files, else
    ``parquet`` if any ``*.parquet`` lies below it.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        if _weaver_groups(path):
            return "weaver-npy"
        if next(path.rglob("*.parquet"), None) is not None:
            return "parquet"
        raise ValueError(
            f"{path}: folder holds neither weaver .npy files (*pf_vectors*, *pf_mask*, "
            "*labels*) nor .parquet shards; pass a file, or format= one of "
            f"{', '.join(FORMATS)}"
        )
    suffix = path.suffix.lower()
    if suffix == ".npy" and _weaver_role(path) is not None:
        return "weaver-npy"
    if suffix in _SUFFIX_FORMATS:
        return _SUFFIX_FORMATS[suffix]
    raise ValueError(
        f"{path}: cannot tell the format from the suffix {suffix or '(none)'!r} (known: "
        f"{', '.join(sorted(_SUFFIX_FORMATS))}, or a folder); pass format= one of "
        f"{', '.join(FORMATS)}"
    )


# --------------------------------------------------------------------------- assembly


def _assemble(
    particles: Mapping[str, np.ndarray],
    counts: np.ndarray,
    jet_fields: Mapping[str, np.ndarray],
) -> ak.Array:
    """Build the jet array from flat particle columns and a particle count per jet.

    Shape: each particle column is (sum(counts),); ``counts`` and each jet field (B,).
    """
    records = ak.zip(dict(particles), depth_limit=1)
    nested = ak.unflatten(records, np.asarray(counts, dtype=np.int64))
    return ak.zip({"particles": nested, **jet_fields}, depth_limit=1)


def _from_dense(
    momenta: np.ndarray,
    mask: np.ndarray,
    jet_fields: Mapping[str, np.ndarray],
) -> ak.Array:
    """Jets from zero-padded (B, N, 4) px, py, pz, E and a bool (B, N) mask (True = real)."""
    flat = momenta[mask]  # (sum(mask), 4), jets stay in order
    columns = {name: flat[:, i].astype(np.float32) for i, name in enumerate(_P4)}
    return _assemble(columns, mask.sum(axis=1), jet_fields)


_P4 = ("px", "py", "pz", "energy")


def _require(module: str, path: Path, format: str) -> Any:
    try:
        return __import__(module)
    except ImportError as err:
        raise ImportError(f"{path}: reading {format} needs {module}; {_INSTALL_HINT}") from err


def _check_labels(path: Path, labels: np.ndarray, n_jets: int, what: str) -> np.ndarray:
    """Integer class labels (B,) from (B,), (B, 1) or one-hot (B, K) ``labels``."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.shape[:1] != (n_jets,):
        raise ValueError(
            f"{path}: {what} has {labels.shape[0] if labels.ndim else 0} entries "
            f"(shape {labels.shape}) but there are {n_jets} jets; the label file must "
            "belong to the same jets, in the same order"
        )
    if labels.ndim == 2:
        hot = labels != 0
        bad = np.flatnonzero(hot.sum(axis=1) != 1)
        if bad.size:
            raise ValueError(
                f"{path}: {what} is not one-hot: {bad.size} jets (first: {bad[0]}) have "
                "no class or more than one"
            )
        return hot.argmax(axis=1).astype(np.int64)
    if labels.ndim != 1:
        raise ValueError(f"{path}: {what} has shape {labels.shape}; expected (B,) or (B, K)")
    return labels.astype(np.int64)


# --------------------------------------------------------------------------- JetClass ROOT


def _read_jetclass_root(path: Path) -> ak.Array:
    """JetClass ROOT file: one tree with ``part_*`` jagged branches and ``label_*`` one-hot.

    Particles: ``part_px, part_py, part_pz, part_energy`` -> px, py, pz, energy;
    ``part_charge`` -> charge; ``part_d0val, part_d0err, part_dzval, part_dzerr``
    -> d0, d0err, dz, dzerr. JetClass stores no PDG id, only the flags
    ``part_isElectron/isMuon/isPhoton/isChargedHadron/isNeutralHadron`` and the
    charge, so ``pid`` is a representative id rebuilt from them: electron
    ``-11 * charge``, muon ``-13 * charge``, photon 22, charged hadron
    ``211 * charge``, neutral hadron 130, and 0 if no flag is set.

    Jets: ``label`` is the argmax of ``label_QCD, ..., label_Tbl`` (order of
    :data:`JETCLASS_LABELS`); ``jet_pt, jet_eta, jet_phi, jet_energy,
    jet_sdmass, jet_nparticles, jet_tau1..4`` become pt, eta, phi, energy,
    sdmass, n_particles, tau1..4 where present. ``aux_*`` truth branches are
    never read.
    """
    uproot = _require("uproot", path, "jetclass-root")
    try:
        file = uproot.open(path)
    except Exception as err:
        raise ValueError(
            f"{path}: not a readable ROOT file ({_describe(err)}); the file may "
            "be truncated or in another format: check the download, or pass format="
        ) from err
    with file:
        tree = _jetclass_tree(path, file)
        available = set(tree.keys())
        labels = [f"label_{name}" for name in JETCLASS_LABELS]
        required = [*_JETCLASS_MOMENTUM, *labels]
        missing = [name for name in required if name not in available]
        if missing:
            raise ValueError(
                f"{path}: tree {tree.name!r} lacks the branches {', '.join(missing)}; a "
                f"JetClass file needs {', '.join(_JETCLASS_MOMENTUM)} and label_* for "
                f"{', '.join(JETCLASS_LABELS)}"
            )
        optional = [
            name
            for name in ["part_charge", *_JETCLASS_TRACK, *_JETCLASS_FLAGS, *_JETCLASS_JET]
            if name in available
        ]
        try:
            arrays = tree.arrays([*required, *optional], library="ak")
        except Exception as err:
            raise ValueError(
                f"{path}: failed to read the branches of tree {tree.name!r} "
                f"({_describe(err)}); the file is probably truncated or corrupt"
            ) from err

    counts = ak.to_numpy(ak.num(arrays["part_px"], axis=1))
    particle_branches = [name for name in arrays.fields if name.startswith("part_")]
    for name in particle_branches:
        if not np.array_equal(ak.to_numpy(ak.num(arrays[name], axis=1)), counts):
            raise ValueError(f"{path}: branch {name} has other particle counts than part_px")

    def flat(name: str) -> np.ndarray:
        return ak.to_numpy(ak.flatten(arrays[name], axis=1))

    particles = {
        field: flat(branch).astype(np.float32) for branch, field in _JETCLASS_MOMENTUM.items()
    }
    if "part_charge" in available:
        charge = flat("part_charge").astype(np.float32)
        particles["charge"] = charge
        if all(name in available for name in _JETCLASS_FLAGS):
            flags = {name: flat(name) != 0 for name in _JETCLASS_FLAGS}
            particles["pid"] = _jetclass_pid(charge, flags)
    for branch, field in _JETCLASS_TRACK.items():
        if branch in available:
            particles[field] = flat(branch).astype(np.float32)

    one_hot = np.stack([ak.to_numpy(arrays[name]) for name in labels], axis=1)
    jet_fields: dict[str, np.ndarray] = {
        "label": _check_labels(path, one_hot, len(counts), "the label_* branches")
    }
    for branch, field in _JETCLASS_JET.items():
        if branch in available:
            jet_fields[field] = ak.to_numpy(arrays[branch])
    return _assemble(particles, counts, jet_fields)


def _jetclass_tree(path: Path, file: Any) -> Any:
    """The tree named ``tree`` (JetClass's name), or the file's only tree."""
    trees = [
        key.split(";")[0]
        for key, kind in file.classnames().items()
        if kind in ("TTree", "ROOT::RNTuple")
    ]
    if "tree" in trees:
        return file["tree"]
    if len(set(trees)) == 1:
        return file[trees[0]]
    raise ValueError(
        f"{path}: expected one tree (JetClass calls it 'tree'), found "
        f"{', '.join(trees) if trees else 'none'}"
    )


def _jetclass_pid(charge: np.ndarray, flags: Mapping[str, np.ndarray]) -> np.ndarray:
    """Representative PDG id per particle from JetClass's type flags and charge. Shape: (P,)."""
    sign = np.sign(charge).astype(np.int32)
    choices = [
        (flags["part_isElectron"], -11 * sign),
        (flags["part_isMuon"], -13 * sign),
        (flags["part_isPhoton"], np.full_like(sign, 22)),
        (flags["part_isChargedHadron"], 211 * sign),
        (flags["part_isNeutralHadron"], np.full_like(sign, 130)),
    ]
    return np.select([c for c, _ in choices], [v for _, v in choices], default=0).astype(np.int32)


# --------------------------------------------------------------------------- Top Tagging HDF5


def _read_top_tagging_h5(path: Path) -> ak.Array:
    """Top Tagging reference HDF5: columns ``E_i, PX_i, PY_i, PZ_i`` (i < 200), ``is_signal_new``.

    Reads the pandas "fixed" layout of the published files (a group, usually
    ``table``, with ``block*_items`` / ``block*_values``) and a plain layout
    with one dataset per column. Zero-padded slots (``E_i == 0``) are dropped.
    ``label`` is ``is_signal_new`` (1 = top, 0 = QCD). The truth top
    four-vector (``truth*``) and ``ttv`` are not read.
    """
    h5py = _require("h5py", path, "top-tagging-h5")
    try:
        file = h5py.File(path, "r")
    except Exception as err:
        raise ValueError(
            f"{path}: not a readable HDF5 file ({_describe(err)}); the file may "
            "be truncated or in another format: check the download, or pass format="
        ) from err
    with file:
        columns = _h5_columns(path, file)
        n_slots = 0
        while f"E_{n_slots}" in columns:
            n_slots += 1
        wanted = [f"{c}_{i}" for i in range(max(n_slots, 1)) for c in ("E", "PX", "PY", "PZ")]
        missing = [name for name in [*wanted, "is_signal_new"] if name not in columns]
        if missing:
            shown = ", ".join(missing[:8]) + (", ..." if len(missing) > 8 else "")
            raise ValueError(
                f"{path}: missing columns {shown}; a Top Tagging file has E_i, PX_i, PY_i, "
                "PZ_i for i < 200 and is_signal_new"
            )
        names = [f"{c}_{i}" for i in range(n_slots) for c in ("PX", "PY", "PZ", "E")]
        dense = _h5_gather(columns, names)  # (B, N * 4)
        labels = _h5_gather(columns, ["is_signal_new"])[:, 0]
    momenta = dense.reshape(len(dense), n_slots, 4)  # (B, N, 4): px, py, pz, E
    label = _check_labels(path, labels, len(momenta), "is_signal_new")
    return _from_dense(momenta, momenta[:, :, 3] != 0, {"label": label})


def _h5_columns(path: Path, file: Any) -> dict[str, tuple[Any, int | None]]:
    """Column name -> (dataset, column index or None for a 1-D dataset).

    Handles the pandas "fixed" format (2-D ``block*_values``, names in
    ``block*_items``) and one 1-D dataset per column, in the root or a first-level group.
    """
    h5py = __import__("h5py")
    groups = [file] + [item for item in file.values() if isinstance(item, h5py.Group)]
    for group in groups:
        if "block0_items" in group:
            columns: dict[str, tuple[Any, int | None]] = {}
            k = 0
            while f"block{k}_items" in group:
                values = group[f"block{k}_values"]
                for j, name in enumerate(group[f"block{k}_items"][()]):
                    columns[_decode(name)] = (values, j)
                k += 1
            return columns
        if "E_0" in group:
            return {
                name: (item, None) for name, item in group.items() if isinstance(item, h5py.Dataset)
            }
    if "table" in file and "table" in file["table"]:
        raise ValueError(
            f"{path}: pandas 'table' format is not supported; re-save it with "
            "DataFrame.to_hdf(path, key='table', format='fixed')"
        )
    raise ValueError(
        f"{path}: found no Top Tagging columns (E_0, PX_0, ..., is_signal_new) in the "
        "file's root or first-level groups"
    )


def _h5_gather(columns: Mapping[str, tuple[Any, int | None]], names: list[str]) -> np.ndarray:
    """The columns ``names`` as one array. Shape: (B, len(names)).

    Each pandas block is read once, whole, and indexed in one go.
    """
    datasets = {id(columns[name][0]): columns[name][0] for name in names}
    if len(datasets) == 1 and columns[names[0]][1] is not None:
        dataset = next(iter(datasets.values()))
        return dataset[()][:, [columns[name][1] for name in names]]
    blocks = {key: dataset[()] for key, dataset in datasets.items()}
    parts = []
    for name in names:
        dataset, j = columns[name]
        values = blocks[id(dataset)]
        parts.append(values if j is None else values[:, j])
    return np.stack(parts, axis=1)


def _describe(err: Exception) -> str:
    """The exception on one line: libraries' messages may span several."""
    return f"{type(err).__name__}: {' '.join(str(err).split())}"


def _decode(name: Any) -> str:
    return name.decode() if isinstance(name, bytes) else str(name)


# --------------------------------------------------------------------------- EnergyFlow npz


def _read_energyflow_npz(path: Path) -> ak.Array:
    """EnergyFlow quark/gluon ``.npz``: ``X`` (B, N, 4) = pt, y, phi, pid, zero-padded; ``y`` (B,).

    Particles are massless: px = pt cos(phi), py = pt sin(phi), pz = pt sinh(y),
    E = pt cosh(y), computed in float64 and stored as float32; ``pid`` (int32)
    where ``X`` has a fourth feature. Slots with pt == 0 are padding.
    ``label`` is ``y`` (1 = quark, 0 = gluon).
    """
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as err:
        raise ValueError(
            f"{path}: not a readable .npz archive ({_describe(err)}); the file "
            "may be truncated or in another format"
        ) from err
    with archive:
        missing = [key for key in ("X", "y") if key not in archive.files]
        if missing:
            raise ValueError(
                f"{path}: missing arrays {', '.join(missing)} (found {', '.join(archive.files)}); "
                "an EnergyFlow file holds X (jets, particles, [pt, y, phi, pid]) and y"
            )
        features, labels = archive["X"], archive["y"]
    if features.ndim != 3 or features.shape[2] < 3:
        raise ValueError(f"{path}: X has shape {features.shape}; expected (B, N, 3 or 4)")
    mask = features[:, :, 0] > 0  # (B, N)
    flat = features[mask].astype(np.float64)  # (P, F)
    pt, rapidity, phi = flat[:, 0], flat[:, 1], flat[:, 2]
    particles = {
        "px": (pt * np.cos(phi)).astype(np.float32),
        "py": (pt * np.sin(phi)).astype(np.float32),
        "pz": (pt * np.sinh(rapidity)).astype(np.float32),
        "energy": (pt * np.cosh(rapidity)).astype(np.float32),
    }
    if features.shape[2] >= 4:
        particles["pid"] = np.rint(flat[:, 3]).astype(np.int32)
    label = _check_labels(path, labels, len(features), "y")
    return _assemble(particles, mask.sum(axis=1), {"label": label})


# --------------------------------------------------------------------------- weaver npy


def _read_weaver_npy(path: Path) -> ak.Array:
    """weaver / Particle Transformer channel-first ``.npy`` files.

    ``path`` is a folder holding one set of ``<prefix>pf_vectors.npy`` (B, 4, N)
    px, py, pz, E; ``<prefix>pf_mask.npy`` (B, 1, N), 1 = real; and
    ``<prefix>labels.npy`` (B,) or one-hot (B, K) (names matched ignoring case
    and ``_``, e.g. ``SMALLpfVectors.npy`` or ``tl_pf_vectors.npy``), or one of
    those files, which picks its set when a folder holds several. Padding is
    dropped with the mask; ``*pf_points*`` (derived Δη, Δφ) is not read.
    """
    folder, prefix = (path, None) if path.is_dir() else (path.parent, _weaver_prefix(path))
    groups = _weaver_groups(folder)
    if prefix is None:
        if len(groups) != 1:
            raise ValueError(
                f"{folder}: holds several sets of weaver files (prefixes "
                f"{', '.join(repr(p) for p in sorted(groups))}); pass one of its "
                "*pf_vectors*.npy files instead of the folder"
            )
        prefix = next(iter(groups))
    files = groups.get(prefix, {})
    for role, hint in zip(_WEAVER_ROLES, ("*pf_vectors*", "*pf_mask*", "*labels*"), strict=True):
        if role not in files:
            raise FileNotFoundError(
                f"{folder}: no {hint}.npy file for prefix {prefix!r}; the weaver layout needs "
                "pf_vectors, pf_mask and labels files for the same jets"
            )
    vectors = _load_npy(files["pfvectors"])
    mask = _load_npy(files["pfmask"])
    labels = _load_npy(files["labels"])
    if vectors.ndim != 3 or vectors.shape[1] != 4:
        raise ValueError(
            f"{files['pfvectors']}: shape {vectors.shape}; expected (B, 4, N) px, py, pz, E "
            "(channel-first)"
        )
    if mask.ndim == 3 and mask.shape[1] == 1:
        mask = mask[:, 0]
    if mask.shape != (vectors.shape[0], vectors.shape[2]):
        raise ValueError(
            f"{files['pfmask']}: shape {mask.shape} does not match {files['pfvectors'].name} "
            f"{vectors.shape}; expected ({vectors.shape[0]}, 1, {vectors.shape[2]})"
        )
    label = _check_labels(files["labels"], labels, len(vectors), "the labels array")
    momenta = vectors.transpose(0, 2, 1)  # (B, 4, N) -> (B, N, 4)
    return _from_dense(momenta, mask != 0, {"label": label})


def _weaver_role(path: Path) -> str | None:
    match = _WEAVER_PATTERN.match(path.stem)
    if match is None:
        return None
    return match.group(2).replace("_", "").lower()


def _weaver_prefix(path: Path) -> str:
    match = _WEAVER_PATTERN.match(path.stem)
    if match is None or path.suffix.lower() != ".npy":
        raise ValueError(
            f"{path}: not a weaver file; expected <prefix>pf_vectors.npy, <prefix>pf_mask.npy "
            "or <prefix>labels.npy, or their folder"
        )
    return match.group("prefix").lower()


def _weaver_groups(folder: Path) -> dict[str, dict[str, Path]]:
    """prefix -> {role: file} for the weaver ``.npy`` files in ``folder`` with a pf_vectors file."""
    groups: dict[str, dict[str, Path]] = {}
    for file in sorted(folder.glob("*.npy")):
        role = _weaver_role(file)
        if role is not None:
            groups.setdefault(_weaver_prefix(file), {})[role] = file
    return {prefix: files for prefix, files in groups.items() if "pfvectors" in files}


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except Exception as err:
        raise ValueError(
            f"{path}: not a readable .npy file ({_describe(err)}); the file may be truncated"
        ) from err


# --------------------------------------------------------------------------- parquet


def _read_parquet(path: Path) -> ak.Array:
    """hep-jepa parquet shards: one file, or every ``*.parquet`` below a folder, in path order.

    The shards are read as written (``ak.to_parquet``), so types and values
    round-trip exactly. They must hold a ``particles`` column.
    """
    _require("pyarrow", path, "parquet")
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    if not files:
        raise ValueError(f"{path}: no .parquet files in this folder or below it")
    try:
        jets = ak.from_parquet([str(file) for file in files])
    except Exception as err:
        where = files[0] if len(files) == 1 else f"{path} ({len(files)} shards)"
        raise ValueError(
            f"{where}: cannot read as parquet ({_describe(err)}); the file may be "
            "truncated, or the shards may have different columns"
        ) from err
    if "particles" not in jets.fields:
        raise ValueError(
            f"{path}: no 'particles' column (found {', '.join(jets.fields) or 'none'}); "
            "these are not hep-jepa jet shards (docs/jets.md)"
        )
    return jets


_READERS: dict[str, Callable[[Path], ak.Array]] = {
    "jetclass-root": _read_jetclass_root,
    "top-tagging-h5": _read_top_tagging_h5,
    "energyflow-npz": _read_energyflow_npz,
    "weaver-npy": _read_weaver_npy,
    "parquet": _read_parquet,
}

#: Names accepted by ``load_jets(format=...)``.
FORMATS: tuple[str, ...] = tuple(_READERS)
