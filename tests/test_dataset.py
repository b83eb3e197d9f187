"""Streaming shards: coverage across ranks and workers, shuffling, resume, subsets, collation."""

from __future__ import annotations

import pickle
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import torch
from conftest import make_jets
from torch.utils.data import DataLoader

import hep_jepa.data.dataset as dataset_module
from hep_jepa.data import JetCollator, ShardedJetDataset, find_shards, labelled_subset
from hep_jepa.data.shards import write_shards
from hep_jepa.processor import JetProcessor

N_JETS = 60


def indexed_jets(n_jets: int, seed: int = 0) -> ak.Array:
    jets = make_jets(n_jets, seed=seed, max_particles=8)
    return ak.with_field(jets, np.arange(n_jets), "index")


@pytest.fixture(scope="module")
def shard_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 jets in 9 shards of 7 (the last holds 4), one nested one folder down."""
    folder = tmp_path_factory.mktemp("shards")
    jets = indexed_jets(N_JETS)
    write_shards(jets[:49], folder, shard_size=7, prefix="a")
    write_shards(jets[49:], folder / "more", shard_size=7, prefix="b")
    return folder


def jet_indices(jets: object) -> torch.Tensor:
    """Collate function that keeps only the ``index`` field (for coverage checks)."""
    return torch.from_numpy(ak.to_numpy(dataset_module._as_array(jets)["index"]))


def epoch_batches(dataset: ShardedJetDataset, num_workers: int = 2) -> list[list[int]]:
    batch_size = None if dataset.batched else dataset.batch_size
    loader = DataLoader(
        dataset, batch_size=batch_size, collate_fn=jet_indices, num_workers=num_workers
    )
    batches = [batch.tolist() for batch in loader]
    # A resumed epoch yields fewer; the length stays that of a whole epoch.
    assert len(batches) == len(loader) - dataset._skip_batches
    return batches


def flat(batches: list[list[int]]) -> list[int]:
    return [index for batch in batches for index in batch]


# --------------------------------------------------------------------------- find_shards


def test_find_shards_recursive_and_sorted(shard_dir: Path) -> None:
    paths = find_shards(shard_dir)
    assert len(paths) == 9
    assert paths == sorted(paths)
    assert find_shards([paths[3], paths[0]]) == [paths[3], paths[0]]


def test_find_shards_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=rf"no parquet shards under {tmp_path}.*hep-jepa generate"):
        find_shards(tmp_path)
    with pytest.raises(FileNotFoundError, match="missing"):
        find_shards(tmp_path / "missing")


# --------------------------------------------------------------------------- splitting


@pytest.mark.parametrize("shard_size", [7, 100], ids=["many-shards", "one-shard"])
def test_every_jet_once_across_ranks_and_workers(tmp_path: Path, shard_size: int) -> None:
    write_shards(indexed_jets(N_JETS), tmp_path, shard_size=shard_size, prefix="t")
    seen = []
    for rank in range(2):
        dataset = ShardedJetDataset(tmp_path, batch_size=4, buffer_size=8, rank=rank, world_size=2)
        indices = flat(epoch_batches(dataset))
        assert len(indices) == len(dataset) == N_JETS // 2
        seen += indices
    assert sorted(seen) == list(range(N_JETS))


def test_equal_counts_when_jets_do_not_divide(shard_dir: Path) -> None:
    seen = []
    for rank in range(2):
        dataset = ShardedJetDataset(shard_dir, batch_size=4, max_jets=59, rank=rank, world_size=2)
        indices = flat(epoch_batches(dataset))
        assert len(indices) == len(dataset) == 29
        seen += indices
    assert len(set(seen)) == 58
    assert set(seen) <= set(range(59))


def test_place_from_environment(shard_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "3")
    dataset = ShardedJetDataset(shard_dir)
    assert (dataset.rank, dataset.world_size, len(dataset)) == (1, 3, 20)
    with pytest.raises(ValueError, match="rank"):
        ShardedJetDataset(shard_dir, rank=3, world_size=3)


# --------------------------------------------------------------------------- order


def test_shuffle_by_epoch_and_seed(shard_dir: Path) -> None:
    def order(seed: int, epoch: int, shuffle: bool = True) -> list[int]:
        dataset = ShardedJetDataset(
            shard_dir, batch_size=4, buffer_size=16, seed=seed, shuffle=shuffle
        )
        dataset.set_epoch(epoch)
        return [int(jet["index"]) for jet in dataset]

    assert order(0, 0) == order(0, 0)
    assert sorted(order(0, 0)) == list(range(N_JETS))
    assert order(0, 0) != order(0, 1)
    assert order(0, 0) != order(1, 0)
    assert order(0, 0, shuffle=False) == list(range(N_JETS)) == order(3, 5, shuffle=False)


@pytest.mark.parametrize("skip", [0, 3, 7, 8])
def test_resume_skips_exactly(shard_dir: Path, skip: int) -> None:
    dataset = ShardedJetDataset(shard_dir, batch_size=4, buffer_size=8, seed=2)
    dataset.set_epoch(1)
    full = epoch_batches(dataset)
    assert len(full) == 15
    dataset.resume(epoch=1, batches=skip)
    dataset.set_epoch(1)  # the Trainer calls this after resuming: keeps the skip
    assert epoch_batches(dataset) == full[skip:]
    dataset.set_epoch(2)
    assert len(epoch_batches(dataset)) == 15


def test_batched_yields_the_same_batches(shard_dir: Path) -> None:
    single = ShardedJetDataset(shard_dir, batch_size=4, buffer_size=10, seed=5)
    batched = ShardedJetDataset(shard_dir, batch_size=4, buffer_size=10, seed=5, batched=True)
    assert len(batched) == 15
    assert epoch_batches(batched) == epoch_batches(single)


# --------------------------------------------------------------------------- labelled subsets


def test_labelled_subset_is_stratified_nested_and_reproducible() -> None:
    labels = np.repeat([0, 1, 2], [100, 40, 10])
    index = labelled_subset(labels, 0.3, seed=1)
    assert np.bincount(labels[index]).tolist() == [30, 12, 3]
    assert np.array_equal(index, labelled_subset(labels, 0.3, seed=1))
    assert not np.array_equal(index, labelled_subset(labels, 0.3, seed=2))
    assert set(labelled_subset(labels, 0.1, seed=1)) <= set(index)
    jets = ak.zip({"label": labels})
    assert np.array_equal(labelled_subset(jets, 0.3, seed=1), index)


def test_labelled_subset_errors() -> None:
    labels = np.repeat([0, 1], [100, 8])
    with pytest.raises(ValueError, match=r"no jet of class 1 \(8 jets\).*0\.125"):
        labelled_subset(labels, 0.1, seed=0)
    with pytest.raises(ValueError, match="fraction"):
        labelled_subset(labels, 0.0, seed=0)
    with pytest.raises(ValueError, match="'label'"):
        labelled_subset(ak.zip({"x": labels}), 0.5, seed=0)


def test_dataset_label_fraction_independent_of_world_size(shard_dir: Path) -> None:
    labels = ak.to_numpy(ak.from_parquet(find_shards(shard_dir))["label"])
    expected = set(labelled_subset(labels, 0.5, seed=4).tolist())
    alone = ShardedJetDataset(shard_dir, label_fraction=0.5, seed=4, buffer_size=8)
    assert {int(jet["index"]) for jet in alone} == expected
    seen: list[int] = []
    for rank in range(2):
        dataset = ShardedJetDataset(
            shard_dir, label_fraction=0.5, seed=4, buffer_size=8, rank=rank, world_size=2
        )
        seen += [int(jet["index"]) for jet in dataset]
    assert set(seen) <= expected
    assert len(seen) == len(set(seen)) == len(expected) // 2 * 2


# --------------------------------------------------------------------------- checks and reading


def test_required_fields(shard_dir: Path) -> None:
    ShardedJetDataset(shard_dir, required_fields=["label", "px"])
    first = find_shards(shard_dir)[0]
    with pytest.raises(ValueError, match=rf"{first}: shard lacks the field 'pid'"):
        ShardedJetDataset(shard_dir, required_fields=["pid"])


def test_reads_lazily(shard_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = []
    original = dataset_module._read_row_group

    def counting(path: Path, row_group: int, columns: list[str] | None) -> ak.Array:
        reads.append(path)
        return original(path, row_group, columns)

    monkeypatch.setattr(dataset_module, "_read_row_group", counting)
    dataset = ShardedJetDataset(
        shard_dir, batch_size=4, buffer_size=8, columns=["particles", "index"]
    )
    assert reads == []
    jet = next(iter(dataset))
    assert len(reads) <= 2  # one window of 8 jets spans at most two 7-jet shards
    assert set(jet.fields) == {"particles", "index"}


def test_collator(shard_dir: Path) -> None:
    def add_flag(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {**batch, "flag": torch.ones(1)}

    processor = JetProcessor(feature_set="kin", max_particles=16)
    jets = list(ShardedJetDataset(shard_dir, buffer_size=8))[:5]
    batch = JetCollator(processor, pad_to_longest=False)(jets)
    assert batch["features"].shape == (5, 16, 7)
    assert batch["mask"].shape == (5, 16) and batch["mask"].dtype == torch.bool
    assert batch["vectors"].shape == (5, 16, 4)
    assert batch["points"].shape == (5, 16, 2)
    assert batch["labels"].shape == (5,)
    trimmed = JetCollator(processor)(jets)  # padded to the longest of these jets only
    longest = int(batch["mask"].sum(dim=1).max())
    assert trimmed["features"].shape == (5, longest, 7)
    assert torch.equal(trimmed["features"], batch["features"][:, :longest])
    unlabelled = ShardedJetDataset(shard_dir, columns=["particles"], batched=True, batch_size=3)
    assert "labels" not in JetCollator(processor)(next(iter(unlabelled)))
    assert "flag" in JetCollator(processor, transform=add_flag)(jets)
    restored = pickle.loads(pickle.dumps(JetCollator(processor, pad_to_longest=False)))
    assert torch.equal(restored(jets)["features"], batch["features"])


# --------------------------------------------------------------------------- bucketing


@pytest.mark.parametrize("skip", [0, 5])
def test_bucketing_covers_every_jet_and_resumes_exactly(shard_dir: Path, skip: int) -> None:
    dataset = ShardedJetDataset(
        shard_dir, batch_size=4, buffer_size=20, seed=3, bucket_by_multiplicity=True
    )
    full = epoch_batches(dataset)
    assert sorted(flat(full)) == list(range(N_JETS))
    dataset.resume(epoch=0, batches=skip)
    assert epoch_batches(dataset) == full[skip:]


def test_bucketing_groups_similar_multiplicities(tmp_path: Path) -> None:
    jets = make_jets(400, seed=4, min_particles=2, max_particles=100)
    write_shards(jets, tmp_path, shard_size=400, prefix="m")

    def padding_share(bucketed: bool) -> float:
        dataset = ShardedJetDataset(
            tmp_path,
            batch_size=16,
            buffer_size=400,
            seed=1,
            batched=True,
            bucket_by_multiplicity=bucketed,
        )
        padded = real = 0
        for batch in dataset:
            counts = ak.to_numpy(ak.num(batch["particles"]))
            padded += int(counts.max()) * len(counts)
            real += int(counts.sum())
        return 1 - real / padded

    assert padding_share(True) < 0.1 < padding_share(False)
