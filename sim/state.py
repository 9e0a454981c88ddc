"""Agent state kept in columns owned by the model.

Why columns: at national scale the model holds about 1.9 million staff. Keeping their state in
numpy arrays lets every rule be one vectorised update (tens of milliseconds per step), while
each staff member can still be seen as a real ``mesa.Agent`` whose attributes read and write
its row (see :mod:`sim.agents`; the staff agents are created on demand).

Staff rows. A staff member who leaves is marked inactive (:meth:`StaffTable.deactivate`); hires
are appended (the arrays grow geometrically). When leavers accumulate, the model *compacts* the
table (:meth:`StaffTable.compact`, between two processes of a step): the rows of leavers are
dropped, the others keep their order and move down, so **a row index is only valid until the
next compaction**. The rules that follow from it, for any code that adds per-staff state:

- Per-staff state lives in a column of :class:`StaffTable`, declared in
  :attr:`StaffTable.FIELDS` (the one place that lists them; a module may add its own entry).
  Compaction moves every column listed there, so such state follows its staff member.
- A process may hold row indices (``active_rows()``, selections) while it runs, never from one
  process or step to the next. To follow staff members across time, keep their ``uid`` (the
  Mesa ``unique_id``, never reused; increasing with the row) and find their current rows with
  :meth:`StaffTable.rows_of`.
- Everything else that holds a row (the staff agents' ``row``, the cached ``active_rows``) is
  remapped by :meth:`StaffTable.compact` itself.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections import deque
from typing import ClassVar

import numpy as np

from sim.config import LEVERS

KINDS = ("commune", "epci", "departement", "region")
CATEGORIES = ("A", "B", "C")
JOB_FAMILIES = ("reception", "instruction", "technical", "management", "digital", "other")
RECEPTION, INSTRUCTION, TECHNICAL, MANAGEMENT, DIGITAL, OTHER = range(6)
PROFILES = ("Observateur", "Explorateur", "Entrepreneur", "Éclaireur", "Systémique")
#: Spending categories: the collectivités' own money, then the policy levers' (State) money
#: (one per lever, the ``spend_key`` declared on its config group: sim.config.LEVERS).
OWN_SPEND = ("investment", "own_training", "pool_contributions")
LEVER_SPEND = tuple(lever.spend_key for lever in LEVERS.values())
SPEND_CATEGORIES = OWN_SPEND + LEVER_SPEND
POP_BANDS = ("<500", "500-2k", "2k-10k", "10k-50k", "50k+")
POP_BAND_EDGES = np.array([500.0, 2000.0, 10000.0, 50000.0])


def pop_band_index(population: np.ndarray) -> np.ndarray:
    """Population band (index into POP_BANDS) of each population."""
    return np.searchsorted(POP_BAND_EDGES, population, side="right").astype(np.int8)


def maturity_profile(maturity: np.ndarray) -> np.ndarray:
    """Five survey profiles as equal fifths of the 0..1 maturity scale (an assumption)."""
    return np.minimum((np.asarray(maturity) * 5).astype(np.int8), 4)


class CollectiviteTable:
    """Columns of the collectivités (fixed set over a run)."""

    def __init__(self, n: int):
        self.n = n
        f = lambda: np.zeros(n, dtype=np.float64)
        self.kind = np.zeros(n, dtype=np.int8)
        self.population = f()
        self.rural = np.zeros(n, dtype=bool)
        self.pop_band = np.zeros(n, dtype=np.int8)
        self.epci = np.full(n, -1, dtype=np.int64)  # row of the EPCI (communes), own row for EPCI
        self.departement = np.full(n, -1, dtype=np.int64)  # index of the département (0..D-1)
        self.region = np.full(n, -1, dtype=np.int64)
        self.x = f()
        self.y = f()
        self.budget = f()  # yearly digital budget, EUR
        self.it_fte = f()  # own IT/digital FTE
        self.recruited_fte = f()  # FTE hired under the recruitment lever (paid by it)
        self.sponsorship = f()
        self.maturity = f()
        self.services_online = f()
        self.open_data = np.zeros(n, dtype=bool)
        self.pool = np.full(n, -1, dtype=np.int64)  # pool id, -1 = not pooled
        self.illectronism = f()  # inhabitants' illectronism share
        self.mediation_coverage = f()
        self.excluded = f()
        self.eservice_use = f()
        self.conseillers = f()
        self.referents = f()
        self.capacity_index = f()
        self.n_staff = np.zeros(n, dtype=np.int64)
        self.staff_mean_skill = f()
        self.codes: list[str] = []
        self.names: list[str] = []
        self.departement_codes: list[str] = []
        self.region_codes: list[str] = []


class StaffTable:
    """Columns of the staff, growable; ``active`` marks current staff.

    ``active``, ``employer`` and ``uid`` are read-only outside :meth:`append`,
    :meth:`deactivate`, :meth:`assign_uids` and :meth:`compact`, which keep the cached
    :meth:`active_rows` and :meth:`active_employers` in step with them (a row's employer never
    changes; a move would be a departure and a hire).

    ``uid`` is the staff member's Mesa ``unique_id``, given by the model when the row is created
    (:meth:`assign_uids`) whether or not its :class:`~sim.agents.Staff` agent exists: uids
    increase with the row and survive compaction. ``agents`` is ``None`` until the model
    creates the staff agents (on demand), then the list of agents by row.
    """

    LOCKED = ("active", "employer", "uid")

    FIELDS: ClassVar[dict[str, type]] = {
        "uid": np.int64,
        "employer": np.int64,
        "category": np.int8,
        "job_family": np.int8,
        "age": np.float64,
        "skill": np.float64,
        "attitude": np.float64,
        "last_training": np.int32,
        "active": bool,
        "recruited": bool,
    }
    #: Value of a column in a row not yet written (others: 0 / False).
    FILL: ClassVar[dict[str, object]] = {"uid": -1, "last_training": -1}

    def __init__(self, capacity: int):
        self.size = 0
        self._capacity = max(int(capacity), 16)
        for name, dtype in self.FIELDS.items():
            setattr(self, name, np.full(self._capacity, self.FILL.get(name, 0), dtype=dtype))
        self._lock()
        self.agents: list | None = None  # row -> Staff agent, once the model has created them
        self.compactions = 0  # how many times rows were renumbered
        self._uids_upto = 0  # rows below have their uid
        self._active_rows: np.ndarray | None = None
        self._active_employers: np.ndarray | None = None

    def _grow(self, needed: int) -> None:
        new_cap = max(needed, int(self._capacity * 1.5) + 16)
        for name, dtype in self.FIELDS.items():
            old = getattr(self, name)
            arr = np.full(new_cap, self.FILL.get(name, 0), dtype=dtype)
            arr[: self.size] = old[: self.size]
            setattr(self, name, arr)
        self._lock()
        self._capacity = new_cap

    def append(self, **columns: np.ndarray) -> np.ndarray:
        """Append rows (columns not given keep their FILL value, ``active`` is set); return
        their indices. The model then gives them uids (:meth:`assign_uids`)."""
        n = len(columns["employer"])
        if self.size + n > self._capacity:
            self._grow(self.size + n)
        rows = np.arange(self.size, self.size + n)
        end = self.size + n
        self._lock(False)
        for name, values in columns.items():
            getattr(self, name)[self.size : end] = values
        self.active[self.size : end] = True
        self._lock()
        if self._active_rows is not None:
            self._active_rows = _frozen(np.concatenate([self._active_rows, rows]))
        if self._active_employers is not None:
            self._active_employers = _frozen(np.concatenate([self._active_employers, self.employer[self.size : end]]))
        self.size = end
        return rows

    def assign_uids(self, first: int) -> int:
        """Give the rows appended since the last call the uids ``first, first+1, ...`` in row
        order; return the next free uid."""
        start, n = self._uids_upto, self.size - self._uids_upto
        self.uid.flags.writeable = True
        self.uid[start : self.size] = np.arange(first, first + n)
        self.uid.flags.writeable = False
        self._uids_upto = self.size
        return first + n

    def _lock(self, locked: bool = True) -> None:
        for name in self.LOCKED:
            getattr(self, name).flags.writeable = not locked

    def deactivate(self, rows: np.ndarray) -> None:
        """Mark rows as no longer current staff (their columns are kept until :meth:`compact`)."""
        self.active.flags.writeable = True
        self.active[rows] = False
        self.active.flags.writeable = False
        self._active_rows = None
        self._active_employers = None

    def view(self, name: str) -> np.ndarray:
        """Column over all rows (current staff and leavers not yet compacted away)."""
        return getattr(self, name)[: self.size]

    def active_rows(self) -> np.ndarray:
        """Indices of current staff, increasing (cached until the next append, deactivate or
        compact). The array is shared: treat it as read-only."""
        if self._active_rows is None:
            self._active_rows = _frozen(np.flatnonzero(self.active[: self.size]))
        return self._active_rows

    def active_employers(self) -> np.ndarray:
        """``employer[active_rows()]`` (cached like it: a row's employer never changes)."""
        if self._active_employers is None:
            self._active_employers = _frozen(self.employer[self.active_rows()])
        return self._active_employers

    @property
    def n_active(self) -> int:
        return len(self.active_rows())

    @property
    def n_inactive(self) -> int:
        """Rows of leavers still in the columns (dropped by the next :meth:`compact`)."""
        return self.size - len(self.active_rows())

    def rows_of(self, uids) -> np.ndarray:
        """Current row of each uid, or -1 for a uid with no row (dropped by a compaction, or
        never created). The row may be inactive until the next compaction."""
        uids = np.asarray(uids, dtype=np.int64)
        column = self.uid[: self.size]
        pos = np.minimum(np.searchsorted(column, uids), max(self.size - 1, 0))
        found = (column[pos] == uids) if self.size else np.zeros(uids.shape, dtype=bool)
        return np.where(found, pos, -1)

    def compact(self) -> np.ndarray:
        """Drop the rows of leavers; the current staff keep their order and move to rows
        ``0..n-1``. Every column of :attr:`FIELDS` moves with them, the caches and the staff
        agents' ``row`` are remapped (agents of dropped rows get ``row = None``: reading them
        raises). Returns the old row of each new row (``new -> old``): the new row of an old row
        ``r`` is ``np.searchsorted(old_rows, r)`` if it was kept."""
        keep = self.active_rows()
        n = len(keep)
        if n == self.size:
            return keep
        kept_mask = self.active[: self.size].copy()
        self._lock(False)
        for name in self.FIELDS:
            column = getattr(self, name)
            column[:n] = column[keep]  # a gather into a temporary, then one copy
            column[n : self.size] = self.FILL.get(name, 0)
        self._lock()
        if self.agents is not None:  # every current staff member has an agent
            agents = self.agents
            for r in np.flatnonzero(~kept_mask).tolist():
                if agents[r] is not None:
                    agents[r].row = None
            kept = list(map(agents.__getitem__, keep.tolist()))
            if kept:
                # Set every agent's row through the slot's descriptor: twice as fast as a loop.
                deque(map(type(kept[0]).row.__set__, kept, range(n)), maxlen=0)
            self.agents = kept
        self._uids_upto = int(np.count_nonzero(keep < self._uids_upto))
        self.size = n
        self.compactions += 1
        self._active_rows = _frozen(np.arange(n))
        if self._active_employers is not None:
            self._active_employers = _frozen(self.employer[:n].copy())
        return keep


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


# ---------------------------------------------------------------------------------------------
# Memory allocator
#
# A step over two million staff allocates and frees dozens of temporary arrays of 2 to 20 MB.
# glibc's malloc serves blocks above its mmap threshold (128 kB, raised dynamically up to 32 MB
# as blocks are freed) with fresh mmap'd pages, and gives the top of its heap back to the system
# beyond its trim threshold: then every temporary costs page faults, the kernel zeroing each
# page again. For France that was 2.5-3 s of system time (470,000 page faults) in a 15 s run.
# Serving blocks up to 32 MB from the heap and keeping up to 256 MB of free heap for reuse
# removes almost all of them (under 0.1 s). The process keeps that much freed memory for reuse
# instead of returning it; it never holds more than its peak.
# ---------------------------------------------------------------------------------------------
MALLOC_ENV = "SIM_MALLOC_TUNING"  # "0": leave the allocator alone
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
_malloc_tuned: bool | None = None


def tune_malloc(mmap_threshold: int = 32 << 20, trim_threshold: int = 256 << 20) -> bool:
    """Keep large temporaries in the heap (glibc only; once per process; see above). Returns
    True if the allocator was tuned (now or before)."""
    global _malloc_tuned
    if _malloc_tuned is None:
        _malloc_tuned = False
        if os.environ.get(MALLOC_ENV, "1") != "0" and sys.platform.startswith("linux"):
            try:
                if os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
                    libc = ctypes.CDLL(None)
                    ok = libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)
                    ok &= libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold)
                    _malloc_tuned = bool(ok)
            except (AttributeError, OSError, ValueError):  # not glibc, or no mallopt
                pass
    return _malloc_tuned
