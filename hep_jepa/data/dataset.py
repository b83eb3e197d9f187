"""Stream jets from a folder of parquet shards into padded tensor batches.

`ShardedJetDataset` reads parquet row groups lazily (never the whole folder),
splits the jets across DDP ranks and `DataLoader` workers, shuffles with a
bounded buffer, and is deterministic given ``(seed, epoch)``. `JetCollator`
turns the jets of one batch into the keyword arguments of ``model(**batch)``.
`labelled_subset` picks a stratified, seeded fraction of labelled jets
(few-shot fine-tuning); the streaming dataset uses it through ``label_fraction``.

How one epoch is laid out (every rank computes the same plan from the parquet
footers, so no communication is needed):

1. The jets (after ``max_jets`` and ``label_fraction``) live in *pieces*, one
   per parquet row group. With ``shuffle=True`` the pieces are permuted with
   ``(seed, epoch)``; their concatenation is the epoch's stream of N jets.
2. Rank ``r`` takes the contiguous block ``[r * n, (r + 1) * n)`` with
   ``n = N // world_size``: every rank gets exactly ``n`` jets and the last
   ``N % world_size`` jets of the stream are dropped (different ones each
   shuffled epoch). With many shards a rank reads only its own shards; with few
   (fewer than ranks) the shards are split by rows.
3. The rank's block is cut into whole batches (``batch_size``) dealt to the
   workers as contiguous ranges, so workers read disjoint row groups and
   ``len(DataLoader)`` is exact.
4. Each worker permutes its range window by window (``buffer_size`` jets per
   window, seeded by ``(seed, epoch, rank, worker, window)``). Memory is one
   window plus one row group per worker.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from hep_jepa.processor import JetProcessor

__all__ = ["JetCollator", "ShardedJetDataset", "find_shards", "labelled_subset"]

PathLike = str | os.PathLike[str]


def find_shards(paths: PathLike | Sequence[PathLike]) -> list[Path]:
    """The parquet shards named by ``paths``: files as given, folders searched recursively.

    Args:
        paths: A shard file or folder, or a list of them.

    Returns:
        The shard paths: each folder's ``*.parquet`` files sorted, in the order of ``paths``.

    Raises:
        FileNotFoundError: A path does not exist.
        ValueError: A folder holds no ``*.parquet`` file.

    Examples:
        >>> find_shards("data/top")  # doctest: +SKIP
        [PosixPath('data/top/Tbqq-s7-00000.parquet'), ...]
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    shards: list[Path] = []
    for entry in map(Path, paths):
        if entry.is_dir():
            found = sorted(entry.rglob("*.parquet"))
            if not found:
                raise ValueError(
                    f"no parquet shards under {entry}; make some with `hep-jepa generate` "
                    "or `hep-jepa convert`"
                )
            shards.extend(found)
        elif entry.is_file():
            shards.append(entry)
        else:
            raise FileNotFoundError(f"{entry}: no such shard file or folder")
    if not shards:
        raise ValueError("no shard paths given")
    return shards


