"""Independent random streams, one per process and per lever (common random numbers).

Every random draw of the model goes through a generator the model owns. Each purpose (a
process, a policy lever, the territory) has its own stream, derived from the run's seed and the
purpose's name with :class:`numpy.random.SeedSequence`. So the same seed gives bit-identical
outputs, and switching a lever on, which draws from its own stream, never shifts the draws of
another process: two scenarios run with the same seed see the same departures, the same
elections, the same joining draws... as long as the state those draws act on is the same
(common random numbers, which make paired differences between scenarios much less noisy:
docs/SCENARIOS.md).

The territory and the initial state are drawn from a stream of the territory's own seed
(``territory.seed``), apart from the dynamics' seed.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    """A stable 32-bit key of a stream's name (independent of Python's hash seed)."""
    return zlib.crc32(name.encode("utf-8"))


def make_stream(seed: int, name: str) -> np.random.Generator:
    """The generator of stream ``name`` for a run seed: independent of every other name."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(entropy=int(seed), spawn_key=(stream_key(name),)))
    )


class Streams:
    """The streams of one run, created on first use: ``streams["turnover"]``."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._streams: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._streams.get(name)
        if gen is None:
            gen = self._streams[name] = make_stream(self.seed, name)
        return gen

    def names(self) -> list[str]:
        """Streams used so far."""
        return sorted(self._streams)
