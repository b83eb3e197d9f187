"""Readers and ``hep-jepa convert``: each format written from the real samples and read back.

The ``write_*`` functions build small files in the foreign formats (JetClass
ROOT, Top Tagging HDF5, EnergyFlow npz) from dense (B, N, 4) px, py, pz, E
arrays; ``benchmarks/bench_readers.py`` reuses them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from hep_jepa.cli import main as cli_main
from hep_jepa.data import load_jets
from hep_jepa.data.readers import FORMATS, JETCLASS_LABELS, detect_format
from hep_jepa.data.shards import write_shards

SAMPLES = ("jetclass", "top_tagging", "quark_gluon")
P4 = ("px", "py", "pz", "energy")


# --------------------------------------------------------------------------- helpers


def read_weaver(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(B, N, 4) px, py, pz, E; (B, N) bool mask; stored labels, from a weaver folder."""
    files = {p.name.lower().replace("_", ""): p for p in folder.glob("*.npy")}

    def find(role: str) -> np.ndarray:
        (name,) = [n for n in files if role in n]
        return np.load(files[name])

    vectors = find("pfvectors").transpose(0, 2, 1)
    mask = find("pfmask")[:, 0] != 0
    return vectors, mask, find("labels")


def write_jetclass_root(
    path: Path,
    momenta: np.ndarray,
    mask: np.ndarray,
    one_hot: np.ndarray,
    *,
    seed: int = 0,
    drop: tuple[str, ...] = (),
) -> dict[str, np.ndarray]:
    """A JetClass-like ROOT file with made-up charge, type flags and track variables.

    ``drop`` names branches to leave out. Returns the flat per-particle charge,
    particle kind (0-4, order of the is* flags) and d0 that were written.
    """
    import uproot

    rng = np.random.default_rng(seed)
    counts = mask.sum(axis=1)
    flat = momenta[mask].astype(np.float32)  # (P, 4)
    kind = rng.integers(0, 5, size=len(flat))  # electron, muon, photon, ch. hadron, n. hadron
    charged = np.isin(kind, (0, 1, 3))
    charge = np.where(charged, rng.choice([-1.0, 1.0], size=len(flat)), 0.0).astype(np.float32)
    names = ("isElectron", "isMuon", "isPhoton", "isChargedHadron", "isNeutralHadron")
    part = {name: (kind == i).astype(np.float32) for i, name in enumerate(names)}
    part.update(zip(P4, flat.T, strict=True))
    part["charge"] = charge
    for name in ("d0val", "d0err", "dzval", "dzerr"):
        part[name] = rng.normal(size=len(flat)).astype(np.float32)
    part = {name: value for name, value in part.items() if f"part_{name}" not in drop}
    part_array = ak.unflatten(ak.zip(part, depth_limit=1), counts)
    total = momenta.sum(axis=1)  # (B, 4)
    pt = np.hypot(total[:, 0], total[:, 1])
    data: dict[str, np.ndarray] = {
        "jet_pt": pt.astype(np.float32),
        "jet_eta": np.arcsinh(total[:, 2] / pt).astype(np.float32),
        "jet_energy": total[:, 3].astype(np.float32),
        "jet_nparticles": counts.astype(np.float32),
        "aux_truth_match": np.ones(len(counts), dtype=np.float32),
    }
    for i, label in enumerate(JETCLASS_LABELS):
        data[f"label_{label}"] = one_hot[:, i].astype(np.bool_)
    data = {name: value for name, value in data.items() if name not in drop}
    with uproot.recreate(path) as file:
        types = {"part": part_array.type.content, **{k: v.dtype for k, v in data.items()}}
        file.mktree("tree", types)  # a TTree; `file["tree"] = data` would write an RNTuple
        file["tree"].extend({"part": part_array, **data})
    return {"charge": charge, "kind": kind, "d0": part["d0val"]}