def labelled_subset(jets: Any, fraction: float, seed: int) -> np.ndarray:
    """Indices of a stratified random ``fraction`` of labelled jets.

    Each class ``c`` with ``n_c`` jets keeps ``floor(fraction * n_c)`` of them, drawn
    with a generator seeded by ``(seed, c)``. The same ``seed`` gives the same jets on
    every machine and world size, and a smaller fraction selects a subset of the jets
    a larger one selects (nested few-shot sets).

    Args:
        jets: Awkward jets with a ``label`` field, or a 1-D array of integer labels.
        fraction: Share of every class to keep, in (0, 1].
        seed: Seed of the selection.

    Returns:
        Sorted int64 indices into ``jets``.

    Raises:
        ValueError: ``fraction`` outside (0, 1], no ``label`` field, or a class that would
            keep zero jets (the message names it and the smallest fraction that works).

    Examples:
        >>> index = labelled_subset(jets, 0.01, seed=0)  # doctest: +SKIP
        >>> few_shot = jets[index]                         # doctest: +SKIP
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    labels = _labels_of(jets)
    classes, counts = np.unique(labels, return_counts=True)
    keep = np.floor(fraction * counts + 1e-9).astype(np.int64)
    empty = np.flatnonzero(keep == 0)
    if empty.size:
        worst = int(empty[np.argmin(counts[empty])])
        raise ValueError(
            f"label_fraction={fraction} keeps no jet of class {int(classes[worst])} "
            f"({int(counts[worst])} jets); the smallest fraction that keeps at least one jet "
            f"of every class is {1 / int(counts.min()):.6g}"
        )
    chosen = []
    for label, n_keep in zip(classes, keep, strict=True):
        members = np.flatnonzero(labels == label)
        rng = np.random.default_rng([seed, int(label)])
        chosen.append(members[rng.permutation(members.size)[:n_keep]])
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def _labels_of(jets: Any) -> np.ndarray:
    if isinstance(jets, ak.Array) and jets.fields:
        if "label" not in jets.fields:
            raise ValueError(
                f"jets have no 'label' field (fields: {jets.fields}); a labelled subset "
                "needs class labels"
            )
        jets = jets["label"]
    labels = np.asarray(ak.to_numpy(jets) if isinstance(jets, ak.Array) else jets)
    if labels.ndim != 1 or labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be a 1-D integer array, got {labels.dtype} {labels.shape}")
    return labels


# --------------------------------------------------------------------------- collation


@dataclass
class JetCollator:
    """Turns the jets of one batch into the tensors of ``model(**batch)``.

    Args:
        processor: The `JetProcessor` of the model (feature set, particle slots).
        pad_to_longest: Pad each batch to its longest jet rather than to the processor's
            ``max_particles`` (the model's outputs do not depend on it). Default True.
        transform: Optional function applied to the tensor dict last, e.g. mask
            sampling for pretraining. Must be picklable for ``num_workers > 0``
            (a module-level function or a dataclass instance, not a lambda).

    Input: a list of jets (``ak.Record`` as yielded by `ShardedJetDataset`), a list of
    awkward arrays, or one awkward array.

    Returns:
        ``{"features": (B, N, F), "mask": (B, N), "vectors": (B, N, 4), "points": (B, N, 2)}``
        plus ``"labels": (B,)`` when the jets have a ``label`` field (leave ``label`` out of
        the dataset's ``columns`` for models that take no labels).

    Examples:
        >>> collator = JetCollator(JetProcessor(feature_set="kin", max_particles=128))
        >>> loader = DataLoader(dataset, batch_size=256, collate_fn=collator)  # doctest: +SKIP
    """

    processor: JetProcessor
    transform: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]] | None = None
    pad_to_longest: bool = True

    def __call__(self, jets: Any) -> dict[str, torch.Tensor]:
        batch = self.processor(_as_array(jets), pad_to_longest=self.pad_to_longest)
        tensors = batch.model_inputs()
        if batch.labels is not None:
            tensors["labels"] = batch.labels
        return tensors if self.transform is None else self.transform(tensors)


def _as_array(jets: Any) -> ak.Array:
    """One awkward array from a list of records or arrays, without a Python round trip."""
    if isinstance(jets, ak.Array):
        return jets
    if isinstance(jets, ak.Record):
        return ak.Array(jets.layout.array)[[jets.layout.at]]
    if not isinstance(jets, Sequence) or not jets:
        raise ValueError(
            f"expected jets as an awkward array or a non-empty list of jets, got {type(jets)}"
        )
    parts: list[ak.Array] = []
    run: list[int] = []
    parent: Any = None
    # Records yielded together share their parent array: gather each run with one take.
    for item in jets:
        if isinstance(item, ak.Record):
            if item.layout.array is not parent:
                if run:
                    parts.append(ak.Array(parent)[np.asarray(run)])
                parent, run = item.layout.array, []
            run.append(item.layout.at)
        elif isinstance(item, ak.Array):
            if run:
                parts.append(ak.Array(parent)[np.asarray(run)])
                parent, run = None, []
            parts.append(item)
        else:
            raise ValueError(f"expected awkward jets, got {type(item).__name__}")
    if run:
        parts.append(ak.Array(parent)[np.asarray(run)])
    return parts[0] if len(parts) == 1 else ak.concatenate(parts)


# --------------------------------------------------------------------------- streaming


@dataclass(frozen=True)
class _Piece:
    """One parquet row group and the rows of it that belong to the dataset."""

    path: Path
    row_group: int
    size: int  # rows of this piece in the dataset
    rows: np.ndarray | None = None  # (size,) int64 selected rows, increasing; None = first `size`

    def take(self, begin: int, end: int) -> slice | np.ndarray:
        """Row-group rows of the piece's jets ``[begin, end)``."""
        return slice(begin, end) if self.rows is None else self.rows[begin:end]


class ShardedJetDataset(IterableDataset):
    """Jets streamed from parquet shards, split across DDP ranks and dataloader workers.

    See the module docstring for how an epoch is laid out. The order of the jets a rank
    sees is a pure function of the shards, ``seed``, ``epoch``, ``world_size``, ``rank``,
    ``batch_size``, ``buffer_size`` and the number of dataloader workers.

    Args:
        shards: Shard files or folders (searched recursively, see `find_shards`).
        batch_size: Batch size of the `DataLoader`. Workers get whole batches, which makes
            ``len(DataLoader)`` exact and `resume` exact. Default 256.
        shuffle: Permute the row groups and, within each worker, windows of
            ``buffer_size`` jets, anew every epoch. Default True.
        buffer_size: Jets shuffled together (memory per worker; rounded up to whole
            batches). Jets of one row group only mix with their ``buffer_size`` neighbours
            in the stream, so keep row groups several times smaller than this when shards
            hold one class each (the generator's 1,000-jet shards are). Default 16,384.
        seed: Seed of all shuffling. Default 0.
        rank, world_size: This process's place in data-parallel training. Default: from
            ``torch.distributed`` when initialised, else the ``RANK`` / ``WORLD_SIZE``
            environment variables (torchrun), else 0 / 1.
        columns: Parquet columns to read, as for ``ak.from_parquet`` (e.g.
            ``["particles.px", "particles.py", "particles.pz", "particles.energy"]``).
            Default: all.
        label_fraction: Keep only this stratified fraction of every class
            (`labelled_subset` with ``seed``), the same jets for every world size.
            Reads the ``label`` column of every shard once, at construction.
        max_jets: Use only the first ``max_jets`` jets of the shards (in file order,
            before ``label_fraction``). Default: all.
        required_fields: Jet-level (``label``) or particle-level (``pid``, ``d0``) fields
            that the first shard must have, e.g. those the model's feature set needs.
        batched: Yield awkward arrays of ``batch_size`` jets instead of single jets; use
            ``DataLoader(dataset, batch_size=None, collate_fn=collator)``. Faster.
        bucket_by_multiplicity: Within each shuffle window, put jets of similar multiplicity
            in the same batch (batches themselves in random order), so that batches padded
            to their longest jet carry little padding. Needs ``shuffle``.

    Raises:
        ValueError: No shards, a missing required field, fewer jets than ranks, or a
            ``label_fraction`` that keeps no jet of some class.

    Examples:
        >>> dataset = ShardedJetDataset("data/train", batch_size=256, seed=1)  # doctest: +SKIP
        >>> collator = JetCollator(JetProcessor(feature_set="kin"))            # doctest: +SKIP
        >>> loader = DataLoader(dataset, batch_size=256, collate_fn=collator)  # doctest: +SKIP
        >>> for epoch in range(10):                                           # doctest: +SKIP
        ...     dataset.set_epoch(epoch)
        ...     for batch in loader:
        ...         loss = model(**batch).loss
    """

    def __init__(
        self,
        shards: PathLike | Sequence[PathLike],
        *,
        batch_size: int = 256,
        shuffle: bool = True,
        buffer_size: int = 16_384,
        seed: int = 0,
        rank: int | None = None,
        world_size: int | None = None,
        columns: Sequence[str] | None = None,
        label_fraction: float | None = None,
        max_jets: int | None = None,
        required_fields: Sequence[str] = (),
        batched: bool = False,
        bucket_by_multiplicity: bool = False,
    ) -> None:
        super().__init__()
        if batch_size < 1 or buffer_size < 1:
            raise ValueError(
                f"batch_size and buffer_size must be positive, got {batch_size}, {buffer_size}"
            )
        self.paths = find_shards(shards)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.buffer_size = buffer_size
        self.seed = seed
        self.rank, self.world_size = _distributed_place(rank, world_size)
        self.columns = None if columns is None else list(columns)
        self.batched = batched
        self.bucket_by_multiplicity = bucket_by_multiplicity
        self.epoch = 0
        self._skip_batches = 0
        _check_fields(self.paths[0], required_fields)
        self.pieces = _scan_pieces(self.paths, max_jets)
        if label_fraction is not None:
            self.pieces = _select_labelled(self.pieces, label_fraction, seed)
        self.num_jets = sum(piece.size for piece in self.pieces)
        self.jets_per_rank = self.num_jets // self.world_size
        if self.jets_per_rank == 0:
            raise ValueError(f"{self.num_jets} jets cannot be split across {self.world_size} ranks")

    def __len__(self) -> int:
        """Jets this rank yields per epoch (batches when ``batched``), from the parquet
        footers; a resumed epoch yields fewer."""
        if self.batched:
            return math.ceil(self.jets_per_rank / self.batch_size)
        return self.jets_per_rank

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order the next iteration follows (call before each epoch;
        does not reach persistent dataloader workers). Clears a `resume` of another epoch."""
        if epoch != self.epoch:
            self._skip_batches = 0
        self.epoch = epoch

    def resume(self, epoch: int, batches: int) -> None:
        """Continue ``epoch`` after its first ``batches`` batches on this rank, reading only
        what comes after them. Exact for a `DataLoader` with this dataset's ``batch_size``
        (or ``batch_size=None`` when ``batched``), any number of workers and in-order
        delivery (the default). Applies until `set_epoch` moves to another epoch."""
        if batches < 0:
            raise ValueError(f"batches must be >= 0, got {batches}")
        self.epoch = epoch
        self._skip_batches = batches

    # -- iteration ---------------------------------------------------------------------

    def __iter__(self) -> Iterator[Any]:
        info = get_worker_info()
        num_workers = 1 if info is None else info.num_workers
        batches = _split_evenly(math.ceil(self.jets_per_rank / self.batch_size), num_workers)
        skipped, next_worker = _batches_before(self._skip_batches, batches)
        # A resumed DataLoader starts its round robin at worker 0, so worker 0 takes the
        # part of the worker whose batch came next in the uninterrupted epoch.
        worker = 0 if info is None else (info.id + next_worker) % num_workers
        first_batch = sum(batches[:worker])
        start = self.rank * self.jets_per_rank + first_batch * self.batch_size
        stop = min(start + batches[worker] * self.batch_size, (self.rank + 1) * self.jets_per_rank)
        skip = skipped[worker] * self.batch_size
        stream = _Stream(self.pieces, self._piece_order(), self.columns)
        rng_key = [self.seed, self.epoch, self.rank, worker]
        # Windows hold whole batches, so a batch never straddles two shuffles.
        window_size = math.ceil(self.buffer_size / self.batch_size) * self.batch_size
        position = start + skip
        while position < stop:
            window = (position - start) // window_size
            window_start = start + window * window_size
            window_stop = min(window_start + window_size, stop)
            jets = stream.read(window_start, window_stop)
            if self.shuffle:
                generator = np.random.default_rng([*rng_key, window])
                order = generator.permutation(len(jets))
                if self.bucket_by_multiplicity:
                    order = _bucketed(
                        order,
                        ak.to_numpy(ak.num(jets["particles"], axis=1)),
                        self.batch_size,
                        generator,
                    )
                jets = jets[order]
            offset = position - window_start
            if self.batched:
                for begin in range(offset, len(jets), self.batch_size):
                    yield jets[begin : begin + self.batch_size]
            else:
                yield from jets[offset:]
            position = window_stop

    def _piece_order(self) -> np.ndarray:
        if not self.shuffle:
            return np.arange(len(self.pieces))
        return np.random.default_rng([self.seed, self.epoch]).permutation(len(self.pieces))


def _bucketed(
    order: np.ndarray, counts: np.ndarray, batch_size: int, generator: np.random.Generator
) -> np.ndarray:
    """Reorder a shuffled window so that each batch holds jets of similar multiplicity.

    The window's jets are sorted by multiplicity (stably, so ties keep their shuffled
    order), cut into batches, and the full batches are shuffled; a last partial batch stays
    last, so batches stay aligned with the DataLoader's.
    """
    by_size = order[np.argsort(counts[order], kind="stable")]
    n_full = len(by_size) // batch_size
    full = by_size[: n_full * batch_size].reshape(n_full, batch_size)[generator.permutation(n_full)]
    return np.concatenate([full.reshape(-1), by_size[n_full * batch_size :]])


def _split_evenly(total: int, parts: int) -> list[int]:
    """``total`` items as ``parts`` contiguous counts differing by at most one."""
    return [(i + 1) * total // parts - i * total // parts for i in range(parts)]


def _batches_before(batches: int, per_worker: list[int]) -> tuple[list[int], int]:
    """How many of the first ``batches`` batches each worker produced, and which worker
    produces the next one.

    The `DataLoader` (in order) takes batches from its workers in turn, skipping workers
    that have run out.
    """
    taken = [0] * len(per_worker)
    worker = 0
    for _ in range(min(batches, sum(per_worker))):
        while taken[worker] == per_worker[worker]:
            worker = (worker + 1) % len(per_worker)
        taken[worker] += 1
        worker = (worker + 1) % len(per_worker)
    return taken, worker


class _Stream:
    """Random access to the epoch's stream of jets (pieces in ``order``), one row group
    cached."""

    def __init__(self, pieces: list[_Piece], order: np.ndarray, columns: list[str] | None):
        self.pieces = [pieces[i] for i in order]
        self.ends = np.cumsum([piece.size for piece in self.pieces])
        self.columns = columns
        self._cached: tuple[int, ak.Array] | None = None

    def read(self, start: int, stop: int) -> ak.Array:
        """Jets at stream positions ``[start, stop)``."""
        parts = []
        index = int(np.searchsorted(self.ends, start, side="right"))
        while start < stop:
            first = int(self.ends[index - 1]) if index else 0
            piece = self.pieces[index]
            begin, end = start - first, min(stop, int(self.ends[index])) - first
            parts.append(self._row_group(index)[piece.take(begin, end)])
            start = first + end
            index += 1
        return parts[0] if len(parts) == 1 else ak.concatenate(parts)

    def _row_group(self, index: int) -> ak.Array:
        if self._cached is None or self._cached[0] != index:
            piece = self.pieces[index]
            self._cached = (index, _read_row_group(piece.path, piece.row_group, self.columns))
        return self._cached[1]


def _read_row_group(path: Path, row_group: int, columns: list[str] | None) -> ak.Array:
    """The only place jets are read from disk."""
    return ak.from_parquet(path, columns=columns, row_groups=[row_group])


# --------------------------------------------------------------------------- set-up


def _distributed_place(rank: int | None, world_size: int | None) -> tuple[int, int]:
    if rank is None or world_size is None:
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            default = torch.distributed.get_rank(), torch.distributed.get_world_size()
        else:
            default = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
        rank = default[0] if rank is None else rank
        world_size = default[1] if world_size is None else world_size
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
    return rank, world_size


def _parquet_file(path: Path) -> Any:
    try:
        import pyarrow.parquet as pq
    except ImportError as err:
        raise ImportError(
            "streaming shards needs pyarrow: pip install 'hep-jepa[readers]'"
        ) from err
    try:
        return pq.ParquetFile(path)
    except Exception as err:
        raise ValueError(
            f"{path}: cannot read as parquet ({err}); the file may be truncated"
        ) from err


def _check_fields(path: Path, required: Sequence[str]) -> None:
    """Raise if the shard lacks a required jet-level or particle-level field."""
    if not required:
        return
    schema = _parquet_file(path).schema_arrow
    jet_fields = list(schema.names)
    particle_fields: list[str] = []
    if "particles" in jet_fields:
        kind = schema.field("particles").type
        while hasattr(kind, "value_type"):  # list<...> -> element type
            kind = kind.value_type
        particle_fields = [kind.field(i).name for i in range(getattr(kind, "num_fields", 0))]
    for name in required:
        if name not in jet_fields and name not in particle_fields:
            raise ValueError(
                f"{path}: shard lacks the field {name!r} (jet fields: {', '.join(jet_fields)}; "
                f"particle fields: {', '.join(particle_fields) or 'none'}); choose a feature set "
                "these shards support or regenerate them with that field"
            )


def _scan_pieces(paths: list[Path], max_jets: int | None) -> list[_Piece]:
    """One piece per row group, from the parquet footers only."""
    if max_jets is not None and max_jets < 1:
        raise ValueError(f"max_jets must be positive, got {max_jets}")
    pieces = []
    remaining = math.inf if max_jets is None else max_jets
    for path in paths:
        metadata = _parquet_file(path).metadata
        for row_group in range(metadata.num_row_groups):
            rows = int(min(metadata.row_group(row_group).num_rows, remaining))
            if rows > 0:
                pieces.append(_Piece(path, row_group, rows))
            remaining -= rows
            if remaining <= 0:
                return pieces
    return pieces


def _select_labelled(pieces: list[_Piece], fraction: float, seed: int) -> list[_Piece]:
    """Keep the rows `labelled_subset` picks, from the ``label`` column of every piece."""
    labels = []
    for piece in pieces:
        file = _parquet_file(piece.path)
        if "label" not in file.schema_arrow.names:
            raise ValueError(f"{piece.path}: no 'label' column, so label_fraction cannot apply")
        column = file.read_row_group(piece.row_group, columns=["label"]).column("label")
        labels.append(column.to_numpy()[piece.take(0, piece.size)])
    chosen = labelled_subset(np.concatenate(labels), fraction, seed)
    ends = np.cumsum([piece.size for piece in pieces])
    selected = []
    for piece, end in zip(pieces, ends, strict=True):
        start = end - piece.size
        local = chosen[(chosen >= start) & (chosen < end)] - start
        if local.size:
            rows = local if piece.rows is None else piece.rows[local]
            selected.append(_Piece(piece.path, piece.row_group, local.size, rows))
    return selected
