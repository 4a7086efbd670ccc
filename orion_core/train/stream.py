"""Each rank's endless, resumable stream of micro-batches, with bad samples counted and skipped.

Order: epoch ``e`` shuffles all records with ``seed + e``; rank ``r`` of ``W`` takes every W-th record from
``r`` (padded by wrapping, as torch's DistributedSampler), so ranks never share a sample within an epoch.
Position ``p`` of a rank's stream is ``(epoch, i) = divmod(p, per_rank)``: the whole order is a function of
(seed, records, rank, world size), so a cursor (the next position) is all a checkpoint needs to resume it.

Skipping: a :class:`~orion_core.train.samples.Skipped` item is recorded on the micro-batch being filled and
the stream moves on to the next position; the micro-batch is filled from the following samples of the same
ordered stream (never a random substitute) and its ``skipped`` list says what was left out, so the job logs
and counts every one. A rank whose whole share of an epoch is unusable raises :class:`NoUsableSamplesError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
from torch.utils.data import DataLoader, Sampler

from .errors import NoUsableSamplesError
from .samples import Loaded, SampleLoader, Skipped, identity


class RankOrder:
    """Position -> record index for one rank (see the module docstring)."""

    def __init__(self, num_records: int, *, rank: int, world: int, seed: int) -> None:
        if num_records < 1:
            raise ValueError("RankOrder needs at least one record")
        self.num_records, self.rank, self.world, self.seed = num_records, rank, world, seed
        self.per_rank = math.ceil(num_records / world)
        self._cache: tuple[int, np.ndarray] | None = None

    def _epoch(self, epoch: int) -> np.ndarray:
        if self._cache is None or self._cache[0] != epoch:
            perm = np.random.default_rng([self.seed, epoch]).permutation(self.num_records)
            padded = np.resize(perm, self.per_rank * self.world)  # wraps around, like DistributedSampler
            self._cache = (epoch, padded[self.rank::self.world])
        return self._cache[1]

    def index(self, position: int) -> int:
        epoch, i = divmod(position, self.per_rank)
        return int(self._epoch(epoch)[i])


class StreamSampler(Sampler):
    """Yields ``(position, record index)`` from ``start`` on, forever."""

    def __init__(self, order: RankOrder, start: int) -> None:
        self.order, self.start = order, start

    def __iter__(self) -> Iterator[tuple[int, int]]:
        p = self.start
        while True:
            yield p, self.order.index(p)
            p += 1


@dataclass
class MicroBatch:
    """``micro_batch`` usable samples in stream order and what was skipped while filling them."""

    ids: list[str]
    samples: list[dict]
    cursor: int
    """The stream position after the last sample consumed (what a checkpoint stores)."""
    skipped: list[Skipped] = field(default_factory=list)
    tokens: int = 0
    objects_dropped: int = 0


class MicroBatchStream:
    """Iterate micro-batches of one rank from ``start``; decoding runs in ``workers`` DataLoader processes."""

    def __init__(self, loader: SampleLoader, order: RankOrder, *, start: int, micro_batch: int, workers: int) -> None:
        self.order, self.micro_batch = order, micro_batch
        self.cursor = start
        self._data = DataLoader(loader, sampler=StreamSampler(order, start), batch_size=None, collate_fn=identity,
                                num_workers=workers, prefetch_factor=4 if workers else None,
                                persistent_workers=False)
        self._items = iter(self._data)
        self._run_of_skips = 0

    def __iter__(self) -> "MicroBatchStream":
        return self

    def __next__(self) -> MicroBatch:
        batch = MicroBatch(ids=[], samples=[], cursor=self.cursor)
        while len(batch.samples) < self.micro_batch:
            position, item = next(self._items)
            if position != self.cursor:  # DataLoader keeps order; anything else is a bug worth stopping for
                raise RuntimeError(f"data stream out of order: got position {position}, expected {self.cursor}")
            self.cursor += 1
            if isinstance(item, Skipped):
                batch.skipped.append(item)
                self._run_of_skips += 1
                if self._run_of_skips >= self.order.per_rank:
                    reasons = sorted({s.reason for s in batch.skipped})
                    raise NoUsableSamplesError(
                        f"rank {self.order.rank}: {self._run_of_skips} samples in a row were unusable (a whole "
                        f"epoch's share of {self.order.per_rank}); reasons {reasons}")
                continue
            assert isinstance(item, Loaded)
            self._run_of_skips = 0
            batch.ids.append(item.id)
            batch.samples.append(item.sample)
            batch.tokens += item.tokens
            batch.objects_dropped += item.objects_dropped
        batch.cursor = self.cursor
        return batch

    def close(self) -> None:
        """Stop the worker processes (they would otherwise keep decoding ahead)."""
        self._items = None  # type: ignore[assignment]
        self._data = None  # type: ignore[assignment]