def write_top_tagging_h5(
    path: Path, momenta: np.ndarray, mask: np.ndarray, labels: np.ndarray, *, pandas_fixed: bool
) -> None:
    """A Top Tagging file with 200 slots.

    Layout: pandas "fixed" (as published) or one dataset per column.
    """
    import h5py

    n_jets, n_slots = mask.shape
    dense = np.zeros((n_jets, 200, 4), dtype=np.float32)  # E, PX, PY, PZ
    dense[:, :n_slots] = np.where(mask[..., None], momenta[..., [3, 0, 1, 2]], 0)
    names = [f"{c}_{i}" for i in range(200) for c in ("E", "PX", "PY", "PZ")]
    values = dense.reshape(n_jets, 800)
    truth = np.ones((n_jets, 4), dtype=np.float32)  # truthE, ...: must not be read
    with h5py.File(path, "w") as file:
        if pandas_fixed:
            group = file.create_group("table")
            floats = [*names, "truthE", "truthPX", "truthPY", "truthPZ"]
            group["axis0"] = np.array([*floats, "ttv", "is_signal_new"], dtype="S")
            group["axis1"] = np.arange(n_jets)
            group["block0_items"] = np.array(floats, dtype="S")
            group["block0_values"] = np.concatenate([values, truth], axis=1)
            group["block1_items"] = np.array(["ttv", "is_signal_new"], dtype="S")
            group["block1_values"] = np.stack([np.zeros(n_jets, np.int64), labels], axis=1)
        else:
            for j, name in enumerate(names):
                file[name] = values[:, j]
            file["is_signal_new"] = labels


def write_energyflow_npz(
    path: Path, momenta: np.ndarray, mask: np.ndarray, labels: np.ndarray, **extra: np.ndarray
) -> np.ndarray:
    """An EnergyFlow-style npz: X = (pt, y, phi, pid), zero-padded, float64; y = labels."""
    p = momenta.astype(np.float64)
    pt = np.hypot(p[..., 0], p[..., 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        rapidity = 0.5 * np.log((p[..., 3] + p[..., 2]) / (p[..., 3] - p[..., 2]))
    phi = np.arctan2(p[..., 1], p[..., 0])
    pid = np.where(np.arange(mask.shape[1]) % 2 == 0, 211.0, 22.0) * mask
    features = np.stack([pt, rapidity, phi, pid], axis=-1) * mask[..., None]
    arrays = {"X": np.nan_to_num(features), "y": labels.astype(np.float64), **extra}
    np.savez(path, **arrays)
    return pid


def flat_field(jets: ak.Array, field: str) -> np.ndarray:
    return ak.to_numpy(ak.flatten(jets.particles[field], axis=1))


@pytest.fixture(scope="module")
def weaver(realdata_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    return {name: read_weaver(realdata_dir / name) for name in SAMPLES}


# --------------------------------------------------------------------------- weaver npy


@pytest.mark.parametrize("sample", SAMPLES)
def test_realdata_gives_back_stored_vectors(realdata_dir, weaver, sample):
    momenta, mask, labels = weaver[sample]
    jets = load_jets(realdata_dir / sample)
    assert detect_format(realdata_dir / sample) == "weaver-npy"
    assert len(jets) == len(mask)
    np.testing.assert_array_equal(ak.to_numpy(ak.num(jets.particles, axis=1)), mask.sum(axis=1))
    for i, field in enumerate(P4):
        assert jets.particles[field].type.content.content == ak.types.NumpyType("float32")
        np.testing.assert_array_equal(flat_field(jets, field), momenta[..., i][mask])
    expected = labels.argmax(axis=1) if labels.ndim == 2 else labels
    np.testing.assert_array_equal(ak.to_numpy(jets.label), expected)
    assert jets.label.type.content == ak.types.NumpyType("int64")


def test_weaver_file_path_picks_its_set(realdata_dir, tmp_path):
    source = realdata_dir / "top_tagging"
    for name in ("tl_pf_vectors", "tl_pf_mask", "tl_labels"):
        np.save(tmp_path / f"{name}.npy", np.load(source / f"{name}.npy")[:20])
        np.save(
            tmp_path / f"{name.replace('tl', 'other')}.npy", np.load(source / f"{name}.npy")[20:30]
        )
    with pytest.raises(ValueError, match="several sets"):
        load_jets(tmp_path)
    jets = load_jets(tmp_path / "other_pf_vectors.npy")
    assert ak.array_equal(jets, load_jets(source)[20:30])


def copy_weaver(source: Path, target: Path, n_jets: int, skip: str = "") -> None:
    for file in source.glob("*.npy"):
        if skip and skip in file.name.lower():
            continue
        np.save(target / file.name, np.load(file)[:n_jets])


def test_weaver_without_labels_is_an_error(realdata_dir, tmp_path):
    copy_weaver(realdata_dir / "quark_gluon", tmp_path, 10, skip="labels")
    with pytest.raises(FileNotFoundError, match=r"labels.*prefix 'qg'"):
        load_jets(tmp_path)


def test_weaver_labels_of_wrong_length(realdata_dir, tmp_path):
    copy_weaver(realdata_dir / "jetclass", tmp_path, 10)
    np.save(tmp_path / "SMALLlabels.npy", np.load(realdata_dir / "jetclass/SMALLlabels.npy")[:9])
    with pytest.raises(ValueError, match=r"SMALLlabels\.npy: .* 9 entries .* 10 jets"):
        load_jets(tmp_path)


def test_weaver_truncated_file(realdata_dir, tmp_path):
    copy_weaver(realdata_dir / "top_tagging", tmp_path, 10)
    vectors = tmp_path / "tl_pf_vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:500])
    with pytest.raises(ValueError, match=r"tl_pf_vectors\.npy: not a readable \.npy"):
        load_jets(tmp_path)


# --------------------------------------------------------------------------- JetClass ROOT


@pytest.fixture(scope="module")
def jetclass_root(weaver, tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    momenta, mask, one_hot = weaver["jetclass"]
    path = tmp_path_factory.mktemp("root") / "HToBB_100.root"
    written = write_jetclass_root(path, momenta[:100], mask[:100], one_hot[:100])
    return path, written


def test_jetclass_root(jetclass_root, weaver):
    path, written = jetclass_root
    momenta, mask, one_hot = (a[:100] for a in weaver["jetclass"])
    jets = load_jets(path)
    assert detect_format(path) == "jetclass-root"
    for i, field in enumerate(P4):
        np.testing.assert_array_equal(flat_field(jets, field), momenta[..., i][mask])
    np.testing.assert_array_equal(ak.to_numpy(jets.label), one_hot.argmax(axis=1))
    np.testing.assert_array_equal(flat_field(jets, "charge"), written["charge"])
    np.testing.assert_array_equal(flat_field(jets, "d0"), written["d0"])
    sign = written["charge"].astype(int)
    expected_pid = np.choose(written["kind"], [-11 * sign, -13 * sign, 22, 211 * sign, 130])
    np.testing.assert_array_equal(flat_field(jets, "pid"), expected_pid)
    assert set(jets.particles.fields) == {*P4, "charge", "pid", "d0", "d0err", "dz", "dzerr"}
    assert set(jets.fields) == {"particles", "label", "pt", "eta", "energy", "n_particles"}


def test_jetclass_root_missing_branch(weaver, tmp_path):
    momenta, mask, one_hot = (a[:5] for a in weaver["jetclass"])
    path = tmp_path / "bad.root"
    write_jetclass_root(path, momenta, mask, one_hot, drop=("part_pz", "label_Hcc"))
    with pytest.raises(ValueError, match=r"bad\.root: .*lacks the branches part_pz, label_Hcc"):
        load_jets(path)


@pytest.mark.parametrize("damage", ["truncated", "not-root"])
def test_jetclass_root_damaged(jetclass_root, tmp_path, damage):
    source, _ = jetclass_root
    path = tmp_path / "damaged.root"
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"E_0,PX_0\n1,2\n")
    with pytest.raises(ValueError, match=r"damaged\.root: .*(truncated|corrupt)"):
        load_jets(path)


# --------------------------------------------------------------------------- Top Tagging HDF5


@pytest.mark.parametrize("pandas_fixed", [True, False], ids=["pandas-fixed", "per-column"])
def test_top_tagging_h5(weaver, tmp_path, pandas_fixed):
    momenta, mask, labels = (a[:50] for a in weaver["top_tagging"])
    path = tmp_path / "test.h5"
    write_top_tagging_h5(path, momenta, mask, labels, pandas_fixed=pandas_fixed)
    jets = load_jets(path)
    assert detect_format(path) == "top-tagging-h5"
    for i, field in enumerate(P4):
        np.testing.assert_array_equal(flat_field(jets, field), momenta[..., i][mask])
    np.testing.assert_array_equal(ak.to_numpy(jets.label), labels)
    assert jets.fields == ["particles", "label"]


def test_top_tagging_h5_missing_column(weaver, tmp_path):
    import h5py

    momenta, mask, labels = (a[:5] for a in weaver["top_tagging"])
    path = tmp_path / "test.hdf5"
    write_top_tagging_h5(path, momenta, mask, labels, pandas_fixed=False)
    with h5py.File(path, "a") as file:
        del file["is_signal_new"], file["PY_3"]
    with pytest.raises(ValueError, match=r"test\.hdf5: missing columns PY_3, is_signal_new"):
        load_jets(path)
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 40)
    with pytest.raises(ValueError, match=r"test\.hdf5: not a readable HDF5 file"):
        load_jets(path)


# --------------------------------------------------------------------------- EnergyFlow npz


def test_energyflow_npz(weaver, tmp_path):
    momenta, mask, labels = (a[:200] for a in weaver["quark_gluon"])
    path = tmp_path / "QG_jets.npz"
    pid = write_energyflow_npz(path, momenta, mask, labels)
    jets = load_jets(path)
    assert detect_format(path) == "energyflow-npz"
    # (pt, y, phi) -> px, py, pz, E in float64 reproduces the stored massless vectors.
    scale = np.abs(momenta[mask]).max(axis=1)  # (P,)
    for i, field in enumerate(P4):
        assert np.all(np.abs(flat_field(jets, field) - momenta[..., i][mask]) <= 2e-6 * scale)
    np.testing.assert_array_equal(flat_field(jets, "pid"), pid[mask].astype(np.int32))
    np.testing.assert_array_equal(ak.to_numpy(jets.label), labels)


def test_energyflow_npz_bad_input(weaver, tmp_path):
    momenta, mask, labels = (a[:10] for a in weaver["quark_gluon"])
    path = tmp_path / "qg.npz"
    write_energyflow_npz(path, momenta, mask, labels[:7])
    with pytest.raises(ValueError, match=r"qg\.npz: y has 7 entries .* 10 jets"):
        load_jets(path)
    np.savez(path, X=np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"qg\.npz: missing arrays y"):
        load_jets(path)


# --------------------------------------------------------------------------- parquet


def assert_identical(a: ak.Array, b: ak.Array) -> None:
    assert a.type == b.type
    assert ak.array_equal(a, b)


def test_parquet_round_trip_is_exact(realdata_dir, jetclass_root, tmp_path):
    for sample in SAMPLES:
        jets = load_jets(realdata_dir / sample)
        paths = write_shards(jets, tmp_path / sample, shard_size=300, prefix=sample)
        assert len(paths) == -(-len(jets) // 300)
        assert detect_format(tmp_path / sample) == "parquet"
        assert_identical(load_jets(tmp_path / sample), jets)
    rich = load_jets(jetclass_root[0])  # pid, charge, track and jet fields too
    write_shards(rich, tmp_path / "nested/deeper", shard_size=64, prefix="jc")
    assert_identical(load_jets(tmp_path / "nested"), rich)
    assert_identical(load_jets(tmp_path / "nested/deeper/jc-00001.parquet"), rich[64:])


def test_parquet_bad_input(tmp_path):
    ak.to_parquet(ak.Array([{"x": [1.0]}]), tmp_path / "other.parquet")
    with pytest.raises(ValueError, match=r"other\.parquet: no 'particles' column \(found x\)"):
        load_jets(tmp_path / "other.parquet")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ValueError, match=r"broken\.parquet: cannot read as parquet"):
        load_jets(tmp_path / "broken.parquet")


def test_write_shards_replaces_a_set_only_when_asked(realdata_dir, tmp_path):
    jets = load_jets(realdata_dir / "jetclass")
    write_shards(jets, tmp_path, shard_size=100, prefix="jc")
    with pytest.raises(FileExistsError, match="prefix 'jc' already exist"):
        write_shards(jets, tmp_path, shard_size=100, prefix="jc")
    write_shards(jets[:150], tmp_path, shard_size=100, prefix="jc", overwrite=True)
    assert sorted(p.name for p in tmp_path.glob("*.parquet")) == [
        "jc-00000.parquet",
        "jc-00001.parquet",
    ]
    assert_identical(load_jets(tmp_path), jets[:150])


# --------------------------------------------------------------------------- detection, errors


def test_unknown_format_and_paths(realdata_dir, tmp_path):
    with pytest.raises(
        ValueError, match="unknown format 'csv'; choose one of " + ", ".join(FORMATS)
    ):
        load_jets(realdata_dir / "jetclass", format="csv")
    with pytest.raises(FileNotFoundError, match=r"nope\.root: no such file"):
        load_jets(tmp_path / "nope.root")
    (tmp_path / "jets.csv").write_text("px,py\n")
    with pytest.raises(ValueError, match=r"jets\.csv: cannot tell the format .*'\.csv'.*format="):
        load_jets(tmp_path / "jets.csv")
    with pytest.raises(ValueError, match="folder holds neither"):
        load_jets(tmp_path)
    # A mislabelled file: the named reader fails with its own message.
    with pytest.raises(ValueError, match=r"jets\.csv: not a readable ROOT file"):
        load_jets(tmp_path / "jets.csv", format="jetclass-root")


def test_missing_optional_dependency(monkeypatch, tmp_path):
    path = tmp_path / "x.h5"
    path.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(
        ImportError, match=r"x\.h5: reading top-tagging-h5 needs h5py.*hep-jepa\[readers\]"
    ):
        load_jets(path)


def test_readers_import_no_torch():
    code = (
        "import sys, hep_jepa.data.readers; "
        "assert 'torch' not in sys.modules and 'uproot' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- convert


def test_convert_cli(realdata_dir, tmp_path, capsys):
    source = realdata_dir / "top_tagging"
    out = tmp_path / "shards"
    assert cli_main(["convert", str(source), str(out), "--shard-size", "700"]) == 0
    assert "2000 jets (weaver-npy) to 3 shards" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        "top_tagging-00000.parquet",
        "top_tagging-00001.parquet",
        "top_tagging-00002.parquet",
        "top_tagging-metadata.json",
    ]
    assert_identical(load_jets(out), load_jets(source))

    assert cli_main(["convert", str(source), str(out)]) == 1
    assert "already exist" in capsys.readouterr().err
    bad = tmp_path / "bad"
    shutil.copytree(source, bad)
    (bad / "tl_labels.npy").unlink()
    assert cli_main(["convert", str(bad), str(out), "--prefix", "bad"]) == 1
    assert "no *labels*.npy file" in capsys.readouterr().err
